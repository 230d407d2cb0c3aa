// SPDX-License-Identifier: GPL-2.0

//! Mappings of memory-like physical ranges.
//!
//! C header: [`include/linux/io.h`](srctree/include/linux/io.h).

use crate::{
    io::{
        resource::{self, Region, Resource},
        PhysAddr,
    },
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

/// A mapping of a physical range that behaves like memory, such as a buffer a hypervisor or
/// firmware shares with the kernel, made with `memremap()` and unmapped on drop.
///
/// Unlike `ioremap()` mappings, these may be cached; they are still read with volatile
/// accesses, because whoever shares the range may change it at any time.
///
/// A driver gets one from a memory resource of its bound device, which the mapping then holds
/// requested ([`IoRequest::memremap`](super::mem::IoRequest::memremap)) and whose borrow, `'a`,
/// it cannot outlive, or, for an address that firmware hands over some other way, from the
/// `unsafe` [`MemRemap::new`].
///
/// # Invariants
///
/// `addr` is the start of a live `memremap()` mapping of `size` bytes, which this value owns.
///
/// # Examples
///
/// ```
/// use kernel::io::memremap::{Flags, MemRemap};
///
/// /// Reads the 16-byte identifier at the start of a mapping.
/// fn read_id(map: &MemRemap<'_>) -> Result<[u8; 16]> {
///     let mut id = [0; 16];
///     map.read_volatile(0, &mut id)?;
///     Ok(id)
/// }
/// ```
pub struct MemRemap<'a> {
    addr: NonNull<u8>,
    size: usize,
    /// The device's memory range, held requested while it is mapped, if it came from one.
    _region: Option<Region>,
    /// The borrow of the bound device the range belongs to.
    _device: PhantomData<&'a ()>,
}

// SAFETY: The mapping is not tied to the task that made it, and is only read through `&self`
// with volatile accesses.
unsafe impl Send for MemRemap<'_> {}
// SAFETY: See above; concurrent volatile reads are fine.
unsafe impl Sync for MemRemap<'_> {}

impl<'a> MemRemap<'a> {
    /// Maps `size` bytes of physical memory at `start`.
    ///
    /// Fails with `ENXIO` when the range cannot be mapped with these flags, for example cached
    /// over a range that is mapped uncached elsewhere.
    ///
    /// # Safety
    ///
    /// The range must be memory that the caller's device owns and that the kernel uses for
    /// nothing else, such as a buffer that firmware reserved for the device and named by its
    /// address; reading it must have no side effects. A mapping of memory that other code owns
    /// could read, with `flags` that conflict with its other mappings, what the kernel does not
    /// expect to be read. The range must stay the device's for as long as the mapping lives,
    /// whatever `'a` the caller picks. Prefer a device resource
    /// ([`IoRequest::memremap`](super::mem::IoRequest::memremap)), which needs no such promise.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::io::{
    ///     memremap::{Flags, MemRemap},
    ///     PhysAddr,
    /// };
    ///
    /// /// Maps the 16-byte buffer at `addr` that firmware reserved for this device.
    /// fn map_firmware_buffer(addr: PhysAddr) -> Result<MemRemap<'static>> {
    ///     // SAFETY: Firmware reserved these 16 bytes for the device and uses them for nothing
    ///     // else; the kernel does not use them either.
    ///     unsafe { MemRemap::new(addr, 16, Flags::WB) }
    /// }
    /// ```
    pub unsafe fn new(start: PhysAddr, size: usize, flags: Flags) -> Result<Self> {
        // SAFETY: `memremap()` accepts any range and flags, returns NULL on failure, and the
        // caller promises that mapping this range is harmless.
        let addr = unsafe { bindings::memremap(start, size, flags.0 as crate::ffi::c_ulong) };
        let addr = NonNull::new(addr.cast::<u8>()).ok_or(ENXIO)?;
        // INVARIANT: `addr` is a new mapping of `size` bytes.
        Ok(Self {
            addr,
            size,
            _region: None,
            _device: PhantomData,
        })
    }

    /// Requests the memory range of `resource`, a resource of a bound device, and maps it.
    ///
    /// `EINVAL` when the resource is not memory, `EBUSY` when another driver holds part of it.
    pub(crate) fn request(resource: &'a Resource, flags: Flags) -> Result<Self> {
        if !resource.flags().contains(resource::Flags::IORESOURCE_MEM) {
            return Err(EINVAL);
        }
        let start = resource.start();
        let size = resource.size();
        let name = resource.name().unwrap_or_default();
        let region = resource
            .request_region(
                start,
                size,
                name.to_cstring()?,
                resource::Flags::IORESOURCE_MEM,
            )
            .ok_or(EBUSY)?;
        // SAFETY: The range is a memory resource of the caller's device, and `region` keeps it
        // requested for this driver alone until the mapping is gone.
        let mut map = unsafe { Self::new(start, size.try_into()?, flags)? };
        map._region = Some(region);
        Ok(map)
    }

    /// Returns the size of the mapping in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::io::memremap::MemRemap;
    ///
    /// /// Whether the mapping is large enough for a 16-byte identifier.
    /// fn holds_an_id(map: &MemRemap<'_>) -> bool {
    ///     map.size() >= 16
    /// }
    /// ```
    pub fn size(&self) -> usize {
        self.size
    }

    /// Copies `buf.len()` bytes from `offset` in the mapping into `buf`, one volatile read per
    /// byte. Fails with `EINVAL` if the bytes are not all inside the mapping.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::io::memremap::MemRemap;
    ///
    /// /// Reads the 32-bit little-endian counter at offset 8.
    /// fn counter(map: &MemRemap<'_>) -> Result<u32> {
    ///     let mut bytes = [0; 4];
    ///     map.read_volatile(8, &mut bytes)?;
    ///     Ok(u32::from_le_bytes(bytes))
    /// }
    /// ```
    pub fn read_volatile(&self, offset: usize, buf: &mut [u8]) -> Result {
        let end = offset.checked_add(buf.len()).ok_or(EINVAL)?;
        if end > self.size {
            return Err(EINVAL);
        }
        for (i, byte) in buf.iter_mut().enumerate() {
            // SAFETY: `offset + i < self.size`, so by the type invariants the address is inside
            // the live mapping.
            *byte = unsafe { self.addr.as_ptr().add(offset + i).read_volatile() };
        }
        Ok(())
    }
}

impl Drop for MemRemap<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants, `addr` is a `memremap()` mapping this value owns.
        // `_region` is released after this, once nothing maps the range.
        unsafe { bindings::memunmap(self.addr.as_ptr().cast()) };
    }
}
