// SPDX-License-Identifier: GPL-2.0

//! The KUnit suite of the Rust VM Generation ID driver (`CONFIG_VMGENID_KUNIT_TEST`): its
//! notification logic, `notify()`, with fake IDs and a fake reseed, so that nothing here
//! touches the kernel's random number generator.

use kernel::prelude::*;

#[kunit_tests(vmgenid)]
mod tests {
    use super::*;
    use crate::*;

    fn id_of(n: u8) -> Id {
        [n; VMGENID_SIZE]
    }

    fn new_this_id(initial: Id) -> Result<Pin<KBox<Mutex<Id>>>> {
        KBox::pin_init(new_mutex!(initial), GFP_KERNEL)
    }

    /// A notification that finds `next`, with a fake reseed that records the IDs it gets.
    fn notify_with(this_id: &Mutex<Id>, next: Id, reseeds: &mut KVec<Id>) -> Result {
        let mut pushed = Ok(());
        notify(
            this_id,
            || Ok(next),
            |id| pushed = reseeds.push(*id, GFP_KERNEL),
        );
        Ok(pushed?)
    }

    #[test]
    fn unchanged_id_does_nothing() -> Result {
        let this_id = new_this_id(id_of(7))?;
        let mut reseeds = KVec::new();
        notify_with(&this_id, id_of(7), &mut reseeds)?;
        notify_with(&this_id, id_of(7), &mut reseeds)?;
        assert!(reseeds.is_empty());
        assert_eq!(*this_id.lock(), id_of(7));
        Ok(())
    }

    #[test]
    fn each_change_reseeds_once_with_the_new_id() -> Result {
        let this_id = new_this_id(id_of(0))?;
        let mut reseeds = KVec::new();
        for n in 1..=20 {
            notify_with(&this_id, id_of(n), &mut reseeds)?;
            // A second notification for the same ID changes nothing.
            notify_with(&this_id, id_of(n), &mut reseeds)?;
            assert_eq!(*this_id.lock(), id_of(n));
        }
        assert_eq!(reseeds.len(), 20);
        for (id, n) in reseeds.iter().zip(1..) {
            assert_eq!(*id, id_of(n));
        }
        Ok(())
    }

    #[test]
    fn an_id_that_cannot_be_read_changes_nothing() -> Result {
        let this_id = new_this_id(id_of(3))?;
        let mut reseeded = false;
        notify(&this_id, || Err(EINVAL), |_| reseeded = true);
        assert!(!reseeded);
        assert_eq!(*this_id.lock(), id_of(3));
        Ok(())
    }

    #[test]
    fn any_byte_that_differs_is_a_change() -> Result {
        let this_id = new_this_id(id_of(0))?;
        let mut reseeds = KVec::new();
        let mut next = id_of(0);
        next[VMGENID_SIZE - 1] = 1;
        notify_with(&this_id, next, &mut reseeds)?;
        // Back to the first ID is a change too: a VMM may restore an older snapshot.
        notify_with(&this_id, id_of(0), &mut reseeds)?;
        assert_eq!(reseeds.len(), 2);
        assert_eq!(reseeds[0], next);
        assert_eq!(reseeds[1], id_of(0));
        Ok(())
    }
}
