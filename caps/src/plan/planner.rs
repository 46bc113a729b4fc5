//! Planning: a [`Model`] becomes a [`Plan`], in one pass per table, in
//! declaration order.

use super::paging::{io_page_tables, paging_structures};
use super::pci_config::config_caps;
use super::*;
use crate::model::{self, Component, Model};
use crate::symbols as sym;
use crate::validate::FIXED_SLOTS;

pub(super) struct Planner {
    pub(super) plan: Plan,
    /// Next free address of each component's planned region.
    cursor: Vec<u64>,
    /// The next free slot of the component being planned.
    next_slot: u32,
}

impl Planner {
    pub(super) fn object(
        &mut self,
        kind: ObjectKind,
        name: String,
        owner: Owner,
        count: u32,
    ) -> ObjId {
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
    pub(super) fn map(
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
        self.symbol(c, name, SymbolKind::Vaddr, vaddr, bytes);
        vaddr
    }

    /// Puts a cap in the next free slot of component `c`, named `name`;
    /// returns its index in the plan's caps.
    pub(super) fn cap(
        &mut self,
        c: usize,
        kind: CapKind,
        object: Option<ObjId>,
        rights: CapRights,
        badge: u64,
        name: String,
    ) -> usize {
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
        });
        self.symbol(c, name, SymbolKind::Slot, slot.into(), 0);
        self.plan.caps.len() - 1
    }

    fn symbol(&mut self, c: usize, name: String, kind: SymbolKind, value: u64, size: u64) {
        self.plan.symbols.push(Symbol {
            component: c,
            name,
            kind,
            value,
            size,
        });
    }
}

/// The badge bits of both ends of each ring and channel: a component's
/// IRQs take its first bits, then its rings, then its channels, each in
/// declaration order.
struct Bits {
    ring: Vec<[u32; 2]>,
    channel: Vec<[u32; 2]>,
}

fn badge_bits(m: &Model) -> Bits {
    let mut next: Vec<u32> = m.components.iter().map(|c| c.irqs.len() as u32).collect();
    let mut take = |c: usize| {
        let bit = next[c];
        next[c] += 1;
        bit
    };
    let ring = m
        .rings
        .iter()
        .map(|r| [take(r.producer), take(r.consumer)])
        .collect();
    let channel = m
        .channels
        .iter()
        .map(|ch| [take(ch.ends[0]), take(ch.ends[1])])
        .collect();
    Bits { ring, channel }
}

/// Per component, in declaration order: the rings and channels it is an
/// end of, and its mappings of shared regions (region, entry). Built once,
/// so planning stays linear in the size of the description.
struct Parties {
    rings: Vec<Vec<usize>>,
    channels: Vec<Vec<usize>>,
    shared: Vec<Vec<(usize, usize)>>,
}

fn parties(m: &Model) -> Parties {
    let n = m.components.len();
    let mut p = Parties {
        rings: vec![vec![]; n],
        channels: vec![vec![]; n],
        shared: vec![vec![]; n],
    };
    for (r, ring) in m.rings.iter().enumerate() {
        p.rings[ring.producer].push(r);
        p.rings[ring.consumer].push(r);
    }
    for (ch, channel) in m.channels.iter().enumerate() {
        for end in channel.ends {
            p.channels[end].push(ch);
        }
    }
    for (s, region) in m.shared.iter().enumerate() {
        for (k, map) in region.maps.iter().enumerate() {
            p.shared[map.component].push((s, k));
        }
    }
    p
}

/// Plans a validated system: a [`Model`], or a [`crate::Validated`]
/// description (which holds one).
pub fn plan(m: &(impl AsRef<Model> + ?Sized)) -> Plan {
    let m = m.as_ref();
    let n = m.components.len();
    let bits = badge_bits(m);
    let parties = parties(m);
    let mut p = Planner {
        plan: Plan {
            name: m.name.clone(),
            kernel: m.kernel,
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
        next_slot: 1,
    };
    p.plan.fault_endpoint = p.object(ObjectKind::Endpoint, "fault".into(), Owner::Root, 1);

    // PCI devices first: IRQs and mappings refer to them by index.
    let mut pci_base = vec![0usize; n];
    for (ci, c) in m.components.iter().enumerate() {
        pci_base[ci] = p.plan.pci.len();
        for (k, dev) in c.pci.iter().enumerate() {
            let i = p.plan.pci.len();
            p.plan.pci.push(PciPlan {
                owner: ci,
                name: dev.name.clone(),
                selector: dev.selector,
                domain: FIRST_IO_DOMAIN + i as u16,
                bars: dev.bars.iter().map(|b| (b.index, b.size)).collect(),
                bus_master: (m.iommu() && !dev.dma.is_empty()) || dev.unconfined_dma,
                // Linked to the line's IRQ binding once IRQs are planned.
                intx: None,
                msi: msi_block(c, k),
            });
        }
    }

    // Ring and shared frames exist once, whoever maps them.
    let ring_objects: Vec<(ObjId, ObjId)> = m
        .rings
        .iter()
        .enumerate()
        .map(|(r, ring)| {
            let q = p.object(
                ObjectKind::Frames,
                sym::ring_queues(&ring.name),
                Owner::Ring(r),
                pages(ring.queues_size),
            );
            let data = p.object(
                ObjectKind::Frames,
                sym::ring_data(&ring.name),
                Owner::Ring(r),
                pages(ring.data_size),
            );
            (q, data)
        })
        .collect();
    let shared_objects: Vec<ObjId> = m
        .shared
        .iter()
        .enumerate()
        .map(|(s, region)| {
            p.object(
                ObjectKind::Frames,
                sym::shared(&region.name),
                Owner::Shared(s),
                pages(region.size),
            )
        })
        .collect();
    // DMA buffers, and who maps each: (device, window, object) per mapper.
    let mut dma_of: Vec<Vec<(usize, usize, ObjId)>> = vec![vec![]; n];
    for (ci, c) in m.components.iter().enumerate() {
        for (k, dev) in c.pci.iter().enumerate() {
            let pi = pci_base[ci] + k;
            for (w, win) in dev.dma.iter().enumerate() {
                let o = p.object(
                    ObjectKind::Frames,
                    sym::dma(&dev.name, &win.name),
                    Owner::Pci(pi),
                    pages(win.size),
                );
                for &mapper in &win.mapped_by {
                    dma_of[mapper].push((pi, w, o));
                }
                if m.iommu() {
                    p.plan.io_mappings.push(IoMapping {
                        pci: pi,
                        iova: win.iova,
                        object: o,
                        pages: pages(win.size),
                        name: format!("{}.{}", dev.name, win.name),
                    });
                }
            }
        }
    }

    // A channel's endpoint belongs to its server, like its notification.
    let endpoints: Vec<Option<ObjId>> = m
        .channels
        .iter()
        .map(|ch| {
            let server = ch.ends[ch.server?];
            Some(p.object(
                ObjectKind::Endpoint,
                sym::endpoint(&ch.name),
                Owner::Component(server),
                1,
            ))
        })
        .collect();

    // Signal caps point at their peer's notification, made with the
    // peer: (cap index, peer) until every component is planned.
    let mut signals: Vec<(usize, usize)> = vec![];
    for (ci, c) in m.components.iter().enumerate() {
        let owner = Owner::Component(ci);
        let tcb = p.object(ObjectKind::Tcb, format!("{}.tcb", c.name), owner, 1);
        let cnode = p.object(
            ObjectKind::CNode,
            format!("{}.cnode", c.name),
            owner,
            c.cnode_bits.into(),
        );
        let vspace = p.object(ObjectKind::VSpace, format!("{}.vspace", c.name), owner, 1);
        let ntfn = p.object(
            ObjectKind::Notification,
            format!("{}.notification", c.name),
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
            sym::FAULT.into(),
        );
        p.cap(
            ci,
            CapKind::Notification,
            Some(ntfn),
            CapRights::READ,
            0,
            sym::NOTIFICATION.into(),
        );
        debug_assert_eq!(u64::from(p.next_slot), FIXED_SLOTS);
        for (k, irq) in c.irqs.iter().enumerate() {
            let bit = k as u32;
            let source = match irq.source {
                model::IrqSource::IoApic {
                    pin,
                    level,
                    active_low,
                } => IrqSource::IoApic {
                    pin,
                    level,
                    active_low,
                },
                model::IrqSource::Msi { pci, message } => IrqSource::Msi {
                    pci: pci_base[ci] + pci,
                    handle: message.into(),
                },
                model::IrqSource::MsiX { pci, entry } => IrqSource::MsiX {
                    pci: pci_base[ci] + pci,
                    entry,
                },
            };
            let irq_index = p.plan.irqs.len();
            p.plan.irqs.push(IrqBinding {
                component: ci,
                name: irq.name.clone(),
                source,
                vector: irq.vector,
                notification: ntfn,
                badge_bit: bit,
                slot: p.next_slot,
            });
            let name = sym::irq(&irq.name);
            p.cap(
                ci,
                CapKind::IrqHandler,
                Some(irq_index),
                CapRights::ALL,
                0,
                name.clone(),
            );
            // An MSI-X IRQ's table entry: the driver tells its device to
            // signal through this entry (for virtio, the queue's vector).
            // An IOAPIC IRQ's pin: a device that routes its own interrupt
            // (the HPET's comparator) is told where from the plan.
            match irq.source {
                model::IrqSource::MsiX { entry, .. } => {
                    p.symbol(ci, name.clone(), SymbolKind::Param, entry.into(), 0);
                }
                model::IrqSource::IoApic { pin, .. } => {
                    p.symbol(ci, name.clone(), SymbolKind::Param, pin.into(), 0);
                }
                model::IrqSource::Msi { .. } => {}
            }
            p.symbol(ci, name, SymbolKind::BadgeBit, bit.into(), 0);
        }
        config_caps(&mut p, ci, c, pci_base[ci]);
        for r in &c.io_ports {
            let (f, l) = (u64::from(r.first), u64::from(r.last));
            p.cap(
                ci,
                CapKind::IoPort,
                None,
                CapRights::ALL,
                f << 16 | l,
                sym::io(&r.name),
            );
        }
        // This component's end of each ring and channel: a cap that
        // signals the peer's notification with the peer's bit, and the
        // bit this component is woken with, both under one name.
        let ends = parties.rings[ci]
            .iter()
            .map(|&r| {
                let ring = &m.rings[r];
                (
                    [ring.producer, ring.consumer],
                    bits.ring[r],
                    sym::ring(&ring.name),
                )
            })
            .chain(parties.channels[ci].iter().map(|&ch| {
                let channel = &m.channels[ch];
                (channel.ends, bits.channel[ch], sym::channel(&channel.name))
            }));
        for (ends, bit, name) in ends {
            let me = usize::from(ends[1] == ci);
            let (peer, peer_bit) = (ends[1 - me], bit[1 - me]);
            let cap = p.cap(
                ci,
                CapKind::NotificationSend,
                None,
                CapRights::WRITE,
                1 << peer_bit,
                name.clone(),
            );
            signals.push((cap, peer));
            p.symbol(ci, name, SymbolKind::BadgeBit, bit[me].into(), 0);
        }
        // This component's side of each channel endpoint: the server
        // receives; the other end calls, badged with its own badge so that
        // a server tells its callers apart.
        for &ch in &parties.channels[ci] {
            let channel = &m.channels[ch];
            let (Some(server), Some(endpoint)) = (channel.server, endpoints[ch]) else {
                continue;
            };
            let (kind, rights, badge) = if channel.ends[server] == ci {
                (CapKind::ServeEndpoint, CapRights::READ, 0)
            } else {
                (CapKind::CallEndpoint, CapRights::CALL, badge)
            };
            p.cap(
                ci,
                kind,
                Some(endpoint),
                rights,
                badge,
                sym::endpoint(&channel.name),
            );
        }
        p.symbol(
            ci,
            sym::ROOT.into(),
            SymbolKind::BadgeBit,
            ROOT_BADGE_BIT.into(),
            0,
        );
        for (key, value) in &c.params {
            p.symbol(ci, key.clone(), SymbolKind::Param, *value, 0);
        }

        let (ipc, ipc_vaddr, stack_top) = address_space(&mut p, ci, c);
        map_devices(
            &mut p,
            m,
            &parties,
            ci,
            c,
            pci_base[ci],
            &ring_objects,
            &shared_objects,
        );
        for &(pi, w, o) in &dma_of[ci] {
            let dev = &p.plan.pci[pi];
            let win = &m.components[dev.owner].pci[pi - pci_base[dev.owner]].dma[w];
            let (name, size) = (sym::dma(&dev.name, &win.name), win.size);
            p.map(
                ci,
                o,
                size,
                MapRights::RW,
                true,
                MapPurpose::DmaBuffer,
                name,
            );
        }
        p.plan.components.push(PlanComponent {
            name: c.name.clone(),
            program: c.program.clone(),
            badge,
            priority: c.priority,
            restart: c.restart,
            cnode_bits: c.cnode_bits,
            tcb,
            cnode,
            vspace,
            notification: ntfn,
            ipc_buffer_object: ipc,
            ipc_buffer: ipc_vaddr,
            stack_top,
            is_driver: c.is_driver(),
        });
        paging_structures(&mut p, ci);
    }
    for (cap, peer) in signals {
        p.plan.caps[cap].object = Some(p.plan.components[peer].notification);
    }
    // Each device that may signal through INTx (no MSI) is linked to the
    // binding of the IOAPIC line its driver declares for it: the only
    // binding of that pin, since a pin is claimed once (a shared one by
    // its holder).
    for (ci, c) in m.components.iter().enumerate() {
        for (k, dev) in c.pci.iter().enumerate() {
            let Some(pin) = dev.intx.filter(|_| msi_block(c, k).is_none()) else {
                continue;
            };
            p.plan.pci[pci_base[ci] + k].intx =
                p.plan.irqs.iter().position(
                    |q| matches!(q.source, IrqSource::IoApic { pin: at, .. } if at == pin),
                );
        }
    }
    if m.iommu() {
        io_page_tables(&mut p);
    }
    p.plan
}

/// A device's MSIs: how many, and the vector of message 0 (validation
/// gave the messages consecutive vectors in message order).
fn msi_block(c: &Component, device: usize) -> Option<MsiBlock> {
    let of_device =
        |q: &&model::Irq| matches!(q.source, model::IrqSource::Msi { pci, .. } if pci == device);
    let first_vector = c
        .irqs
        .iter()
        .filter(of_device)
        .find(|q| matches!(q.source, model::IrqSource::Msi { message: 0, .. }))?
        .vector;
    let messages = c.irqs.iter().filter(of_device).count() as u8;
    Some(MsiBlock {
        first_vector,
        messages,
    })
}

/// The component's own regions: IPC buffer, stack and heap. Returns the
/// IPC buffer's object and address, and the top of the stack.
fn address_space(p: &mut Planner, ci: usize, c: &Component) -> (ObjId, u64, u64) {
    let owner = Owner::Component(ci);
    let ipc = p.object(
        ObjectKind::Frames,
        format!("{}.ipc_buffer", c.name),
        owner,
        1,
    );
    let ipc_vaddr = p.map(
        ci,
        ipc,
        PAGE_SIZE,
        MapRights::RW,
        true,
        MapPurpose::IpcBuffer,
        sym::IPC_BUFFER.into(),
    );
    let stack = p.object(
        ObjectKind::Frames,
        format!("{}.stack", c.name),
        owner,
        pages(c.stack_size),
    );
    let stack_base = p.map(
        ci,
        stack,
        c.stack_size,
        MapRights::RW,
        true,
        MapPurpose::Stack,
        sym::STACK.into(),
    );
    if c.heap_size > 0 {
        let heap = p.object(
            ObjectKind::Frames,
            format!("{}.heap", c.name),
            owner,
            pages(c.heap_size),
        );
        p.map(
            ci,
            heap,
            c.heap_size,
            MapRights::RW,
            true,
            MapPurpose::Heap,
            sym::HEAP.into(),
        );
    }
    (ipc, ipc_vaddr, stack_base + c.stack_size)
}

/// The component's rings, shared regions, device BARs and device memory,
/// and the IOVA
/// of each of its devices' DMA windows.
#[allow(clippy::too_many_arguments)]
fn map_devices(
    p: &mut Planner,
    m: &Model,
    parties: &Parties,
    ci: usize,
    c: &Component,
    pci_base: usize,
    ring_objects: &[(ObjId, ObjId)],
    shared_objects: &[ObjId],
) {
    for &r in &parties.rings[ci] {
        let ring = &m.rings[r];
        let producer = ring.producer == ci;
        let (q, data) = ring_objects[r];
        p.map(
            ci,
            q,
            ring.queues_size,
            MapRights::RW,
            true,
            MapPurpose::RingQueues,
            sym::ring_queues(&ring.name),
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
            ring.data_size,
            rights,
            true,
            MapPurpose::RingData,
            sym::ring_data(&ring.name),
        );
    }
    for &(s, k) in &parties.shared[ci] {
        let region = &m.shared[s];
        p.map(
            ci,
            shared_objects[s],
            region.size,
            MapRights::from_access(region.maps[k].access),
            region.cached,
            MapPurpose::Shared,
            sym::shared(&region.name),
        );
    }
    for (k, dev) in c.pci.iter().enumerate() {
        let pi = pci_base + k;
        for bar in &dev.bars {
            let name = sym::bar(&dev.name, bar.index);
            let o = p.object(
                ObjectKind::DeviceFrames,
                name.clone(),
                Owner::Pci(pi),
                pages(bar.size),
            );
            p.plan.objects[o].pci = Some(pi);
            p.plan.objects[o].aux = bar.index.into();
            // Device registers: uncached, never executable.
            p.map(
                ci,
                o,
                bar.size,
                MapRights::RW,
                false,
                MapPurpose::DeviceBar,
                name,
            );
        }
    }
    super::mmio::map_device_memory(p, ci, c);
    // The driver programs its device with IOVAs, mapped or not.
    for dev in &c.pci {
        for win in &dev.dma {
            p.symbol(
                ci,
                sym::dma(&dev.name, &win.name),
                SymbolKind::Iova,
                win.iova,
                win.size,
            );
        }
    }
}
