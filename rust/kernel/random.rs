// SPDX-License-Identifier: GPL-2.0

//! Feeding the kernel's random number generator, and hearing about virtual machine forks.
//!
//! C header: [`include/linux/random.h`](srctree/include/linux/random.h).

use crate::{
    error::to_result,
    ffi::{c_int, c_ulong, c_void},
    prelude::*,
    types::Opaque,
};
use core::marker::PhantomPinned;

/// Mixes `data` into the random number generator's input pool.
///
/// For data that differs between machines or boots but is not secret, such as a serial number
/// or a hypervisor-provided identifier: it makes the generator's state differ between machines,
/// and credits no entropy.
///
/// # Examples
///
/// ```
/// kernel::random::add_device_randomness(b"serial number 1234");
/// ```
pub fn add_device_randomness(data: &[u8]) {
    // SAFETY: `data` is valid for reads of `data.len()` bytes; the C side only reads it.
    unsafe { bindings::add_device_randomness(data.as_ptr().cast(), data.len()) }
}

/// Tells the random number generator that the virtual machine was forked or restored.
///
/// `unique_vm_id` is the hypervisor's new identifier of this virtual machine. The generator
/// mixes it in and, once it has been initialised at boot, reseeds at once, discarding every vDSO
/// `getrandom()` state; only then does every [`VmforkRegistration`] run (WireGuard, for one,
/// then expires all its keys). May sleep.
///
/// Only the Rust VM generation ID driver may call it, and it exists only when that driver is
/// built: C keeps the function as narrow (declared only with `CONFIG_VMGENID`, exported only
/// for a modular vmgenid), and a function of this crate is visible to every Rust module. It is
/// `#[inline]`, so the kernel crate exports no symbol of its own for it: the call is compiled
/// into the driver, and C's export rule is the one that applies.
///
/// # Examples
///
/// Not called here: the doctests run at boot, where a call would reseed the live generator.
///
/// ```
/// # #[cfg(CONFIG_VMGENID_RUST)]
/// fn on_new_vm_generation_id(id: &[u8; 16]) {
///     kernel::random::add_vmfork_randomness(id);
/// }
/// ```
#[cfg(CONFIG_VMGENID_RUST)]
#[inline]
pub fn add_vmfork_randomness(unique_vm_id: &[u8]) {
    // SAFETY: `unique_vm_id` is valid for reads of its length; the C side only reads it.
    unsafe { bindings::add_vmfork_randomness(unique_vm_id.as_ptr().cast(), unique_vm_id.len()) }
}

/// What to do after the virtual machine was forked or restored.
///
/// `'static`, because a registration that is leaked stays on the chain for good.
///
/// # Examples
///
/// ```
/// use kernel::random::VmforkNotify;
///
/// /// Logs every fork.
/// struct LogForks;
///
/// impl VmforkNotify for LogForks {
///     fn vmfork(&self) {
///         pr_info!("this virtual machine was forked or restored\n");
///     }
/// }
/// ```
pub trait VmforkNotify: Send + Sync + 'static {
    /// Called once for every fork, after the random number generator was reseeded.
    ///
    /// Runs in process context from the task that reported the fork, and may sleep; every
    /// registration is called in turn, so it should not take long.
    fn vmfork(&self);
}

/// A place on the random number generator's vmfork notifier chain, removed on drop.
///
/// Dropping it may sleep: it waits until no call to the handler is running.
///
/// `add_vmfork_randomness()` reseeds the generator (once it has been initialised at boot) and
/// then calls [`VmforkNotify::vmfork`] on every registration, so a registration never hears of
/// a fork before the reseed. Without
/// `CONFIG_VMGENID` there is no chain: registering succeeds, and nothing is ever called.
///
/// # Invariants
///
/// `nb` is registered on the vmfork chain, with `Self::call` as its callback, from the end of
/// [`VmforkRegistration::new`] until [`Drop`].
///
/// # Examples
///
/// ```
/// use kernel::random::{VmforkNotify, VmforkRegistration};
/// use kernel::sync::atomic::{Atomic, Relaxed};
///
/// struct Forks(Atomic<u32>);
///
/// impl VmforkNotify for Forks {
///     fn vmfork(&self) {
///         self.0.fetch_add(1, Relaxed);
///     }
/// }
///
/// let forks = KBox::pin_init(VmforkRegistration::new(Forks(Atomic::new(0))), GFP_KERNEL)?;
/// // Nothing here fires the chain: that would reseed the live generator.
/// assert_eq!(forks.handler().0.load(Relaxed), 0);
/// drop(forks);
/// # Ok::<(), Error>(())
/// ```
#[pin_data(PinnedDrop)]
pub struct VmforkRegistration<T: VmforkNotify> {
    handler: T,
    #[pin]
    nb: Opaque<bindings::notifier_block>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: The notifier block is only touched by the chain, under its own lock, and `T` is
// `Send`.
unsafe impl<T: VmforkNotify> Send for VmforkRegistration<T> {}
// SAFETY: Shared references only reach `T`, which is `Sync`.
unsafe impl<T: VmforkNotify> Sync for VmforkRegistration<T> {}

impl<T: VmforkNotify> VmforkRegistration<T> {
    /// Adds `handler` to the vmfork chain. May sleep.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::random::{VmforkNotify, VmforkRegistration};
    ///
    /// struct Quiet;
    ///
    /// impl VmforkNotify for Quiet {
    ///     fn vmfork(&self) {}
    /// }
    ///
    /// let registration = KBox::pin_init(VmforkRegistration::new(Quiet), GFP_KERNEL)?;
    /// drop(registration); // Off the chain again.
    /// # Ok::<(), Error>(())
    /// ```
    pub fn new(handler: T) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            // First, so that it is there when the chain calls the block registered below.
            handler,
            nb <- Opaque::try_ffi_init(|nb: *mut bindings::notifier_block| {
                // SAFETY: `nb` is valid for writes of a `notifier_block`.
                unsafe {
                    nb.write(bindings::notifier_block {
                        notifier_call: Some(Self::call),
                        next: core::ptr::null_mut(),
                        priority: 0,
                    })
                };
                Self::register(nb)
            }),
            _pin: PhantomPinned,
        })
    }

    /// Returns the handler this registration calls.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::random::{VmforkNotify, VmforkRegistration};
    ///
    /// struct Named(&'static str);
    ///
    /// impl VmforkNotify for Named {
    ///     fn vmfork(&self) {}
    /// }
    ///
    /// let registration = KBox::pin_init(VmforkRegistration::new(Named("mine")), GFP_KERNEL)?;
    /// assert_eq!(registration.handler().0, "mine");
    /// # Ok::<(), Error>(())
    /// ```
    pub fn handler(&self) -> &T {
        &self.handler
    }

    #[cfg(CONFIG_VMGENID)]
    fn register(nb: *mut bindings::notifier_block) -> Result {
        // SAFETY: `nb` is an initialised block inside a pinned `Self`, which unregisters it in
        // `drop` before its memory goes away.
        to_result(unsafe { bindings::register_random_vmfork_notifier(nb) })
    }

    #[cfg(not(CONFIG_VMGENID))]
    fn register(_nb: *mut bindings::notifier_block) -> Result {
        Ok(())
    }

    /// The chain's callback.
    ///
    /// # Safety
    ///
    /// `nb` must be the `nb` field of a live `Self`.
    unsafe extern "C" fn call(
        nb: *mut bindings::notifier_block,
        _action: c_ulong,
        _data: *mut c_void,
    ) -> c_int {
        let nb = nb.cast::<Opaque<bindings::notifier_block>>();
        // SAFETY: By the safety requirements `nb` is the `nb` field of a `Self`, which stays
        // alive until `drop` has taken it off the chain.
        let this = unsafe { &*crate::container_of!(nb, Self, nb) };
        this.handler.vmfork();
        bindings::NOTIFY_DONE as c_int
    }
}

#[pinned_drop]
impl<T: VmforkNotify> PinnedDrop for VmforkRegistration<T> {
    fn drop(self: Pin<&mut Self>) {
        Self::unregister(self.nb.get());
    }
}

impl<T: VmforkNotify> VmforkRegistration<T> {
    #[cfg(CONFIG_VMGENID)]
    fn unregister(nb: *mut bindings::notifier_block) {
        // SAFETY: By the type invariants the block is on the chain. Removing it takes the
        // chain's lock for writing, so once this returns no call to it is running.
        unsafe { bindings::unregister_random_vmfork_notifier(nb) };
    }

    #[cfg(not(CONFIG_VMGENID))]
    fn unregister(_nb: *mut bindings::notifier_block) {}
}
