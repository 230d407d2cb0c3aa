// SPDX-License-Identifier: GPL-2.0

//! System Generation ID.
//!
//! `/dev/sysgenid` exposes a 32-bit *system generation* that changes whenever
//! the system is restored from a snapshot, so that userspace can throw away
//! state that must be unique (PRNG seeds, UUIDs, nonces) before it is reused
//! by a clone.
//!
//! See `Documentation/misc-devices/sysgenid.rst` for the userspace interface.

use kernel::{
    fs::File,
    miscdevice::{MiscDevice, MiscDeviceOptions, MiscDeviceRegistration},
    prelude::*,
    sync::atomic::{Atomic, Full, Relaxed},
};

module! {
    type: SysGenIdModule,
    name: "sysgenid",
    authors: ["SysGenId developers"],
    description: "System Generation ID",
    license: "GPL",
}

/// Returns the generation that follows `current` when a bump asks for at
/// least `min_gen`.
///
/// The result is never `current`: a `min_gen` that is not above `current`
/// yields `current + 1`, wrapping from `u32::MAX` to 0.
const fn next_generation(current: u32, min_gen: u32) -> u32 {
    if min_gen > current {
        min_gen
    } else {
        current.wrapping_add(1)
    }
}

/// The system generation counter.
///
/// Lock-free, so a bump may come from any context, hard IRQ included.
struct Generation {
    value: Atomic<u32>,
}

impl Generation {
    /// Creates a counter at generation 0.
    const fn new() -> Self {
        Self {
            value: Atomic::new(0),
        }
    }

    /// Returns the current generation.
    fn get(&self) -> u32 {
        self.value.load(Relaxed)
    }

    /// Moves to a new generation of at least `min_gen` and returns it.
    fn bump(&self, min_gen: u32) -> u32 {
        let mut current = self.get();
        loop {
            let next = next_generation(current, min_gen);
            match self.value.cmpxchg(current, next, Full) {
                Ok(_) => return next,
                Err(seen) => current = seen,
            }
        }
    }
}

/// The one system generation.
static GENERATION: Generation = Generation::new();

/// An open file of `/dev/sysgenid`.
struct SysGenIdFile;

#[vtable]
impl MiscDevice for SysGenIdFile {
    type Ptr = KBox<Self>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<KBox<Self>> {
        Ok(KBox::new(SysGenIdFile, GFP_KERNEL)?)
    }
}

#[pin_data]
struct SysGenIdModule {
    #[pin]
    _miscdev: MiscDeviceRegistration<SysGenIdFile>,
}

impl kernel::InPlaceModule for SysGenIdModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pr_info!("generation {}\n", GENERATION.get());
        try_pin_init!(Self {
            _miscdev <- MiscDeviceRegistration::register(MiscDeviceOptions {
                name: c"sysgenid",
            }),
        })
    }
}

#[kunit_tests(sysgenid)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_zero() {
        assert_eq!(Generation::new().get(), 0);
    }

    #[test]
    fn bump_increments() {
        let g = Generation::new();
        assert_eq!(g.bump(0), 1);
        assert_eq!(g.bump(0), 2);
        assert_eq!(g.get(), 2);
    }

    #[test]
    fn bump_honours_min_gen_above_current() {
        let g = Generation::new();
        assert_eq!(g.bump(100), 100);
        assert_eq!(g.get(), 100);
    }

    #[test]
    fn bump_ignores_min_gen_at_or_below_current() {
        let g = Generation::new();
        g.bump(50);
        assert_eq!(g.bump(50), 51);
        assert_eq!(g.bump(7), 52);
    }

    #[test]
    fn bump_wraps_at_u32_max() {
        let g = Generation::new();
        assert_eq!(g.bump(u32::MAX), u32::MAX);
        assert_eq!(g.bump(0), 0);
        assert_eq!(g.bump(0), 1);
    }

    #[test]
    fn next_generation_never_repeats() {
        for current in [0, 1, 2, u32::MAX - 1, u32::MAX] {
            for min_gen in [0, 1, current, current.wrapping_add(1), u32::MAX] {
                assert_ne!(next_generation(current, min_gen), current);
            }
        }
    }
}
