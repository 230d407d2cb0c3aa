// SPDX-License-Identifier: GPL-2.0

//! System Generation ID.
//!
//! `/dev/sysgenid` exposes a 32-bit *system generation* that changes whenever the system is
//! restored from a snapshot, so that userspace can throw away state that must be unique (PRNG
//! seeds, UUIDs, nonces) before a clone reuses it.
//!
//! Each open file remembers the generation it last acknowledged. A file opened for writing is a
//! *watcher*: until it acknowledges a new generation it counts as outdated, and a control plane
//! can count the outdated watchers or wait for them to catch up.
//!
//! See `Documentation/misc-devices/sysgenid.rst` for the userspace interface.

use kernel::{
    capability,
    ffi::{c_int, c_void},
    fs::{file::flags, File, Kiocb},
    ioctl::_IO,
    iov::{IovIterDest, IovIterSource},
    miscdevice::{MiscDevice, MiscDeviceOptions, MiscDeviceRegistration},
    mm::virt::VmaNew,
    new_condvar, new_poll_condvar, new_spinlock, new_spinlock_irq, new_srcu,
    page::{Page, PAGE_SIZE},
    prelude::*,
    seq_file::SeqFile,
    seq_print,
    sync::{
        poll::{PollCondVar, PollTable, POLLIN, POLLRDNORM},
        CondVar, CondVarTimeoutResult, LockedBy, SetOnce, SpinLock, SpinLockIrq, Srcu,
    },
    time::{msecs_to_jiffies, Jiffies},
};

module! {
    type: SysGenIdModule,
    name: "sysgenid",
    authors: ["SysGenId developers"],
    description: "System Generation ID",
    license: "GPL",
}

const SYSGENID_IOCTL: u32 = 0xE4;
const SYSGENID_SET_WATCHER_TRACKING: u32 = _IO(SYSGENID_IOCTL, 1);
const SYSGENID_WAIT_WATCHERS: u32 = _IO(SYSGENID_IOCTL, 2);
const SYSGENID_FORCE_GEN_UPDATE: u32 = _IO(SYSGENID_IOCTL, 3);
const SYSGENID_GET_OUTDATED_WATCHERS: u32 = _IO(SYSGENID_IOCTL, 4);

/// The size of a generation in a read, a write and the mapped page.
const GEN_SIZE: usize = size_of::<u32>();

/// Checks the length of a write: it must carry exactly one generation.
fn check_write_len(len: usize) -> Result {
    if len == GEN_SIZE {
        Ok(())
    } else {
        Err(EINVAL)
    }
}

/// Returns the generation that follows `current` when a bump asks for at least `min_gen`.
///
/// The result is never `current`: a `min_gen` that is not above `current` yields `current + 1`,
/// wrapping from `u32::MAX` to 0.
const fn next_generation(current: u32, min_gen: u32) -> u32 {
    if min_gen > current {
        min_gen
    } else {
        current.wrapping_add(1)
    }
}

/// The shared state, under [`SysGenId::state`].
struct State {
    /// The generation userspace sees.
    generation: u32,
    /// The number of bumps since boot.
    ///
    /// Acknowledgments are recorded against this rather than the generation, which can wrap or
    /// be forced back to a value a file acknowledged long ago.
    epoch: u64,
    /// Files counted as watchers.
    watchers: u32,
    /// Watchers that have not acknowledged the current epoch.
    outdated: u32,
}

/// What one open file knows, under the same lock as [`State`].
struct Acked {
    /// The epoch the file last acknowledged (or opened in).
    epoch: u64,
    /// The generation of that epoch, for fdinfo.
    generation: u32,
    /// Whether the file counts as a watcher.
    tracked: bool,
}

/// A backend's revalidate hook, called with the backend's data pointer.
type Revalidate = unsafe extern "C" fn(*mut c_void);

/// An installed revalidate hook and the data it is called with.
#[derive(Clone, Copy)]
struct Hook {
    revalidate: Revalidate,
    data: *mut c_void,
}

// SAFETY: The backend that installs a hook promises, through the C interface, that it may be
// called with `data` from any task until it is removed.
unsafe impl Send for Hook {}

/// The system generation and everyone watching it.
///
/// The device uses one instance for the whole system; the KUnit suite makes its own.
#[pin_data]
struct SysGenId {
    /// An IRQ-safe lock, because a bump may come from a hard interrupt.
    #[pin]
    state: SpinLockIrq<State>,
    /// Notified on every bump: readers and pollers wait here.
    #[pin]
    changed: PollCondVar,
    /// Notified on every bump and when the last outdated watcher acknowledges.
    #[pin]
    settled: CondVar,
    /// The page userspace maps: the generation at offset 0, zeroes elsewhere.
    page: Page,
    /// The backend's revalidate hook, if one is installed.
    #[pin]
    revalidate: SpinLock<Option<Hook>>,
    /// Lets unregistration wait until no call to the old hook is in progress.
    #[pin]
    revalidate_srcu: Srcu,
}

impl SysGenId {
    fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            state <- new_spinlock_irq!(
                State {
                    generation: 0,
                    epoch: 0,
                    watchers: 0,
                    outdated: 0,
                },
                "SysGenId::state"
            ),
            changed <- new_poll_condvar!("SysGenId::changed"),
            settled <- new_condvar!("SysGenId::settled"),
            page: Page::alloc_page(GFP_KERNEL | __GFP_ZERO)?,
            revalidate <- new_spinlock!(None, "SysGenId::revalidate"),
            revalidate_srcu <- new_srcu!("SysGenId::revalidate_srcu"),
        })
    }

    /// Returns the current generation.
    fn generation(&self) -> u32 {
        self.state.lock().generation
    }

    /// Returns the number of watchers that have not acknowledged the current generation.
    fn outdated(&self) -> u32 {
        self.state.lock().outdated
    }

    /// Moves to a new generation of at least `min_gen` and returns it. Any context.
    ///
    /// Every watcher becomes outdated, counted once however many bumps it missed; readers,
    /// pollers and waiters wake; the mapped page changes last, so that whoever sees the new value
    /// there can rely on every other effect having happened.
    fn bump(&self, min_gen: u32) -> u32 {
        let mut state = self.state.lock();
        let generation = next_generation(state.generation, min_gen);
        state.generation = generation;
        state.epoch += 1;
        state.outdated = state.watchers;
        self.changed.notify_all();
        self.settled.notify_all();
        // Offset 0 is aligned and inside the page, so this cannot fail.
        let _ = self.page.store_u32_release(0, generation);
        generation
    }

    /// Installs the revalidate hook; `EBUSY` if another one is installed.
    fn set_revalidate(&self, revalidate: Revalidate, data: *mut c_void) -> Result {
        let mut current = self.revalidate.lock();
        if current.is_some() {
            return Err(EBUSY);
        }
        *current = Some(Hook { revalidate, data });
        Ok(())
    }

    /// Removes `revalidate` and waits until no call to it is in progress. May sleep.
    fn clear_revalidate(&self, revalidate: Revalidate) {
        {
            let mut current = self.revalidate.lock();
            if !current.is_some_and(|hook| core::ptr::fn_addr_eq(hook.revalidate, revalidate)) {
                return;
            }
            *current = None;
        }
        self.revalidate_srcu.synchronize();
    }

    /// Lets the backend catch a restore whose notification is still in flight.
    fn revalidate(&self) {
        let _guard = self.revalidate_srcu.read_lock();
        let hook = *self.revalidate.lock();
        if let Some(hook) = hook {
            // SAFETY: The backend installed the hook through the C interface, whose contract is
            // that it may be called with its data in process context until it is removed, and
            // removing it waits for this SRCU read section to end.
            unsafe { (hook.revalidate)(hook.data) };
        }
    }

    /// Starts watching: a new file's view, acknowledged at the current generation.
    ///
    /// A `writable` file can acknowledge, and counts as a watcher from the start.
    fn watch(&self, writable: bool) -> Watch<'_> {
        let mut state = self.state.lock();
        if writable {
            state.watchers += 1;
        }
        let acked = Acked {
            epoch: state.epoch,
            generation: state.generation,
            tracked: writable,
        };
        drop(state);
        Watch {
            sysgenid: self,
            writable,
            acked: LockedBy::new(&self.state, acked),
        }
    }
}

/// One open file's view of a [`SysGenId`].
struct Watch<'a> {
    sysgenid: &'a SysGenId,
    writable: bool,
    acked: LockedBy<Acked, State>,
}

impl Watch<'_> {
    /// Whether this file has not acknowledged the current generation.
    fn is_outdated(&self) -> bool {
        let state = self.sysgenid.state.lock();
        self.acked.access(&state).epoch != state.epoch
    }

    /// Returns the current generation once it differs from the acknowledged one.
    ///
    /// Without `wait`, an up-to-date file gets `EAGAIN`. Reading never acknowledges.
    fn read(&self, wait: bool) -> Result<u32> {
        let mut state = self.sysgenid.state.lock();
        loop {
            if self.acked.access(&state).epoch != state.epoch {
                return Ok(state.generation);
            }
            if !wait {
                return Err(EAGAIN);
            }
            if self.sysgenid.changed.wait_interruptible(&mut state) {
                return Err(ERESTARTSYS);
            }
        }
    }

    /// Answers a read of `len` bytes: `None` for an empty read, which returns 0 at once,
    /// `EINVAL` when `len` cannot hold a generation, and otherwise as [`Watch::read`].
    fn read_len(&self, len: usize, wait: bool) -> Result<Option<u32>> {
        match len {
            0 => Ok(None),
            len if len < GEN_SIZE => Err(EINVAL),
            _ => self.read(wait).map(Some),
        }
    }

    /// Acknowledges `generation`, which must be the current one (`EINVAL` otherwise).
    fn acknowledge(&self, generation: u32) -> Result {
        let mut guard = self.sysgenid.state.lock();
        let state = &mut *guard;
        if generation != state.generation {
            return Err(EINVAL);
        }
        let epoch = state.epoch;
        let acked = self.acked.access_mut(state);
        let was_outdated = acked.epoch != epoch;
        let tracked = acked.tracked;
        acked.epoch = epoch;
        acked.generation = generation;
        if was_outdated && tracked {
            self.settle_one(state);
        }
        Ok(())
    }

    /// Starts or stops counting this file as a watcher; starting needs write access.
    fn set_tracking(&self, tracked: bool) -> Result {
        if tracked && !self.writable {
            return Err(EPERM);
        }
        let mut guard = self.sysgenid.state.lock();
        let state = &mut *guard;
        let epoch = state.epoch;
        let acked = self.acked.access_mut(state);
        if acked.tracked == tracked {
            return Ok(());
        }
        acked.tracked = tracked;
        let outdated = acked.epoch != epoch;
        if tracked {
            state.watchers += 1;
            state.outdated += u32::from(outdated);
        } else {
            state.watchers -= 1;
            if outdated {
                self.settle_one(state);
            }
        }
        Ok(())
    }

    /// Counts one outdated watcher as caught up, waking waiters when it was the last.
    fn settle_one(&self, state: &mut State) {
        state.outdated -= 1;
        if state.outdated == 0 {
            self.sysgenid.settled.notify_all();
        }
    }

    /// Waits until no watcher is outdated.
    ///
    /// `timeout` is in jiffies, `None` waits without limit. Fails with `EINTR` when this file is
    /// an outdated watcher on entry, or when a bump lands during the wait; with `ETIMEDOUT`
    /// when the time runs out and with `ERESTARTSYS` on a signal.
    ///
    /// A file that is not a watcher cannot acknowledge, so it is never outdated itself: an
    /// orchestrator may wait through a read-only file after the bump it forced.
    fn wait_watchers(&self, timeout: Option<Jiffies>) -> Result {
        let mut left = timeout.unwrap_or(Jiffies::MAX);
        let mut state = self.sysgenid.state.lock();
        // A wait that began before a bump must not report the new generation as settled.
        let start = state.epoch;
        loop {
            let acked = self.acked.access(&state);
            if state.epoch != start || (acked.tracked && acked.epoch != state.epoch) {
                return Err(EINTR);
            }
            if state.outdated == 0 {
                return Ok(());
            }
            if left == 0 {
                return Err(ETIMEDOUT);
            }
            left = match self
                .sysgenid
                .settled
                .wait_interruptible_timeout(&mut state, left)
            {
                CondVarTimeoutResult::Woken { jiffies } => jiffies,
                CondVarTimeoutResult::Timeout => 0,
                CondVarTimeoutResult::Signal { .. } => return Err(ERESTARTSYS),
            };
            if timeout.is_none() {
                left = Jiffies::MAX;
            }
        }
    }

    /// Returns the acknowledged generation and whether this file is a watcher.
    fn acked(&self) -> (u32, bool) {
        let state = self.sysgenid.state.lock();
        let acked = self.acked.access(&state);
        (acked.generation, acked.tracked)
    }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        // A closing watcher stops counting, and stops counting as outdated.
        let _ = self.set_tracking(false);
    }
}

/// The one system generation, set up when the driver initialises.
static SYSGENID: SetOnce<&'static SysGenId> = SetOnce::new();

/// An open file of `/dev/sysgenid`.
struct SysGenIdFile {
    watch: Watch<'static>,
}

impl SysGenIdFile {
    fn sysgenid(&self) -> &'static SysGenId {
        self.watch.sysgenid
    }

    fn force_update(&self, arg: usize) -> Result<isize> {
        let min_gen = u32::try_from(arg).map_err(|_| EINVAL)?;
        if !capability::checkpoint_restore_capable() {
            return Err(EPERM);
        }
        self.sysgenid().bump(min_gen);
        Ok(0)
    }

    fn wait_watchers(&self, arg: usize) -> Result<isize> {
        let msecs = u32::try_from(arg).map_err(|_| EINVAL)?;
        let timeout = (msecs != 0).then(|| msecs_to_jiffies(msecs));
        self.watch.wait_watchers(timeout)?;
        Ok(0)
    }
}

#[vtable]
impl MiscDevice for SysGenIdFile {
    type Ptr = KBox<Self>;

    fn open(file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<KBox<Self>> {
        let sysgenid: &'static SysGenId = SYSGENID.as_ref().ok_or(ENODEV)?;
        let writable = file.flags() & flags::O_ACCMODE != flags::O_RDONLY;
        Ok(KBox::new(
            SysGenIdFile {
                watch: sysgenid.watch(writable),
            },
            GFP_KERNEL,
        )?)
    }

    fn read_iter(kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterDest<'_>) -> Result<usize> {
        let me = kiocb.file();
        me.sysgenid().revalidate();
        let wait = kiocb.file_flags() & flags::O_NONBLOCK == 0;
        let Some(generation) = me.watch.read_len(iov.len(), wait)? else {
            return Ok(0);
        };
        if iov.copy_to_iter(&generation.to_ne_bytes()) != GEN_SIZE {
            return Err(EFAULT);
        }
        Ok(GEN_SIZE)
    }

    fn write_iter(kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterSource<'_>) -> Result<usize> {
        let me = kiocb.file();
        check_write_len(iov.len())?;
        let mut value = [0u8; GEN_SIZE];
        if iov.copy_from_iter(&mut value) != GEN_SIZE {
            return Err(EFAULT);
        }
        me.watch.acknowledge(u32::from_ne_bytes(value))?;
        Ok(GEN_SIZE)
    }

    fn poll(me: &SysGenIdFile, file: &File, table: &PollTable<'_>) -> u32 {
        me.sysgenid().revalidate();
        table.register_wait(file, &me.sysgenid().changed);
        if me.watch.is_outdated() {
            POLLIN | POLLRDNORM
        } else {
            0
        }
    }

    fn mmap(me: &SysGenIdFile, _file: &File, vma: &VmaNew) -> Result {
        if vma.pgoff() != 0 || vma.end() - vma.start() > PAGE_SIZE {
            return Err(EINVAL);
        }
        if vma.writable() {
            return Err(EPERM);
        }
        vma.try_clear_maywrite().map_err(|_| EPERM)?;
        vma.set_dontexpand();
        vma.set_mixedmap()
            .vm_insert_page(vma.start(), &me.sysgenid().page)
    }

    fn ioctl(me: &SysGenIdFile, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        me.sysgenid().revalidate();
        match cmd {
            SYSGENID_SET_WATCHER_TRACKING => match arg {
                0 | 1 => me.watch.set_tracking(arg == 1).map(|()| 0),
                _ => Err(EINVAL),
            },
            SYSGENID_WAIT_WATCHERS => me.wait_watchers(arg),
            SYSGENID_FORCE_GEN_UPDATE => me.force_update(arg),
            SYSGENID_GET_OUTDATED_WATCHERS => Ok(me.sysgenid().outdated() as isize),
            _ => Err(ENOTTY),
        }
    }

    #[cfg(CONFIG_COMPAT)]
    fn compat_ioctl(me: &SysGenIdFile, file: &File, cmd: u32, arg: usize) -> Result<isize> {
        // Every argument is a plain integer, the same for 32-bit callers.
        Self::ioctl(me, file, cmd, arg)
    }

    fn show_fdinfo(me: &SysGenIdFile, m: &SeqFile, _file: &File) {
        let (generation, watcher) = me.watch.acked();
        seq_print!(
            m,
            "sysgenid_acked_generation:\t{}\nsysgenid_watcher:\t{}\n",
            generation,
            u8::from(watcher)
        );
    }
}

/// Runs `f` on the system's [`SysGenId`], if the driver has initialised.
fn with_sysgenid<T>(f: impl FnOnce(&SysGenId) -> T) -> Option<T> {
    SYSGENID.as_ref().map(|sysgenid| f(sysgenid))
}

/// Moves the system to a new generation. Any context.
///
/// # Safety
///
/// None: this is `unsafe` only because `#[export]` requires it.
#[export]
pub unsafe extern "C" fn sysgenid_bump_generation() {
    with_sysgenid(|sysgenid| sysgenid.bump(0));
}

/// Returns the current system generation. Any context.
///
/// # Safety
///
/// None: this is `unsafe` only because `#[export]` requires it.
#[export]
pub unsafe extern "C" fn sysgenid_get_generation() -> u32 {
    with_sysgenid(|sysgenid| sysgenid.generation()).unwrap_or(0)
}

/// Installs the backend's revalidate hook.
///
/// # Safety
///
/// `revalidate(data)` must be safe to call in process context, from any task, until
/// `revalidate` is passed to [`sysgenid_unregister_revalidate`].
#[export]
pub unsafe extern "C" fn sysgenid_register_revalidate(
    revalidate: Option<Revalidate>,
    data: *mut c_void,
) -> c_int {
    let Some(revalidate) = revalidate else {
        return EINVAL.to_errno();
    };
    match with_sysgenid(|sysgenid| sysgenid.set_revalidate(revalidate, data)) {
        Some(Ok(())) => 0,
        Some(Err(e)) => e.to_errno(),
        None => ENODEV.to_errno(),
    }
}

/// Removes the backend's revalidate hook; on return no call to it is in progress.
///
/// # Safety
///
/// Must be called in process context, where sleeping is allowed.
#[export]
pub unsafe extern "C" fn sysgenid_unregister_revalidate(revalidate: Option<Revalidate>) {
    if let Some(hook) = revalidate {
        with_sysgenid(|sysgenid| sysgenid.clear_revalidate(hook));
    }
}

/// Allocates the system's [`SysGenId`] and makes it reachable from the C interface.
///
/// The driver is built in, so the state lives as long as the kernel.
fn publish_sysgenid() -> Result<&'static SysGenId> {
    let pinned = KBox::pin_init(SysGenId::new(), GFP_KERNEL)?;
    // SAFETY: The box is leaked below, so its contents are never moved or dropped and stay
    // pinned for good.
    let sysgenid: &'static SysGenId = KBox::leak(unsafe { Pin::into_inner_unchecked(pinned) });
    if !SYSGENID.populate(sysgenid) {
        return Err(EBUSY);
    }
    Ok(sysgenid)
}

#[pin_data]
struct SysGenIdModule {
    _sysgenid: &'static SysGenId,
    #[pin]
    _miscdev: MiscDeviceRegistration<SysGenIdFile>,
}

impl kernel::InPlaceModule for SysGenIdModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _sysgenid: publish_sysgenid()?,
            _miscdev <- MiscDeviceRegistration::register(MiscDeviceOptions {
                name: c"sysgenid",
                mode: 0o666,
            }),
        })
    }
}

#[kunit_tests(sysgenid)]
mod tests {
    use super::*;
    use kernel::{
        new_spinlock,
        sync::{
            atomic::{Atomic, Relaxed},
            Arc, Completion,
        },
        time::{delay::fsleep, Delta},
        workqueue::{self, impl_has_work, new_work, Work, WorkItem},
    };

    fn new_sysgenid() -> Result<Pin<KBox<SysGenId>>> {
        KBox::pin_init(SysGenId::new(), GFP_KERNEL)
    }

    #[test]
    fn starts_at_zero() -> Result {
        let s = new_sysgenid()?;
        assert_eq!(s.generation(), 0);
        assert_eq!(s.outdated(), 0);
        assert_eq!(s.page.load_u32_acquire(0)?, 0);
        Ok(())
    }

    #[test]
    fn bump_increments() -> Result {
        let s = new_sysgenid()?;
        assert_eq!(s.bump(0), 1);
        assert_eq!(s.bump(0), 2);
        assert_eq!(s.generation(), 2);
        Ok(())
    }

    #[test]
    fn bump_honours_min_gen_above_current() -> Result {
        let s = new_sysgenid()?;
        assert_eq!(s.bump(100), 100);
        assert_eq!(s.generation(), 100);
        Ok(())
    }

    #[test]
    fn bump_ignores_min_gen_at_or_below_current() -> Result {
        let s = new_sysgenid()?;
        s.bump(50);
        assert_eq!(s.bump(50), 51);
        assert_eq!(s.bump(7), 52);
        Ok(())
    }

    #[test]
    fn bump_wraps_at_u32_max() -> Result {
        let s = new_sysgenid()?;
        assert_eq!(s.bump(u32::MAX), u32::MAX);
        assert_eq!(s.bump(0), 0);
        assert_eq!(s.bump(0), 1);
        Ok(())
    }

    #[test]
    fn next_generation_never_repeats() {
        for current in [0, 1, 2, u32::MAX - 1, u32::MAX] {
            for min_gen in [0, 1, current, current.wrapping_add(1), u32::MAX] {
                assert_ne!(next_generation(current, min_gen), current);
            }
        }
    }

    #[test]
    fn page_holds_generation_and_zeroes() -> Result {
        let s = new_sysgenid()?;
        s.bump(0x1234_5678);
        assert_eq!(s.page.load_u32_acquire(0)?, 0x1234_5678);
        s.bump(0);
        assert_eq!(s.page.load_u32_acquire(0)?, 0x1234_5679);
        for offset in (GEN_SIZE..PAGE_SIZE).step_by(GEN_SIZE) {
            assert_eq!(s.page.load_u32_acquire(offset)?, 0);
        }
        Ok(())
    }

    #[test]
    fn writable_files_are_watchers_read_only_are_not() -> Result {
        let s = new_sysgenid()?;
        let reader = s.watch(false);
        let w1 = s.watch(true);
        let w2 = s.watch(true);
        assert_eq!(s.state.lock().watchers, 2);
        s.bump(0);
        assert_eq!(s.outdated(), 2);
        assert!(reader.is_outdated());
        assert_eq!(reader.acked(), (0, false));
        assert_eq!(w1.acked(), (0, true));
        drop(w2);
        assert_eq!(s.outdated(), 1);
        drop(w1);
        assert_eq!(s.outdated(), 0);
        assert_eq!(s.state.lock().watchers, 0);
        Ok(())
    }

    #[test]
    fn missed_bumps_count_once() -> Result {
        let s = new_sysgenid()?;
        let w = s.watch(true);
        s.bump(0);
        s.bump(0);
        s.bump(0);
        assert_eq!(s.outdated(), 1);
        w.acknowledge(3)?;
        assert_eq!(s.outdated(), 0);
        assert_eq!(w.acked(), (3, true));
        // Acknowledging twice is a no-op.
        w.acknowledge(3)?;
        assert_eq!(s.outdated(), 0);
        Ok(())
    }

    #[test]
    fn acknowledge_rejects_stale_value_and_keeps_state() -> Result {
        let s = new_sysgenid()?;
        let w = s.watch(true);
        s.bump(0);
        s.bump(0);
        assert_eq!(w.acknowledge(1), Err(EINVAL));
        assert_eq!(w.acknowledge(3), Err(EINVAL));
        assert_eq!(s.outdated(), 1);
        assert!(w.is_outdated());
        assert_eq!(w.acked(), (0, true));
        Ok(())
    }

    #[test]
    fn tracking_toggles_watcher_accounting() -> Result {
        let s = new_sysgenid()?;
        let w = s.watch(true);
        let reader = s.watch(false);
        assert_eq!(reader.set_tracking(true), Err(EPERM));
        w.set_tracking(false)?;
        assert_eq!(s.state.lock().watchers, 0);
        s.bump(0);
        assert_eq!(s.outdated(), 0);
        // Tracking an outdated file counts it as outdated at once.
        w.set_tracking(true)?;
        w.set_tracking(true)?;
        assert_eq!(s.state.lock().watchers, 1);
        assert_eq!(s.outdated(), 1);
        // Stopping tracking of an outdated watcher settles it.
        w.set_tracking(false)?;
        assert_eq!(s.outdated(), 0);
        Ok(())
    }

    #[test]
    fn read_waits_for_a_new_generation_and_never_acknowledges() -> Result {
        let s = new_sysgenid()?;
        let w = s.watch(true);
        assert_eq!(w.read(false), Err(EAGAIN));
        assert!(!w.is_outdated());
        s.bump(0);
        assert!(w.is_outdated());
        assert_eq!(w.read(false), Ok(1));
        assert_eq!(w.read(true), Ok(1));
        assert!(w.is_outdated());
        assert_eq!(s.outdated(), 1);
        w.acknowledge(1)?;
        assert!(!w.is_outdated());
        assert_eq!(w.read(false), Err(EAGAIN));
        Ok(())
    }

    #[test]
    fn read_and_write_sizes() -> Result {
        let s = new_sysgenid()?;
        let w = s.watch(true);
        assert_eq!(w.read_len(0, false), Ok(None));
        assert_eq!(w.read_len(3, false), Err(EINVAL));
        assert_eq!(w.read_len(4, false), Err(EAGAIN));
        s.bump(0);
        assert_eq!(w.read_len(0, false), Ok(None));
        assert_eq!(w.read_len(1, false), Err(EINVAL));
        assert_eq!(w.read_len(4, false), Ok(Some(1)));
        assert_eq!(w.read_len(4096, true), Ok(Some(1)));
        for len in [0, 1, 3, 5, 8, usize::MAX] {
            assert_eq!(check_write_len(len), Err(EINVAL));
        }
        assert_eq!(check_write_len(4), Ok(()));
        // None of it acknowledged anything.
        assert!(w.is_outdated());
        assert_eq!(s.outdated(), 1);
        Ok(())
    }

    #[test]
    fn wait_watchers_rules_without_sleeping() -> Result {
        let s = new_sysgenid()?;
        let orchestrator = s.watch(false);
        assert_eq!(orchestrator.wait_watchers(Some(1)), Ok(()));
        let w = s.watch(true);
        s.bump(0);
        // A watcher that is itself outdated cannot wait for the others.
        assert_eq!(w.wait_watchers(Some(1)), Err(EINTR));
        // A file that is not a watcher is never outdated: it waits for `w`.
        assert_eq!(orchestrator.wait_watchers(Some(1)), Err(ETIMEDOUT));
        w.acknowledge(1)?;
        assert_eq!(orchestrator.wait_watchers(Some(1)), Ok(()));
        assert_eq!(orchestrator.wait_watchers(None), Ok(()));
        assert_eq!(w.wait_watchers(Some(1)), Ok(()));
        Ok(())
    }

    /// A blocking call on a new file, run on a workqueue, for the tests that act while it sleeps.
    #[pin_data]
    struct Sleeper {
        sysgenid: Pin<KBox<SysGenId>>,
        call: fn(&Watch<'_>) -> Result<u32>,
        #[pin]
        calling: Completion,
        #[pin]
        done: Completion,
        #[pin]
        result: SpinLock<Option<Result<u32>>>,
        #[pin]
        work: Work<Sleeper>,
    }

    impl_has_work! {
        impl HasWork<Self> for Sleeper { self.work }
    }

    impl WorkItem for Sleeper {
        type Pointer = Arc<Self>;

        fn run(this: Arc<Self>) {
            let watch = this.sysgenid.watch(false);
            this.calling.complete_all();
            let result = (this.call)(&watch);
            *this.result.lock() = Some(result);
            this.done.complete_all();
        }
    }

    /// Runs `scenario` on a new [`SysGenId`] and returns what `call` returned.
    ///
    /// `scenario` calls `start` to run `call` on a workqueue; `start` returns once the call is
    /// (very likely) asleep. Assertions stay on the test thread: the worker only records the
    /// result.
    fn with_sleeper(
        call: fn(&Watch<'_>) -> Result<u32>,
        scenario: impl FnOnce(&SysGenId, &dyn Fn()) -> Result,
    ) -> Result<Option<Result<u32>>> {
        let sleeper = Arc::pin_init(
            try_pin_init!(Sleeper {
                sysgenid: new_sysgenid()?,
                call,
                calling <- Completion::new(),
                done <- Completion::new(),
                result <- new_spinlock!(None),
                work <- new_work!("sysgenid::tests::Sleeper"),
            }),
            GFP_KERNEL,
        )?;
        let start = || {
            let _ = workqueue::system().enqueue(sleeper.clone());
            sleeper.calling.wait_for_completion();
            fsleep(Delta::from_millis(20));
        };
        scenario(&sleeper.sysgenid, &start)?;
        sleeper.done.wait_for_completion();
        let result = *sleeper.result.lock();
        Ok(result)
    }

    fn wait_five_seconds(w: &Watch<'_>) -> Result<u32> {
        w.wait_watchers(Some(msecs_to_jiffies(5000))).map(|()| 0)
    }

    #[test]
    fn blocked_read_wakes_on_bump() -> Result {
        let result = with_sleeper(
            |w| w.read(true),
            |s, start| {
                start();
                s.bump(0);
                Ok(())
            },
        )?;
        assert_eq!(result, Some(Ok(1)));
        Ok(())
    }

    #[test]
    fn wait_watchers_wakes_on_last_acknowledgment() -> Result {
        let result = with_sleeper(wait_five_seconds, |s, start| {
            let straggler = s.watch(true);
            s.bump(0);
            start();
            straggler.acknowledge(1)
        })?;
        assert_eq!(result, Some(Ok(0)));
        Ok(())
    }

    #[test]
    fn wait_watchers_fails_when_a_bump_lands() -> Result {
        let result = with_sleeper(wait_five_seconds, |s, start| {
            let _straggler = s.watch(true);
            s.bump(0);
            start();
            s.bump(0);
            Ok(())
        })?;
        assert_eq!(result, Some(Err(EINTR)));
        Ok(())
    }

    #[test]
    fn bump_from_atomic_context() -> Result {
        let s = new_sysgenid()?;
        let w = s.watch(true);
        let lock = KBox::pin_init(new_spinlock_irq!(()), GFP_KERNEL)?;
        {
            // Interrupts off, as in a hard IRQ handler: the bump must not sleep.
            let _irqs_off = lock.lock();
            s.bump(0);
        }
        assert_eq!(s.generation(), 1);
        assert!(w.is_outdated());
        assert_eq!(s.page.load_u32_acquire(0)?, 1);
        Ok(())
    }

    /// A revalidate hook that counts its calls in the `Atomic<u32>` its data points to.
    ///
    /// # Safety
    ///
    /// `data` must point to a live `Atomic<u32>`.
    unsafe extern "C" fn count_hook_call(data: *mut c_void) {
        // SAFETY: The caller passes a live `Atomic<u32>`.
        let calls = unsafe { &*data.cast::<Atomic<u32>>() };
        calls.fetch_add(1, Relaxed);
    }

    /// A revalidate hook that does nothing.
    ///
    /// # Safety
    ///
    /// None: `unsafe` only to have the type of a [`Revalidate`] hook.
    unsafe extern "C" fn other_hook(_data: *mut c_void) {}

    #[test]
    fn revalidate_hook_is_called_until_removed() -> Result {
        let s = new_sysgenid()?;
        let calls = Atomic::new(0u32);
        let data = core::ptr::from_ref(&calls).cast_mut().cast::<c_void>();
        s.revalidate();
        s.set_revalidate(count_hook_call, data)?;
        assert_eq!(
            s.set_revalidate(other_hook, core::ptr::null_mut()),
            Err(EBUSY)
        );
        s.revalidate();
        s.revalidate();
        assert_eq!(calls.load(Relaxed), 2);
        // Removing a hook that is not installed changes nothing.
        s.clear_revalidate(other_hook);
        s.revalidate();
        assert_eq!(calls.load(Relaxed), 3);
        s.clear_revalidate(count_hook_call);
        s.revalidate();
        assert_eq!(calls.load(Relaxed), 3);
        Ok(())
    }
}
