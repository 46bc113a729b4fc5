//! The capability plan: every kernel object, CSpace slot, mapping, IOSpace
//! mapping and IRQ binding of a validated system ([`crate::model::Model`]).
//!
//! Planning is a pure function of the model: the same description gives
//! the same plan, and so byte-identical spec, report and DOT output.
//! Everything is laid out in declaration order; nothing iterates a hash map.
//!
//! Choices the root task relies on (x86_64, seL4 5.0, 4 KiB pages):
//! * CSpace: one CNode of `cnode_size_bits` per component with a guard that
//!   makes a cptr equal its slot number. Slot 0 is null, slot 1 the fault
//!   endpoint (badged with the component's badge, its id + 1), slot 2 the
//!   component's own notification (receive only); then one IRQHandler per
//!   IRQ, one IOPort cap per range (minted, badge `first << 16 | last`), one
//!   badged notification send cap per ring end and channel end, then one
//!   endpoint cap per end of a channel with a server (receive for the
//!   server; send and grant, badged with the caller's badge, for the
//!   other end; the endpoint belongs to the server). A PCI
//!   device that declares `config` access adds, after the IRQ handlers, a
//!   copy of the fault endpoint badged for that device
//!   ([`paddock_spec::pci_config`]): the root task serves its driver's
//!   configuration-space requests through it.
//! * Badge bits of a component's notification: IRQs first (declaration
//!   order), then its rings, then its channels; bit 27 (the top bit of seL4
//!   5.0's 28-bit badges) is the root task's.
//! * Address space: the program's ELF below [`LAYOUT_BASE`] (512 GiB), so
//!   the planned paging structures never share a PDPT with the ELF's. From
//!   the base: IPC buffer, stack, heap, rings, shared regions, device BARs,
//!   device memory by address, DMA buffers, each followed by an unmapped guard page (the stack's guard
//!   below it is the IPC buffer's).
//! * Frames are not handed to components: the root task maps them from its
//!   own copies of the caps. A frame mapped twice (two components, or a
//!   VSpace and an IOSpace) is mapped through a copy of its cap.
//! * A PCI device masters the bus only when its DMA is confined by IOSpace
//!   windows or declared unconfined; its MSIs, if any, form one block of
//!   vectors programmed once.

mod from_spec;
mod mmio;
mod paging;
mod pci_config;
mod planner;

pub use from_spec::FromSpecError;

pub use planner::plan;

use crate::description::Restart;
use crate::model::{Access, PciSelector};
use crate::validate::PAGE_SIZE;
use paddock_kernel::config::KernelConfig;
pub use paddock_spec::{CapKind, IrqKind, MapPurpose, ObjectKind, SymbolKind};

/// Lowest virtual address of the planned part of every address space.
pub const LAYOUT_BASE: u64 = 0x80_0000_0000;
/// VT-d levels assumed for IOVAs below 2^39.
pub const IO_PT_LEVELS: u32 = 3;
/// First VT-d domain used: past every RMRR domain the kernel may reserve
/// (`CONFIG_MAX_RMRR_ENTRIES` 32, plus domain 0, which is invalid).
pub const FIRST_IO_DOMAIN: u16 = 33;
/// The notification badge bit kept for the root task.
pub const ROOT_BADGE_BIT: u32 = crate::validate::BADGE_BITS;

pub type ObjId = usize;

/// Who an object belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Owner {
    /// The root task (the fault endpoint).
    Root,
    Component(usize),
    Ring(usize),
    Shared(usize),
    /// PCI device index: its BAR frames, DMA buffers and IO page tables.
    Pci(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    pub kind: ObjectKind,
    pub name: String,
    pub owner: Owner,
    /// Pages for frames, bits for a CNode, 1 otherwise.
    pub count: u32,
    /// PCI device of device frames and IO page tables.
    pub pci: Option<usize>,
    /// BAR index of device frames, level of an IO page table.
    pub aux: u32,
    /// Address a paging structure or IO page table covers; the physical
    /// address of platform device frames.
    pub base: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CapRights {
    pub read: bool,
    pub write: bool,
    pub grant: bool,
    pub grant_reply: bool,
}

impl CapRights {
    pub const READ: CapRights = CapRights {
        read: true,
        write: false,
        grant: false,
        grant_reply: false,
    };
    pub const WRITE: CapRights = CapRights {
        read: false,
        write: true,
        grant: false,
        grant_reply: false,
    };
    /// Every right seL4 5.0 has (grant-reply came later).
    pub const ALL: CapRights = CapRights {
        read: true,
        write: true,
        grant: true,
        grant_reply: false,
    };
    /// What a fault endpoint needs in seL4 5.0: send and grant (the kernel
    /// refuses to deliver a fault through an endpoint cap without both;
    /// 5.0 has no separate grant-reply right).
    pub const FAULT: CapRights = CapRights {
        read: false,
        write: true,
        grant: true,
        grant_reply: false,
    };
    /// What a caller needs on a channel's endpoint: the same as a fault
    /// endpoint, for the same reason (a Call through a cap without grant
    /// leaves the caller blocked with no reply cap made).
    pub const CALL: CapRights = CapRights::FAULT;

    pub fn bits(self) -> u8 {
        use paddock_spec::*;
        (if self.read { RIGHT_READ } else { 0 })
            | (if self.write { RIGHT_WRITE } else { 0 })
            | (if self.grant { RIGHT_GRANT } else { 0 })
            | (if self.grant_reply {
                RIGHT_GRANT_REPLY
            } else {
                0
            })
    }

    pub fn from_bits(bits: u8) -> CapRights {
        use paddock_spec::*;
        CapRights {
            read: bits & RIGHT_READ != 0,
            write: bits & RIGHT_WRITE != 0,
            grant: bits & RIGHT_GRANT != 0,
            grant_reply: bits & RIGHT_GRANT_REPLY != 0,
        }
    }

    pub fn text(self) -> String {
        let mut s = String::new();
        for (b, c) in [
            (self.read, 'R'),
            (self.write, 'W'),
            (self.grant, 'G'),
            (self.grant_reply, 'g'),
        ] {
            if b {
                s.push(c);
            }
        }
        if s.is_empty() {
            s.push('-');
        }
        s
    }
}

/// One CSpace slot of one component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cap {
    pub component: usize,
    pub slot: u32,
    pub kind: CapKind,
    /// The object the cap refers to (for `IrqHandler`: the IRQ binding).
    pub object: Option<ObjId>,
    pub rights: CapRights,
    pub badge: u64,
    /// The name component code reaches the cap by.
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MapRights {
    pub read: bool,
    pub write: bool,
    pub execute: bool,
}

impl MapRights {
    pub const R: MapRights = MapRights {
        read: true,
        write: false,
        execute: false,
    };
    pub const RW: MapRights = MapRights {
        read: true,
        write: true,
        execute: false,
    };

    pub fn from_access(a: Access) -> MapRights {
        MapRights {
            read: true,
            write: a == Access::ReadWrite,
            execute: a == Access::ReadExecute,
        }
    }

    pub fn bits(self) -> u8 {
        use paddock_spec::*;
        (if self.read { MAP_READ } else { 0 })
            | (if self.write { MAP_WRITE } else { 0 })
            | (if self.execute { MAP_EXECUTE } else { 0 })
    }

    pub fn from_bits(bits: u8) -> MapRights {
        use paddock_spec::*;
        MapRights {
            read: bits & MAP_READ != 0,
            write: bits & MAP_WRITE != 0,
            execute: bits & MAP_EXECUTE != 0,
        }
    }

    pub fn text(self) -> &'static str {
        match (self.write, self.execute) {
            (false, false) => "r",
            (true, false) => "rw",
            (false, true) => "rx",
            (true, true) => "rwx",
        }
    }
}

/// A region of frames mapped into a component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub component: usize,
    pub vaddr: u64,
    pub object: ObjId,
    pub pages: u32,
    pub rights: MapRights,
    pub cached: bool,
    pub purpose: MapPurpose,
    pub name: String,
}

impl Mapping {
    pub fn size(&self) -> u64 {
        u64::from(self.pages) * PAGE_SIZE
    }
}

/// A DMA buffer mapped into a PCI device's IOSpace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoMapping {
    pub pci: usize,
    pub iova: u64,
    pub object: ObjId,
    pub pages: u32,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqSource {
    IoApic {
        pin: u8,
        level: bool,
        active_low: bool,
    },
    /// Message `handle` of PCI device `pci` (an index into [`Plan::pci`]).
    Msi { pci: usize, handle: u32 },
    /// Entry `entry` of PCI device `pci`'s MSI-X table.
    MsiX { pci: usize, entry: u16 },
}

/// An IRQ handler, the notification it signals and the bit it sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IrqBinding {
    pub component: usize,
    pub name: String,
    pub source: IrqSource,
    pub vector: u8,
    pub notification: ObjId,
    pub badge_bit: u32,
    pub slot: u32,
}

/// A device's MSI messages: `messages` vectors from `first_vector`, in a
/// block of `messages` rounded up to a power of two, aligned to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsiBlock {
    pub first_vector: u8,
    pub messages: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PciPlan {
    pub owner: usize,
    pub name: String,
    pub selector: PciSelector,
    /// VT-d domain (only meaningful with an IOMMU).
    pub domain: u16,
    /// (index, bytes) of each mapped memory BAR, in declaration order.
    pub bars: Vec<(u8, u64)>,
    /// Whether the root task turns on bus mastering.
    pub bus_master: bool,
    /// The root task leaves INTx enabled (`PCI_INTX`): the binding (an
    /// index into [`Plan::irqs`]) of the IOAPIC line the device's INTx is
    /// declared on, which the root task checks against the machine's
    /// routing at boot.
    pub intx: Option<usize>,
    pub msi: Option<MsiBlock>,
}

impl PciPlan {
    pub fn label(&self) -> String {
        self.selector.label()
    }
}

/// A name component code can look up on its info page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub component: usize,
    pub name: String,
    pub kind: SymbolKind,
    pub value: u64,
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanComponent {
    pub name: String,
    pub program: String,
    pub badge: u64,
    pub priority: u8,
    pub restart: Restart,
    pub cnode_bits: u8,
    pub tcb: ObjId,
    pub cnode: ObjId,
    pub vspace: ObjId,
    pub notification: ObjId,
    pub ipc_buffer_object: ObjId,
    pub ipc_buffer: u64,
    pub stack_top: u64,
    pub is_driver: bool,
}

/// The whole plan. Caps, mappings and symbols are grouped by component in
/// component order (each component's run is contiguous).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub name: String,
    pub kernel: KernelConfig,
    pub fault_endpoint: ObjId,
    pub components: Vec<PlanComponent>,
    pub objects: Vec<Object>,
    pub caps: Vec<Cap>,
    pub mappings: Vec<Mapping>,
    pub io_mappings: Vec<IoMapping>,
    pub irqs: Vec<IrqBinding>,
    pub pci: Vec<PciPlan>,
    pub symbols: Vec<Symbol>,
}

impl Plan {
    pub fn caps_of(&self, c: usize) -> impl Iterator<Item = &Cap> {
        self.caps.iter().filter(move |k| k.component == c)
    }
    pub fn mappings_of(&self, c: usize) -> impl Iterator<Item = &Mapping> {
        self.mappings.iter().filter(move |m| m.component == c)
    }
    pub fn symbols_of(&self, c: usize) -> impl Iterator<Item = &Symbol> {
        self.symbols.iter().filter(move |s| s.component == c)
    }

    /// Bytes of memory the root task must retype for this plan's objects
    /// (frames and kernel objects, device frames excluded).
    pub fn memory_bytes(&self) -> u64 {
        self.objects
            .iter()
            .map(|o| match o.kind {
                ObjectKind::Frames => u64::from(o.count) * PAGE_SIZE,
                ObjectKind::DeviceFrames | ObjectKind::PlatformFrames => 0,
                ObjectKind::CNode => 32u64 << o.count,
                ObjectKind::Tcb => 2048,
                ObjectKind::Notification | ObjectKind::Endpoint => 32,
                _ => PAGE_SIZE,
            })
            .sum()
    }

    /// What a cap grants, in words, for reports: worked out from the plan,
    /// so a plan read back from a spec says the same.
    pub fn grants(&self, cap: &Cap) -> String {
        match cap.kind {
            CapKind::FaultEndpoint => format!("fault endpoint, badge {}", cap.badge),
            CapKind::Notification => "own notification (wait)".into(),
            CapKind::NotificationSend => {
                let peer = self
                    .components
                    .iter()
                    .find(|c| Some(c.notification) == cap.object)
                    .map_or("?", |c| c.name.as_str());
                format!("signal `{peer}` (bit {})", cap.badge.trailing_zeros())
            }
            CapKind::IrqHandler => match cap.object.and_then(|q| self.irqs.get(q)) {
                Some(q) => match q.source {
                    IrqSource::IoApic { pin, .. } => {
                        format!("IOAPIC pin {pin}, vector {}", q.vector)
                    }
                    IrqSource::Msi { pci, .. } => format!(
                        "MSI of {}, vector {}",
                        self.pci.get(pci).map_or("?".into(), PciPlan::label),
                        q.vector
                    ),
                    IrqSource::MsiX { pci, entry } => format!(
                        "MSI-X entry {entry} of {}, vector {}",
                        self.pci.get(pci).map_or("?".into(), PciPlan::label),
                        q.vector
                    ),
                },
                None => "an IRQ the plan does not bind".into(),
            },
            CapKind::IoPort => format!(
                "IO ports {:#x}..={:#x}",
                cap.badge >> 16,
                cap.badge & 0xFFFF
            ),
            CapKind::CallEndpoint | CapKind::ServeEndpoint => {
                let server = cap
                    .object
                    .and_then(|o| self.objects.get(o))
                    .and_then(|o| match o.owner {
                        Owner::Component(c) => self.components.get(c),
                        _ => None,
                    })
                    .map_or("?", |c| c.name.as_str());
                if cap.kind == CapKind::CallEndpoint {
                    format!("call `{server}`, badge {}", cap.badge)
                } else {
                    "serve calls (receive)".into()
                }
            }
            CapKind::PciConfig => match paddock_spec::pci_config::decode(cap.badge) {
                Some((pci, write)) => format!(
                    "configuration space of {} ({})",
                    self.pci.get(pci).map_or("?".into(), PciPlan::label),
                    if write {
                        "read, policy-filtered write"
                    } else {
                        "read"
                    }
                ),
                None => "a configuration-space cap naming no device".into(),
            },
            _ => String::new(),
        }
    }
}

fn pages(bytes: u64) -> u32 {
    bytes.div_ceil(PAGE_SIZE) as u32
}
