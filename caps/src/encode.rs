//! Plan -> spec bytes (the format of `paddock-spec`).

use crate::model::PciSelector;
use crate::plan::{IrqSource, Owner, Plan};
use paddock_spec::*;
use restart_kind::restart;
use std::collections::HashMap;
use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::IntoBytes;

mod restart_kind {
    use crate::description::Restart;
    use paddock_spec::RestartKind;
    pub fn restart(r: Restart) -> (u8, u32) {
        match r {
            Restart::Never => (RestartKind::Never as u8, 0),
            Restart::Always => (RestartKind::Always as u8, 0),
            Restart::Limit(n) => (RestartKind::Limit as u8, n),
        }
    }
}

/// Interns strings so that each distinct one is stored once.
#[derive(Default)]
struct Strings {
    bytes: Vec<u8>,
    seen: HashMap<String, StrRef>,
}

impl Strings {
    fn add(&mut self, s: &str) -> StrRef {
        if let Some(r) = self.seen.get(s) {
            return *r;
        }
        let r = StrRef {
            offset: U32::new(self.bytes.len() as u32),
            len: U32::new(s.len() as u32),
        };
        self.bytes.extend_from_slice(s.as_bytes());
        self.seen.insert(s.to_string(), r);
        r
    }
}

fn u32_of(i: usize) -> U32 {
    U32::new(i as u32)
}

fn opt(i: Option<usize>) -> U32 {
    i.map_or(U32::new(NONE), u32_of)
}

/// A run of a component's records: they are contiguous (the planner emits
/// them component by component).
fn run<T>(all: &[T], c: usize, of: impl Fn(&T) -> usize) -> RangeRef {
    let first = all.partition_point(|x| of(x) < c);
    let end = all.partition_point(|x| of(x) <= c);
    RangeRef {
        first: u32_of(first),
        count: u32_of(end - first),
    }
}

/// Encodes a plan. The output depends only on the plan.
pub fn encode(plan: &Plan) -> Vec<u8> {
    let mut strings = Strings::default();
    let system_name = strings.add(&plan.name);
    let components: Vec<ComponentRecord> = plan
        .components
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (restart, limit) = restart(c.restart);
            ComponentRecord {
                name: strings.add(&c.name),
                program: strings.add(&c.program),
                badge: U64::new(c.badge),
                priority: c.priority,
                restart,
                cnode_bits: c.cnode_bits,
                _pad: 0,
                restart_limit: U32::new(limit),
                tcb: u32_of(c.tcb),
                cnode: u32_of(c.cnode),
                vspace: u32_of(c.vspace),
                notification: u32_of(c.notification),
                ipc_buffer_object: u32_of(c.ipc_buffer_object),
                _pad2: U32::new(0),
                ipc_buffer: U64::new(c.ipc_buffer),
                stack_top: U64::new(c.stack_top),
                caps: run(&plan.caps, i, |k| k.component),
                mappings: run(&plan.mappings, i, |m| m.component),
                symbols: run(&plan.symbols, i, |s| s.component),
            }
        })
        .collect();
    let objects: Vec<ObjectRecord> = plan
        .objects
        .iter()
        .map(|o| {
            let (owner_kind, owner_index) = match o.owner {
                Owner::Root => (OwnerKind::Root, None),
                Owner::Component(c) => (OwnerKind::Component, Some(c)),
                Owner::Ring(r) => (OwnerKind::Ring, Some(r)),
                Owner::Shared(s) => (OwnerKind::Shared, Some(s)),
                Owner::Pci(p) => (OwnerKind::Pci, Some(p)),
            };
            ObjectRecord {
                kind: o.kind as u8,
                owner_kind: owner_kind as u8,
                _pad: [0; 2],
                owner: match o.owner {
                    Owner::Component(c) => u32_of(c),
                    _ => U32::new(NONE),
                },
                count: U32::new(o.count),
                aux: opt(o.pci),
                aux2: U32::new(o.aux),
                owner_index: opt(owner_index),
                base: U64::new(o.base),
                name: strings.add(&o.name),
            }
        })
        .collect();
    let caps: Vec<CapRecord> = plan
        .caps
        .iter()
        .map(|k| CapRecord {
            component: u32_of(k.component),
            slot: U32::new(k.slot),
            kind: k.kind as u8,
            rights: k.rights.bits(),
            _pad: [0; 2],
            object: opt(k.object),
            badge: U64::new(k.badge),
            name: strings.add(&k.name),
        })
        .collect();
    let mappings: Vec<MappingRecord> = plan
        .mappings
        .iter()
        .map(|m| MappingRecord {
            component: u32_of(m.component),
            object: u32_of(m.object),
            vaddr: U64::new(m.vaddr),
            pages: U32::new(m.pages),
            rights: m.rights.bits(),
            cached: m.cached.into(),
            purpose: m.purpose as u8,
            _pad: 0,
        })
        .collect();
    let io_mappings: Vec<IoMappingRecord> = plan
        .io_mappings
        .iter()
        .map(|m| IoMappingRecord {
            pci: u32_of(m.pci),
            object: u32_of(m.object),
            iova: U64::new(m.iova),
            pages: U32::new(m.pages),
            _pad: U32::new(0),
        })
        .collect();
    let irqs: Vec<IrqRecord> = plan
        .irqs
        .iter()
        .map(|q| {
            let (kind, level, polarity, pin, pci) = match q.source {
                IrqSource::IoApic {
                    pin,
                    level,
                    active_low,
                } => (IrqKind::IoApic, level, active_low, pin.into(), None),
                IrqSource::Msi { pci, handle } => (IrqKind::Msi, false, false, handle, Some(pci)),
                IrqSource::MsiX { pci, entry } => {
                    (IrqKind::MsiX, false, false, entry.into(), Some(pci))
                }
            };
            IrqRecord {
                component: u32_of(q.component),
                kind: kind as u8,
                level: level.into(),
                polarity: polarity.into(),
                _pad: 0,
                pin: U32::new(pin),
                pci: opt(pci),
                vector: U32::new(q.vector.into()),
                notification: u32_of(q.notification),
                slot: U32::new(q.slot),
                badge: U64::new(1 << q.badge_bit),
            }
        })
        .collect();
    let pci: Vec<PciRecord> = plan
        .pci
        .iter()
        .map(|p| {
            // The fields of the other selector stay zero.
            let (flags, (vendor, device), (bus, dev, func)) = match p.selector {
                PciSelector::Id { vendor, device } => (PCI_HAS_ID, (vendor, device), (0, 0, 0)),
                PciSelector::At { bus, dev, func } => (PCI_HAS_ADDRESS, (0, 0), (bus, dev, func)),
            };
            let (msi_vector, msi_count) = p.msi.map_or((0, 0), |m| (m.first_vector, m.messages));
            PciRecord {
                owner: u32_of(p.owner),
                flags: flags
                    | if p.bus_master { PCI_BUS_MASTER } else { 0 }
                    | if p.intx.is_some() { PCI_INTX } else { 0 },
                bus,
                dev,
                func,
                vendor: U16::new(vendor),
                device: U16::new(device),
                domain: U16::new(p.domain),
                msi_vector,
                msi_count,
                intx_irq: opt(p.intx),
                name: strings.add(&p.name),
            }
        })
        .collect();
    let symbols: Vec<SymbolRecord> = plan
        .symbols
        .iter()
        .map(|s| SymbolRecord {
            component: u32_of(s.component),
            kind: s.kind as u8,
            _pad: [0; 3],
            value: U64::new(s.value),
            size: U64::new(s.size),
            name: strings.add(&s.name),
        })
        .collect();

    let header_len = std::mem::size_of::<Header>();
    let mut body: Vec<u8> = Vec::new();
    let mut tables = [TableRef::default(); TABLES];
    let mut put = |t: Table, bytes: &[u8], count: usize| {
        tables[t as usize] = TableRef {
            offset: u32_of(header_len + body.len()),
            count: u32_of(count),
        };
        body.extend_from_slice(bytes);
    };
    put(Table::Components, components.as_bytes(), components.len());
    put(Table::Objects, objects.as_bytes(), objects.len());
    put(Table::Caps, caps.as_bytes(), caps.len());
    put(Table::Mappings, mappings.as_bytes(), mappings.len());
    put(Table::IoMappings, io_mappings.as_bytes(), io_mappings.len());
    put(Table::Irqs, irqs.as_bytes(), irqs.len());
    put(Table::Pci, pci.as_bytes(), pci.len());
    put(Table::Symbols, symbols.as_bytes(), symbols.len());
    put(Table::Strings, &strings.bytes, strings.bytes.len());
    let header = Header {
        magic: MAGIC,
        version: U32::new(VERSION),
        total_len: u32_of(header_len + body.len()),
        flags: U32::new(
            (if plan.kernel.iommu { FLAG_IOMMU } else { 0 })
                | (if plan.kernel.is_debug() {
                    FLAG_DEBUG
                } else {
                    0
                }),
        ),
        io_pt_levels: U32::new(crate::plan::IO_PT_LEVELS),
        layout_base: U64::new(crate::plan::LAYOUT_BASE),
        system_name,
        tables,
    };
    let mut out = header.as_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}
