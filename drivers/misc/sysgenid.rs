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
//! outdated file is told apart with two loads. Changes take a spinlock: bumps come from process
//! context (the vmfork chain is a blocking notifier chain, and the ioctl).
//!
//! See `Documentation/misc-devices/sysgenid.rst` for the userspace interface.

use core::ops::Deref;
use kernel::{
    capability,
    fs::{file::fmode, File, Kiocb},
    iov::{IovIterDest, IovIterSource},
    miscdevice::{MiscDevice, MiscDeviceOptions, MiscDeviceRegistration},
    mm::virt::VmaNew,
    new_condvar, new_poll_condvar, new_spinlock,
    page::{Page, PAGE_SIZE},
    prelude::*,
    random::{VmforkNotify, VmforkRegistration},
    seq_file::SeqFile,
    seq_print,
    sync::{
        atomic::{Acquire, Atomic, Relaxed, Release},
        poll::{PollCondVar, PollTable, POLLIN, POLLRDNORM},
        Arc, CondVar, CondVarTimeoutResult, SpinLock,
    },
    time::{msecs_to_jiffies, Jiffies},
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

/// A generation and the epoch it belongs to, with a file's two flags: one atomic word.
///
/// The *epoch* counts bumps. Acknowledgments are recorded against it rather than against the
/// generation, which can wrap or be forced back to a value a file acknowledged long ago. It has
/// 30 bits: a file that misses a multiple of 2^30 bumps in a row, a restore a second for 34
/// years, would look up to date.
///
/// Bits 63-32 hold the generation, bits 31-2 the epoch, bit 1 whether a file has write access
/// and bit 0 whether it is a watcher (both always clear in [`SysGenId::current`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Ack(u64);

impl Ack {
    const EPOCH_MASK: u64 = 0xffff_fffc;
    const WRITABLE: u64 = 2;
    const TRACKED: u64 = 1;
    const FLAGS: u64 = Self::WRITABLE | Self::TRACKED;

    const fn new(generation: u32, epoch: u32, tracked: bool) -> Self {
        Self(
            ((generation as u64) << 32)
                | (((epoch as u64) << 2) & Self::EPOCH_MASK)
                | tracked as u64,
        )
    }

    const fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }

    const fn epoch(self) -> u32 {
        ((self.0 & Self::EPOCH_MASK) >> 2) as u32
    }

    const fn tracked(self) -> bool {
        self.0 & Self::TRACKED != 0
    }

    const fn writable(self) -> bool {
        self.0 & Self::WRITABLE != 0
    }

    /// The same acknowledgment, counted as a watcher or not.
    const fn with_tracked(self, tracked: bool) -> Self {
        Self((self.0 & !Self::TRACKED) | tracked as u64)
    }

    /// The same acknowledgment, of a file with write access or not.
    const fn with_writable(self, writable: bool) -> Self {
        Self((self.0 & !Self::WRITABLE) | ((writable as u64) << 1))
    }

    /// This generation and epoch, with the flags of `file`.
    const fn with_flags_of(self, file: Ack) -> Self {
        Self((self.0 & !Self::FLAGS) | (file.0 & Self::FLAGS))
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
    #[cfg(CONFIG_SYSGENID_KUNIT_TEST)]
    sleepers: u32,
}

impl Counts {
    /// Notes that a task goes to sleep (`1`) or woke (`-1`), for the tests.
    #[cfg(CONFIG_SYSGENID_KUNIT_TEST)]
    fn sleeping(&mut self, delta: i32) {
        self.sleepers = self.sleepers.wrapping_add_signed(delta);
    }

    #[cfg(not(CONFIG_SYSGENID_KUNIT_TEST))]
    fn sleeping(&mut self, _delta: i32) {}
}

/// The system generation and everyone watching it.
///
/// The module keeps one; the KUnit suite makes its own.
#[pin_data]
struct SysGenId {
    /// Taken for every change, and by waiters.
    #[pin]
    lock: SpinLock<Counts>,
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
            lock <- new_spinlock!(
                Counts {
                    watchers: 0,
                    #[cfg(CONFIG_SYSGENID_KUNIT_TEST)]
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

    /// Moves to a new generation of at least `min_gen` and returns it. Process context.
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
    /// The caller holds `lock`, and the watcher was counted as outdated.
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
    ///
    /// `may_write`: whether the file was opened for writing (`FMODE_WRITE`), and so can
    /// acknowledge with `write()` and be a watcher. A file that cannot is acknowledged by its
    /// reads instead.
    fn new(sysgenid: P, may_write: bool) -> Self {
        let current = sysgenid.current();
        Self {
            sysgenid,
            ack: Atomic::new(current.with_writable(may_write).0),
        }
    }

    fn ack(&self) -> Ack {
        Ack(self.ack.load(Relaxed))
    }

    /// Whether the file has write access; fixed at open.
    fn may_write(&self) -> bool {
        self.ack().writable()
    }

    /// Whether this file has not acknowledged the current generation.
    fn is_outdated(&self) -> bool {
        self.unacknowledged().is_some()
    }

    /// The current generation and epoch, if this file has not acknowledged them. Takes no
    /// lock.
    fn unacknowledged(&self) -> Option<Ack> {
        let current = self.sysgenid.current();
        (!self.ack().is_of(current)).then_some(current)
    }

    /// Returns the current generation once it differs from the acknowledged one, after `copy`
    /// has passed it on.
    ///
    /// Without `wait`, an up-to-date file gets `EAGAIN`. A file with write access is not
    /// acknowledged by its reads; one without it is acknowledged by each read at the generation
    /// that read returned, so that it stops being readable (`write()` could never do it). A read
    /// whose `copy` fails acknowledges nothing.
    fn read(&self, wait: bool, copy: impl FnOnce(u32) -> Result) -> Result<u32> {
        let seen = match self.unacknowledged() {
            Some(current) => current,
            None if !wait => return Err(EAGAIN),
            None => self.wait_for_generation()?,
        };
        copy(seen.generation())?;
        if !self.may_write() {
            self.acknowledge_seen(seen);
        }
        Ok(seen.generation())
    }

    /// [`Watch::read`] once it must sleep.
    fn wait_for_generation(&self) -> Result<Ack> {
        let mut counts = self.sysgenid.lock.lock();
        loop {
            // Checked again under the lock, which a bump holds while it wakes the waiters.
            if let Some(current) = self.unacknowledged() {
                return Ok(current);
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
    fn read_len(
        &self,
        len: usize,
        wait: bool,
        copy: impl FnOnce(u32) -> Result,
    ) -> Result<Option<u32>> {
        match len {
            0 => Ok(None),
            len if len < GEN_SIZE => Err(EINVAL),
            _ => self.read(wait, copy).map(Some),
        }
    }

    /// Acknowledges `generation`, which must be the current one (`EINVAL` otherwise).
    fn acknowledge(&self, generation: u32) -> Result {
        let counts = self.sysgenid.lock.lock();
        let current = self.sysgenid.current();
        if generation != current.generation() {
            return Err(EINVAL);
        }
        self.record(&counts, current);
        Ok(())
    }

    /// Acknowledges `seen`, the generation and epoch a read returned, unless a bump has moved
    /// on since: the file then stays readable, for the newer generation.
    fn acknowledge_seen(&self, seen: Ack) {
        let counts = self.sysgenid.lock.lock();
        if self.sysgenid.current() == seen {
            self.record(&counts, seen);
        }
    }

    /// Records that this file acknowledged `current`, the current [`Ack`]. `_counts` shows
    /// that the caller holds the lock.
    fn record(&self, _counts: &Counts, current: Ack) {
        let ack = self.ack();
        if ack.is_of(current) {
            return;
        }
        self.ack.store(current.with_flags_of(ack).0, Relaxed);
        if ack.tracked() {
            self.sysgenid.settle_one();
        }
    }

    /// Starts or stops counting this file as a watcher.
    ///
    /// Starting needs write access, to acknowledge with (`EPERM` otherwise), and room in the
    /// count (`ENFILE` once `u32::MAX` files are counted). A file that starts while it has not
    /// acknowledged the current generation is outdated at once.
    ///
    /// The counts cannot overflow: a file is counted at most once (its watcher bit says
    /// whether it is), the count of watchers is checked before it grows, the outdated count
    /// never exceeds it, and each decrement undoes an increment made for the same file.
    fn set_tracking(&self, tracked: bool) -> Result {
        if tracked && !self.may_write() {
            return Err(EPERM);
        }
        let mut counts = self.sysgenid.lock.lock();
        let ack = self.ack();
        if ack.tracked() == tracked {
            return Ok(());
        }
        let outdated = !ack.is_of(self.sysgenid.current());
        if tracked {
            counts.watchers = counts.watchers.checked_add(1).ok_or(ENFILE)?;
            if outdated {
                // At most the new count of watchers, so no overflow.
                self.sysgenid
                    .outdated
                    .store(self.sysgenid.outdated() + 1, Relaxed);
            }
        } else {
            // This file was counted.
            counts.watchers -= 1;
            if outdated {
                self.sysgenid.settle_one();
            }
        }
        self.ack.store(ack.with_tracked(tracked).0, Relaxed);
        Ok(())
    }

    /// Waits until no watcher is outdated.
    ///
    /// `timeout` is in jiffies, counted from the call; `None` waits without limit. Fails with
    /// `EDEADLK` when this file is a watcher that is outdated, on entry or because a bump landed
    /// during the wait (it would wait for itself); with `ETIMEDOUT` when the time runs out; and
    /// with `EINTR` on a signal. Never `ERESTARTSYS`: a restart would start the full timeout
    /// again, and a periodic signal could then keep a timed wait going for good.
    ///
    /// A file that is not a watcher is never outdated itself: across bumps it waits for the
    /// watchers of the newest generation.
    fn wait_watchers(&self, timeout: Option<Jiffies>) -> Result {
        let mut left = timeout.unwrap_or(Jiffies::MAX);
        let mut counts = self.sysgenid.lock.lock();
        loop {
            let ack = self.ack();
            if ack.tracked() && !ack.is_of(self.sysgenid.current()) {
                return Err(EDEADLK);
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
                CondVarTimeoutResult::Signal { .. } => return Err(EINTR),
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
        let _ = self.set_tracking(false);
    }
}

/// An open file of `/dev/sysgenid`.
struct SysGenIdFile(Watch<Arc<SysGenId>>);

impl SysGenIdFile {
    fn sysgenid(&self) -> &SysGenId {
        &self.0.sysgenid
    }

    fn set_tracking(&self, arg: usize) -> Result {
        let tracked = match arg {
            0 => false,
            1 => true,
            _ => return Err(EINVAL),
        };
        self.0.set_tracking(tracked)
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
}

#[vtable]
impl MiscDevice for SysGenIdFile {
    type Ptr = KBox<Self>;
    type RegistrationData = Arc<SysGenId>;
    const NOWAIT: bool = true;

    fn open(file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<KBox<Self>> {
        // What `write()` checks: an `O_ACCMODE` of 3 has no write access either. Fixed at open.
        let may_write = file.mode() & fmode::FMODE_WRITE != 0;
        Ok(KBox::new(
            SysGenIdFile(Watch::new(misc.data().clone(), may_write)),
            GFP_KERNEL,
        )?)
    }

    fn read_iter(kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterDest<'_>) -> Result<usize> {
        let me = kiocb.file();
        let len = iov.len();
        let copy = |generation: u32| {
            if iov.copy_to_iter(&generation.to_ne_bytes()) == GEN_SIZE {
                Ok(())
            } else {
                Err(EFAULT)
            }
        };
        match me.0.read_len(len, !kiocb.is_nowait(), copy)? {
            Some(_) => Ok(GEN_SIZE),
            None => Ok(0),
        }
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

    fn poll(me: &SysGenIdFile, file: &File, table: &PollTable<'_>) -> u32 {
        table.register_wait(file, &me.sysgenid().changed);
        if me.0.is_outdated() {
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
        match cmd {
            uapi::SYSGENID_SET_WATCHER_TRACKING => me.set_tracking(arg).map(|()| 0),
            uapi::SYSGENID_WAIT_WATCHERS => me.wait_watchers(arg).map(|()| 0),
            uapi::SYSGENID_FORCE_GEN_UPDATE => me.force_update(arg).map(|()| 0),
            uapi::SYSGENID_GET_OUTDATED_WATCHERS => Ok(me.sysgenid().outdated() as isize),
            // Not ours (`isatty()`, say).
            _ => Err(ENOTTY),
        }
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

/// The driver: the system generation's place on the vmfork chain and its device node, whose
/// files reach the generation through the registration's data.
#[pin_data]
struct SysGenIdModule {
    #[pin]
    _vmfork: VmforkRegistration<BumpOnVmfork>,
    /// Last, so that no file opens before the rest is set up.
    #[pin]
    _miscdev: MiscDeviceRegistration<SysGenIdFile>,
}

impl kernel::InPlaceModule for SysGenIdModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pin_init::pin_init_scope(move || {
            let sysgenid = Arc::pin_init(SysGenId::new(), GFP_KERNEL)?;
            let options = MiscDeviceOptions {
                name: c"sysgenid",
                mode: 0o666,
            };
            Ok(try_pin_init!(Self {
                _vmfork <- VmforkRegistration::new(BumpOnVmfork(sysgenid.clone())),
                _miscdev <- MiscDeviceRegistration::register(options, sysgenid),
            }))
        })
    }
}

#[cfg(CONFIG_SYSGENID_KUNIT_TEST)]
#[path = "sysgenid_kunit.rs"]
mod kunit;
