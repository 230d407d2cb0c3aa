// SPDX-License-Identifier: GPL-2.0

//! Virtual Machine Generation ID.
//!
//! The hypervisor keeps a 16-byte identifier, the VM generation ID, in guest memory and changes
//! it whenever the virtual machine may have been duplicated: restored from a snapshot, cloned,
//! or resumed from a migration stream that another copy may also resume. It then notifies the
//! guest, through ACPI or an interrupt.
//!
//! On a change this driver calls `add_vmfork_randomness()`, which reseeds the kernel's random
//! number generator and then runs the vmfork notifier chain; SysGenId
//! (`drivers/misc/sysgenid.rs`) is on that chain and moves the system generation. With SysGenId
//! the driver also registers a cheap check, so that a `/dev/sysgenid` syscall made after a
//! restore but before its notification arrives already sees it. The ID itself is never shown
//! to userspace.
//!
//! See `Documentation/virt/vmgenid.rst`.

use kernel::{
    acpi,
    device::{self, Core},
    io::memremap::{Flags, MemRemap},
    irq::{self, IrqReturn, ThreadedHandler},
    new_condvar, new_mutex, new_spinlock, new_work, of, platform,
    prelude::*,
    random,
    sync::{
        atomic::{Acquire, Atomic, Release},
        Arc, CondVar, Mutex, SpinLock,
    },
    workqueue::{self, impl_has_work, Work, WorkItem},
};

kernel::module_platform_driver! {
    type: VmGenIdDriver,
    name: "vmgenid",
    authors: ["SysGenId developers"],
    description: "Virtual Machine Generation ID",
    license: "GPL",
}

/// The size of the VM generation ID.
const GUID_SIZE: usize = 16;

/// A VM generation ID, as the two native-endian 64-bit words it is read as: compared on every
/// `/dev/sysgenid` syscall, so kept in the form that takes two loads and two compares.
type Guid = [u64; 2];

/// The ID's bytes as they are in memory, for the RNG.
fn guid_bytes(guid: &Guid) -> [u8; GUID_SIZE] {
    let mut bytes = [0; GUID_SIZE];
    bytes[..8].copy_from_slice(&guid[0].to_ne_bytes());
    bytes[8..].copy_from_slice(&guid[1].to_ne_bytes());
    bytes
}

/// Where the current VM generation ID is read from.
trait GuidSource: Send + Sync + 'static {
    fn read(&self) -> Guid;

    /// The mapping that holds the ID in its first 16 bytes, if it is one. SysGenId's inline
    /// check uses it only if it starts 8-byte aligned, which it checks itself.
    // Only SysGenId's inline check asks.
    #[cfg_attr(not(CONFIG_SYSGENID), allow(dead_code))]
    fn mapping(&self) -> Option<&MemRemap> {
        None
    }
}

/// What the kernel's random number generator is told.
trait Entropy: Send + Sync + 'static {
    /// At probe: the ID makes this virtual machine's generator state differ from others'.
    fn add_device_randomness(&self, guid: &Guid);
    /// On a change: reseed now, then run the vmfork chain.
    fn add_vmfork_randomness(&self, guid: &Guid);
}

/// A [`Guid`] kept in two atomic halves, so that it can be compared without a lock.
struct AtomicGuid([Atomic<u64>; 2]);

impl AtomicGuid {
    fn new(guid: &Guid) -> Self {
        Self([Atomic::new(guid[0]), Atomic::new(guid[1])])
    }

    /// Publishes `guid`: whoever then finds it with [`AtomicGuid::holds`] also sees what was
    /// done before the store.
    fn store(&self, guid: &Guid) {
        self.0[0].store(guid[0], Release);
        self.0[1].store(guid[1], Release);
    }

    /// Whether `guid` is the ID stored last.
    ///
    /// A read that races a store may see one half of each ID and answer `false`; it answers
    /// `true` only if at least one half it saw was stored for `guid`, or `guid` was stored
    /// before.
    #[inline]
    fn holds(&self, guid: &Guid) -> bool {
        self.0[0].load(Acquire) == guid[0] && self.0[1].load(Acquire) == guid[1]
    }
}

/// Which checks of the ID have started and finished; see [`Tracker::settle`].
struct Checks {
    started: u64,
    finished: u64,
}

/// Follows the VM generation ID and reseeds the RNG when it changes.
#[pin_data]
struct Tracker<S: GuidSource, E: Entropy> {
    source: S,
    entropy: E,
    /// Held while acting on the ID, so that one change leads to exactly one reseed however many
    /// paths notice it at once.
    #[pin]
    acting: Mutex<()>,
    /// Counts the checks made under `acting`, for [`Tracker::settle`].
    #[pin]
    checks: SpinLock<Checks>,
    /// Notified when a check finishes.
    #[pin]
    checked: CondVar,
    /// The ID last acted on, stored once its reseed is done. Written under `acting`; read
    /// without it, because every `/dev/sysgenid` syscall compares it.
    acted: AtomicGuid,
    /// Runs [`Tracker::check`] for a change found by [`Tracker::pending`].
    #[pin]
    work: Work<Tracker<S, E>>,
}

impl_has_work! {
    impl{S: GuidSource, E: Entropy} HasWork<Self> for Tracker<S, E> { self.work }
}

impl<S: GuidSource, E: Entropy> WorkItem for Tracker<S, E> {
    type Pointer = Arc<Self>;

    fn run(this: Arc<Self>) {
        this.check();
    }
}

impl<S: GuidSource, E: Entropy> Tracker<S, E> {
    /// Starts following the ID that `source` holds now, and feeds it to the RNG.
    fn new(source: S, entropy: E) -> impl PinInit<Self> {
        let guid = source.read();
        entropy.add_device_randomness(&guid);
        pin_init!(Self {
            source,
            entropy,
            acting <- new_mutex!((), "vmgenid::Tracker::acting"),
            checks <- new_spinlock!(
                Checks {
                    started: 0,
                    finished: 0,
                },
                "vmgenid::Tracker::checks"
            ),
            checked <- new_condvar!("vmgenid::Tracker::checked"),
            acted: AtomicGuid::new(&guid),
            work <- new_work!("vmgenid::Tracker::work"),
        })
    }

    /// Reads the ID and, if it changed, reseeds the RNG, which then runs the vmfork chain.
    ///
    /// The notification path and the work item. Returns whether this call acted on a change;
    /// when it returns, the reseed for the ID it read is done, by this call or another. May
    /// sleep.
    fn check(&self) -> bool {
        let _acting = self.acting.lock();
        let this_check = {
            let mut checks = self.checks.lock();
            checks.started += 1;
            checks.started
        };
        let guid = self.source.read();
        let changed = !self.acted.holds(&guid);
        if changed {
            self.entropy.add_vmfork_randomness(&guid);
            self.acted.store(&guid);
        }
        self.checks.lock().finished = this_check;
        self.checked.notify_all();
        changed
    }

    /// Whether the ID differs from the one last acted on; if so, queues the work that acts on
    /// it. Takes no lock and never sleeps.
    // Without SysGenId nobody asks (but the tests).
    #[cfg_attr(not(CONFIG_SYSGENID), allow(dead_code))]
    #[inline]
    fn pending(self: &Arc<Self>) -> bool {
        if self.acted.holds(&self.source.read()) {
            return false;
        }
        self.queue_check();
        true
    }

    /// Queues the work item that checks the ID. Out of line: the syscall path only gets here
    /// after a restore.
    #[cold]
    fn queue_check(self: &Arc<Self>) {
        // Already queued is fine: that run reads the ID after this.
        let _ = workqueue::system_long().enqueue(self.clone());
    }

    /// Returns once a change [`Tracker::pending`] found has been acted on; `ERESTARTSYS` if a
    /// signal comes first. May sleep, but takes no lock that the reseed holds.
    #[cfg_attr(not(CONFIG_SYSGENID), allow(dead_code))]
    fn settle(self: &Arc<Self>) -> Result {
        let mut checks = self.checks.lock();
        if self.acted.holds(&self.source.read()) {
            return Ok(());
        }
        // A check already running may have read the ID before it changed: wait for one that
        // starts after this point, and make sure one is queued.
        let after = checks.started;
        let _ = workqueue::system_long().enqueue(self.clone());
        while checks.finished <= after {
            if self.checked.wait_interruptible(&mut checks) {
                return Err(ERESTARTSYS);
            }
        }
        Ok(())
    }

    /// Waits until the work item is neither queued nor running.
    ///
    /// Only meaningful once nothing can queue it again.
    fn flush(&self) {
        self.work.flush();
    }
}

/// A [`Tracker`] shared between the notification and the revalidate check.
struct Notified<S: GuidSource, E: Entropy>(Arc<Tracker<S, E>>);

#[cfg(CONFIG_ACPI)]
impl<S: GuidSource, E: Entropy> acpi::NotifyHandler for Notified<S, E> {
    fn notify(&self, _event: u32) {
        self.0.check();
    }
}

impl<S: GuidSource, E: Entropy> ThreadedHandler for Notified<S, E> {
    /// The ID is read, and the RNG reseeded, in the IRQ thread: the vmfork chain may sleep.
    fn handle_threaded(&self) -> IrqReturn {
        self.0.check();
        IrqReturn::Handled
    }
}

/// The check SysGenId makes before it answers a syscall.
#[cfg(CONFIG_SYSGENID)]
struct Revalidator<S: GuidSource, E: Entropy>(Arc<Tracker<S, E>>);

#[cfg(CONFIG_SYSGENID)]
// SAFETY: `pending` reads the mapped ID, compares it with atomics and queues work, none of
// which sleeps. `quick` points into the tracker, which the `Arc` in `self` keeps alive, in place.
unsafe impl<S: GuidSource, E: Entropy> kernel::sysgenid::Revalidate for Revalidator<S, E> {
    fn pending(&self) -> bool {
        self.0.pending()
    }

    fn settle(&self) -> Result {
        self.0.settle()
    }

    /// The mapped ID against the one acted on last: the check of every `/dev/sysgenid`
    /// syscall, made inline, without a call.
    fn quick(&self) -> Option<kernel::sysgenid::Quick<'_>> {
        Some(kernel::sysgenid::Quick {
            live: self.0.source.mapping()?,
            handled: &self.0.acted.0,
        })
    }
}

/// The ID in guest memory.
struct MappedGuid {
    map: MemRemap,
    /// Whether the ID is 8-byte aligned, so that `read()` takes two loads (as on every hypervisor
    /// we know of) rather than sixteen.
    aligned: bool,
}

impl MappedGuid {
    /// Checks that the mapping holds an ID.
    fn new(map: MemRemap) -> Result<Self> {
        if map.size() < GUID_SIZE {
            return Err(EINVAL);
        }
        let aligned = map.read_u64(0).is_ok();
        Ok(Self { map, aligned })
    }
}

impl GuidSource for MappedGuid {
    #[inline]
    fn read(&self) -> Guid {
        // `new` checked that the mapping holds `GUID_SIZE` bytes, and for `aligned` that the
        // start is aligned, so none of these reads can fail.
        if self.aligned {
            return [
                self.map.read_u64(0).unwrap_or_default(),
                self.map.read_u64(8).unwrap_or_default(),
            ];
        }
        let (mut low, mut high) = ([0; 8], [0; 8]);
        let _ = self.map.read_volatile(0, &mut low);
        let _ = self.map.read_volatile(8, &mut high);
        [u64::from_ne_bytes(low), u64::from_ne_bytes(high)]
    }

    fn mapping(&self) -> Option<&MemRemap> {
        Some(&self.map)
    }
}

/// The kernel's random number generator.
struct KernelRng;

impl Entropy for KernelRng {
    fn add_device_randomness(&self, guid: &Guid) {
        random::add_device_randomness(&guid_bytes(guid));
    }

    fn add_vmfork_randomness(&self, guid: &Guid) {
        random::add_vmfork_randomness(&guid_bytes(guid));
    }
}

type SystemTracker = Tracker<MappedGuid, KernelRng>;

/// How the hypervisor tells this device that the ID changed. Held for its `Drop`, which
/// removes the handler and waits for a running one.
enum Notifier<'bound> {
    #[cfg(CONFIG_ACPI)]
    Acpi {
        _registration: Pin<KBox<acpi::NotifyRegistration<'bound, Notified<MappedGuid, KernelRng>>>>,
    },
    Irq {
        _registration:
            Pin<KBox<irq::ThreadedRegistration<'bound, Notified<MappedGuid, KernelRng>>>>,
    },
}

/// The registration of a bound device's revalidate check.
#[cfg(CONFIG_SYSGENID)]
type RevalidateRegistration =
    Pin<KBox<kernel::sysgenid::Registration<Revalidator<MappedGuid, KernelRng>>>>;

/// A bound VM generation ID device.
///
/// Only the revalidate check queues the tracker's work; `Drop` removes the check and then waits
/// for the work, so that no work of this module outlives the device. The notification handler,
/// which acts in place, goes with the fields afterwards.
struct VmGenId<'bound> {
    #[cfg(CONFIG_SYSGENID)]
    revalidate: Option<RevalidateRegistration>,
    /// Held for its `Drop`, which removes the handler.
    _notifier: Notifier<'bound>,
    tracker: Arc<SystemTracker>,
}

impl Drop for VmGenId<'_> {
    fn drop(&mut self) {
        #[cfg(CONFIG_SYSGENID)]
        drop(self.revalidate.take());
        self.tracker.flush();
    }
}

impl<'bound> VmGenId<'bound> {
    fn new(dev: &device::Device, tracker: Arc<SystemTracker>, notifier: Notifier<'bound>) -> Self {
        #[cfg(CONFIG_SYSGENID)]
        let revalidate = KBox::pin_init(
            kernel::sysgenid::Registration::new(Revalidator(tracker.clone())),
            GFP_KERNEL,
        )
        // One check serves the system; a second device still gets its notifications.
        .inspect_err(|e| dev_warn!(dev, "no revalidate check: {:?}\n", e))
        .ok();
        #[cfg(not(CONFIG_SYSGENID))]
        let _ = dev;
        Self {
            #[cfg(CONFIG_SYSGENID)]
            revalidate,
            _notifier: notifier,
            tracker,
        }
    }

    fn tracker(map: MemRemap) -> Result<Arc<SystemTracker>> {
        Arc::pin_init(Tracker::new(MappedGuid::new(map)?, KernelRng), GFP_KERNEL)
    }

    /// ACPI: method `ADDR` returns the ID's physical address as two integers, low and high
    /// 32 bits; changes come as device notifications.
    #[cfg(CONFIG_ACPI)]
    fn probe_acpi(
        pdev: &'bound platform::Device<Core<'_>>,
        adev: &'bound acpi::Device,
    ) -> Result<Self> {
        let dev: &device::Device = pdev.as_ref();
        let start = match adev.evaluate(c"ADDR")? {
            acpi::Object::Package(elements) => match elements.as_slice() {
                [acpi::Object::Integer(low), acpi::Object::Integer(high)]
                    if *low <= u64::from(u32::MAX) && *high <= u64::from(u32::MAX) =>
                {
                    low | (high << 32)
                }
                _ => return Err(EINVAL),
            },
            _ => return Err(EINVAL),
        };
        // SAFETY: `ADDR` names the buffer the firmware reserved for this device's ID (the
        // VM Generation ID specification puts it in memory the OS leaves alone); the kernel
        // uses it for nothing else. Decrypted: in an encrypted guest the hypervisor writes it.
        let map = unsafe { MemRemap::new(start, GUID_SIZE, Flags::WB | Flags::DEC)? };
        let tracker = Self::tracker(map)?;
        let notifier = KBox::pin_init(
            // SAFETY: The registration is kept in the device data, never forgotten.
            unsafe { acpi::NotifyRegistration::new(adev, Ok(Notified(tracker.clone()))) },
            GFP_KERNEL,
        )?;
        Ok(Self::new(
            dev,
            tracker,
            Notifier::Acpi {
                _registration: notifier,
            },
        ))
    }

    /// Device tree: `reg` holds the ID; changes come as an edge interrupt.
    ///
    /// The region is requested, as the C driver requests it, and mapped write-back: it is
    /// ordinary guest RAM that the VMM leaves out of the memory node so that the guest maps it
    /// itself.
    fn probe_of(pdev: &'bound platform::Device<Core<'_>>) -> Result<Self> {
        let dev: &device::Device = pdev.as_ref();
        let map = pdev
            .io_request_by_index(0)
            .ok_or(ENODEV)?
            .memremap(Flags::WB)?;
        let tracker = Self::tracker(map)?;
        let notifier = KBox::pin_init(
            // SAFETY: The registration is kept in the device data, never forgotten.
            unsafe {
                // ONESHOT keeps a level-triggered line masked until the thread has run, as in
                // the C driver; the binding's edge interrupt needs no more.
                pdev.request_threaded_irq_by_index(
                    irq::Flags::SHARED | irq::Flags::ONESHOT,
                    0,
                    c"vmgenid",
                    Ok(Notified(tracker.clone())),
                )
            },
            GFP_KERNEL,
        )?;
        Ok(Self::new(
            dev,
            tracker,
            Notifier::Irq {
                _registration: notifier,
            },
        ))
    }
}

struct VmGenIdDriver;

kernel::acpi_device_table!(
    ACPI_TABLE,
    <VmGenIdDriver as platform::Driver>::IdInfo,
    [
        (acpi::DeviceId::new(c"VMGENCTR"), ()),
        (acpi::DeviceId::new(c"VM_GEN_COUNTER"), ())
    ]
);

kernel::of_device_table!(
    OF_TABLE,
    <VmGenIdDriver as platform::Driver>::IdInfo,
    [(of::DeviceId::new(c"microsoft,vmgenid"), ())]
);

impl platform::Driver for VmGenIdDriver {
    type IdInfo = ();
    type Data<'bound> = VmGenId<'bound>;
    const OF_ID_TABLE: Option<of::IdTable<Self::IdInfo>> = Some(&OF_TABLE);
    const ACPI_ID_TABLE: Option<acpi::IdTable<Self::IdInfo>> = Some(&ACPI_TABLE);

    fn probe<'bound>(
        pdev: &'bound platform::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        #[cfg(CONFIG_ACPI)]
        {
            let bound: &platform::Device<device::Bound> = pdev;
            if let Some(adev) = acpi::Device::companion(bound.as_ref()) {
                return VmGenId::probe_acpi(pdev, adev);
            }
        }
        VmGenId::probe_of(pdev)
    }
}

#[kunit_tests(vmgenid)]
mod tests {
    use super::*;
    use kernel::{
        new_spinlock,
        sync::{atomic::Relaxed, Completion},
        workqueue::{self, impl_has_work, new_work, Work, WorkItem},
    };

    /// An ID the test sets, in two atomic halves.
    struct FakeSource {
        low: Atomic<u64>,
        high: Atomic<u64>,
    }

    impl FakeSource {
        fn new(n: u64) -> Self {
            Self {
                low: Atomic::new(n),
                high: Atomic::new(!n),
            }
        }

        fn set(&self, n: u64) {
            self.low.store(n, Relaxed);
            self.high.store(!n, Relaxed);
        }
    }

    impl GuidSource for FakeSource {
        fn read(&self) -> Guid {
            [self.low.load(Relaxed), self.high.load(Relaxed)]
        }
    }

    /// The calls the tracker made to the RNG.
    struct Calls {
        device_randomness: Atomic<u32>,
        reseeds: Atomic<u32>,
        /// The task that reseeded last.
        reseeder: Atomic<usize>,
        /// The low half of the last ID given to the RNG.
        last_seed: Atomic<u64>,
    }

    /// Counts into the shared [`Calls`].
    struct FakeRng(Arc<Calls>);

    impl Entropy for FakeRng {
        fn add_device_randomness(&self, guid: &Guid) {
            self.0.device_randomness.fetch_add(1, Relaxed);
            self.0.last_seed.store(low_half(guid), Relaxed);
        }

        fn add_vmfork_randomness(&self, guid: &Guid) {
            self.0.reseeds.fetch_add(1, Relaxed);
            self.0.reseeder.store(current_task(), Relaxed);
            self.0.last_seed.store(low_half(guid), Relaxed);
        }
    }

    fn current_task() -> usize {
        kernel::current!().as_ptr() as usize
    }

    fn low_half(guid: &Guid) -> u64 {
        guid[0]
    }

    type FakeTracker = Tracker<FakeSource, FakeRng>;

    fn new_tracker(initial: u64) -> Result<(Arc<FakeTracker>, Arc<Calls>)> {
        let calls = Arc::new(
            Calls {
                device_randomness: Atomic::new(0),
                reseeds: Atomic::new(0),
                reseeder: Atomic::new(0),
                last_seed: Atomic::new(0),
            },
            GFP_KERNEL,
        )?;
        let tracker = Arc::pin_init(
            Tracker::new(FakeSource::new(initial), FakeRng(calls.clone())),
            GFP_KERNEL,
        )?;
        Ok((tracker, calls))
    }

    #[test]
    fn published_id_matches_only_itself() {
        let a = [0x5a5a_5a5a_5a5a_5a5a; 2];
        let mut low_differs = a;
        low_differs[0] = 0;
        let mut high_differs = a;
        high_differs[1] = 0;
        let acted = AtomicGuid::new(&a);
        assert!(acted.holds(&a));
        assert!(!acted.holds(&low_differs));
        assert!(!acted.holds(&high_differs));
        acted.store(&low_differs);
        assert!(acted.holds(&low_differs));
        assert!(!acted.holds(&a));
    }

    #[test]
    fn rng_gets_the_id_bytes_in_memory_order() {
        let mut memory = [0u8; GUID_SIZE];
        for (i, byte) in memory.iter_mut().enumerate() {
            *byte = i as u8 + 1;
        }
        // The two words as two aligned loads from `memory` give them.
        let mut low = [0; 8];
        let mut high = [0; 8];
        low.copy_from_slice(&memory[..8]);
        high.copy_from_slice(&memory[8..]);
        let guid = [u64::from_ne_bytes(low), u64::from_ne_bytes(high)];
        assert_eq!(guid_bytes(&guid), memory);
    }

    #[test]
    fn probe_feeds_device_randomness_once() -> Result {
        let (_tracker, calls) = new_tracker(7)?;
        assert_eq!(calls.device_randomness.load(Relaxed), 1);
        assert_eq!(calls.last_seed.load(Relaxed), 7);
        assert_eq!(calls.reseeds.load(Relaxed), 0);
        Ok(())
    }

    #[test]
    fn unchanged_guid_does_nothing() -> Result {
        let (tracker, calls) = new_tracker(7)?;
        assert!(!tracker.check());
        assert!(!tracker.pending());
        tracker.settle()?;
        assert_eq!(calls.reseeds.load(Relaxed), 0);
        assert_eq!(calls.device_randomness.load(Relaxed), 1);
        Ok(())
    }

    #[test]
    fn each_change_reseeds_once_with_the_new_id() -> Result {
        let (tracker, calls) = new_tracker(0)?;
        for n in 1..=20 {
            tracker.source.set(n);
            assert!(tracker.check());
            assert!(!tracker.check());
            assert_eq!(calls.last_seed.load(Relaxed), n);
        }
        assert_eq!(calls.reseeds.load(Relaxed), 20);
        Ok(())
    }

    #[test]
    fn pending_only_detects_and_settle_waits_for_the_work() -> Result {
        let (tracker, calls) = new_tracker(1)?;
        tracker.source.set(2);
        let lock = KBox::pin_init(new_spinlock!(()), GFP_KERNEL)?;
        {
            // As from `poll()`: no sleeping, no reseed in the caller.
            let _atomic = lock.lock();
            assert!(tracker.pending());
        }
        // As from `read()`: returns once the queued work has reseeded, in the work item.
        tracker.settle()?;
        assert_eq!(calls.reseeds.load(Relaxed), 1);
        assert_ne!(calls.reseeder.load(Relaxed), current_task());
        assert_eq!(calls.last_seed.load(Relaxed), 2);
        assert!(!tracker.pending());
        // The late notification for the same ID changes nothing.
        ThreadedHandler::handle_threaded(&Notified(tracker.clone()));
        assert_eq!(calls.reseeds.load(Relaxed), 1);
        tracker.flush();
        Ok(())
    }

    /// Runs the notification handler on a workqueue, racing the test thread.
    #[pin_data]
    struct Racer {
        tracker: Arc<FakeTracker>,
        #[pin]
        done: Completion,
        #[pin]
        work: Work<Racer>,
    }

    impl_has_work! {
        impl HasWork<Self> for Racer { self.work }
    }

    impl WorkItem for Racer {
        type Pointer = Arc<Self>;

        fn run(this: Arc<Self>) {
            ThreadedHandler::handle_threaded(&Notified(this.tracker.clone()));
            this.done.complete_all();
        }
    }

    #[test]
    fn concurrent_notify_and_revalidate_reseed_once() -> Result {
        let (tracker, calls) = new_tracker(0)?;
        for n in 1..=50 {
            tracker.source.set(n);
            let shared = tracker.clone();
            let racer = Arc::pin_init(
                pin_init!(Racer {
                    tracker: shared,
                    done <- Completion::new(),
                    work <- new_work!("vmgenid::tests::Racer"),
                }),
                GFP_KERNEL,
            )?;
            let _ = workqueue::system_long().enqueue(racer.clone());
            if tracker.pending() {
                tracker.settle()?;
            }
            assert_eq!(calls.last_seed.load(Relaxed), n);
            racer.done.wait_for_completion();
        }
        tracker.flush();
        assert_eq!(calls.reseeds.load(Relaxed), 50);
        Ok(())
    }
}
