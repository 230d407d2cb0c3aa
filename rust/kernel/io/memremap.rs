// SPDX-License-Identifier: GPL-2.0

//! Mappings of memory-like physical ranges.
//!
//! C header: [`include/linux/io.h`](srctree/include/linux/io.h).

use crate::{io::PhysAddr, prelude::*};
use core::ptr::NonNull;

/// How [`MemRemap::new`] maps the range.
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
/// # Invariants
///
/// `addr` is the start of a live `memremap()` mapping of `size` bytes, which this value owns.
pub struct MemRemap {
    addr: NonNull<u8>,
    size: usize,
}

// SAFETY: The mapping is not tied to the task that made it, and is only read through `&self`
// with volatile accesses.
unsafe impl Send for MemRemap {}
// SAFETY: See above; concurrent volatile reads are fine.
unsafe impl Sync for MemRemap {}

impl MemRemap {
    /// Maps `size` bytes of physical memory at `start`.
    ///
    /// Fails with `ENXIO` when the range cannot be mapped with these flags, for example cached
    /// over a range that is mapped uncached elsewhere.
    pub fn new(start: PhysAddr, size: usize, flags: Flags) -> Result<Self> {
        // SAFETY: `memremap()` accepts any range and flags, and returns NULL on failure.
        let addr = unsafe { bindings::memremap(start, size, flags.0 as crate::ffi::c_ulong) };
        let addr = NonNull::new(addr.cast::<u8>()).ok_or(ENXIO)?;
        // INVARIANT: `addr` is a new mapping of `size` bytes.
        Ok(Self { addr, size })
    }

    /// Returns the size of the mapping in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Copies `buf.len()` bytes from `offset` in the mapping into `buf`, one volatile read per
    /// byte. Fails with `EINVAL` if the bytes are not all inside the mapping.
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

impl Drop for MemRemap {
    fn drop(&mut self) {
        // SAFETY: By the type invariants, `addr` is a `memremap()` mapping this value owns.
        unsafe { bindings::memunmap(self.addr.as_ptr().cast()) };
    }
}
