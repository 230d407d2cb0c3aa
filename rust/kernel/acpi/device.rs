// SPDX-License-Identifier: GPL-2.0

//! ACPI device objects: the ACPI companion of a device and its methods.
//!
//! C headers: [`include/acpi/acpi_bus.h`](srctree/include/acpi/acpi_bus.h) and
//! [`include/linux/acpi.h`](srctree/include/linux/acpi.h).

use crate::{device, prelude::*, types::Opaque};
use core::ptr;

/// ACPICA allocates the result buffer itself (`ACPI_ALLOCATE_BUFFER`).
const ACPI_ALLOCATE_BUFFER: bindings::acpi_size = bindings::acpi_size::MAX;

/// An ACPI device object (`struct acpi_device`): the node of the ACPI namespace that describes
/// a device.
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
    pub fn companion(dev: &device::Device) -> Option<&Device> {
        // SAFETY: `dev.as_raw()` is a valid device.
        let adev = unsafe { bindings::acpi_companion(dev.as_raw()) };
        if adev.is_null() {
            return None;
        }
        // SAFETY: A device's companion lives at least as long as the device it describes, and so
        // as long as the reference to `dev`.
        Some(unsafe { &*adev.cast::<Device>() })
    }

    /// Returns the ACPI namespace handle of this device.
    pub(crate) fn handle(&self) -> bindings::acpi_handle {
        // SAFETY: By the type invariants, `self.0` is a valid `struct acpi_device`, whose handle
        // does not change.
        unsafe { (*self.0.get()).handle }
    }

    /// Evaluates the method `name` of this device, without arguments, and returns its result.
    ///
    /// Fails with `ENODEV` when the device has no such method or its evaluation fails, and with
    /// `ENODATA` when the method returns nothing.
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
        if status != 0 {
            return Err(ENODEV);
        }
        let object = buffer.pointer.cast::<bindings::acpi_object>();
        let result = if object.is_null() {
            Err(ENODATA)
        } else {
            // SAFETY: On success ACPICA stored a valid object in the buffer it allocated.
            unsafe { Object::from_raw(&*object) }
        };
        // SAFETY: ACPICA allocated the buffer with `acpi_os_allocate()`, which is `kmalloc()`
        // on Linux; nothing refers to it any more.
        unsafe { bindings::kfree(buffer.pointer) };
        result
    }
}

/// A value returned by an ACPI method, copied out of ACPICA's buffer.
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
    /// Copies `object` and, for a package, its elements.
    ///
    /// # Safety
    ///
    /// `object` must be a valid ACPICA object, as returned by `acpi_evaluate_object()`.
    unsafe fn from_raw(object: &bindings::acpi_object) -> Result<Self> {
        // SAFETY: Every member of the union starts with the type.
        let kind = unsafe { object.type_ };
        match kind {
            bindings::ACPI_TYPE_INTEGER => {
                // SAFETY: The type says the union holds an integer.
                Ok(Object::Integer(unsafe { object.integer.value }))
            }
            bindings::ACPI_TYPE_PACKAGE => {
                // SAFETY: The type says the union holds a package.
                let package = unsafe { object.package };
                let count = usize::try_from(package.count)?;
                let mut elements = KVec::with_capacity(count, GFP_KERNEL)?;
                for i in 0..count {
                    // SAFETY: A valid package has `count` valid elements.
                    let element = unsafe { Object::from_raw(&*package.elements.add(i)) }?;
                    elements.push(element, GFP_KERNEL)?;
                }
                Ok(Object::Package(elements))
            }
            other => Ok(Object::Other(other)),
        }
    }
}
