// SPDX-License-Identifier: GPL-2.0

//! Handlers for the notifications an ACPI device raises (`Notify()` in its AML).
//!
//! C header: [`include/acpi/acpi_bus.h`](srctree/include/acpi/acpi_bus.h).

use super::Device;
use crate::{error::to_result, prelude::*};
use core::marker::PhantomPinned;

/// Handles the device notifications of an ACPI device.
///
/// # Examples
///
/// ```
/// use kernel::acpi::NotifyHandler;
///
/// /// Logs every notification.
/// struct Logger;
///
/// impl NotifyHandler for Logger {
///     fn notify(&self, event: u32) {
///         pr_info!("ACPI notification {:#x}\n", event);
///     }
/// }
/// ```
pub trait NotifyHandler: Sync {
    /// Called for each notification, in process context (the ACPI notify workqueue), with the
    /// value the firmware passed to `Notify()`.
    fn notify(&self, event: u32);
}

/// A [`NotifyHandler`] installed for the device notifications of an ACPI device.
///
/// Dropping it removes the handler and waits for calls in progress to finish, so the handler
/// may use anything that outlives the registration. A registration is tied to the lifetime of
/// the device it is installed on; drivers keep it in their per-device data.
///
/// # Examples
///
/// ```
/// use kernel::{
///     acpi::{NotifyHandler, NotifyRegistration},
///     sync::atomic::{Atomic, Relaxed},
/// };
///
/// /// Remembers that the device notified.
/// struct Flag(Atomic<bool>);
///
/// impl NotifyHandler for Flag {
///     fn notify(&self, _event: u32) {
///         self.0.store(true, Relaxed);
///     }
/// }
///
/// /// Whether the device behind `registration` has notified since it was installed.
/// fn notified(registration: &NotifyRegistration<'_, Flag>) -> bool {
///     registration.handler().0.load(Relaxed)
/// }
/// ```
///
/// # Invariants
///
/// The handler is installed on `device` with `notify_callback::<T>` and a pointer to `Self`
/// as its context, and stays installed until `Self` is dropped.
#[pin_data(PinnedDrop)]
pub struct NotifyRegistration<'a, T: NotifyHandler> {
    device: &'a Device,

    #[pin]
    handler: T,

    /// The callback gets a pointer to `Self`, so `Self` must not move.
    #[pin]
    _pin: PhantomPinned,
}

impl<'a, T: NotifyHandler + 'a> NotifyRegistration<'a, T> {
    /// Installs `handler` for the device notifications of `device`.
    ///
    /// Fails with `ENODEV` when the handler cannot be installed, for example because `device`
    /// already has a device notify handler.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::acpi::{Device, NotifyHandler, NotifyRegistration};
    /// use kernel::sync::atomic::{Atomic, Relaxed};
    ///
    /// struct Counter(Atomic<u32>);
    ///
    /// impl NotifyHandler for Counter {
    ///     fn notify(&self, _event: u32) {
    ///         self.0.fetch_add(1, Relaxed);
    ///     }
    /// }
    ///
    /// /// Counts the notifications of `adev` for as long as the result is kept.
    /// ///
    /// /// # Safety
    /// ///
    /// /// The caller must not forget the result, as for [`NotifyRegistration::new`].
    /// unsafe fn count(adev: &Device) -> Result<Pin<KBox<NotifyRegistration<'_, Counter>>>> {
    ///     // SAFETY: The caller promises not to forget the registration.
    ///     KBox::pin_init(
    ///         unsafe { NotifyRegistration::new(adev, Ok(Counter(Atomic::new(0)))) },
    ///         GFP_KERNEL,
    ///     )
    /// }
    /// ```
    ///
    /// # Safety
    ///
    /// Callers must not `mem::forget()` the registration or otherwise prevent its [`Drop`]
    /// implementation from running.
    pub unsafe fn new(
        device: &'a Device,
        handler: impl PinInit<T, Error> + 'a,
    ) -> impl PinInit<Self, Error> + 'a {
        // INVARIANT: If this succeeds, the handler is installed with a pointer to `Self`.
        try_pin_init!(&this in Self {
            device,
            handler <- handler,
            _pin: PhantomPinned,
            _: {
                // SAFETY:
                // - `device.as_raw()` is a valid `struct acpi_device` by the invariants of
                //   `Device`, and the callback has the type ACPI expects.
                // - The context stays valid until the destructor of `Self` removes the handler.
                // - All fields are initialised, so the callback may run at once.
                to_result(unsafe {
                    bindings::acpi_dev_install_notify_handler(
                        device.as_raw(),
                        bindings::ACPI_DEVICE_NOTIFY,
                        Some(notify_callback::<T>),
                        this.as_ptr().cast(),
                    )
                })?;
            },
        })
    }

    /// Returns the installed handler.
    ///
    /// # Examples
    ///
    /// See [`NotifyRegistration`].
    pub fn handler(&self) -> &T {
        &self.handler
    }
}

#[pinned_drop]
impl<T: NotifyHandler> PinnedDrop for NotifyRegistration<'_, T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariants the handler is installed with this callback; removing
        // it waits until no call to it is running or queued, so nothing refers to `self`
        // afterwards.
        unsafe {
            bindings::acpi_dev_remove_notify_handler(
                self.device.as_raw(),
                bindings::ACPI_DEVICE_NOTIFY,
                Some(notify_callback::<T>),
            )
        };
    }
}

/// # Safety
///
/// Only for use as the callback installed by [`NotifyRegistration::new`].
unsafe extern "C" fn notify_callback<T: NotifyHandler>(
    _handle: bindings::acpi_handle,
    event: u32,
    context: *mut c_void,
) {
    // SAFETY: The context is the pointer to the registration set in `NotifyRegistration::new`,
    // which stays valid while the handler is installed.
    let registration = unsafe { &*context.cast_const().cast::<NotifyRegistration<'_, T>>() };
    registration.handler.notify(event);
}
