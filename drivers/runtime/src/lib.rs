//! The component runtime: what every paddock component program links.
//!
//! * Entry: the root task starts a component with its stack, info page and
//!   IPC buffer in registers (see `paddock_protocol::component`); the
//!   [`entry!`] macro names the function that receives a [`Component`].
//! * Caps by name: [`Component::slot`], [`Component::region`] and
//!   [`Component::badge_bit`] read the plan's symbols from the info page.
//! * Events: [`Component::wait`] blocks on the component's notification and
//!   returns the badge bits that fired; callers dispatch on them.
//! * PCI configuration space: [`pci::PciConfig`] through the cap named
//!   `pci.<device>`, with an identity reader and a capability-list walker.
//! * Logging: [`log!`] prints a line tagged with the component's name
//!   through the kernel's debug console, or on a release kernel through
//!   the component's `io.log` cap on QEMU's debug console (`log`).
//! * A panic prints its message and location, then faults on purpose, so
//!   the root task sees a fault and applies the component's restart policy.
#![cfg_attr(not(test), no_std)]
// Host tests leave out the entry glue, which alone uses some items.
#![cfg_attr(test, allow(dead_code))]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod log;
pub mod pci;
mod start;
pub mod witness;

use paddock_protocol::component::{Info, InfoError, Symbol};
use sel4::CPtr;

pub use paddock_protocol::component::{SymbolKind, INFO_VADDR};
pub use sel4;

/// A name the plan did not give this component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Missing<'n> {
    pub kind: SymbolKind,
    pub name: &'n str,
}

impl core::fmt::Display for Missing<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "the plan gives this component no {:?} `{}`",
            self.kind, self.name
        )
    }
}

/// A mapped region of the component's address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub vaddr: u64,
    pub size: u64,
}

impl Region {
    fn of(s: Symbol<'_>) -> Region {
        Region {
            vaddr: s.value,
            size: s.size,
        }
    }
}

/// The running component: its name, generation and named caps.
#[derive(Clone, Copy)]
pub struct Component {
    info: Info<'static>,
}

/// The notification every component waits on (planned as `notification`).
pub const NOTIFICATION: &str = "notification";
/// Every component's badged cap to the root task's endpoint (planned as
/// `fault`): the kernel sends faults through it, and a line holder its
/// reports.
pub const FAULT: &str = "fault";

impl Component {
    /// # Safety
    /// `page` must be the info page the root task mapped, which stays mapped
    /// read-only and unchanged for the component's lifetime.
    unsafe fn from_page(page: *const u8) -> Result<Component, InfoError> {
        // SAFETY: the caller guarantees INFO_SIZE readable, immutable bytes.
        let bytes =
            unsafe { core::slice::from_raw_parts(page, paddock_protocol::component::INFO_SIZE) };
        Info::parse(bytes).map(|info| Component { info })
    }

    pub fn name(&self) -> &'static str {
        self.info.name()
    }

    /// How many times the root task has restarted component `peer` (as of
    /// now), if the system has one of that name.
    pub fn generation_of(&self, peer: &str) -> Option<u64> {
        paddock_protocol::component::status_generation(Self::status_region(), peer)
    }

    fn status_region() -> &'static [u8] {
        // SAFETY: the root task maps all STATUS_PAGES status pages
        // read-only at STATUS_VADDR in every component for its lifetime; it
        // only ever rewrites whole words, and every read is bounds-checked.
        unsafe {
            core::slice::from_raw_parts(
                paddock_protocol::component::STATUS_VADDR as *const u8,
                paddock_protocol::component::STATUS_SIZE,
            )
        }
    }

    /// Every component of the system with its restart generation (as of
    /// now), in the order of the description.
    pub fn components(&self) -> impl Iterator<Item = (&'static str, u64)> {
        paddock_protocol::component::status_entries(Self::status_region())
    }

    /// The radix of this component's CNode (its slots are `0..1 << bits`).
    pub fn cnode_bits(&self) -> u8 {
        self.info.cnode_bits()
    }

    /// How many times the root task has restarted this component.
    pub fn generation(&self) -> u64 {
        self.info.generation()
    }

    /// The symbol `name` of `kind`, or which one is missing.
    fn lookup<'n>(&self, kind: SymbolKind, name: &'n str) -> Result<Symbol<'static>, Missing<'n>> {
        self.info.find(kind, name).ok_or(Missing { kind, name })
    }

    /// The CPtr of the cap the plan calls `name`.
    pub fn slot<'n>(&self, name: &'n str) -> Result<CPtr, Missing<'n>> {
        self.lookup(SymbolKind::Slot, name).map(|s| s.value)
    }

    /// The region the plan calls `name`.
    pub fn region<'n>(&self, name: &'n str) -> Result<Region, Missing<'n>> {
        self.lookup(SymbolKind::Vaddr, name).map(Region::of)
    }

    /// The bus address range (IOVA) of DMA window `name`, as the device
    /// sees it through the IOMMU.
    pub fn iova<'n>(&self, name: &'n str) -> Result<Region, Missing<'n>> {
        self.lookup(SymbolKind::Iova, name).map(Region::of)
    }

    /// The setting `name` from the description's `params`, if it has one.
    pub fn param(&self, name: &str) -> Option<u64> {
        self.lookup(SymbolKind::Param, name).ok().map(|s| s.value)
    }

    /// Access to the configuration space of PCI device `device`, when the
    /// plan grants it (`config` in the description).
    pub fn pci_config<'n>(&self, device: &'n str) -> Result<pci::PciConfig, Missing<'n>> {
        self.info
            .symbols()
            .find(|s| s.kind == SymbolKind::Slot && s.name.strip_prefix("pci.") == Some(device))
            .map(|s| pci::PciConfig::new(s.value))
            .ok_or(Missing {
                kind: SymbolKind::Slot,
                name: device,
            })
    }

    /// The notification badge bit of channel or IRQ `name`, as a mask.
    pub fn badge_bit<'n>(&self, name: &'n str) -> Result<u64, Missing<'n>> {
        self.lookup(SymbolKind::BadgeBit, name)
            .ok()
            .filter(|s| s.value < 64)
            .map(|s| 1u64 << s.value)
            .ok_or(Missing {
                kind: SymbolKind::BadgeBit,
                name,
            })
    }

    /// All symbols, for diagnostics.
    pub fn symbols(&self) -> impl Iterator<Item = Symbol<'static>> {
        self.info.symbols()
    }

    /// Blocks on the component's notification; returns the badge bits of
    /// every signal and interrupt since the last wait.
    pub fn wait(&self) -> Result<u64, Missing<'static>> {
        Ok(sel4::syscall::wait(self.slot(NOTIFICATION)?))
    }

    /// Puts `text` (at most
    /// [`WITNESS_BYTES`](paddock_protocol::record::WITNESS_BYTES) bytes of
    /// it) in the root task's record, under this component's name, as
    /// `paddock: witness `<name>`: <text>`: an observation other parties
    /// can trust came from this component, since no component can write
    /// the record or report for another. Does not wait for the root task.
    /// [`witness!`] does the same with formatting.
    pub fn witness(&self, text: &str) -> Result<(), Missing<'static>> {
        self.slot(FAULT)?;
        crate::witness::report(format_args!("{text}"));
        Ok(())
    }

    /// Ends a program whose work returned: logs why if it failed
    /// (`stopped: <why>`), then blocks for good, so that a component
    /// with nothing left to do takes no CPU from the others.
    pub fn finish(&self, result: Result<(), &str>) -> ! {
        if let Err(why) = result {
            crate::log!("stopped: {why}");
        }
        self.park()
    }

    /// Blocks for good: on the component's notification (ignoring what
    /// arrives), or, without one, yielding, so a stopped component never
    /// spins above the others.
    pub fn park(&self) -> ! {
        match self.slot(NOTIFICATION) {
            Ok(n) => loop {
                sel4::syscall::wait(n);
            },
            Err(_) => loop {
                sel4::syscall::yield_now();
            },
        }
    }
}
