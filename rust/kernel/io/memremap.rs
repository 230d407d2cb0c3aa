// SPDX-License-Identifier: GPL-2.0

//! Mappings of memory-like physical ranges.
//!
//! C header: [`include/linux/io.h`](srctree/include/linux/io.h).

use crate::{
    device::{Bound, Device},
    io::{IoBase, PhysAddr, SysMem, SysMemBackend},
    prelude::*,
};
use core::{marker::PhantomData, ptr::NonNull};

/// How [`MemRemap`] maps the range.
///
/// # Examples
///
/// ```
/// use kernel::io::memremap::Flags;
///
/// // A buffer the hypervisor of an encrypted guest shares: cacheable, decrypted.
/// let shared = Flags::WB | Flags::DEC;
/// assert!(shared != Flags::WB);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Flags(u32);

impl Flags {
    /// Write-back caching: the range is ordinary memory (`MEMREMAP_WB`).
    pub const WB: Flags = Flags(bindings::MEMREMAP_WB);
    /// The range is shared with the hypervisor of an encrypted guest and must be mapped
    /// decrypted (`MEMREMAP_DEC`).
    pub const DEC: Flags = Flags(bindings::MEMREMAP_DEC);
}

impl core::ops::BitOr for Flags {
    type Output = Flags;

    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

/// A mapping of a physical range that behaves like memory, such as a buffer that firmware or a
/// hypervisor shares with a device, made with `memremap()` and unmapped on drop.
///
/// Unlike `ioremap()` mappings, these may be cached. A mapping is read and written through the
/// [`Io`](super::Io) accessors of system memory ([`SysMem`]), which are volatile, because whoever
/// shares the range may change it at any time. It borrows the bound device whose range it maps,
/// so it cannot outlive the binding.
///
/// # Invariants
///
/// `addr` is the start of a live `memremap()` mapping of `size` bytes, `size > 0`, which this
/// value owns.
///
/// # Examples
///
/// ```
/// use kernel::io::{memremap::MemRemap, Io};
///
/// /// Reads the 16-byte identifier at the start of a mapping; `EINVAL` if it is smaller.
/// fn read_id(map: &MemRemap<'_>) -> Result<[u8; 16]> {
///     Ok(map.try_cast::<[u8; 16]>()?.copy_read())
/// }
/// ```
pub struct MemRemap<'a> {
    addr: NonNull<u8>,
    size: usize,
    _device: PhantomData<&'a Device<Bound>>,
}

// SAFETY: The mapping is not tied to the task that made it, and is only accessed through
// `SysMem`, whose accesses are volatile or `memcpy()`.
unsafe impl Send for MemRemap<'_> {}
// SAFETY: See above; concurrent accesses from the device's side are what the mapping is for.
unsafe impl Sync for MemRemap<'_> {}

impl<'a> MemRemap<'a> {
    /// Maps `size` bytes of physical memory at `start`, a range of `dev`, for as long as `dev`
    /// is bound.
    ///
    /// Fails with `EINVAL` when `size` is 0 and with `ENXIO` when `memremap()` cannot map the
    /// range with these flags: a range that is partly RAM, RAM that cannot be mapped with
    /// them, or a range the architecture refuses to map.
    ///
    /// # Safety
    ///
    /// The range must be memory that `dev` owns and that the kernel uses for nothing else, such
    /// as a buffer that firmware reserved for the device and named by its address; reading it
    /// must have no side effects. A mapping of memory that other code owns could read, with
    /// `flags` that conflict with its other mappings, what the kernel does not expect to be read.
    /// The range must stay the device's while the device is bound. For a range that is a
    /// memory resource of the device, and may be mapped as device memory, prefer
    /// [`IoRequest::iomap_exclusive_sized`](super::mem::IoRequest::iomap_exclusive_sized), which
    /// requests the region and needs no such promise.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::{
    ///     device::{Bound, Device},
    ///     io::{
    ///         memremap::{Flags, MemRemap},
    ///         PhysAddr,
    ///     },
    /// };
    ///
    /// /// Maps the 16-byte buffer at `addr` that firmware reserved for `dev`.
    /// fn map_firmware_buffer(dev: &Device<Bound>, addr: PhysAddr) -> Result<MemRemap<'_>> {
    ///     // SAFETY: Firmware reserved these 16 bytes for the device and uses them for nothing
    ///     // else; the kernel does not use them either.
    ///     unsafe { MemRemap::new(dev, addr, 16, Flags::WB) }
    /// }
    /// ```
    pub unsafe fn new(
        _dev: &'a Device<Bound>,
        start: PhysAddr,
        size: usize,
        flags: Flags,
    ) -> Result<Self> {
        if size == 0 {
            return Err(EINVAL);
        }
        // SAFETY: `memremap()` accepts any range and flags, returns NULL on failure, and the
        // caller promises that mapping this range is harmless.
        let addr = unsafe { bindings::memremap(start, size, flags.0 as crate::ffi::c_ulong) };
        let addr = NonNull::new(addr.cast::<u8>()).ok_or(ENXIO)?;
        // INVARIANT: `addr` is a new mapping of `size` bytes, and `size` is not 0.
        Ok(Self {
            addr,
            size,
            _device: PhantomData,
        })
    }
}

impl<'a> IoBase<'a> for &'a MemRemap<'_> {
    type Backend = SysMemBackend;
    type Target = [u8];

    #[inline]
    fn as_view(self) -> SysMem<'a, [u8]> {
        // SAFETY: By the type invariants, the `size` bytes at `addr` are mapped for as long as
        // the mapping lives, so for `'a`, the borrow of it; bytes need no alignment.
        unsafe {
            SysMem::new(core::ptr::slice_from_raw_parts_mut(
                self.addr.as_ptr(),
                self.size,
            ))
        }
    }
}

impl Drop for MemRemap<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants, `addr` is a `memremap()` mapping this value owns.
        unsafe { bindings::memunmap(self.addr.as_ptr().cast()) };
    }
}
