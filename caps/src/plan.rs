//! The capability plan: every kernel object, CSpace slot, mapping, IOSpace
//! mapping and IRQ binding of a validated description.
//!
//! Planning is a pure function of the description: the same description
//! gives the same plan, and so byte-identical spec, report and DOT output.
//! Everything is laid out in declaration order; nothing iterates a hash map.
//!
//! Choices the root task relies on (x86_64, seL4 5.0, 4 KiB pages):
//! * CSpace: one CNode of `cnode_size_bits` per component with a guard that
//!   makes a cptr equal its slot number. Slot 0 is null, slot 1 the fault
//!   endpoint (badged with the component's badge, its id + 1), slot 2 the
//!   component's own notification (receive only); then one IRQHandler per
//!   IRQ, one IOPort cap per range (minted, badge `first << 16 | last`), one
//!   badged notification send cap per ring end and channel end.
//! * Badge bits of a component's notification: IRQs first (declaration
//!   order), then its rings, then its channels; bit 27 (the top bit of seL4 5.0's 28-bit badges) is the root task's.
//! * Address space: the program's ELF below [`LAYOUT_BASE`] (512 GiB), so
//!   the planned paging structures never share a PDPT with the ELF's. From
//!   the base: IPC buffer, stack, heap, rings, shared regions, device BARs,
//!   DMA buffers, each followed by an unmapped guard page (the stack's guard
//!   below it is the IPC buffer's).
//! * Frames are not handed to components: the root task maps them from its
//!   own copies of the caps. A frame mapped twice (two components, or a
//!   VSpace and an IOSpace) is mapped through a copy of its cap.

use crate::description::{self as d, Description, Restart, Rights};
use crate::validate::{parse_pci_address, parse_pci_id, FIXED_SLOTS, PAGE_SIZE};
use paddock_kernel::config::KernelConfig;
pub use paddock_spec::{CapKind, IrqKind, MapPurpose, ObjectKind, SymbolKind};
use std::collections::BTreeSet;

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
    /// Address a paging structure or IO page table covers.
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
    /// What it grants, in words, for the report.
    pub grants: String,
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

    pub fn from_rights(r: Rights) -> MapRights {
        MapRights {
            read: true,
            write: r.write(),
            execute: r.execute(),
        }
    }

    pub fn bits(self) -> u8 {
        use paddock_spec::*;
        (if self.read { MAP_READ } else { 0 })
            | (if self.write { MAP_WRITE } else { 0 })
            | (if self.execute { MAP_EXECUTE } else { 0 })
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
    Msi {
        pci: usize,
        handle: u32,
    },
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PciPlan {
    pub owner: usize,
    pub name: String,
    pub id: Option<(u16, u16)>,
    pub address: Option<(u8, u8, u8)>,
    /// VT-d domain (only meaningful with an IOMMU).
    pub domain: u16,
    pub bars: Vec<(u8, u64)>,
}

impl PciPlan {
    pub fn label(&self) -> String {
        match (self.id, self.address) {
            (Some((v, d)), _) => format!("{v:04x}:{d:04x}"),
            (None, Some((b, d, f))) => format!("{b:02x}:{d:02x}.{f:x}"),
            (None, None) => "?".into(),
        }
    }
}

/// A name component code can look up (generated into its cap module).
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
                ObjectKind::DeviceFrames => 0,
                ObjectKind::CNode => 32u64 << o.count,
                ObjectKind::Tcb => 2048,
                ObjectKind::Notification | ObjectKind::Endpoint => 32,
                _ => PAGE_SIZE,
            })
            .sum()
    }
}

fn pages(bytes: u64) -> u32 {
    bytes.div_ceil(PAGE_SIZE) as u32
}

/// Bytes of a ring's two queues (active, then free, as `paddock-ring`
/// lays them out), page-rounded. Validation has checked the slot count;
/// an impossible one plans no memory.
pub fn ring_queue_bytes(slots: u64) -> u64 {
    let queue = u32::try_from(slots)
        .ok()
        .and_then(paddock_ring::layout::queue_bytes)
        .unwrap_or(0) as u64;
    (2 * queue).div_ceil(PAGE_SIZE) * PAGE_SIZE
}

struct Planner {
    plan: Plan,
    /// Next free address of each component's planned region.
    cursor: Vec<u64>,
    /// Per component: the connections that take a badge bit, in order.
    bits: Vec<Vec<Conn>>,
    /// The next free slot of the component being planned.
    next_slot: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Conn {
    Irq(usize),
    Ring(usize),
    Channel(usize),
}

impl Planner {
    fn object(&mut self, kind: ObjectKind, name: String, owner: Owner, count: u32) -> ObjId {
        self.plan.objects.push(Object {
            kind,
            name,
            owner,
            count,
            pci: None,
            aux: 0,
            base: 0,
        });
        self.plan.objects.len() - 1
    }

    /// Places `bytes` in component `c`'s address space and records the
    /// mapping and its symbol; a guard page follows.
    #[allow(clippy::too_many_arguments)]
    fn map(
        &mut self,
        c: usize,
        object: ObjId,
        bytes: u64,
        rights: MapRights,
        cached: bool,
        purpose: MapPurpose,
        name: String,
    ) -> u64 {
        let vaddr = self.cursor[c];
        self.cursor[c] += bytes + PAGE_SIZE;
        self.plan.mappings.push(Mapping {
            component: c,
            vaddr,
            object,
            pages: pages(bytes),
            rights,
            cached,
            purpose,
            name: name.clone(),
        });
        self.plan.symbols.push(Symbol {
            component: c,
            name,
            kind: SymbolKind::Vaddr,
            value: vaddr,
            size: bytes,
        });
        vaddr
    }

    /// Puts a cap in the next free slot of component `c`, named `name`.
    #[allow(clippy::too_many_arguments)]
    fn cap(
        &mut self,
        c: usize,
        kind: CapKind,
        object: Option<ObjId>,
        rights: CapRights,
        badge: u64,
        name: String,
        grants: String,
    ) {
        let slot = self.next_slot;
        self.next_slot += 1;
        self.plan.caps.push(Cap {
            component: c,
            slot,
            kind,
            object,
            rights,
            badge,
            name: name.clone(),
            grants,
        });
        self.symbol(c, name, SymbolKind::Slot, slot.into());
    }

    fn symbol(&mut self, c: usize, name: String, kind: SymbolKind, value: u64) {
        self.plan.symbols.push(Symbol {
            component: c,
            name,
            kind,
            value,
            size: 0,
        });
    }

    fn bit(&self, c: usize, conn: Conn) -> u32 {
        self.bits[c].iter().position(|x| *x == conn).unwrap_or(0) as u32
    }
}

/// Component `ci`'s end of connection `conn` to `peer`: a cap that signals
/// the peer's notification with the peer's bit for `conn`, and the badge
/// bit `ci` itself is woken with, both under `name`.
fn signal_cap(p: &mut Planner, d: &Description, ci: usize, peer: usize, conn: Conn, name: String) {
    let peer_bit = p.bit(peer, conn);
    p.cap(
        ci,
        CapKind::NotificationSend,
        None,
        CapRights::WRITE,
        1 << peer_bit,
        name.clone(),
        format!("signal `{}` (bit {peer_bit})", d.components[peer].name()),
    );
    let own = p.bit(ci, conn);
    p.symbol(ci, name, SymbolKind::BadgeBit, own.into());
    // Remember the peer for the object fix-up once every component has its
    // notification.
    p.plan.caps.last_mut().expect("just pushed").object = Some(usize::MAX - peer);
}

/// Plans a description that [`crate::validate::validate`] accepted.
pub fn plan(d: &Description) -> Plan {
    let n = d.components.len();
    let index: std::collections::HashMap<&str, usize> = d
        .components
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name(), i))
        .collect();
    let idx = |name: &d::Spanned<String>| index[name.get_ref().as_str()];

    // Per-component lists of connections, built in one pass so planning
    // stays linear in the size of the description.
    let mut bits: Vec<Vec<Conn>> = d
        .components
        .iter()
        .map(|c| (0..c.irqs.len()).map(Conn::Irq).collect())
        .collect();
    let mut rings_of: Vec<Vec<usize>> = vec![vec![]; n];
    for (r, ring) in d.rings.iter().enumerate() {
        for end in [&ring.producer, &ring.consumer] {
            bits[idx(end)].push(Conn::Ring(r));
            rings_of[idx(end)].push(r);
        }
    }
    let mut channels_of: Vec<Vec<usize>> = vec![vec![]; n];
    for (ch, channel) in d.channels.iter().enumerate() {
        for end in channel.ends.get_ref() {
            bits[idx(end)].push(Conn::Channel(ch));
            channels_of[idx(end)].push(ch);
        }
    }
    let mut shared_of: Vec<Vec<(usize, usize)>> = vec![vec![]; n];
    for (s, region) in d.shared.iter().enumerate() {
        for (m, map) in region.maps.iter().enumerate() {
            shared_of[idx(&map.component)].push((s, m));
        }
    }

    let mut p = Planner {
        plan: Plan {
            name: d.system.name.clone(),
            kernel: d.system.kernel_config(),
            fault_endpoint: 0,
            components: vec![],
            objects: vec![],
            caps: vec![],
            mappings: vec![],
            io_mappings: vec![],
            irqs: vec![],
            pci: vec![],
            symbols: vec![],
        },
        cursor: vec![LAYOUT_BASE; n],
        bits,
        next_slot: 1,
    };
    p.plan.fault_endpoint = p.object(ObjectKind::Endpoint, "fault".into(), Owner::Root, 1);

    // PCI devices first: IRQs and mappings refer to them by index.
    let mut pci_base = vec![0usize; n];
    for (ci, c) in d.components.iter().enumerate() {
        pci_base[ci] = p.plan.pci.len();
        for dev in &c.pci_devices {
            let i = p.plan.pci.len();
            p.plan.pci.push(PciPlan {
                owner: ci,
                name: dev.name.get_ref().clone(),
                id: dev.id.as_ref().and_then(|s| parse_pci_id(s.get_ref())),
                address: dev
                    .address
                    .as_ref()
                    .and_then(|s| parse_pci_address(s.get_ref())),
                domain: FIRST_IO_DOMAIN + i as u16,
                bars: dev
                    .bars
                    .iter()
                    .map(|b| (*b.index.get_ref() as u8, *b.size.get_ref()))
                    .collect(),
            });
        }
    }

    let vectors = assign_vectors(d);
    let mut dma_of: Vec<Vec<(usize, usize, usize)>> = vec![vec![]; n];

    // Ring and shared frames exist once, whoever maps them.
    let ring_objects: Vec<(ObjId, ObjId)> = d
        .rings
        .iter()
        .enumerate()
        .map(|(r, ring)| {
            let q = p.object(
                ObjectKind::Frames,
                format!("ring.{}.queues", ring.name.get_ref()),
                Owner::Ring(r),
                pages(ring_queue_bytes(*ring.slots.get_ref())),
            );
            let data = p.object(
                ObjectKind::Frames,
                format!("ring.{}.data", ring.name.get_ref()),
                Owner::Ring(r),
                pages(*ring.data_size.get_ref()),
            );
            (q, data)
        })
        .collect();
    let shared_objects: Vec<ObjId> = d
        .shared
        .iter()
        .enumerate()
        .map(|(s, region)| {
            p.object(
                ObjectKind::Frames,
                format!("shared.{}", region.name.get_ref()),
                Owner::Shared(s),
                pages(*region.size.get_ref()),
            )
        })
        .collect();
    for (ci, c) in d.components.iter().enumerate() {
        for (k, dev) in c.pci_devices.iter().enumerate() {
            let pi = pci_base[ci] + k;
            for (w, win) in dev.dma.iter().enumerate() {
                let o = p.object(
                    ObjectKind::Frames,
                    format!("dma.{}.{}", dev.name.get_ref(), win.name.get_ref()),
                    Owner::Pci(pi),
                    pages(*win.size.get_ref()),
                );
                match &win.mapped_by {
                    None => dma_of[ci].push((pi, w, o)),
                    Some(list) => {
                        for m in list {
                            dma_of[idx(m)].push((pi, w, o));
                        }
                    }
                }
                if d.system.iommu {
                    p.plan.io_mappings.push(IoMapping {
                        pci: pi,
                        iova: *win.iova.get_ref(),
                        object: o,
                        pages: pages(*win.size.get_ref()),
                        name: format!("{}.{}", dev.name.get_ref(), win.name.get_ref()),
                    });
                }
            }
        }
    }

    for (ci, c) in d.components.iter().enumerate() {
        let name = c.name().to_string();
        let owner = Owner::Component(ci);
        let bits = *c.cnode_size_bits.get_ref() as u32;
        let tcb = p.object(ObjectKind::Tcb, format!("{name}.tcb"), owner, 1);
        let cnode = p.object(ObjectKind::CNode, format!("{name}.cnode"), owner, bits);
        let vspace = p.object(ObjectKind::VSpace, format!("{name}.vspace"), owner, 1);
        let ntfn = p.object(
            ObjectKind::Notification,
            format!("{name}.notification"),
            owner,
            1,
        );
        let badge = ci as u64 + 1;

        // CSpace.
        p.next_slot = 1;
        let fault = p.plan.fault_endpoint;
        p.cap(
            ci,
            CapKind::FaultEndpoint,
            Some(fault),
            CapRights::FAULT,
            badge,
            "fault".into(),
            format!("fault endpoint, badge {badge}"),
        );
        p.cap(
            ci,
            CapKind::Notification,
            Some(ntfn),
            CapRights::READ,
            0,
            "notification".into(),
            "own notification (wait)".into(),
        );
        debug_assert_eq!(u64::from(p.next_slot), FIXED_SLOTS);
        for (k, irq) in c.irqs.iter().enumerate() {
            let bit = p.bit(ci, Conn::Irq(k));
            let source = match (&irq.ioapic_pin, &irq.msi) {
                (Some(pin), _) => IrqSource::IoApic {
                    pin: *pin.get_ref() as u8,
                    level: irq
                        .trigger
                        .as_ref()
                        .is_some_and(|t| *t.get_ref() == d::Trigger::Level),
                    active_low: irq
                        .polarity
                        .as_ref()
                        .is_some_and(|t| *t.get_ref() == d::Polarity::Low),
                },
                (None, Some(msi)) => {
                    let k = c
                        .pci_devices
                        .iter()
                        .position(|p| p.name.get_ref() == msi.get_ref())
                        .unwrap_or(0);
                    let handle = c.irqs[..k.min(c.irqs.len())]
                        .iter()
                        .filter(|i| i.msi.as_ref().is_some_and(|m| m.get_ref() == msi.get_ref()))
                        .count();
                    IrqSource::Msi {
                        pci: pci_base[ci] + k,
                        handle: handle as u32,
                    }
                }
                (None, None) => unreachable!("validated: every IRQ has a source"),
            };
            let irq_index = p.plan.irqs.len();
            let vector = vectors[ci][k];
            let what = match source {
                IrqSource::IoApic { pin, .. } => format!("IOAPIC pin {pin}, vector {vector}"),
                IrqSource::Msi { pci, .. } => {
                    format!("MSI of {}, vector {vector}", p.plan.pci[pci].label())
                }
            };
            p.plan.irqs.push(IrqBinding {
                component: ci,
                name: irq.name.get_ref().clone(),
                source,
                vector,
                notification: ntfn,
                badge_bit: bit,
                slot: p.next_slot,
            });
            let n = format!("irq.{}", irq.name.get_ref());
            p.cap(
                ci,
                CapKind::IrqHandler,
                Some(irq_index),
                CapRights::ALL,
                0,
                n.clone(),
                what,
            );
            p.symbol(ci, n, SymbolKind::BadgeBit, bit.into());
        }
        for r in &c.io_ports {
            let (f, l) = (*r.first.get_ref() as u64, *r.last.get_ref() as u64);
            p.cap(
                ci,
                CapKind::IoPort,
                None,
                CapRights::ALL,
                f << 16 | l,
                format!("io.{}", r.name.get_ref()),
                format!("IO ports {f:#x}..={l:#x}"),
            );
        }
        for &r in &rings_of[ci] {
            let ring = &d.rings[r];
            let peer = if idx(&ring.producer) == ci {
                idx(&ring.consumer)
            } else {
                idx(&ring.producer)
            };
            let name = format!("ring.{}", ring.name.get_ref());
            signal_cap(&mut p, d, ci, peer, Conn::Ring(r), name);
        }
        for &ch in &channels_of[ci] {
            let channel = &d.channels[ch];
            let ends = channel.ends.get_ref();
            let peer = if idx(&ends[0]) == ci {
                idx(&ends[1])
            } else {
                idx(&ends[0])
            };
            let name = format!("channel.{}", channel.name.get_ref());
            signal_cap(&mut p, d, ci, peer, Conn::Channel(ch), name);
        }
        p.symbol(
            ci,
            "root".into(),
            SymbolKind::BadgeBit,
            ROOT_BADGE_BIT.into(),
        );
        for (key, value) in &c.params {
            p.symbol(
                ci,
                key.get_ref().clone(),
                SymbolKind::Param,
                *value.get_ref(),
            );
        }

        // Address space.
        let ipc = p.object(ObjectKind::Frames, format!("{name}.ipc_buffer"), owner, 1);
        let ipc_vaddr = p.map(
            ci,
            ipc,
            PAGE_SIZE,
            MapRights::RW,
            true,
            MapPurpose::IpcBuffer,
            "ipc_buffer".into(),
        );
        let stack_size = *c.stack_size.get_ref();
        let stack = p.object(
            ObjectKind::Frames,
            format!("{name}.stack"),
            owner,
            pages(stack_size),
        );
        let stack_base = p.map(
            ci,
            stack,
            stack_size,
            MapRights::RW,
            true,
            MapPurpose::Stack,
            "stack".into(),
        );
        let heap_size = *c.heap_size.get_ref();
        if heap_size > 0 {
            let heap = p.object(
                ObjectKind::Frames,
                format!("{name}.heap"),
                owner,
                pages(heap_size),
            );
            p.map(
                ci,
                heap,
                heap_size,
                MapRights::RW,
                true,
                MapPurpose::Heap,
                "heap".into(),
            );
        }
        for &r in &rings_of[ci] {
            let ring = &d.rings[r];
            let producer = idx(&ring.producer) == ci;
            let (q, data) = ring_objects[r];
            let rn = ring.name.get_ref();
            p.map(
                ci,
                q,
                ring_queue_bytes(*ring.slots.get_ref()),
                MapRights::RW,
                true,
                MapPurpose::RingQueues,
                format!("ring.{rn}.queues"),
            );
            // Only the producer writes the data region.
            let rights = if producer {
                MapRights::RW
            } else {
                MapRights::R
            };
            p.map(
                ci,
                data,
                *ring.data_size.get_ref(),
                rights,
                true,
                MapPurpose::RingData,
                format!("ring.{rn}.data"),
            );
        }
        for &(s, m) in &shared_of[ci] {
            let region = &d.shared[s];
            let rights = MapRights::from_rights(*region.maps[m].rights.get_ref());
            p.map(
                ci,
                shared_objects[s],
                *region.size.get_ref(),
                rights,
                *region.cached.get_ref(),
                MapPurpose::Shared,
                format!("shared.{}", region.name.get_ref()),
            );
        }
        for (k, dev) in c.pci_devices.iter().enumerate() {
            let pi = pci_base[ci] + k;
            for bar in &dev.bars {
                let (b, size) = (*bar.index.get_ref() as u32, *bar.size.get_ref());
                let o = p.object(
                    ObjectKind::DeviceFrames,
                    format!("{}.bar{b}", dev.name.get_ref()),
                    Owner::Pci(pi),
                    pages(size),
                );
                p.plan.objects[o].pci = Some(pi);
                p.plan.objects[o].aux = b;
                // Device registers: uncached, never executable.
                p.map(
                    ci,
                    o,
                    size,
                    MapRights::RW,
                    false,
                    MapPurpose::DeviceBar,
                    format!("{}.bar{b}", dev.name.get_ref()),
                );
            }
        }
        // The driver programs its device with IOVAs, mapped or not.
        for dev in &c.pci_devices {
            for win in &dev.dma {
                p.plan.symbols.push(Symbol {
                    component: ci,
                    name: format!("dma.{}.{}", dev.name.get_ref(), win.name.get_ref()),
                    kind: SymbolKind::Iova,
                    value: *win.iova.get_ref(),
                    size: *win.size.get_ref(),
                });
            }
        }
        for &(pi, w, o) in &dma_of[ci] {
            let dev = &p.plan.pci[pi];
            let owner_c = &d.components[dev.owner];
            let win = &owner_c.pci_devices[pi - pci_base[dev.owner]].dma[w];
            let n = format!("dma.{}.{}", dev.name, win.name.get_ref());
            p.map(
                ci,
                o,
                *win.size.get_ref(),
                MapRights::RW,
                true,
                MapPurpose::DmaBuffer,
                n,
            );
        }
        p.plan.components.push(PlanComponent {
            name,
            program: c.program().to_string(),
            badge,
            priority: *c.priority.get_ref() as u8,
            restart: *c.restart.get_ref(),
            cnode_bits: bits as u8,
            tcb,
            cnode,
            vspace,
            notification: ntfn,
            ipc_buffer_object: ipc,
            ipc_buffer: ipc_vaddr,
            stack_top: stack_base + stack_size,
            is_driver: c.is_driver(),
        });
        paging_structures(&mut p, ci);
    }
    // Notification send caps point at the peer's notification object,
    // known only once every component has been planned.
    for cap in &mut p.plan.caps {
        if cap.kind == CapKind::NotificationSend {
            if let Some(o) = cap.object {
                cap.object = Some(p.plan.components[usize::MAX - o].notification);
            }
        }
    }
    if d.system.iommu {
        io_page_tables(&mut p);
    }
    p.plan
}

/// The PDPTs, page directories and page tables of the planned region.
fn paging_structures(p: &mut Planner, c: usize) {
    let mut pdpt = BTreeSet::new();
    let mut pd = BTreeSet::new();
    let mut pt = BTreeSet::new();
    for m in p
        .plan
        .mappings
        .iter()
        .rev()
        .take_while(|m| m.component == c)
    {
        let mut a = m.vaddr;
        let end = m.vaddr + m.size();
        while a < end {
            pdpt.insert(a >> 39);
            pd.insert(a >> 30);
            pt.insert(a >> 21);
            a = ((a >> 21) + 1) << 21;
        }
    }
    let name = p.plan.components[c].name.clone();
    for (set, shift, kind, what) in [
        (pdpt, 39, ObjectKind::Pdpt, "pdpt"),
        (pd, 30, ObjectKind::PageDirectory, "pd"),
        (pt, 21, ObjectKind::PageTable, "pt"),
    ] {
        for k in set {
            let base = k << shift;
            let o = p.object(
                kind,
                format!("{name}.{what}@{base:#x}"),
                Owner::Component(c),
                1,
            );
            p.plan.objects[o].base = base;
        }
    }
}

/// One IO page table per level and distinct IOVA range of each IOSpace.
fn io_page_tables(p: &mut Planner) {
    for pi in 0..p.plan.pci.len() {
        let mut levels: [BTreeSet<u64>; 3] = Default::default();
        for m in p.plan.io_mappings.iter().filter(|m| m.pci == pi) {
            let mut a = m.iova;
            let end = m.iova + u64::from(m.pages) * PAGE_SIZE;
            while a < end {
                levels[0].insert(0);
                levels[1].insert(a >> 30 << 30);
                levels[2].insert(a >> 21 << 21);
                a = ((a >> 21) + 1) << 21;
            }
        }
        let dev = p.plan.pci[pi].name.clone();
        for (level, bases) in levels.iter().enumerate() {
            for &base in bases {
                let o = p.object(
                    ObjectKind::IoPageTable,
                    format!("{dev}.iopt{level}@{base:#x}"),
                    Owner::Pci(pi),
                    1,
                );
                let obj = &mut p.plan.objects[o];
                obj.pci = Some(pi);
                obj.aux = level as u32;
                obj.base = base;
            }
        }
    }
}

/// Kernel vectors for every IRQ: the declared ones, then an IOAPIC pin's
/// own number when free, then the lowest free vector (MSIs from 24 up, so
/// pins keep their natural vectors).
fn assign_vectors(d: &Description) -> Vec<Vec<u8>> {
    let mut used = [false; 108];
    for c in &d.components {
        for irq in &c.irqs {
            if let Some(v) = &irq.vector {
                used[*v.get_ref() as usize] = true;
            }
        }
    }
    let take = |want: Option<usize>, from: usize, used: &mut [bool; 108]| -> u8 {
        let v = want
            .filter(|&w| w < 108 && !used[w])
            .or_else(|| (from..108).chain(0..from).find(|&v| !used[v]))
            .unwrap_or(107);
        used[v] = true;
        v as u8
    };
    let mut out: Vec<Vec<u8>> = d.components.iter().map(|c| vec![0; c.irqs.len()]).collect();
    // Pins before MSIs, so an MSI never takes a pin's natural vector.
    for pass in 0..2 {
        for (ci, c) in d.components.iter().enumerate() {
            for (k, irq) in c.irqs.iter().enumerate() {
                if let Some(v) = &irq.vector {
                    out[ci][k] = *v.get_ref() as u8;
                    continue;
                }
                match (pass, &irq.ioapic_pin) {
                    (0, Some(pin)) => {
                        out[ci][k] = take(Some(*pin.get_ref() as usize), 0, &mut used)
                    }
                    (1, None) => out[ci][k] = take(None, 24, &mut used),
                    _ => {}
                }
            }
        }
    }
    out
}
