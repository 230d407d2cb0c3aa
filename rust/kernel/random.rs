// SPDX-License-Identifier: GPL-2.0

//! Feeding the kernel's random number generator.
//!
//! C header: [`include/linux/random.h`](srctree/include/linux/random.h).

/// Mixes `data` into the random number generator's input pool.
///
/// For data that differs between machines or boots but is not secret, such as a serial number
/// or a hypervisor-provided identifier: it makes the generator's state differ between machines,
/// and credits no entropy.
pub fn add_device_randomness(data: &[u8]) {
    // SAFETY: `data` is valid for reads of `data.len()` bytes; the C side only reads it.
    unsafe { bindings::add_device_randomness(data.as_ptr().cast(), data.len()) }
}

/// Tells the random number generator that the virtual machine was forked or restored.
///
/// `unique_vm_id` is the hypervisor's new identifier of this virtual machine. The generator
/// mixes it in and reseeds at once, and the vDSO's `getrandom()` state is discarded, so that
/// clones of one snapshot stop producing the same output. May sleep.
#[cfg(CONFIG_VMGENID)]
pub fn add_vmfork_randomness(unique_vm_id: &[u8]) {
    // SAFETY: `unique_vm_id` is valid for reads of its length; the C side only reads it.
    unsafe { bindings::add_vmfork_randomness(unique_vm_id.as_ptr().cast(), unique_vm_id.len()) }
}
