// SPDX-License-Identifier: GPL-2.0

//! The KUnit suite of the SysGenId driver (`CONFIG_SYSGENID_KUNIT_TEST`).
//!
//! Every test works on a `SysGenId` of its own, never on the one behind `/dev/sysgenid`,
//! and nothing here fires the kernel's vmfork chain.

use kernel::prelude::*;

#[kunit_tests(sysgenid)]
mod tests {
    use super::*;
    use crate::*;
    use kernel::{
        sync::Completion,
        time::{delay::fsleep, Delta},
        workqueue::{self, impl_has_work, new_work, Work, WorkItem},
    };

    impl SysGenId {
        fn generation(&self) -> u32 {
            self.current().generation()
        }
    }

    /// A reader's copy that always works.
    fn ok(_generation: u32) -> Result {
        Ok(())
    }

    fn new_sysgenid() -> Result<Arc<SysGenId>> {
        Arc::pin_init(SysGenId::new(), GFP_KERNEL)
    }

    /// A new file of `s` that opted in as a watcher.
    fn watcher(s: &SysGenId) -> Result<Watch<&SysGenId>> {
        let w = Watch::new(s, true);
        w.set_tracking(true)?;
        Ok(w)
    }

    fn watchers(s: &SysGenId) -> u32 {
        s.lock.lock().watchers
    }

    #[test]
    fn starts_at_zero() -> Result {
        let s = new_sysgenid()?;
        assert_eq!(s.generation(), 0);
        assert_eq!(s.outdated(), 0);
        assert_eq!(s.page.load_u32_acquire(0)?, 0);
        Ok(())
    }

    #[test]
    fn ack_packs_generation_epoch_and_watcher_bit() {
        let a = Ack::new(0xdead_beef, 0x1234_5678, true);
        assert_eq!(a.generation(), 0xdead_beef);
        assert_eq!(a.epoch(), 0x1234_5678);
        assert!(a.tracked());
        assert!(!a.with_tracked(false).tracked());
        assert_eq!(a.with_tracked(false).with_tracked(true), a);
        // The watcher bit and the generation do not take part in the comparison.
        assert!(a.is_of(Ack::new(1, 0x1234_5678, false)));
        assert!(!a.is_of(Ack::new(0xdead_beef, 0x1234_5679, true)));
        // The epoch has 30 bits and wraps.
        assert_eq!(Ack::new(0, 0x3fff_ffff, false).epoch(), 0x3fff_ffff);
        assert_eq!(Ack::new(0, 0x4000_0000, false).epoch(), 0);
        assert!(Ack::new(0, 0x4000_0000, false).is_of(Ack::new(0, 0, false)));
        // The write-access bit is the file's own: it takes no part in the comparison, leaves
        // the rest alone and goes with the other flags onto a new generation.
        let w = a.with_writable(true);
        assert!(w.writable() && w.tracked());
        assert_eq!((w.generation(), w.epoch()), (0xdead_beef, 0x1234_5678));
        assert!(!w.with_writable(false).writable());
        assert!(w.is_of(a));
        let next = Ack::new(7, 8, false).with_flags_of(w);
        assert!(next.writable() && next.tracked());
        assert_eq!((next.generation(), next.epoch()), (7, 8));
    }

    #[test]
    fn bump_increments() -> Result {
        let s = new_sysgenid()?;
        assert_eq!(s.bump(0), 1);
        assert_eq!(s.bump(0), 2);
        assert_eq!(s.generation(), 2);
        assert_eq!(s.current().epoch(), 2);
        Ok(())
    }

    #[test]
    fn bump_honours_min_gen_above_current() -> Result {
        let s = new_sysgenid()?;
        assert_eq!(s.bump(100), 100);
        assert_eq!(s.generation(), 100);
        Ok(())
    }

    #[test]
    fn bump_ignores_min_gen_at_or_below_current() -> Result {
        let s = new_sysgenid()?;
        s.bump(50);
        assert_eq!(s.bump(50), 51);
        assert_eq!(s.bump(7), 52);
        Ok(())
    }

    #[test]
    fn bump_wraps_at_u32_max() -> Result {
        let s = new_sysgenid()?;
        assert_eq!(s.bump(u32::MAX), u32::MAX);
        assert_eq!(s.bump(0), 0);
        assert_eq!(s.bump(0), 1);
        Ok(())
    }

    #[test]
    fn next_generation_never_repeats() {
        for current in [0, 1, 2, u32::MAX - 1, u32::MAX] {
            for min_gen in [0, 1, current, current.wrapping_add(1), u32::MAX] {
                assert_ne!(next_generation(current, min_gen), current);
            }
        }
    }

    #[test]
    fn page_holds_generation_and_zeroes() -> Result {
        let s = new_sysgenid()?;
        s.bump(0x1234_5678);
        assert_eq!(s.page.load_u32_acquire(0)?, 0x1234_5678);
        s.bump(0);
        assert_eq!(s.page.load_u32_acquire(0)?, 0x1234_5679);
        for offset in (GEN_SIZE..PAGE_SIZE).step_by(GEN_SIZE) {
            assert_eq!(s.page.load_u32_acquire(offset)?, 0);
        }
        Ok(())
    }

    #[test]
    fn watchers_are_opt_in() -> Result {
        let s = new_sysgenid()?;
        let plain = Watch::new(&*s, true);
        let w1 = watcher(&s)?;
        let w2 = watcher(&s)?;
        assert_eq!(watchers(&s), 2);
        s.bump(0);
        // Every file is outdated, but only the watchers count.
        assert_eq!(s.outdated(), 2);
        assert!(plain.is_outdated());
        assert_eq!(plain.acked(), (0, false));
        assert_eq!(w1.acked(), (0, true));
        drop(w2);
        assert_eq!(s.outdated(), 1);
        drop(w1);
        assert_eq!(s.outdated(), 0);
        assert_eq!(watchers(&s), 0);
        // A file that missed a bump is outdated the moment it opts in.
        plain.set_tracking(true)?;
        assert_eq!(s.outdated(), 1);
        Ok(())
    }

    #[test]
    fn opting_in_needs_write_access() -> Result {
        let s = new_sysgenid()?;
        let w = Watch::new(&*s, false);
        assert_eq!(w.set_tracking(true), Err(EPERM));
        assert_eq!(watchers(&s), 0);
        assert_eq!(w.acked(), (0, false));
        // Opting out needs nothing.
        assert_eq!(w.set_tracking(false), Ok(()));
        Ok(())
    }

    #[test]
    fn a_full_watcher_count_refuses_one_more_and_changes_nothing() -> Result {
        let s = new_sysgenid()?;
        let w = watcher(&s)?;
        let late = Watch::new(&*s, true);
        s.bump(0);
        s.lock.lock().watchers = u32::MAX;
        assert_eq!(late.set_tracking(true), Err(ENFILE));
        assert_eq!(late.acked(), (0, false));
        assert_eq!(watchers(&s), u32::MAX);
        assert_eq!(s.outdated(), 1);
        // Stopping, for a file that was counted, still works.
        w.set_tracking(false)?;
        assert_eq!(watchers(&s), u32::MAX - 1);
        assert_eq!(s.outdated(), 0);
        s.lock.lock().watchers = 0;
        drop(late);
        assert_eq!(watchers(&s), 0);
        Ok(())
    }

    #[test]
    fn missed_bumps_count_once() -> Result {
        let s = new_sysgenid()?;
        let w = watcher(&s)?;
        s.bump(0);
        s.bump(0);
        s.bump(0);
        assert_eq!(s.outdated(), 1);
        w.acknowledge(3)?;
        assert_eq!(s.outdated(), 0);
        assert_eq!(w.acked(), (3, true));
        // Acknowledging twice is a no-op.
        w.acknowledge(3)?;
        assert_eq!(s.outdated(), 0);
        Ok(())
    }

    #[test]
    fn acknowledge_rejects_stale_value_and_keeps_state() -> Result {
        let s = new_sysgenid()?;
        let w = watcher(&s)?;
        s.bump(0);
        s.bump(0);
        assert_eq!(w.acknowledge(1), Err(EINVAL));
        assert_eq!(w.acknowledge(3), Err(EINVAL));
        assert_eq!(s.outdated(), 1);
        assert!(w.is_outdated());
        assert_eq!(w.acked(), (0, true));
        Ok(())
    }

    #[test]
    fn forced_generation_back_to_an_old_value_still_outdates() -> Result {
        let s = new_sysgenid()?;
        let w = watcher(&s)?;
        s.bump(u32::MAX);
        w.acknowledge(u32::MAX)?;
        s.bump(0);
        // Generation 0 again, as at open: the epoch still tells the file it is outdated.
        assert_eq!(s.generation(), 0);
        assert!(w.is_outdated());
        assert_eq!(s.outdated(), 1);
        Ok(())
    }

    #[test]
    fn tracking_toggles_watcher_accounting() -> Result {
        let s = new_sysgenid()?;
        let w = watcher(&s)?;
        w.set_tracking(false)?;
        assert_eq!(watchers(&s), 0);
        s.bump(0);
        assert_eq!(s.outdated(), 0);
        w.set_tracking(true)?;
        w.set_tracking(true)?;
        assert_eq!(watchers(&s), 1);
        assert_eq!(s.outdated(), 1);
        // Stopping tracking of an outdated watcher settles it.
        w.set_tracking(false)?;
        assert_eq!(s.outdated(), 0);
        Ok(())
    }

    #[test]
    fn read_of_a_writable_file_waits_and_never_acknowledges() -> Result {
        let s = new_sysgenid()?;
        let w = watcher(&s)?;
        assert_eq!(w.read(false, ok), Err(EAGAIN));
        assert!(!w.is_outdated());
        s.bump(0);
        assert!(w.is_outdated());
        assert_eq!(w.read(false, ok), Ok(1));
        assert_eq!(w.read(true, ok), Ok(1));
        assert!(w.is_outdated());
        assert_eq!(s.outdated(), 1);
        w.acknowledge(1)?;
        assert!(!w.is_outdated());
        assert_eq!(w.read(false, ok), Err(EAGAIN));
        Ok(())
    }

    #[test]
    fn read_only_file_is_acknowledged_by_its_read() -> Result {
        let s = new_sysgenid()?;
        let r = Watch::new(&*s, false);
        assert_eq!(r.read(false, ok), Err(EAGAIN));
        s.bump(0);
        s.bump(0);
        assert_eq!(r.read(false, ok), Ok(2));
        // It cannot write the generation back: the read acknowledged it.
        assert!(!r.is_outdated());
        assert_eq!(r.acked(), (2, false));
        assert_eq!(r.read(false, ok), Err(EAGAIN));
        // A read that saw a generation a bump has left behind acknowledges nothing.
        let seen = s.current();
        s.bump(0);
        r.acknowledge_seen(seen);
        assert!(r.is_outdated());
        assert_eq!(r.read(true, ok), Ok(3));
        assert!(!r.is_outdated());
        // Nor does a read whose copy to userspace fails.
        s.bump(0);
        assert_eq!(r.read(false, |_| Err(EFAULT)), Err(EFAULT));
        assert!(r.is_outdated());
        // Nor an empty or a short read.
        assert_eq!(r.read(false, ok), Ok(4));
        s.bump(0);
        assert_eq!(r.read_len(0, false, ok), Ok(None));
        assert_eq!(r.read_len(3, false, ok), Err(EINVAL));
        assert!(r.is_outdated());
        assert_eq!(s.outdated(), 0);
        Ok(())
    }

    #[test]
    fn read_and_write_sizes() -> Result {
        let s = new_sysgenid()?;
        let w = watcher(&s)?;
        assert_eq!(w.read_len(0, false, ok), Ok(None));
        assert_eq!(w.read_len(3, false, ok), Err(EINVAL));
        assert_eq!(w.read_len(4, false, ok), Err(EAGAIN));
        s.bump(0);
        assert_eq!(w.read_len(0, false, ok), Ok(None));
        assert_eq!(w.read_len(1, false, ok), Err(EINVAL));
        assert_eq!(w.read_len(4, false, ok), Ok(Some(1)));
        assert_eq!(w.read_len(4096, true, ok), Ok(Some(1)));
        for len in [0, 1, 3, 5, 8, usize::MAX] {
            assert_eq!(check_write_len(len), Err(EINVAL));
        }
        assert_eq!(check_write_len(4), Ok(()));
        // None of it acknowledged anything.
        assert!(w.is_outdated());
        assert_eq!(s.outdated(), 1);
        Ok(())
    }

    #[test]
    fn wait_watchers_rules_without_sleeping() -> Result {
        let s = new_sysgenid()?;
        let orchestrator = Watch::new(&*s, true);
        assert_eq!(orchestrator.wait_watchers(Some(1)), Ok(()));
        let w = watcher(&s)?;
        s.bump(0);
        // A watcher that is itself outdated would wait for itself.
        assert_eq!(w.wait_watchers(Some(1)), Err(EDEADLK));
        // A file that is not a watcher is never outdated: it waits for `w`.
        assert_eq!(orchestrator.wait_watchers(Some(1)), Err(ETIMEDOUT));
        w.acknowledge(1)?;
        assert_eq!(orchestrator.wait_watchers(Some(1)), Ok(()));
        assert_eq!(orchestrator.wait_watchers(None), Ok(()));
        assert_eq!(w.wait_watchers(Some(1)), Ok(()));
        Ok(())
    }

    /// A blocking call on a new file, run on a workqueue, for the tests that act while it sleeps.
    #[pin_data]
    struct Sleeper {
        sysgenid: Arc<SysGenId>,
        call: fn(&Watch<&SysGenId>) -> Result<u32>,
        #[pin]
        done: Completion,
        #[pin]
        result: SpinLock<Option<Result<u32>>>,
        #[pin]
        work: Work<Sleeper>,
    }

    impl_has_work! {
        impl HasWork<Self> for Sleeper { self.work }
    }

    impl WorkItem for Sleeper {
        type Pointer = Arc<Self>;

        fn run(this: Arc<Self>) {
            let watch = Watch::new(&*this.sysgenid, true);
            let result = (this.call)(&watch);
            drop(watch);
            *this.result.lock() = Some(result);
            this.done.complete_all();
        }
    }

    /// Runs `scenario` on a new [`SysGenId`] and returns what `call` returned.
    ///
    /// `scenario` calls `start` to run `call` on a workqueue; `start` returns once the call is
    /// asleep on one of the wait queues (counted under the lock before it sleeps, so anything
    /// done after `start` wakes it), or once it returned without sleeping. Assertions stay on
    /// the test thread: the worker only records the result.
    fn with_sleeper(
        call: fn(&Watch<&SysGenId>) -> Result<u32>,
        scenario: impl FnOnce(&SysGenId, &dyn Fn()) -> Result,
    ) -> Result<Option<Result<u32>>> {
        let sleeper = Arc::pin_init(
            try_pin_init!(Sleeper {
                sysgenid: new_sysgenid()?,
                call,
                done <- Completion::new(),
                result <- new_spinlock!(None),
                work <- new_work!("sysgenid::tests::Sleeper"),
            }),
            GFP_KERNEL,
        )?;
        let start = || {
            let _ = workqueue::system_long().enqueue(sleeper.clone());
            // Polls a condition; the delay only paces the polling.
            while sleeper.sysgenid.lock.lock().sleepers == 0 && sleeper.result.lock().is_none() {
                fsleep(Delta::from_millis(1));
            }
        };
        scenario(&sleeper.sysgenid, &start)?;
        sleeper.done.wait_for_completion();
        let result = *sleeper.result.lock();
        Ok(result)
    }

    fn wait_five_seconds(w: &Watch<&SysGenId>) -> Result<u32> {
        w.wait_watchers(Some(msecs_to_jiffies(5000))).map(|()| 0)
    }

    fn watch_and_wait_five_seconds(w: &Watch<&SysGenId>) -> Result<u32> {
        w.set_tracking(true)?;
        wait_five_seconds(w)
    }

    #[test]
    fn blocked_read_wakes_on_bump() -> Result {
        let result = with_sleeper(
            |w| w.read(true, ok),
            |s, start| {
                start();
                assert_eq!(s.lock.lock().sleepers, 1);
                s.bump(0);
                Ok(())
            },
        )?;
        assert_eq!(result, Some(Ok(1)));
        Ok(())
    }

    #[test]
    fn wait_watchers_wakes_on_last_acknowledgment() -> Result {
        let result = with_sleeper(wait_five_seconds, |s, start| {
            let straggler = watcher(s)?;
            s.bump(0);
            start();
            assert_eq!(s.lock.lock().sleepers, 1);
            straggler.acknowledge(1)
        })?;
        assert_eq!(result, Some(Ok(0)));
        Ok(())
    }

    #[test]
    fn non_watcher_wait_continues_across_bumps() -> Result {
        let result = with_sleeper(wait_five_seconds, |s, start| {
            let straggler = watcher(s)?;
            s.bump(0);
            start();
            assert_eq!(s.lock.lock().sleepers, 1);
            s.bump(0);
            // Still waiting, now for generation 2.
            straggler.acknowledge(2)
        })?;
        assert_eq!(result, Some(Ok(0)));
        Ok(())
    }

    #[test]
    fn watcher_wait_fails_when_a_bump_outdates_it() -> Result {
        let result = with_sleeper(watch_and_wait_five_seconds, |s, start| {
            let _straggler = watcher(s)?;
            s.bump(0);
            start();
            assert_eq!(s.lock.lock().sleepers, 1);
            s.bump(0);
            Ok(())
        })?;
        assert_eq!(result, Some(Err(EDEADLK)));
        Ok(())
    }

    #[test]
    fn bumps_once_per_vmfork_notification() -> Result {
        let s = new_sysgenid()?;
        let w = watcher(&s)?;
        // What the vmfork chain calls: not the chain itself, which would reseed the live RNG.
        let bumper = BumpOnVmfork(s.clone());
        bumper.vmfork();
        assert_eq!(s.generation(), 1);
        assert_eq!(s.outdated(), 1);
        bumper.vmfork();
        assert_eq!(s.generation(), 2);
        assert_eq!(s.outdated(), 1);
        drop(w);
        assert_eq!(s.outdated(), 0);
        Ok(())
    }
}
