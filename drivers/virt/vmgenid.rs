// SPDX-License-Identifier: GPL-2.0

//! Virtual Machine Generation ID.
//!
//! The hypervisor keeps a 16-byte identifier, the VM generation ID, in guest memory and changes
//! it whenever the virtual machine may have been duplicated: restored from a snapshot, cloned,
//! or resumed from a migration stream that another copy may also resume. It then notifies the
//! guest, through ACPI or an interrupt.
//!
//! A port of the C driver (`vmgenid_c.c`): the same ids, the same reading of ACPI's `ADDR` and
//! the same mappings. At probe the ID is mixed into the random number generator; on a
//! notification that brings a new ID the driver calls `add_vmfork_randomness()`, which reseeds
//! the generator and then runs the vmfork notifier chain (SysGenId, `drivers/misc/sysgenid.rs`,
//! is on it). Like the C driver, it handles the device-tree interrupt in a thread, because the
//! chain may sleep, and unbinding removes what probe installed. The ID itself is never shown to
//! userspace.
//!
//! See `Documentation/virt/vmgenid.rst`.

use kernel::{
    acpi,
    device::Core,
    io::{mem::ExclusiveIoMem, Io},
    irq::{self, IrqReturn, ThreadedHandler},
    new_mutex, of, platform,
    prelude::*,
    random,
    sync::Mutex,
};
#[cfg(CONFIG_ACPI)]
use kernel::{
    device::{Bound, Device},
    io::memremap::{Flags, MemRemap},
};

kernel::module_platform_driver! {
    type: VmGenIdDriver,
    name: "vmgenid",
    // The C driver's author, and the port's.
    authors: ["Jason A. Donenfeld <Jason@zx2c4.com>", "SysGenId developers"],
    description: "Virtual Machine Generation ID",
    license: "GPL v2",
}

/// The size of the VM generation ID.
const VMGENID_SIZE: usize = 16;

/// A VM generation ID.
type Id = [u8; VMGENID_SIZE];

/// What a notification does.
///
/// `read_next` reads the ID the hypervisor shows now. If it differs from `this_id`, the ID last
/// handed to the random number generator, it replaces it and `reseed` gets it. Both happen with
/// `this_id` locked, so that notifications that race reseed once per change, and never with an
/// ID older than the one handed over last.
fn notify(this_id: &Mutex<Id>, read_next: impl FnOnce() -> Result<Id>, reseed: impl FnOnce(&Id)) {
    let mut this_id = this_id.lock();
    let Ok(next) = read_next() else {
        return;
    };
    if *this_id != next {
        *this_id = next;
        reseed(&this_id);
    }
}

/// Where the hypervisor shows the ID, mapped as the C driver maps it.
enum IdMap<'bound> {
    /// ACPI: the buffer `ADDR` names, in memory the OS leaves alone, mapped write-back.
    #[cfg(CONFIG_ACPI)]
    Mem(MemRemap<'bound>),
    /// Device tree: the `reg` region, requested and mapped as device memory.
    Io(ExclusiveIoMem<'bound, VMGENID_SIZE>),
}

impl IdMap<'_> {
    /// Reads the ID; both mappings were made for its size.
    fn read(&self) -> Result<Id> {
        match self {
            #[cfg(CONFIG_ACPI)]
            Self::Mem(map) => Ok(map.try_cast::<Id>()?.copy_read()),
            Self::Io(map) => Ok(map.try_cast::<Id>()?.copy_read()),
        }
    }
}

/// A bound device: the ID in guest memory and the one last handed to the RNG.
#[pin_data]
struct State<'bound> {
    next_id: IdMap<'bound>,
    #[pin]
    this_id: Mutex<Id>,
}

impl<'bound> State<'bound> {
    /// Starts from the ID that `next_id` holds now, and mixes it into the RNG.
    fn new(next_id: IdMap<'bound>) -> Result<impl PinInit<Self, Error> + 'bound> {
        let id = next_id.read()?;
        random::add_device_randomness(&id);
        Ok(try_pin_init!(Self {
            next_id,
            this_id <- new_mutex!(id, "vmgenid::State::this_id"),
        }))
    }

    /// Acts on a notification. May sleep.
    fn notify(&self) {
        notify(
            &self.this_id,
            || self.next_id.read(),
            |id| random::add_vmfork_randomness(id),
        );
    }
}

#[cfg(CONFIG_ACPI)]
impl acpi::NotifyHandler for State<'_> {
    fn notify(&self, _event: u32) {
        State::notify(self);
    }
}

impl ThreadedHandler for State<'_> {
    /// The ID is read, and the RNG reseeded, in the IRQ thread: the vmfork chain may sleep.
    fn handle_threaded(&self) -> IrqReturn {
        self.notify();
        IrqReturn::Handled
    }
}

/// A bound VM generation ID device: how the hypervisor notifies it, with the state the
/// handler works on. Dropping it on unbind removes the handler and waits for a running one.
enum VmGenId<'bound> {
    #[cfg(CONFIG_ACPI)]
    Acpi {
        _handler: Pin<KBox<acpi::NotifyRegistration<'bound, State<'bound>>>>,
    },
    Irq {
        _handler: Pin<KBox<irq::ThreadedRegistration<'bound, State<'bound>>>>,
    },
}

impl<'bound> VmGenId<'bound> {
    /// ACPI: method `ADDR` returns the ID's physical address as a package of two integers,
    /// combined as the C driver combines them (`low | high << 32`); changes come as device
    /// notifications.
    ///
    /// As in the C driver: `ENODEV` when `ADDR` cannot be evaluated, `EINVAL` when it returns
    /// nothing or anything but two integers; `ENOMEM` when its result cannot be copied.
    #[cfg(CONFIG_ACPI)]
    fn probe_acpi(dev: &'bound Device<Bound>, adev: &'bound acpi::Device) -> Result<Self> {
        let addr = adev.evaluate(c"ADDR").map_err(|e| {
            if e == ENODATA || e == EINVAL {
                EINVAL
            } else if e == ENOMEM {
                ENOMEM
            } else {
                ENODEV
            }
        })?;
        let start = match addr {
            acpi::Object::Package(elements) => match elements.as_slice() {
                [acpi::Object::Integer(low), acpi::Object::Integer(high)] => low | (high << 32),
                _ => return Err(EINVAL),
            },
            _ => return Err(EINVAL),
        };
        // SAFETY: `ADDR` names the buffer the firmware reserved for this device's ID (the
        // VM Generation ID specification puts it in memory the OS leaves alone); the kernel
        // uses it for nothing else, and the mapping goes with the driver data at unbind.
        // Decrypted: in an encrypted guest the hypervisor writes it.
        let map = unsafe { MemRemap::new(dev, start, VMGENID_SIZE, Flags::WB | Flags::DEC)? };
        let state = State::new(IdMap::Mem(map))?;
        let registration = KBox::pin_init(
            // SAFETY: The registration is kept in the device data, never forgotten.
            unsafe { acpi::NotifyRegistration::new(adev, state) },
            GFP_KERNEL,
        )?;
        Ok(Self::Acpi {
            _handler: registration,
        })
    }

    /// Device tree: `reg` holds the ID; changes come as an edge interrupt.
    ///
    /// As in the C driver, the region is requested and mapped with `ioremap()`; `EINVAL` when
    /// there is none. Unlike C, a region smaller than the ID is refused (`EINVAL`).
    fn probe_of(pdev: &'bound platform::Device<Core<'_>>) -> Result<Self> {
        let map = pdev
            .io_request_by_index(0)
            .ok_or(EINVAL)?
            .iomap_exclusive_sized::<VMGENID_SIZE>()?;
        let state = State::new(IdMap::Io(map))?;
        let registration = KBox::pin_init(
            // SAFETY: The registration is kept in the device data, never forgotten.
            unsafe {
                // ONESHOT keeps a level-triggered line masked until the thread has run; the
                // binding's edge interrupt needs no more.
                pdev.request_threaded_irq_by_index(
                    irq::Flags::SHARED | irq::Flags::ONESHOT,
                    0,
                    c"vmgenid",
                    state,
                )
            },
            GFP_KERNEL,
        )?;
        Ok(Self::Irq {
            _handler: registration,
        })
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
            let bound: &platform::Device<Bound> = pdev;
            if let Some(adev) = acpi::Device::companion(bound.as_ref()) {
                return VmGenId::probe_acpi(bound.as_ref(), adev);
            }
        }
        VmGenId::probe_of(pdev)
    }
}

#[cfg(CONFIG_VMGENID_KUNIT_TEST)]
#[path = "vmgenid_kunit.rs"]
mod kunit;
