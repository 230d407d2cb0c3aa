// SPDX-License-Identifier: GPL-2.0

//! Capability checks for the current task.
//!
//! C header: [`include/linux/capability.h`](srctree/include/linux/capability.h).

/// Returns whether the current task may checkpoint and restore the whole system.
///
/// That is whether it holds `CAP_CHECKPOINT_RESTORE`, or `CAP_SYS_ADMIN`, in the initial user
/// namespace. Guard with it the operations whose effect reaches beyond a user namespace: a task
/// that is privileged only inside a namespace it created itself is refused.
///
/// As with `capable()` in C, a successful check is audited and marks the task as having used
/// superuser privileges, so call it only when the privilege is about to be used.
///
/// # Examples
///
/// ```
/// use kernel::capability;
///
/// /// Checks the privilege of an operation that changes state for the whole system.
/// fn may_restore_system() -> Result {
///     if !capability::checkpoint_restore_capable() {
///         return Err(EPERM);
///     }
///     Ok(())
/// }
/// ```
pub fn checkpoint_restore_capable() -> bool {
    // SAFETY: `init_user_ns` is a static object that lives as long as the kernel, and the check
    // only reads it.
    unsafe { bindings::checkpoint_restore_ns_capable(&raw mut bindings::init_user_ns) }
}
