// SPDX-License-Identifier: GPL-2.0

//! System Generation ID.
//!
//! `/dev/sysgenid` exposes a 32-bit *system generation* that changes whenever the system is
//! restored from a snapshot, so that userspace can throw away state that must be unique (PRNG
//! seeds, UUIDs, nonces) before a clone reuses it.
//!
//! The generation moves on every notification of the kernel's vmfork chain, which
//! `add_vmfork_randomness()` runs after it has reseeded the random number generator, and when a
//! privileged process forces it (a container restore).
//!
//! Each open file remembers the generation it last acknowledged. A file that opts in is a
//! *watcher*: until it acknowledges a new generation it counts as outdated, and a control plane
//! can count the outdated watchers or wait for them to catch up.
//!
//! Checks that find nothing new take no lock: the current generation and a count of bumps
//! share one atomic word, and each file's acknowledged state another, so an up-to-date or
//! outdated file is told apart with two loads. Changes take an IRQ-safe lock.
//!
//! See `Documentation/misc-devices/sysgenid.rst` for the userspace interface.

use core::ops::Deref;
use kernel::{
    capability,
    fs::{
        file::{self, fmode},
        File, Kiocb, LocalFile,
    },
    iov::{IovIterDest, IovIterSource},
    miscdevice::{MiscDevice, MiscDeviceOptions, MiscDeviceRegistration},
    mm::virt::VmaNew,
    new_condvar, new_poll_condvar, new_spinlock_irq,
    page::{Page, PAGE_SIZE},
    prelude::*,
    random::{VmforkNotify, VmforkRegistration},
    seq_file::SeqFile,
    seq_print,
    sync::{
        atomic::{Acquire, Atomic, Relaxed, Release},
        poll::{PollCondVar, PollTable, POLLIN, POLLRDNORM},
        Arc, CondVar, CondVarTimeoutResult, SpinLockIrq,
    },
    sysgenid::revalidate,
    time::{msecs_to_jiffies, Jiffies},
    uaccess::UserSliceWriter,
    uapi,
};

module! {
    type: SysGenIdModule,
    name: "sysgenid",
    authors: ["SysGenId developers"],
    description: "System Generation ID",
    license: "GPL",
}

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

/// A generation and the epoch it belongs to, with a watcher bit: one atomic word.
///
/// The *epoch* counts bumps. Acknowledgments are recorded against it rather than against the
/// generation, which can wrap or be forced back to a value a file acknowledged long ago. It has
/// 31 bits: a file that misses a multiple of 2^31 bumps in a row would look up to date.
///
/// Bits 63-32 hold the generation, bits 31-1 the epoch, bit 0 whether a file is a watcher (always
/// clear in [`SysGenId::current`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Ack(u64);

impl Ack {
    const EPOCH_MASK: u64 = 0xffff_fffe;
    const TRACKED: u64 = 1;

    const fn new(generation: u32, epoch: u32, tracked: bool) -> Self {
        Self(
            ((generation as u64) << 32)
                | (((epoch as u64) << 1) & Self::EPOCH_MASK)
                | tracked as u64,
        )
    }

    const fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }

    const fn epoch(self) -> u32 {
        ((self.0 & Self::EPOCH_MASK) >> 1) as u32
    }

    const fn tracked(self) -> bool {
        self.0 & Self::TRACKED != 0
    }

    /// The same acknowledgment, counted as a watcher or not.
    const fn with_tracked(self, tracked: bool) -> Self {
        Self((self.0 & !Self::TRACKED) | tracked as u64)
    }

    /// Whether this acknowledgment is of the epoch of `current`.
    const fn is_of(self, current: Ack) -> bool {
        (self.0 ^ current.0) & Self::EPOCH_MASK == 0
    }
}

/// What changes only under [`SysGenId::lock`].
struct Counts {
    /// Files counted as watchers.
    watchers: u32,
    /// Tasks asleep in `read()` or `SYSGENID_WAIT_WATCHERS`, so that a test can act once a
    /// waiter is queued rather than after a guessed delay.
    #[cfg(CONFIG_KUNIT)]
    sleepers: u32,
}

impl Counts {
    /// Notes that a task goes to sleep (`1`) or woke (`-1`), for the tests.
    #[cfg(CONFIG_KUNIT)]
    fn sleeping(&mut self, delta: i32) {
        self.sleepers = self.sleepers.wrapping_add_signed(delta);
    }

    #[cfg(not(CONFIG_KUNIT))]
    fn sleeping(&mut self, _delta: i32) {}
}

/// The system generation and everyone watching it.
///
/// The module keeps one; the KUnit suite makes its own.
#[pin_data]
struct SysGenId {
    /// Taken for every change, and by waiters. IRQ-safe: a bump may come from any context.
    #[pin]
    lock: SpinLockIrq<Counts>,
    /// The current [`Ack`] (generation and epoch). Written under `lock`, read without it.
    current: Atomic<u64>,
    /// Watchers that have not acknowledged the current epoch. Written under `lock`, read
    /// without it.
    outdated: Atomic<u32>,
    /// Notified on every bump: readers and pollers wait here.
    #[pin]
    changed: PollCondVar,
    /// Notified on every bump and when the last outdated watcher acknowledges.
    #[pin]
    settled: CondVar,
    /// The page userspace maps: the generation at offset 0, zeroes elsewhere.
    page: Page,
}

impl SysGenId {
    fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            lock <- new_spinlock_irq!(
                Counts {
                    watchers: 0,
                    #[cfg(CONFIG_KUNIT)]
                    sleepers: 0,
                },
                "SysGenId::lock"
            ),
            current: Atomic::new(Ack::new(0, 0, false).0),
            outdated: Atomic::new(0),
            changed <- new_poll_condvar!("SysGenId::changed"),
            settled <- new_condvar!("SysGenId::settled"),
            page: Page::alloc_page(GFP_KERNEL | __GFP_ZERO)?,
        })
    }

    /// Returns the current generation and epoch.
    fn current(&self) -> Ack {
        Ack(self.current.load(Acquire))
    }

    /// Returns the number of watchers that have not acknowledged the current generation.
    fn outdated(&self) -> u32 {
        self.outdated.load(Relaxed)
    }

    /// Moves to a new generation of at least `min_gen` and returns it. Any context.
    ///
    /// Every watcher becomes outdated, counted once however many bumps it missed; readers,
    /// pollers and waiters wake; the mapped page changes last, so that whoever sees the new value
    /// there can rely on every other effect having happened.
    fn bump(&self, min_gen: u32) -> u32 {
        let counts = self.lock.lock();
        let old = self.current();
        let generation = next_generation(old.generation(), min_gen);
        // Before the new epoch is visible: whoever sees it also sees its outdated count.
        self.outdated.store(counts.watchers, Relaxed);
        self.current.store(
            Ack::new(generation, old.epoch().wrapping_add(1), false).0,
            Release,
        );
        self.changed.notify_all();
        self.settled.notify_all();
        // Offset 0 is aligned and inside the page, so this cannot fail.
        let _ = self.page.store_u32_release(0, generation);
        generation
    }

    /// Counts one outdated watcher as caught up, waking waiters when it was the last.
    ///
    /// The caller holds `lock`.
    fn settle_one(&self) {
        let outdated = self.outdated.load(Relaxed) - 1;
        self.outdated.store(outdated, Relaxed);
        if outdated == 0 {
            self.settled.notify_all();
        }
    }
}

/// Bumps a [`SysGenId`] on every vmfork notification.
struct BumpOnVmfork(Arc<SysGenId>);

impl VmforkNotify for BumpOnVmfork {
    fn vmfork(&self) {
        self.0.bump(0);
    }
}

/// One open file's view of a [`SysGenId`].
///
/// `P` is how the file reaches it: an [`Arc`] for `/dev/sysgenid`, a reference in the tests.
struct Watch<P: Deref<Target = SysGenId>> {
    sysgenid: P,
    /// The file's [`Ack`]. Written under the lock, read without it.
    ack: Atomic<u64>,
}

impl<P: Deref<Target = SysGenId>> Watch<P> {
    /// A new file: acknowledged at the current generation, not a watcher.
    fn new(sysgenid: P) -> Self {
        let current = sysgenid.current();
        Self {
            sysgenid,
            ack: Atomic::new(current.0),
        }
    }

    fn ack(&self) -> Ack {
        Ack(self.ack.load(Relaxed))
    }

    /// Whether this file has not acknowledged the current generation.
    fn is_outdated(&self) -> bool {
        self.unacknowledged().is_some()
    }

    /// The current generation, if this file has not acknowledged it. Takes no lock.
    #[inline]
    fn unacknowledged(&self) -> Option<u32> {
        let current = self.sysgenid.current();
        (!self.ack().is_of(current)).then(|| current.generation())
    }

    /// Returns the current generation once it differs from the acknowledged one.
    ///
    /// Without `wait`, an up-to-date file gets `EAGAIN`. Reading never acknowledges.
    #[inline]
    fn read(&self, wait: bool) -> Result<u32> {
        if let Some(generation) = self.unacknowledged() {
            return Ok(generation);
        }
        if !wait {
            return Err(EAGAIN);
        }
        self.wait_for_generation()
    }

    /// [`Watch::read`] once it must sleep: out of line, off the path of a read that answers at
    /// once.
    #[cold]
    fn wait_for_generation(&self) -> Result<u32> {
        let mut counts = self.sysgenid.lock.lock();
        loop {
            // Checked again under the lock, which a bump holds while it wakes the waiters.
            if let Some(generation) = self.unacknowledged() {
                return Ok(generation);
            }
            counts.sleeping(1);
            let signal = self.sysgenid.changed.wait_interruptible(&mut counts);
            counts.sleeping(-1);
            if signal {
                return Err(ERESTARTSYS);
            }
        }
    }

    /// Answers a read of `len` bytes: `None` for an empty read, which returns 0 at once,
    /// `EINVAL` when `len` cannot hold a generation, and otherwise as [`Watch::read`].
    #[inline]
    fn read_len(&self, len: usize, wait: bool) -> Result<Option<u32>> {
        match len {
            0 => Ok(None),
            len if len < GEN_SIZE => Err(EINVAL),
            _ => self.read(wait).map(Some),
        }
    }

    /// Answers `read()`: first lets a backend report a restore that happened but is still being
    /// handled, and waits for it, so that a read never answers with a generation older than a
    /// restore it detected; a caller that must not wait gets what the file has now (the bump
    /// that ends the handling wakes it). Then as [`Watch::read_len`].
    // Always: with two callers the compiler may keep it out of line, a call on every read.
    #[inline(always)]
    fn read_revalidated(&self, len: usize, wait: bool) -> Result<Option<u32>> {
        if len >= GEN_SIZE {
            revalidate(wait)?;
        }
        self.read_len(len, wait)
    }

    /// Answers `poll()`: whether the file is readable.
    ///
    /// An outdated file is readable whatever the backend would say, so only an up-to-date one
    /// asks it. A restore the backend detects is only reported to it, never waited for: handling
    /// it may sleep and take locks, which has no place under epoll's mutex, and the bump that
    /// ends it wakes the poller. `register` adds the caller to the wait queue, before the checks.
    #[inline]
    fn poll_revalidated(&self, register: impl FnOnce(&PollCondVar)) -> bool {
        register(&self.sysgenid.changed);
        // Also spares every poller a bump wakes the backend's check.
        if self.is_outdated() {
            return true;
        }
        // Without waiting, there is nothing to fail.
        let _ = revalidate(false);
        self.is_outdated()
    }

    /// Acknowledges `generation`, which must be the current one (`EINVAL` otherwise).
    fn acknowledge(&self, generation: u32) -> Result {
        let _counts = self.sysgenid.lock.lock();
        let current = self.sysgenid.current();
        if generation != current.generation() {
            return Err(EINVAL);
        }
        let ack = self.ack();
        if ack.is_of(current) {
            return Ok(());
        }
        self.ack
            .store(current.with_tracked(ack.tracked()).0, Relaxed);
        if ack.tracked() {
            self.sysgenid.settle_one();
        }
        Ok(())
    }

    /// Starts or stops counting this file as a watcher.
    ///
    /// Starting needs `may_write`, write access to acknowledge with (`EPERM` otherwise). A file
    /// that starts while it has not acknowledged the current generation is outdated at once.
    fn set_tracking(&self, tracked: bool, may_write: bool) -> Result {
        if tracked && !may_write {
            return Err(EPERM);
        }
        let mut counts = self.sysgenid.lock.lock();
        let ack = self.ack();
        if ack.tracked() == tracked {
            return Ok(());
        }
        self.ack.store(ack.with_tracked(tracked).0, Relaxed);
        let outdated = !ack.is_of(self.sysgenid.current());
        if tracked {
            counts.watchers += 1;
            if outdated {
                self.sysgenid
                    .outdated
                    .store(self.sysgenid.outdated() + 1, Relaxed);
            }
        } else {
            counts.watchers -= 1;
            if outdated {
                self.sysgenid.settle_one();
            }
        }
        Ok(())
    }

    /// Waits until no watcher is outdated.
    ///
    /// `timeout` is in jiffies, counted from the call; `None` waits without limit. Fails with
    /// `EINTR` when this file is a watcher that is outdated, on entry or because a bump landed
    /// during the wait; with `ETIMEDOUT` when the time runs out and with `ERESTARTSYS` on a
    /// signal.
    ///
    /// A file that is not a watcher is never outdated itself: across bumps it waits for the
    /// watchers of the newest generation.
    fn wait_watchers(&self, timeout: Option<Jiffies>) -> Result {
        let mut left = timeout.unwrap_or(Jiffies::MAX);
        let mut counts = self.sysgenid.lock.lock();
        loop {
            let ack = self.ack();
            if ack.tracked() && !ack.is_of(self.sysgenid.current()) {
                return Err(EINTR);
            }
            if self.sysgenid.outdated() == 0 {
                return Ok(());
            }
            if left == 0 {
                return Err(ETIMEDOUT);
            }
            counts.sleeping(1);
            let woken = self
                .sysgenid
                .settled
                .wait_interruptible_timeout(&mut counts, left);
            counts.sleeping(-1);
            left = match woken {
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
        let ack = self.ack();
        (ack.generation(), ack.tracked())
    }
}

impl<P: Deref<Target = SysGenId>> Drop for Watch<P> {
    fn drop(&mut self) {
        // A closing watcher stops counting, and stops counting as outdated.
        let _ = self.set_tracking(false, true);
    }
}

/// An open file of `/dev/sysgenid`.
struct SysGenIdFile(Watch<Arc<SysGenId>>);

impl SysGenIdFile {
    fn sysgenid(&self) -> &SysGenId {
        &self.0.sysgenid
    }

    fn set_tracking(&self, file: &File, arg: usize) -> Result {
        let tracked = match arg {
            0 => false,
            1 => true,
            _ => return Err(EINVAL),
        };
        // What `write()` checks: an `O_ACCMODE` of 3 has no write access either.
        let may_write = file.mode() & fmode::FMODE_WRITE != 0;
        self.0.set_tracking(tracked, may_write)
    }

    fn force_update(&self, arg: usize) -> Result {
        if !capability::checkpoint_restore_capable() {
            return Err(EPERM);
        }
        let min_gen = u32::try_from(arg).map_err(|_| EINVAL)?;
        self.sysgenid().bump(min_gen);
        Ok(())
    }

    fn wait_watchers(&self, arg: usize) -> Result {
        let msecs = u32::try_from(arg).map_err(|_| EINVAL)?;
        let timeout = (msecs != 0).then(|| msecs_to_jiffies(msecs));
        self.0.wait_watchers(timeout)
    }

    /// The ioctls but `SYSGENID_GET_OUTDATED_WATCHERS`, which all return 0 on success.
    ///
    /// Returns no value: its result then fits in one register, where a `Result<isize>` came
    /// back through the stack, and the inline part of `ioctl()` needs no stack frame for it.
    #[inline(never)]
    fn control(&self, file: &File, cmd: u32, arg: usize) -> Result {
        match cmd {
            // No ioctl answers from before a restore it could have seen.
            uapi::SYSGENID_SET_WATCHER_TRACKING
            | uapi::SYSGENID_WAIT_WATCHERS
            | uapi::SYSGENID_FORCE_GEN_UPDATE => revalidate(true)?,
            // Not ours (`isatty()`, say): refused at once.
            _ => return Err(ENOTTY),
        };
        match cmd {
            uapi::SYSGENID_SET_WATCHER_TRACKING => self.set_tracking(file, arg),
            uapi::SYSGENID_WAIT_WATCHERS => self.wait_watchers(arg),
            uapi::SYSGENID_FORCE_GEN_UPDATE => self.force_update(arg),
            _ => Err(ENOTTY),
        }
    }
}

#[vtable]
impl MiscDevice for SysGenIdFile {
    type Ptr = KBox<Self>;
    const NOWAIT: bool = true;

    fn open(_file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<KBox<Self>> {
        let misc = core::ptr::from_ref(misc).cast_mut();
        // SAFETY: The only registration of `SysGenIdFile` is the `miscdev` field of the module's
        // `SysGenIdModule`, which lives as long as the module, and an open file holds a
        // reference to the module.
        let module = unsafe { &*kernel::container_of!(misc, SysGenIdModule, miscdev) };
        Ok(KBox::new(
            SysGenIdFile(Watch::new(module.sysgenid.clone())),
            GFP_KERNEL,
        )?)
    }

    /// `read()`: the same as `read_iter`, without the iterator, which costs more than the rest
    /// of a read that finds a generation.
    #[inline]
    fn read(
        me: &SysGenIdFile,
        file: &LocalFile,
        mut buf: UserSliceWriter,
        _pos: &mut file::Offset,
    ) -> Result<usize> {
        let wait = file.flags() & file::flags::O_NONBLOCK == 0;
        let Some(generation) = me.0.read_revalidated(buf.len(), wait)? else {
            return Ok(0);
        };
        buf.write_u32(generation)?;
        Ok(GEN_SIZE)
    }

    fn read_iter(kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterDest<'_>) -> Result<usize> {
        let me = kiocb.file();
        let Some(generation) = me.0.read_revalidated(iov.len(), !kiocb.is_nowait())? else {
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
        me.0.acknowledge(u32::from_ne_bytes(value))?;
        Ok(GEN_SIZE)
    }

    #[inline]
    fn poll(me: &SysGenIdFile, file: &File, table: &PollTable<'_>) -> u32 {
        if me
            .0
            .poll_revalidated(|changed| table.register_wait(file, changed))
        {
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

    #[inline]
    fn ioctl(me: &SysGenIdFile, file: &File, cmd: u32, arg: usize) -> Result<isize> {
        // What a control plane asks in a loop: answered here, the rest out of line.
        if cmd == uapi::SYSGENID_GET_OUTDATED_WATCHERS {
            // No count from before a restore it could have seen.
            revalidate(true)?;
            return Ok(me.sysgenid().outdated() as isize);
        }
        me.control(file, cmd, arg).map(|()| 0)
    }

    #[cfg(CONFIG_COMPAT)]
    fn compat_ioctl(me: &SysGenIdFile, file: &File, cmd: u32, arg: usize) -> Result<isize> {
        // Every argument is a plain integer, the same for 32-bit callers.
        Self::ioctl(me, file, cmd, arg)
    }

    fn show_fdinfo(me: &SysGenIdFile, m: &SeqFile, _file: &File) {
        let (generation, watcher) = me.0.acked();
        seq_print!(
            m,
            "sysgenid_acked_generation:\t{}\nsysgenid_watcher:\t{}\n",
            generation,
            u8::from(watcher)
        );
    }
}

/// The driver: the system generation, its place on the vmfork chain and its device node.
#[pin_data]
struct SysGenIdModule {
    sysgenid: Arc<SysGenId>,
    #[pin]
    _vmfork: VmforkRegistration<BumpOnVmfork>,
    /// Last, so that no file opens before the rest is set up.
    #[pin]
    miscdev: MiscDeviceRegistration<SysGenIdFile>,
}

impl kernel::InPlaceModule for SysGenIdModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        let sysgenid = Arc::pin_init(SysGenId::new(), GFP_KERNEL);
        try_pin_init!(Self {
            sysgenid: sysgenid?,
            // `sysgenid` is the field initialised above.
            _vmfork <- VmforkRegistration::new(BumpOnVmfork(sysgenid.clone())),
            miscdev <- MiscDeviceRegistration::register(MiscDeviceOptions {
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
        sync::{Completion, SpinLock},
        time::{delay::fsleep, Delta},
        workqueue::{self, impl_has_work, new_work, Work, WorkItem},
    };

    impl SysGenId {
        fn generation(&self) -> u32 {
            self.current().generation()
        }
    }

    fn new_sysgenid() -> Result<Arc<SysGenId>> {
        Arc::pin_init(SysGenId::new(), GFP_KERNEL)
    }

    /// A new file of `s` that opted in as a watcher.
    fn watcher(s: &SysGenId) -> Result<Watch<&SysGenId>> {
        let w = Watch::new(s);
        w.set_tracking(true, true)?;
        Ok(w)
    }

    fn watchers(s: &SysGenId) -> u32 {
        s.lock.lock().watchers
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
    fn ack_packs_generation_epoch_and_watcher_bit() {
        let a = Ack::new(0xdead_beef, 0x1234_5678, true);
        assert_eq!(a.generation(), 0xdead_beef);
        assert_eq!(a.epoch(), 0x1234_5678);
        assert!(a.tracked());
        assert!(!a.with_tracked(false).tracked());
        assert_eq!(a.with_tracked(false).with_tracked(true), a);
        // The watcher bit and the generation do not take part in the comparison.
        assert!(a.is_of(Ack::new(1, 0x1234_5678, false)));
        assert!(!a.is_of(Ack::new(0xdead_beef, 0x1234_5679, true)));
        // The epoch has 31 bits and wraps.
        assert_eq!(
            Ack::new(0, 0x7fff_ffff, false).epoch().wrapping_add(1) & 0x7fff_ffff,
            0
        );
        assert!(Ack::new(0, 0x8000_0000, false).is_of(Ack::new(0, 0, false)));
    }

    #[test]
    fn bump_increments() -> Result {
        let s = new_sysgenid()?;
        assert_eq!(s.bump(0), 1);
        assert_eq!(s.bump(0), 2);
        assert_eq!(s.generation(), 2);
        assert_eq!(s.current().epoch(), 2);
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
    fn watchers_are_opt_in() -> Result {
        let s = new_sysgenid()?;
        let plain = Watch::new(&*s);
        let w1 = watcher(&s)?;
        let w2 = watcher(&s)?;
        assert_eq!(watchers(&s), 2);
        s.bump(0);
        // Every file is outdated, but only the watchers count.
        assert_eq!(s.outdated(), 2);
        assert!(plain.is_outdated());
        assert_eq!(plain.acked(), (0, false));
        assert_eq!(w1.acked(), (0, true));
        drop(w2);
        assert_eq!(s.outdated(), 1);
        drop(w1);
        assert_eq!(s.outdated(), 0);
        assert_eq!(watchers(&s), 0);
        // A file that missed a bump is outdated the moment it opts in.
        plain.set_tracking(true, true)?;
        assert_eq!(s.outdated(), 1);
        Ok(())
    }

    #[test]
    fn opting_in_needs_write_access() -> Result {
        let s = new_sysgenid()?;
        let w = Watch::new(&*s);
        assert_eq!(w.set_tracking(true, false), Err(EPERM));
        assert_eq!(watchers(&s), 0);
        assert_eq!(w.acked(), (0, false));
        // Opting out needs nothing.
        assert_eq!(w.set_tracking(false, false), Ok(()));
        Ok(())
    }

    #[test]
    fn missed_bumps_count_once() -> Result {
        let s = new_sysgenid()?;
        let w = watcher(&s)?;
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
        let w = watcher(&s)?;
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
    fn forced_generation_back_to_an_old_value_still_outdates() -> Result {
        let s = new_sysgenid()?;
        let w = watcher(&s)?;
        s.bump(u32::MAX);
        w.acknowledge(u32::MAX)?;
        s.bump(0);
        // Generation 0 again, as at open: the epoch still tells the file it is outdated.
        assert_eq!(s.generation(), 0);
        assert!(w.is_outdated());
        assert_eq!(s.outdated(), 1);
        Ok(())
    }

    #[test]
    fn tracking_toggles_watcher_accounting() -> Result {
        let s = new_sysgenid()?;
        let w = watcher(&s)?;
        w.set_tracking(false, true)?;
        assert_eq!(watchers(&s), 0);
        s.bump(0);
        assert_eq!(s.outdated(), 0);
        w.set_tracking(true, true)?;
        w.set_tracking(true, true)?;
        assert_eq!(watchers(&s), 1);
        assert_eq!(s.outdated(), 1);
        // Stopping tracking of an outdated watcher settles it.
        w.set_tracking(false, true)?;
        assert_eq!(s.outdated(), 0);
        Ok(())
    }

    #[test]
    fn read_waits_for_a_new_generation_and_never_acknowledges() -> Result {
        let s = new_sysgenid()?;
        let w = watcher(&s)?;
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
        let w = watcher(&s)?;
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
        let orchestrator = Watch::new(&*s);
        assert_eq!(orchestrator.wait_watchers(Some(1)), Ok(()));
        let w = watcher(&s)?;
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
        sysgenid: Arc<SysGenId>,
        call: fn(&Watch<&SysGenId>) -> Result<u32>,
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
            let watch = Watch::new(&*this.sysgenid);
            let result = (this.call)(&watch);
            drop(watch);
            *this.result.lock() = Some(result);
            this.done.complete_all();
        }
    }

    /// Runs `scenario` on a new [`SysGenId`] and returns what `call` returned.
    ///
    /// `scenario` calls `start` to run `call` on a workqueue; `start` returns once the call is
    /// asleep on one of the wait queues (counted under the lock before it sleeps, so anything
    /// done after `start` wakes it), or once it returned without sleeping. Assertions stay on
    /// the test thread: the worker only records the result.
    fn with_sleeper(
        call: fn(&Watch<&SysGenId>) -> Result<u32>,
        scenario: impl FnOnce(&SysGenId, &dyn Fn()) -> Result,
    ) -> Result<Option<Result<u32>>> {
        let sleeper = Arc::pin_init(
            try_pin_init!(Sleeper {
                sysgenid: new_sysgenid()?,
                call,
                done <- Completion::new(),
                result <- new_spinlock!(None),
                work <- new_work!("sysgenid::tests::Sleeper"),
            }),
            GFP_KERNEL,
        )?;
        let start = || {
            let _ = workqueue::system_long().enqueue(sleeper.clone());
            // Polls a condition; the delay only paces the polling.
            while sleeper.sysgenid.lock.lock().sleepers == 0 && sleeper.result.lock().is_none() {
                fsleep(Delta::from_millis(1));
            }
        };
        scenario(&sleeper.sysgenid, &start)?;
        sleeper.done.wait_for_completion();
        let result = *sleeper.result.lock();
        Ok(result)
    }

    fn wait_five_seconds(w: &Watch<&SysGenId>) -> Result<u32> {
        w.wait_watchers(Some(msecs_to_jiffies(5000))).map(|()| 0)
    }

    fn watch_and_wait_five_seconds(w: &Watch<&SysGenId>) -> Result<u32> {
        w.set_tracking(true, true)?;
        wait_five_seconds(w)
    }

    #[test]
    fn blocked_read_wakes_on_bump() -> Result {
        let result = with_sleeper(
            |w| w.read(true),
            |s, start| {
                start();
                assert_eq!(s.lock.lock().sleepers, 1);
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
            let straggler = watcher(s)?;
            s.bump(0);
            start();
            assert_eq!(s.lock.lock().sleepers, 1);
            straggler.acknowledge(1)
        })?;
        assert_eq!(result, Some(Ok(0)));
        Ok(())
    }

    #[test]
    fn non_watcher_wait_continues_across_bumps() -> Result {
        let result = with_sleeper(wait_five_seconds, |s, start| {
            let straggler = watcher(s)?;
            s.bump(0);
            start();
            assert_eq!(s.lock.lock().sleepers, 1);
            s.bump(0);
            // Still waiting, now for generation 2.
            straggler.acknowledge(2)
        })?;
        assert_eq!(result, Some(Ok(0)));
        Ok(())
    }

    #[test]
    fn watcher_wait_fails_when_a_bump_outdates_it() -> Result {
        let result = with_sleeper(watch_and_wait_five_seconds, |s, start| {
            let _straggler = watcher(s)?;
            s.bump(0);
            start();
            assert_eq!(s.lock.lock().sleepers, 1);
            s.bump(0);
            Ok(())
        })?;
        assert_eq!(result, Some(Err(EINTR)));
        Ok(())
    }

    /// A backend that reports a restore in flight until it is settled, and then handles it
    /// the way the vmfork chain would: reseed first, then bump.
    struct FakeBackend {
        sysgenid: Arc<SysGenId>,
        pending: Atomic<u32>,
        /// How many times `pending` was asked.
        asked: Atomic<u32>,
        settles: Atomic<u32>,
        /// The generation seen when the fake reseed ran; `u32::MAX` before it ran.
        generation_at_reseed: Atomic<u32>,
    }

    // SAFETY: `pending` only updates and loads atomics.
    unsafe impl kernel::sysgenid::Revalidate for FakeBackend {
        fn pending(&self) -> bool {
            self.asked.fetch_add(1, Relaxed);
            self.pending.load(Relaxed) != 0
        }

        fn settle(&self) -> Result {
            self.settles.fetch_add(1, Relaxed);
            if self.pending.xchg(0, Relaxed) != 0 {
                self.generation_at_reseed
                    .store(self.sysgenid.generation(), Relaxed);
                self.sysgenid.bump(0);
            }
            Ok(())
        }
    }

    fn with_backend(test: impl FnOnce(&SysGenId, &FakeBackend) -> Result) -> Result {
        let s = new_sysgenid()?;
        let backend = KBox::pin_init(
            kernel::sysgenid::Registration::new(FakeBackend {
                sysgenid: s.clone(),
                pending: Atomic::new(1),
                asked: Atomic::new(0),
                settles: Atomic::new(0),
                generation_at_reseed: Atomic::new(u32::MAX),
            }),
            GFP_KERNEL,
        )?;
        test(&s, backend.backend())
    }

    #[test]
    fn read_answers_after_a_detected_restore_was_handled() -> Result {
        with_backend(|s, backend| {
            let w = watcher(s)?;
            // Up to date, but a restore is in flight: the read waits for it and reports it.
            assert_eq!(w.read_revalidated(GEN_SIZE, true), Ok(Some(1)));
            assert_eq!(backend.settles.load(Relaxed), 1);
            // Nothing moved before the backend had reseeded.
            assert_eq!(backend.generation_at_reseed.load(Relaxed), 0);
            // Handled: the next read is an ordinary one.
            assert_eq!(w.read_revalidated(GEN_SIZE, false), Ok(Some(1)));
            assert_eq!(backend.settles.load(Relaxed), 1);
            Ok(())
        })
    }

    #[test]
    fn nowait_read_reports_nothing_while_a_restore_is_handled() -> Result {
        with_backend(|s, backend| {
            let w = watcher(s)?;
            assert_eq!(w.read_revalidated(GEN_SIZE, false), Err(EAGAIN));
            // An outdated file has something to read: the generation it has not acknowledged.
            s.bump(0);
            assert_eq!(w.read_revalidated(GEN_SIZE, false), Ok(Some(1)));
            assert_eq!(backend.settles.load(Relaxed), 0);
            assert_eq!(s.generation(), 1);
            // Sizes are checked before anything is asked.
            assert_eq!(w.read_revalidated(0, true), Ok(None));
            assert_eq!(w.read_revalidated(3, true), Err(EINVAL));
            assert_eq!(backend.settles.load(Relaxed), 0);
            Ok(())
        })
    }

    #[test]
    fn poll_never_waits_for_a_detected_restore() -> Result {
        with_backend(|s, backend| {
            let w = watcher(s)?;
            let mut registered = false;
            assert!(!w.poll_revalidated(|_| registered = true));
            assert!(registered);
            // Asked once, so that it can queue the handling.
            assert_eq!(backend.asked.load(Relaxed), 1);
            // An outdated file is readable while a restore is in flight: the bump that handles
            // the restore may already have happened, and would then wake no one again. Nothing
            // the backend says changes that, so it is not asked.
            s.bump(0);
            assert!(w.poll_revalidated(|_| ()));
            assert_eq!(backend.asked.load(Relaxed), 1);
            assert_eq!(backend.settles.load(Relaxed), 0);
            assert_eq!(s.generation(), 1);
            // Once the handling is done (here: by a read), the poller sees it.
            assert_eq!(w.read_revalidated(GEN_SIZE, true), Ok(Some(2)));
            assert!(w.poll_revalidated(|_| ()));
            Ok(())
        })
    }

    #[test]
    fn bump_from_atomic_context() -> Result {
        let s = new_sysgenid()?;
        let w = watcher(&s)?;
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

    #[test]
    fn bumps_once_per_vmfork_notification() -> Result {
        let s = new_sysgenid()?;
        let w = watcher(&s)?;
        let registration =
            KBox::pin_init(VmforkRegistration::new(BumpOnVmfork(s.clone())), GFP_KERNEL)?;
        #[cfg(CONFIG_VMGENID)]
        {
            kernel::random::add_vmfork_randomness(&[0x3c; 16]);
            assert_eq!(s.generation(), 1);
            assert_eq!(s.outdated(), 1);
            kernel::random::add_vmfork_randomness(&[0x3d; 16]);
            assert_eq!(s.generation(), 2);
            assert_eq!(s.outdated(), 1);
        }
        drop(registration);
        let before = s.generation();
        #[cfg(CONFIG_VMGENID)]
        kernel::random::add_vmfork_randomness(&[0x3e; 16]);
        // Off the chain, nothing moves.
        assert_eq!(s.generation(), before);
        drop(w);
        Ok(())
    }
}
