// SPDX-License-Identifier: GPL-2.0

//! The backend side of SysGenId.
//!
//! `/dev/sysgenid` (`drivers/misc/sysgenid.rs`) moves to a new generation when the vmfork
//! notifier chain runs, that is once a backend has seen a restore and the random number
//! generator was reseeded. A backend that can also tell cheaply that a restore happened whose
//! notification is still on its way registers a [`Revalidate`] check here, so that
//! `/dev/sysgenid` never answers a syscall with the generation from before a restore that had
//! already happened when the syscall began.
//!
//! One backend at a time; the SysGenId driver calls [`revalidate`].

#[cfg(CONFIG_HAS_IOMEM)]
use crate::io::memremap::MemRemap;
use crate::{
    new_srcu,
    prelude::*,
    sync::{
        atomic::{Acquire, Atomic, Full, Relaxed, Release},
        rcu, Srcu,
    },
};
use core::{marker::PhantomPinned, ptr};

/// A backend's check for a restore that has happened but has not been handled yet.
///
/// # Safety
///
/// [`Revalidate::pending`] must not sleep: [`revalidate`] calls it inside an RCU read-side
/// critical section, and only that section keeps the registration alive during the call.
///
/// What [`Revalidate::quick`] returns must stay alive and in place as long as `self` does:
/// the registration keeps pointers to it.
///
/// # Examples
///
/// ```
/// use kernel::sync::atomic::{Atomic, Relaxed};
/// use kernel::sysgenid::Revalidate;
///
/// /// A backend whose hypervisor counts restores in a word the guest can read.
/// struct Counter {
///     seen: Atomic<u64>,
///     shared: Atomic<u64>,
/// }
///
/// // SAFETY: `pending` only loads two atomics.
/// unsafe impl Revalidate for Counter {
///     fn pending(&self) -> bool {
///         self.seen.load(Relaxed) != self.shared.load(Relaxed)
///     }
///
///     fn settle(&self) -> Result {
///         // A real backend waits here for the handling it queued in `pending`.
///         self.seen.store(self.shared.load(Relaxed), Relaxed);
///         Ok(())
///     }
/// }
/// ```
pub unsafe trait Revalidate: Send + Sync + 'static {
    /// Returns whether a restore happened whose handling has not finished, and if so makes sure
    /// it will be handled, for example by queueing work that reports it.
    ///
    /// May run on any `/dev/sysgenid` syscall but `write()`, `poll()` included, inside an RCU
    /// read-side critical section: it must be cheap and must not sleep. With a [`Quick`] check,
    /// only when that finds its two values different.
    fn pending(&self) -> bool;

    /// Returns once the restore that [`Revalidate::pending`] reported has been handled.
    ///
    /// Runs in process context and may sleep; fails with `ERESTARTSYS` when a signal ends the
    /// wait.
    fn settle(&self) -> Result;

    /// The values [`revalidate`] compares before it calls [`Revalidate::pending`], if the
    /// backend has them; while they are equal nothing is pending, and no call is made. Asked
    /// once, when the backend is registered.
    ///
    /// # Examples
    ///
    /// See [`Quick`].
    #[cfg(CONFIG_HAS_IOMEM)]
    fn quick(&self) -> Option<Quick<'_>> {
        None
    }
}

/// A check [`revalidate`] makes inline: the 128-bit value at the start of a mapping, which
/// whoever shares it changes on a restore (a VM generation ID), against the value the backend
/// handled last, in the same two native-endian words.
///
/// The mapping must hold at least 16 bytes and start 8-byte aligned; otherwise the registration
/// keeps no quick check and [`Revalidate::pending`] answers every time.
///
/// # Examples
///
/// ```
/// use kernel::{
///     io::memremap::MemRemap,
///     sync::atomic::{Atomic, Acquire},
///     sysgenid::{Quick, Revalidate},
/// };
///
/// /// A backend for an ID in `map`, of which `handled` is the copy it acted on last.
/// struct MappedId {
///     map: MemRemap,
///     handled: [Atomic<u64>; 2],
/// }
///
/// // SAFETY: `pending` only reads the mapping and two atomics; `map` and `handled` live as long
/// // as `self`, in place.
/// unsafe impl Revalidate for MappedId {
///     fn pending(&self) -> bool {
///         self.map.read_u64(0) != Ok(self.handled[0].load(Acquire))
///             || self.map.read_u64(8) != Ok(self.handled[1].load(Acquire))
///     }
///
///     fn settle(&self) -> Result {
///         // A real backend waits here for the handling it queued in `pending`.
///         Ok(())
///     }
///
///     fn quick(&self) -> Option<Quick<'_>> {
///         Some(Quick { live: &self.map, handled: &self.handled })
///     }
/// }
/// ```
#[cfg(CONFIG_HAS_IOMEM)]
pub struct Quick<'a> {
    /// The live value: the first 16 bytes of this mapping.
    pub live: &'a MemRemap,
    /// The value handled last.
    pub handled: &'a [Atomic<u64>; 2],
}

/// The type-erased part of a [`Registration`] that [`revalidate`] reaches.
#[pin_data]
struct Entry {
    /// Called with a pointer to the whole registration.
    pending: unsafe fn(*const Entry) -> bool,
    /// Called with a pointer to the whole registration.
    settle: unsafe fn(*const Entry) -> Result,
    /// Keeps the registration alive while [`Entry::settle`] runs, outside the RCU section.
    #[pin]
    settling: Srcu,
}

/// The registered backend's [`Quick`] check, checked once at registration: the first of the two
/// mapped words, 8-byte aligned with both inside the mapping; null while the backend has none.
///
/// Kept in statics rather than in the registration, so that [`revalidate`] reaches the words
/// without going through `CURRENT`. Set after `CURRENT`, `QUICK_HANDLED` before `QUICK_LIVE`;
/// cleared, and a grace period waited for, before `CURRENT` is cleared. Readers load
/// `QUICK_LIVE` in an RCU read-side critical section, so that one that found it set is done
/// before another registration can set its own.
#[cfg(CONFIG_HAS_IOMEM)]
static QUICK_LIVE: Atomic<*const u64> = Atomic::new(ptr::null());

/// The value the registered backend handled last, for [`QUICK_LIVE`]; null while that is.
#[cfg(CONFIG_HAS_IOMEM)]
static QUICK_HANDLED: Atomic<*const [Atomic<u64>; 2]> = Atomic::new(ptr::null());

/// The registered entry, or null.
///
/// It points to the whole registration (the entry is its first field), so that the entry's
/// functions may reach the backend through it. Readers load it in an RCU read-side critical
/// section; [`Registration`] waits for a grace period after it clears it.
static CURRENT: Atomic<*const Entry> = Atomic::new(ptr::null());

/// A registered [`Revalidate`] check, removed on drop.
///
/// Dropping it may sleep: it waits until no call to the check is running.
///
/// # Invariants
///
/// While `CURRENT` holds a pointer to this registration, it is pinned and alive, and its
/// `entry` holds `Self::pending_of` and `Self::settle_of`. While `QUICK_LIVE` is not null, it
/// and `QUICK_HANDLED` point to the backend's [`Quick`] check, two words inside its mapping and
/// its copy, and `CURRENT` holds this registration.
///
/// # Examples
///
/// ```
/// use kernel::sync::atomic::{Atomic, Relaxed};
/// use kernel::sysgenid::{self, Registration, Revalidate};
///
/// struct Backend {
///     checks: Atomic<u32>,
///     settled: Atomic<u32>,
/// }
///
/// // SAFETY: `pending` only updates an atomic.
/// unsafe impl Revalidate for Backend {
///     fn pending(&self) -> bool {
///         // Pretend that every other check finds a restore in flight.
///         self.checks.fetch_add(1, Relaxed) % 2 == 1
///     }
///
///     fn settle(&self) -> Result {
///         self.settled.fetch_add(1, Relaxed);
///         Ok(())
///     }
/// }
///
/// let backend = Backend { checks: Atomic::new(0), settled: Atomic::new(0) };
/// // A kernel whose VM generation ID driver is bound has its backend registered already.
/// let Ok(registration) = KBox::pin_init(Registration::new(backend), GFP_KERNEL) else {
///     return Ok(());
/// };
/// // One backend at a time.
/// let other = Backend { checks: Atomic::new(0), settled: Atomic::new(0) };
/// assert!(KBox::pin_init(Registration::new(other), GFP_KERNEL).is_err());
///
/// assert_eq!(sysgenid::revalidate(true), Ok(false)); // Nothing pending.
/// assert_eq!(sysgenid::revalidate(true), Ok(true)); // Pending: waits until it was handled.
/// assert_eq!(sysgenid::revalidate(false), Ok(false));
/// assert_eq!(sysgenid::revalidate(false), Ok(true)); // Pending, but the caller cannot wait.
/// assert_eq!(registration.backend().checks.load(Relaxed), 4);
/// assert_eq!(registration.backend().settled.load(Relaxed), 1);
///
/// drop(registration);
/// assert_eq!(sysgenid::revalidate(true), Ok(false)); // No backend: nothing is called.
/// # Ok::<(), Error>(())
/// ```
#[pin_data(PinnedDrop)]
#[repr(C)]
pub struct Registration<T: Revalidate> {
    /// First, so that a pointer to the registration is a pointer to its entry.
    #[pin]
    entry: Entry,
    backend: T,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: `entry` is only used through shared references and its SRCU, which any task may use,
// and `backend` is `Send`.
unsafe impl<T: Revalidate> Send for Registration<T> {}
// SAFETY: Shared references reach `T`, which is `Sync`, and the SRCU, which is thread-safe.
unsafe impl<T: Revalidate> Sync for Registration<T> {}

impl<T: Revalidate> Registration<T> {
    /// Registers `backend`'s check; `EBUSY` when another backend is registered.
    ///
    /// # Examples
    ///
    /// See [`Registration`].
    ///
    /// ```
    /// use kernel::sysgenid::{Registration, Revalidate};
    ///
    /// struct Never;
    ///
    /// // SAFETY: `pending` does nothing.
    /// unsafe impl Revalidate for Never {
    ///     fn pending(&self) -> bool {
    ///         false
    ///     }
    ///
    ///     fn settle(&self) -> Result {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// if let Ok(registration) = KBox::pin_init(Registration::new(Never), GFP_KERNEL) {
    ///     drop(registration);
    /// }
    /// ```
    pub fn new(backend: T) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            entry <- try_pin_init!(Entry {
                pending: Self::pending_of,
                settle: Self::settle_of,
                settling <- new_srcu!("sysgenid::Registration::settling"),
            }),
            backend,
            _pin: PhantomPinned,
        })
        .pin_chain(|this| {
            // From the whole registration, which the entry's functions reach through it.
            let whole: *const Self = &*this;
            // INVARIANT: The registration is pinned, and stays alive until `drop` clears
            // `CURRENT` again.
            // Fully ordered: the quick pointers stored below come after the previous
            // registration's clearing of them, which it did before it cleared `CURRENT`.
            CURRENT
                .cmpxchg(ptr::null(), whole.cast::<Entry>(), Full)
                .map_err(|_| EBUSY)?;
            #[cfg(CONFIG_HAS_IOMEM)]
            if let Some(quick) = this.backend.quick() {
                let live = quick.live.as_ptr().cast::<u64>();
                // Checked here, once, so that `revalidate` reads the words without a check.
                if quick.live.size() >= 2 * size_of::<u64>() && live.is_aligned() {
                    // INVARIANT: Both point into the backend, which the `Revalidate` contract
                    // keeps alive and in place as long as it is, and `CURRENT` holds this
                    // registration. The copy first: a reader that sees `live` sees its copy.
                    QUICK_HANDLED.store(quick.handled, Relaxed);
                    QUICK_LIVE.store(live, Release);
                }
            }
            Ok(())
        })
    }

    /// Returns the registered backend.
    ///
    /// # Examples
    ///
    /// See [`Registration`].
    ///
    /// ```
    /// use kernel::sysgenid::{Registration, Revalidate};
    ///
    /// struct Named(&'static str);
    ///
    /// // SAFETY: `pending` does nothing.
    /// unsafe impl Revalidate for Named {
    ///     fn pending(&self) -> bool {
    ///         false
    ///     }
    ///
    ///     fn settle(&self) -> Result {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// if let Ok(registration) = KBox::pin_init(Registration::new(Named("x")), GFP_KERNEL) {
    ///     assert_eq!(registration.backend().0, "x");
    /// }
    /// ```
    pub fn backend(&self) -> &T {
        &self.backend
    }

    /// # Safety
    ///
    /// `whole` must point to a live `Self`, with provenance over all of it.
    unsafe fn pending_of(whole: *const Entry) -> bool {
        // SAFETY: By the safety requirements `whole` points to a live `Self`.
        let this = unsafe { &*whole.cast::<Self>() };
        this.backend.pending()
    }

    /// # Safety
    ///
    /// `whole` must point to a live `Self`, with provenance over all of it.
    unsafe fn settle_of(whole: *const Entry) -> Result {
        // SAFETY: By the safety requirements `whole` points to a live `Self`.
        let this = unsafe { &*whole.cast::<Self>() };
        this.backend.settle()
    }
}

#[pinned_drop]
impl<T: Revalidate> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        let whole: *const Self = &*self;
        // A registration that lost the race for `CURRENT` in `new` was never visible. Nothing
        // else replaces this one in `CURRENT` while it is there.
        if CURRENT.load(Relaxed) != whole.cast::<Entry>() {
            return;
        }
        #[cfg(CONFIG_HAS_IOMEM)]
        {
            QUICK_LIVE.store(ptr::null(), Relaxed);
            // Every reader that found the quick check set is done before `CURRENT` lets another
            // registration set its own: none can pair these words with its copy.
            rcu::synchronize_rcu();
            QUICK_HANDLED.store(ptr::null(), Relaxed);
        }
        CURRENT.store(ptr::null(), Release);
        // Every `revalidate` that found this registration did so under RCU and, if it settles,
        // entered `settling` before leaving that section: wait for the first, then the second.
        rcu::synchronize_rcu();
        self.entry.settling.synchronize();
    }
}

/// Asks the registered backend, if any, whether a restore is pending, and with `wait` waits
/// until it has been handled. Returns whether one was pending.
///
/// For the SysGenId driver: `read()` and the ioctls pass `wait`, `poll()` and callers that must
/// not sleep do not (the handling wakes pollers when it is done). Without `wait` this takes no
/// lock and never sleeps; with it, it sleeps only when a restore is pending, and fails with
/// `ERESTARTSYS` when a signal ends that wait.
///
/// # Examples
///
/// ```
/// // A restore in flight is waited for; without a backend, nothing is pending.
/// let pending = kernel::sysgenid::revalidate(true)?;
/// # let _ = pending;
/// # Ok::<(), Error>(())
/// ```
#[inline]
pub fn revalidate(wait: bool) -> Result<bool> {
    // Without a backend there is nothing to protect: skip the read-side critical section.
    if CURRENT.load(Relaxed).is_null() {
        return Ok(false);
    }
    #[cfg(CONFIG_HAS_IOMEM)]
    if quick_says_equal() {
        return Ok(false);
    }
    ask(wait)
}

/// Whether the registered backend's [`Quick`] check finds its two values equal, so that nothing
/// is pending: the part of [`revalidate`] that every syscall runs, with no lock and, but for the
/// RCU read-side section, no call.
#[cfg(CONFIG_HAS_IOMEM)]
#[inline]
fn quick_says_equal() -> bool {
    let _rcu = rcu::read_lock();
    let live = QUICK_LIVE.load(Acquire);
    if live.is_null() {
        return false;
    }
    // SAFETY: By the invariants of `Registration`, a non-null `QUICK_LIVE`, loaded with acquire
    // ordering after the registration stored `QUICK_HANDLED`, comes with the backend's copy, which
    // no other registration replaces while this read-side critical section lasts; the
    // registration, and with it the backend, stays alive until a grace period after it clears
    // `QUICK_LIVE`.
    let handled = unsafe { &*QUICK_HANDLED.load(Relaxed) };
    // SAFETY: As above the mapping is alive; `live` is aligned and both words are inside it,
    // which the registration checked.
    let (first, second) = unsafe { (live.read_volatile(), live.add(1).read_volatile()) };
    first == handled[0].load(Acquire) && second == handled[1].load(Acquire)
}

/// Asks the registered backend's [`Revalidate::pending`] and, with `wait`, settles: the part of
/// [`revalidate`] that runs after a restore or without a quick check, out of line so that the
/// inline part stays small.
#[inline(never)]
fn ask(wait: bool) -> Result<bool> {
    let rcu = rcu::read_lock();
    // Kept raw: it points to the whole registration, and a reference to the entry alone would
    // not reach the backend.
    let whole = CURRENT.load(Acquire);
    if whole.is_null() {
        return Ok(false);
    }
    // SAFETY: A non-null `CURRENT` points to a live registration, which stays alive until a grace
    // period after it is cleared, and we are in a read-side critical section. By the invariants
    // of `Registration`, `pending` is its `pending_of`, and `Revalidate` promises it does not
    // sleep.
    let pending = unsafe { ((*whole).pending)(whole) };
    if !pending || !wait {
        return Ok(pending);
    }
    // SAFETY: `whole` is the live registration just found under `rcu`, which is still held.
    unsafe { settle(whole, rcu) }.map(|()| true)
}

/// Waits until the restore the backend of `whole` reported has been handled: the rare part of
/// [`revalidate`], out of line.
///
/// # Safety
///
/// `whole` must point to a registration that was registered in `CURRENT` when `rcu` was already
/// held.
#[cold]
unsafe fn settle(whole: *const Entry, rcu: rcu::Guard) -> Result {
    // SAFETY: By the safety requirements, the registration is alive while `rcu` is held.
    let settling = unsafe { &(*whole).settling };
    let settling = settling.read_lock();
    drop(rcu);
    // SAFETY: The registration cannot finish dropping while `settling` is held, so it is alive
    // for this call; by the invariants of `Registration`, `settle` is its `settle_of`.
    let settled = unsafe { ((*whole).settle)(whole) };
    drop(settling);
    settled
}

#[kunit_tests(rust_kernel_sysgenid)]
mod tests {
    use super::*;
    use crate::{
        new_spinlock,
        sync::{Arc, Completion, SpinLock},
        time::{delay::fsleep, Delta},
        workqueue::{self, impl_has_work, new_work, Work, WorkItem},
    };

    /// What the test, its backend and its two work items share.
    #[pin_data]
    struct Shared {
        /// The registration, until the dropper takes it.
        #[pin]
        held: SpinLock<Option<Pin<KBox<Registration<Backend>>>>>,
        /// The checker is inside `settle`, under the registration's SRCU.
        #[pin]
        entered: Completion,
        /// The dropper is about to drop the registration.
        #[pin]
        dropping: Completion,
        /// The drop has returned.
        dropped: Atomic<bool>,
        /// The drop returned while `settle` was still running.
        overlapped: Atomic<bool>,
        #[pin]
        checked: Completion,
        #[pin]
        gone: Completion,
    }

    /// Always finds a restore pending; its `settle` waits for the dropper to start, then gives
    /// the drop 100 ms to return, which it must not while `settle` runs.
    struct Backend(Arc<Shared>);

    // SAFETY: `pending` only returns a constant.
    unsafe impl Revalidate for Backend {
        fn pending(&self) -> bool {
            true
        }

        fn settle(&self) -> Result {
            // Our own reference: if the drop did not wait, `self` may go while this runs.
            let shared = self.0.clone();
            shared.entered.complete_all();
            shared.dropping.wait_for_completion();
            for _ in 0..100 {
                if shared.dropped.load(Acquire) {
                    shared.overlapped.store(true, Relaxed);
                    break;
                }
                fsleep(Delta::from_millis(1));
            }
            Ok(())
        }
    }

    /// Runs `revalidate(true)`, which enters the backend's `settle`.
    #[pin_data]
    struct Checker {
        shared: Arc<Shared>,
        #[pin]
        work: Work<Checker>,
    }

    impl_has_work! {
        impl HasWork<Self> for Checker { self.work }
    }

    impl WorkItem for Checker {
        type Pointer = Arc<Self>;

        fn run(this: Arc<Self>) {
            assert_eq!(revalidate(true), Ok(true));
            this.shared.checked.complete_all();
        }
    }

    /// Drops the registration while the checker is inside `settle`.
    #[pin_data]
    struct Dropper {
        shared: Arc<Shared>,
        #[pin]
        work: Work<Dropper>,
    }

    impl_has_work! {
        impl HasWork<Self> for Dropper { self.work }
    }

    impl WorkItem for Dropper {
        type Pointer = Arc<Self>;

        fn run(this: Arc<Self>) {
            let registration = this.shared.held.lock().take();
            this.shared.dropping.complete_all();
            drop(registration);
            this.shared.dropped.store(true, Release);
            this.shared.gone.complete_all();
        }
    }

    /// A registration dropped while a caller is inside the backend's `settle` must wait for it:
    /// the drop must not return first, and the SRCU must not be cleaned up under its reader
    /// (which the kernel reports with a warning; the suite's runner fails on it).
    #[test]
    fn drop_waits_for_a_running_settle() -> Result {
        let shared = Arc::pin_init(
            pin_init!(Shared {
                held <- new_spinlock!(None),
                entered <- Completion::new(),
                dropping <- Completion::new(),
                dropped: Atomic::new(false),
                overlapped: Atomic::new(false),
                checked <- Completion::new(),
                gone <- Completion::new(),
            }),
            GFP_KERNEL,
        )?;
        let (for_checker, for_dropper) = (shared.clone(), shared.clone());
        let checker = Arc::pin_init(
            pin_init!(Checker {
                shared: for_checker,
                work <- new_work!("sysgenid::tests::Checker"),
            }),
            GFP_KERNEL,
        )?;
        let dropper = Arc::pin_init(
            pin_init!(Dropper {
                shared: for_dropper,
                work <- new_work!("sysgenid::tests::Dropper"),
            }),
            GFP_KERNEL,
        )?;
        // Registered last: nothing can fail after it, so the registration, which holds `shared`,
        // is always dropped. Needs the one backend slot: fails with `EBUSY` where a VM
        // generation ID device is bound (the suite runs under UML, which has none).
        let registration = KBox::pin_init(Registration::new(Backend(shared.clone())), GFP_KERNEL)?;
        *shared.held.lock() = Some(registration);
        let _ = workqueue::system_long().enqueue(checker);
        shared.entered.wait_for_completion();
        let _ = workqueue::system_long().enqueue(dropper);
        shared.checked.wait_for_completion();
        shared.gone.wait_for_completion();
        assert!(!shared.overlapped.load(Relaxed));
        // With the registration gone, nothing is asked.
        assert_eq!(revalidate(true), Ok(false));
        Ok(())
    }
}
