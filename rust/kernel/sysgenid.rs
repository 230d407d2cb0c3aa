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

use crate::{
    new_srcu,
    prelude::*,
    sync::{
        atomic::{Acquire, Atomic, Relaxed, Release},
        rcu, Srcu,
    },
};
use core::{marker::PhantomPinned, ptr};

/// A backend's check for a restore that has happened but has not been handled yet.
pub trait Revalidate: Send + Sync {
    /// Returns whether a restore happened whose handling has not finished, and if so makes sure
    /// it will be handled, for example by queueing work that reports it.
    ///
    /// Runs on every `/dev/sysgenid` syscall, `poll()` included, inside an RCU read-side
    /// critical section: it must be cheap and must not sleep.
    fn pending(&self) -> bool;

    /// Returns once the restore that [`Revalidate::pending`] reported has been handled.
    ///
    /// Runs in process context and may sleep.
    fn settle(&self);
}

/// The type-erased part of a [`Registration`] that [`revalidate`] reaches.
#[pin_data]
struct Entry {
    pending: unsafe fn(*const Entry) -> bool,
    settle: unsafe fn(*const Entry),
    /// Keeps the registration alive while [`Entry::settle`] runs, outside the RCU section.
    #[pin]
    settling: Srcu,
}

/// The registered entry, or null.
///
/// Readers load it in an RCU read-side critical section; [`Registration`] waits for a grace
/// period after it clears it.
static CURRENT: Atomic<*const Entry> = Atomic::new(ptr::null());

/// A registered [`Revalidate`] check, removed on drop.
///
/// Dropping it waits until no call to the check is running.
///
/// # Invariants
///
/// While [`CURRENT`] points to `entry`, the registration is pinned and alive, and `entry` holds
/// [`Self::pending_of`] and [`Self::settle_of`].
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
/// impl Revalidate for Backend {
///     fn pending(&self) -> bool {
///         // Pretend that every other check finds a restore in flight.
///         self.checks.fetch_add(1, Relaxed) % 2 == 1
///     }
///
///     fn settle(&self) {
///         self.settled.fetch_add(1, Relaxed);
///     }
/// }
///
/// let backend = Backend { checks: Atomic::new(0), settled: Atomic::new(0) };
/// let registration = KBox::pin_init(Registration::new(backend), GFP_KERNEL)?;
/// // One backend at a time.
/// let other = Backend { checks: Atomic::new(0), settled: Atomic::new(0) };
/// assert!(KBox::pin_init(Registration::new(other), GFP_KERNEL).is_err());
///
/// assert!(!sysgenid::revalidate(true)); // Nothing pending.
/// assert!(sysgenid::revalidate(true)); // Pending: waits until it was handled.
/// assert!(!sysgenid::revalidate(false));
/// assert!(sysgenid::revalidate(false)); // Pending, but the caller cannot wait.
/// assert_eq!(registration.backend().checks.load(Relaxed), 4);
/// assert_eq!(registration.backend().settled.load(Relaxed), 1);
///
/// drop(registration);
/// assert!(!sysgenid::revalidate(true)); // No backend: nothing is called.
/// # Ok::<(), Error>(())
/// ```
#[pin_data(PinnedDrop)]
#[repr(C)]
pub struct Registration<T: Revalidate> {
    /// First, so that a pointer to it is a pointer to the registration.
    #[pin]
    entry: Entry,
    backend: T,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: `entry` is only used through shared references and its SRCU, which any task may use;
// `T` is `Send`.
unsafe impl<T: Revalidate> Send for Registration<T> {}
// SAFETY: Shared references reach `T`, which is `Sync`, and the SRCU, which is thread-safe.
unsafe impl<T: Revalidate> Sync for Registration<T> {}

impl<T: Revalidate> Registration<T> {
    /// Registers `backend`'s check; `EBUSY` when another backend is registered.
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
            let entry: *const Entry = &this.entry;
            // INVARIANT: `this` is pinned, and stays alive until `drop` clears `CURRENT` again.
            CURRENT
                .cmpxchg(ptr::null(), entry, Release)
                .map(|_| ())
                .map_err(|_| EBUSY)
        })
    }

    /// Returns the registered backend.
    pub fn backend(&self) -> &T {
        &self.backend
    }

    /// # Safety
    ///
    /// `entry` must be the `entry` of a live `Self`.
    unsafe fn pending_of(entry: *const Entry) -> bool {
        // SAFETY: `entry` is the first field of a live `#[repr(C)]` `Self`.
        let this = unsafe { &*entry.cast::<Self>() };
        this.backend.pending()
    }

    /// # Safety
    ///
    /// `entry` must be the `entry` of a live `Self`.
    unsafe fn settle_of(entry: *const Entry) {
        // SAFETY: `entry` is the first field of a live `#[repr(C)]` `Self`.
        let this = unsafe { &*entry.cast::<Self>() };
        this.backend.settle();
    }
}

#[pinned_drop]
impl<T: Revalidate> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        let entry: *const Entry = &self.entry;
        // A registration that lost the race for `CURRENT` in `new` was never visible.
        if CURRENT.cmpxchg(entry, ptr::null(), Relaxed).is_err() {
            return;
        }
        // Every `revalidate` that found `entry` did so under RCU and, if it settles, entered
        // `settling` before leaving that section: wait for the first, then for the second.
        rcu::synchronize_rcu();
        self.entry.settling.synchronize();
    }
}

/// Asks the registered backend, if any, whether a restore is pending, and with `wait` waits
/// until it has been handled. Returns whether one was pending.
///
/// For the SysGenId driver: `read()` and the ioctls pass `wait`, `poll()` and callers that must
/// not sleep do not (the handling wakes pollers when it is done). Without `wait` this takes no
/// lock and never sleeps; with it, it sleeps only when a restore is pending.
///
/// # Examples
///
/// ```
/// // With no backend registered, nothing is pending.
/// assert!(!kernel::sysgenid::revalidate(false));
/// ```
pub fn revalidate(wait: bool) -> bool {
    let rcu = rcu::read_lock();
    let entry = CURRENT.load(Acquire);
    if entry.is_null() {
        return false;
    }
    // SAFETY: A non-null `CURRENT` points to the entry of a live registration, which stays alive
    // until a grace period after it is cleared, and we are in a read-side critical section.
    let entry = unsafe { &*entry };
    // SAFETY: By the invariants of `Registration`, `pending` belongs to the registration whose
    // entry this is.
    let pending = unsafe { (entry.pending)(entry) };
    if !pending || !wait {
        return pending;
    }
    let settling = entry.settling.read_lock();
    drop(rcu);
    // SAFETY: The registration cannot finish dropping while `settling` is held, so it is alive
    // for this call.
    unsafe { (entry.settle)(entry) };
    drop(settling);
    true
}
