// SPDX-License-Identifier: GPL-2.0

//! ACPI device objects: the ACPI companion of a device and its methods.
//!
//! C headers: [`include/acpi/acpi_bus.h`](srctree/include/acpi/acpi_bus.h) and
//! [`include/linux/acpi.h`](srctree/include/linux/acpi.h).

use crate::{device, prelude::*, types::Opaque};
use core::ptr;

/// ACPICA allocates the result buffer itself (`ACPI_ALLOCATE_BUFFER`).
const ACPI_ALLOCATE_BUFFER: bindings::acpi_size = bindings::acpi_size::MAX;

/// How deep a returned package may nest packages before it is refused.
///
/// Firmware decides the shape of what a method returns; copying it recursively must not let
/// firmware decide how deep the kernel stack goes.
const MAX_DEPTH: u32 = 8;

/// Converts an ACPICA status to a result.
///
/// Each status a caller can act on has its own error: a missing object is `ENOENT`, a missing
/// allocation `ENOMEM`, an object that exists already `EEXIST`, a time-out `ETIMEDOUT`, a bad
/// argument `EINVAL`; a failure inside the firmware's AML, like any other, is `EIO`.
pub(crate) fn to_result(status: bindings::acpi_status) -> Result {
    match status {
        bindings::AE_OK => Ok(()),
        bindings::AE_NOT_FOUND => Err(ENOENT),
        bindings::AE_NO_MEMORY => Err(ENOMEM),
        bindings::AE_ALREADY_EXISTS => Err(EEXIST),
        bindings::AE_TIME => Err(ETIMEDOUT),
        bindings::AE_BAD_PARAMETER => Err(EINVAL),
        _ => Err(EIO),
    }
}

/// An ACPI device object (`struct acpi_device`): the node of the ACPI namespace that describes
/// a device.
///
/// # Examples
///
/// ```
/// use kernel::{acpi, device};
///
/// /// Whether firmware describes `dev` in the ACPI namespace.
/// fn described_by_acpi(dev: &device::Device<device::Bound>) -> bool {
///     acpi::Device::companion(dev).is_some()
/// }
/// ```
///
/// # Invariants
///
/// A `&Device` points to a valid `struct acpi_device` for as long as the reference lives.
#[repr(transparent)]
pub struct Device(Opaque<bindings::acpi_device>);

// SAFETY: The methods of `Device` go through ACPICA, which serialises access to the namespace
// itself, so they may be called from any task at the same time.
unsafe impl Sync for Device {}

impl Device {
    /// Returns the ACPI companion of `dev`, the ACPI device object that describes it, if any.
    ///
    /// Only for a bound device: the companion is guaranteed to stay while the device is
    /// registered, and a bound device cannot be unregistered.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::{acpi, device};
    ///
    /// /// Whether firmware describes `dev` in the ACPI namespace.
    /// fn has_acpi_node(dev: &device::Device<device::Bound>) -> bool {
    ///     acpi::Device::companion(dev).is_some()
    /// }
    /// ```
    pub fn companion(dev: &device::Device<device::Bound>) -> Option<&Device> {
        // SAFETY: `dev.as_raw()` is a valid device.
        let adev = unsafe { bindings::acpi_companion(dev.as_raw()) };
        if adev.is_null() {
            return None;
        }
        // SAFETY: When the device was added, `acpi_bind_one()` took a reference to its companion
        // for it; only `acpi_unbind_one()`, called from `device_del()`, clears the companion and
        // drops that reference, and `device_del()` first unbinds the driver, which cannot
        // happen while a `Device<Bound>` reference is in use. So the companion outlives `dev`'s
        // borrow.
        Some(unsafe { &*adev.cast::<Device>() })
    }

    /// Returns the raw `struct acpi_device` pointer.
    pub(crate) fn as_raw(&self) -> *mut bindings::acpi_device {
        self.0.get()
    }

    /// Returns the ACPI namespace handle of this device.
    pub(crate) fn handle(&self) -> bindings::acpi_handle {
        // SAFETY: By the type invariants, `self.as_raw()` is a valid `struct acpi_device`, whose
        // handle does not change.
        unsafe { (*self.as_raw()).handle }
    }

    /// Evaluates the method `name` of this device, without arguments, and returns its result.
    ///
    /// Fails with `ENOENT` when the device has no such method, `EIO` when its evaluation fails,
    /// `ENOMEM` when ACPICA or the copy runs out of memory, `ENODATA` when the method returns
    /// nothing, and `EINVAL` when it returns packages nested deeper than the copy follows.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::acpi::{Device, Object};
    ///
    /// /// Reads the device's `_STA` (status) bits, if it has the method.
    /// fn status(adev: &Device) -> Result<Option<u64>> {
    ///     match adev.evaluate(c"_STA") {
    ///         Ok(Object::Integer(bits)) => Ok(Some(bits)),
    ///         Ok(_) => Err(EINVAL),
    ///         Err(e) if e == ENOENT => Ok(None),
    ///         Err(e) => Err(e),
    ///     }
    /// }
    /// ```
    pub fn evaluate(&self, name: &CStr) -> Result<Object> {
        let mut buffer = bindings::acpi_buffer {
            length: ACPI_ALLOCATE_BUFFER,
            pointer: ptr::null_mut(),
        };
        // SAFETY: The handle is valid, `name` is a NUL-terminated string, no arguments are
        // passed, and `buffer` asks ACPICA to allocate the result.
        let status = unsafe {
            bindings::acpi_evaluate_object(
                self.handle(),
                name.as_char_ptr().cast_mut(),
                ptr::null_mut(),
                &mut buffer,
            )
        };
        let object = buffer.pointer.cast::<bindings::acpi_object>();
        let result = to_result(status).and_then(|()| {
            if object.is_null() {
                Err(ENODATA)
            } else {
                // SAFETY: On success ACPICA stored a valid object in the buffer it allocated.
                unsafe { Object::from_raw(&*object, 0) }
            }
        });
        // Freed whatever the status: ACPICA can fail after it allocated the buffer, when the
        // copy of the result into it fails.
        // SAFETY: The buffer is NULL or ACPICA allocated it for us (`ACPI_ALLOCATE_BUFFER`);
        // `ACPI_FREE()` is `acpi_os_free()`, `kfree()`, which frees it and accepts NULL. Nothing
        // refers to it any more.
        unsafe { bindings::acpi_free(buffer.pointer) };
        result
    }
}

/// A value returned by an ACPI method, copied out of ACPICA's buffer.
///
/// # Examples
///
/// ```
/// use kernel::acpi::Object;
///
/// /// A 64-bit address returned as a package of two 32-bit halves, low first.
/// fn address(object: &Object) -> Result<u64> {
///     match object {
///         Object::Package(halves) => match halves.as_slice() {
///             [Object::Integer(low), Object::Integer(high)] => Ok(low | (high << 32)),
///             _ => Err(EINVAL),
///         },
///         _ => Err(EINVAL),
///     }
/// }
/// ```
#[derive(Debug, PartialEq, Eq)]
pub enum Object {
    /// An integer.
    Integer(u64),
    /// A package of objects.
    Package(KVec<Object>),
    /// An object of another type, with its type number (`ACPI_TYPE_*`).
    Other(u32),
}

impl Object {
    /// Copies `object` and, for a package, its elements; `depth` is how many packages enclose
    /// it. `EINVAL` past [`MAX_DEPTH`].
    ///
    /// # Safety
    ///
    /// `object` must be a valid ACPICA object, as returned by `acpi_evaluate_object()`.
    unsafe fn from_raw(object: &bindings::acpi_object, depth: u32) -> Result<Self> {
        // SAFETY: Every member of the union starts with the type.
        let kind = unsafe { object.type_ };
        match kind {
            bindings::ACPI_TYPE_INTEGER => {
                // SAFETY: The type says the union holds an integer.
                Ok(Object::Integer(unsafe { object.integer.value }))
            }
            bindings::ACPI_TYPE_PACKAGE if depth >= MAX_DEPTH => Err(EINVAL),
            bindings::ACPI_TYPE_PACKAGE => {
                // SAFETY: The type says the union holds a package.
                let package = unsafe { object.package };
                let count = usize::try_from(package.count)?;
                let mut elements = KVec::with_capacity(count, GFP_KERNEL)?;
                for i in 0..count {
                    // SAFETY: A valid package has `count` valid elements.
                    let obj = unsafe { Object::from_raw(&*package.elements.add(i), depth + 1) };
                    elements.push(obj?, GFP_KERNEL)?;
                }
                Ok(Object::Package(elements))
            }
            other => Ok(Object::Other(other)),
        }
    }
}
