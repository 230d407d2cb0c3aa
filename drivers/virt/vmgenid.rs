// SPDX-License-Identifier: GPL-2.0

//! Virtual Machine Generation ID.
//!
//! The hypervisor keeps a 16-byte identifier, the VM generation ID, in guest memory and changes
//! it whenever the virtual machine may have been duplicated: restored from a snapshot, cloned,
//! or resumed from a migration stream that another copy may also resume. It then notifies the
//! guest, through ACPI or an interrupt.
//!
//! On a change this driver first reseeds the kernel's random number generator with the new ID
//! and only then bumps the system generation (`drivers/misc/sysgenid.rs`), so that userspace
//! that sees the new generation already gets fresh kernel randomness. The ID itself is never
//! shown to userspace.
//!
//! See `Documentation/virt/vmgenid.rst`.

use kernel::{
    acpi, bindings,
    device::{self, Core},
    ffi::c_void,
    io::memremap::{Flags, MemRemap},
    irq::{self, IrqReturn, ThreadedHandler},
    new_mutex, of, platform,
    prelude::*,
    random,
    sync::{
        atomic::{Acquire, Atomic, Release},
        Arc, Mutex,
    },
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

/// A VM generation ID.
type Guid = [u8; GUID_SIZE];

/// Where the current VM generation ID is read from.
trait GuidSource: Send + Sync {
    fn read(&self) -> Guid;
}

/// What the kernel's random number generator is told.
trait Entropy: Send + Sync {
    /// At probe: the ID makes this virtual machine's generator state differ from others'.
    fn add_device_randomness(&self, guid: &Guid);
    /// On a change: reseed now.
    fn add_vmfork_randomness(&self, guid: &Guid);
}

/// Where a change is announced.
trait Generation: Send + Sync {
    fn bump(&self);
}

/// A [`Guid`] kept in two atomic halves, so that it can be compared without a lock.
struct AtomicGuid([Atomic<u64>; 2]);

impl AtomicGuid {
    fn halves(guid: &Guid) -> [u64; 2] {
        let mut low = [0; 8];
        let mut high = [0; 8];
        low.copy_from_slice(&guid[..8]);
        high.copy_from_slice(&guid[8..]);
        [u64::from_ne_bytes(low), u64::from_ne_bytes(high)]
    }

    fn new(guid: &Guid) -> Self {
        let [low, high] = Self::halves(guid);
        Self([Atomic::new(low), Atomic::new(high)])
    }

    /// Publishes `guid`: whoever then finds it with [`AtomicGuid::holds`] also sees what was
    /// done before the store.
    fn store(&self, guid: &Guid) {
        let [low, high] = Self::halves(guid);
        self.0[0].store(low, Release);
        self.0[1].store(high, Release);
    }

    /// Whether `guid` is the ID stored last.
    ///
    /// A read that races a store may see one half of each ID and answer `false`; it answers
    /// `true` only if at least one half it saw was stored for `guid`, or `guid` was stored
    /// before.
    fn holds(&self, guid: &Guid) -> bool {
        let [low, high] = Self::halves(guid);
        self.0[0].load(Acquire) == low && self.0[1].load(Acquire) == high
    }
}

/// Follows the VM generation ID and acts when it changes.
#[pin_data]
struct Tracker<S, E, G> {
    source: S,
    entropy: E,
    generation: G,
    /// Held while acting on a change, so that one change leads to exactly one reseed and one
    /// bump, however many paths notice it at once.
    #[pin]
    acting: Mutex<()>,
    /// The ID last acted on, stored once its reseed and bump are done. Written only under
    /// `acting`; read without it, because every `/dev/sysgenid` syscall checks it.
    acted: AtomicGuid,
}

impl<S: GuidSource, E: Entropy, G: Generation> Tracker<S, E, G> {
    /// Starts following the ID that `source` holds now, and feeds it to the RNG.
    fn new(source: S, entropy: E, generation: G) -> impl PinInit<Self> {
        let guid = source.read();
        entropy.add_device_randomness(&guid);
        pin_init!(Self {
            source,
            entropy,
            generation,
            acting <- new_mutex!((), "vmgenid::Tracker::acting"),
            acted: AtomicGuid::new(&guid),
        })
    }

    /// Reads the ID; if it changed, reseeds the RNG and then bumps the generation.
    ///
    /// Returns whether this call acted on a change. When it returns, the reseed and the bump
    /// for the ID it read are done, by this call or another. May sleep.
    fn check(&self) -> bool {
        // The common case, nothing new, takes no lock.
        if self.acted.holds(&self.source.read()) {
            return false;
        }
        let _acting = self.acting.lock();
        let guid = self.source.read();
        if self.acted.holds(&guid) {
            return false;
        }
        self.entropy.add_vmfork_randomness(&guid);
        self.generation.bump();
        self.acted.store(&guid);
        true
    }
}

/// A [`Tracker`] shared between the notification and the revalidate hook.
struct Notified<T>(Arc<T>);

/// What [`Notified`] and the revalidate hook call.
trait Check: Send + Sync {
    fn check(&self) -> bool;
}

impl<S: GuidSource, E: Entropy, G: Generation> Check for Tracker<S, E, G> {
    fn check(&self) -> bool {
        Tracker::check(self)
    }
}

#[cfg(CONFIG_ACPI)]
impl<T: Check> acpi::NotifyHandler for Notified<T> {
    fn notify(&self, _event: u32) {
        self.0.check();
    }
}

impl<T: Check> ThreadedHandler for Notified<T> {
    /// The ID is read, and the RNG reseeded, in the IRQ thread: reseeding may sleep.
    fn handle_threaded(&self) -> IrqReturn {
        self.0.check();
        IrqReturn::Handled
    }
}

/// The revalidate hook: lets `/dev/sysgenid` notice a changed ID before its notification.
///
/// # Safety
///
/// `data` must point to a live `T`.
unsafe extern "C" fn revalidate<T: Check>(data: *mut c_void) {
    // SAFETY: The caller passes the pointer `RevalidateHook::install` registered, to a `T` that
    // the hook keeps alive until it is removed.
    let tracker = unsafe { &*data.cast_const().cast::<T>() };
    tracker.check();
}

/// The revalidate hook installed with SysGenId; removed on drop.
struct RevalidateHook<T: Check> {
    /// Keeps the hook's data alive while it is installed.
    _tracker: Arc<T>,
}

impl<T: Check> RevalidateHook<T> {
    fn install(tracker: Arc<T>) -> Result<Self> {
        let data = Arc::as_ptr(&tracker).cast_mut().cast::<c_void>();
        // SAFETY: `revalidate::<T>` may be called with `data` until the hook is removed in
        // `drop`, and `_tracker` keeps `data` alive until then.
        kernel::error::to_result(unsafe {
            bindings::sysgenid_register_revalidate(Some(revalidate::<T>), data)
        })?;
        Ok(Self { _tracker: tracker })
    }
}

impl<T: Check> Drop for RevalidateHook<T> {
    fn drop(&mut self) {
        // SAFETY: Called in process context (driver unbind); on return no call to the hook
        // is in progress, so `_tracker` may be dropped.
        unsafe { bindings::sysgenid_unregister_revalidate(Some(revalidate::<T>)) };
    }
}

/// The ID in guest memory, mapped cacheable.
struct MappedGuid(MemRemap);

impl MappedGuid {
    fn new(start: kernel::io::PhysAddr) -> Result<Self> {
        // Decrypted: in an encrypted guest the hypervisor writes this memory.
        MemRemap::new(start, GUID_SIZE, Flags::WB | Flags::DEC).map(Self)
    }
}

impl GuidSource for MappedGuid {
    fn read(&self) -> Guid {
        let mut guid = [0; GUID_SIZE];
        // The mapping is `GUID_SIZE` bytes long, so this cannot fail.
        let _ = self.0.read_volatile(0, &mut guid);
        guid
    }
}

/// The kernel's random number generator.
struct KernelRng;

impl Entropy for KernelRng {
    fn add_device_randomness(&self, guid: &Guid) {
        random::add_device_randomness(guid);
    }

    fn add_vmfork_randomness(&self, guid: &Guid) {
        random::add_vmfork_randomness(guid);
    }
}

/// The system generation of `/dev/sysgenid`.
struct SysGenId;

impl Generation for SysGenId {
    fn bump(&self) {
        // SAFETY: Callable from any context, without preconditions.
        unsafe { bindings::sysgenid_bump_generation() };
    }
}

type SystemTracker = Tracker<MappedGuid, KernelRng, SysGenId>;

/// How the hypervisor tells this device that the ID changed. Held for its `Drop`, which
/// removes the handler.
enum Notifier<'bound> {
    #[cfg(CONFIG_ACPI)]
    Acpi {
        _registration: Pin<KBox<acpi::NotifyRegistration<'bound, Notified<SystemTracker>>>>,
    },
    Irq {
        _registration: Pin<KBox<irq::ThreadedRegistration<'bound, Notified<SystemTracker>>>>,
    },
}

/// A bound VM generation ID device.
///
/// Fields drop in order: the hook and the notification go before the tracker they call.
struct VmGenId<'bound> {
    _revalidate: Option<RevalidateHook<SystemTracker>>,
    _notifier: Notifier<'bound>,
    _tracker: Arc<SystemTracker>,
}

impl<'bound> VmGenId<'bound> {
    fn new(dev: &device::Device, tracker: Arc<SystemTracker>, notifier: Notifier<'bound>) -> Self {
        // One hook serves the system; a second device still gets its notifications.
        let revalidate = RevalidateHook::install(tracker.clone())
            .inspect_err(|e| dev_warn!(dev, "no revalidate hook: {:?}\n", e))
            .ok();
        Self {
            _revalidate: revalidate,
            _notifier: notifier,
            _tracker: tracker,
        }
    }

    fn tracker(start: kernel::io::PhysAddr) -> Result<Arc<SystemTracker>> {
        Arc::pin_init(
            Tracker::new(MappedGuid::new(start)?, KernelRng, SysGenId),
            GFP_KERNEL,
        )
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
        let tracker = Self::tracker(start)?;
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

    /// Device tree: `reg` holds the ID; changes come as an interrupt.
    fn probe_of(pdev: &'bound platform::Device<Core<'_>>) -> Result<Self> {
        let dev: &device::Device = pdev.as_ref();
        let reg = pdev.resource_by_index(0).ok_or(ENODEV)?;
        if reg.size() < GUID_SIZE as u64 {
            return Err(EINVAL);
        }
        let tracker = Self::tracker(reg.start())?;
        let notifier = KBox::pin_init(
            // SAFETY: The registration is kept in the device data, never forgotten.
            unsafe {
                pdev.request_threaded_irq_by_index(
                    irq::Flags::SHARED,
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
        if let Some(adev) = acpi::Device::companion(pdev.as_ref()) {
            return VmGenId::probe_acpi(pdev, adev);
        }
        VmGenId::probe_of(pdev)
    }
}

#[kunit_tests(vmgenid)]
mod tests {
    use super::*;
    use kernel::{
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
            let mut guid = [0; GUID_SIZE];
            guid[..8].copy_from_slice(&self.low.load(Relaxed).to_ne_bytes());
            guid[8..].copy_from_slice(&self.high.load(Relaxed).to_ne_bytes());
            guid
        }
    }

    /// The calls the tracker made.
    struct Calls {
        device_randomness: Atomic<u32>,
        reseeds: Atomic<u32>,
        bumps: Atomic<u32>,
        /// Bumps that came before the reseed for their change.
        early_bumps: Atomic<u32>,
        /// The low half of the last ID given to the RNG.
        last_seed: Atomic<u64>,
    }

    impl Calls {
        fn new() -> Self {
            Self {
                device_randomness: Atomic::new(0),
                reseeds: Atomic::new(0),
                bumps: Atomic::new(0),
                early_bumps: Atomic::new(0),
                last_seed: Atomic::new(0),
            }
        }
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
            self.0.last_seed.store(low_half(guid), Relaxed);
        }
    }

    struct FakeGeneration(Arc<Calls>);

    impl Generation for FakeGeneration {
        fn bump(&self) {
            let bumps = self.0.bumps.fetch_add(1, Relaxed) + 1;
            if self.0.reseeds.load(Relaxed) != bumps {
                self.0.early_bumps.fetch_add(1, Relaxed);
            }
        }
    }

    fn low_half(guid: &Guid) -> u64 {
        AtomicGuid::halves(guid)[0]
    }

    type FakeTracker = Tracker<FakeSource, FakeRng, FakeGeneration>;

    fn new_tracker(initial: u64) -> Result<(Arc<FakeTracker>, Arc<Calls>)> {
        let calls = Arc::new(Calls::new(), GFP_KERNEL)?;
        let tracker = Arc::pin_init(
            Tracker::new(
                FakeSource::new(initial),
                FakeRng(calls.clone()),
                FakeGeneration(calls.clone()),
            ),
            GFP_KERNEL,
        )?;
        Ok((tracker, calls))
    }

    #[test]
    fn published_id_matches_only_itself() {
        let a = [0x5a; GUID_SIZE];
        let mut low_differs = a;
        low_differs[0] = 0;
        let mut high_differs = a;
        high_differs[GUID_SIZE - 1] = 0;
        let acted = AtomicGuid::new(&a);
        assert!(acted.holds(&a));
        assert!(!acted.holds(&low_differs));
        assert!(!acted.holds(&high_differs));
        acted.store(&low_differs);
        assert!(acted.holds(&low_differs));
        assert!(!acted.holds(&a));
    }

    #[test]
    fn probe_feeds_device_randomness_once() -> Result {
        let (_tracker, calls) = new_tracker(7)?;
        assert_eq!(calls.device_randomness.load(Relaxed), 1);
        assert_eq!(calls.last_seed.load(Relaxed), 7);
        assert_eq!(calls.reseeds.load(Relaxed), 0);
        assert_eq!(calls.bumps.load(Relaxed), 0);
        Ok(())
    }

    #[test]
    fn unchanged_guid_does_nothing() -> Result {
        let (tracker, calls) = new_tracker(7)?;
        assert!(!tracker.check());
        assert!(!tracker.check());
        assert_eq!(calls.reseeds.load(Relaxed), 0);
        assert_eq!(calls.bumps.load(Relaxed), 0);
        assert_eq!(calls.device_randomness.load(Relaxed), 1);
        Ok(())
    }

    #[test]
    fn changed_guid_reseeds_then_bumps() -> Result {
        let (tracker, calls) = new_tracker(7)?;
        tracker.source.set(8);
        assert!(tracker.check());
        assert_eq!(calls.reseeds.load(Relaxed), 1);
        assert_eq!(calls.bumps.load(Relaxed), 1);
        assert_eq!(calls.early_bumps.load(Relaxed), 0);
        assert_eq!(calls.last_seed.load(Relaxed), 8);
        Ok(())
    }

    #[test]
    fn each_change_bumps_once() -> Result {
        let (tracker, calls) = new_tracker(0)?;
        for n in 1..=20 {
            tracker.source.set(n);
            assert!(tracker.check());
            assert!(!tracker.check());
        }
        assert_eq!(calls.reseeds.load(Relaxed), 20);
        assert_eq!(calls.bumps.load(Relaxed), 20);
        assert_eq!(calls.early_bumps.load(Relaxed), 0);
        Ok(())
    }

    #[test]
    fn revalidate_catches_a_change_before_its_notification() -> Result {
        let (tracker, calls) = new_tracker(1)?;
        let data = Arc::as_ptr(&tracker).cast_mut().cast::<c_void>();
        tracker.source.set(2);
        // The hook runs first, as for a read() before the notification arrives...
        // SAFETY: `data` points to the live tracker.
        unsafe { revalidate::<FakeTracker>(data) };
        assert_eq!(calls.bumps.load(Relaxed), 1);
        // ...and the late notification for the same ID changes nothing.
        ThreadedHandler::handle_threaded(&Notified(tracker.clone()));
        // SAFETY: As above.
        unsafe { revalidate::<FakeTracker>(data) };
        assert_eq!(calls.bumps.load(Relaxed), 1);
        assert_eq!(calls.reseeds.load(Relaxed), 1);
        Ok(())
    }

    /// Runs `Tracker::check` on a workqueue, racing the test thread.
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
    fn concurrent_notify_and_revalidate_bump_once() -> Result {
        let (tracker, calls) = new_tracker(0)?;
        let data = Arc::as_ptr(&tracker).cast_mut().cast::<c_void>();
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
            let _ = workqueue::system().enqueue(racer.clone());
            // SAFETY: `data` points to the live tracker.
            unsafe { revalidate::<FakeTracker>(data) };
            racer.done.wait_for_completion();
        }
        assert_eq!(calls.bumps.load(Relaxed), 50);
        assert_eq!(calls.reseeds.load(Relaxed), 50);
        assert_eq!(calls.early_bumps.load(Relaxed), 0);
        Ok(())
    }
}
