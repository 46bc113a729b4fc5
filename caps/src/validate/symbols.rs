//! The names each component will find on its info page, derived from the
//! model as the planner derives them (`crate::symbols`): each must fit an
//! info page entry, and no two may be the same name of the same kind (a
//! component looks a symbol up by kind and name, and would find only one).
//! How many a component has is counted on the plan (`crate::limits`).

use super::*;
use crate::symbols as sym;
use paddock_spec::limits::SYMBOL_NAME_LEN;
use paddock_spec::SymbolKind;
use std::collections::HashMap;

/// The declaration a symbol's name comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// Named by the planner alone (`fault`, `stack`...).
    Fixed,
    Irq(usize, usize),
    Io(usize, usize),
    Param(usize, usize),
    Ring(usize),
    Channel(usize),
    Shared(usize),
    /// A PCI device (component, device): its BARs.
    Device(usize, usize),
    /// Device memory by address (component, declaration).
    Mmio(usize, usize),
    /// A DMA window (owning component, device, window).
    Window(usize, usize, usize),
}

/// Every symbol of every component: (kind, name, origin).
fn derive(m: &Model) -> Vec<Vec<(SymbolKind, String, Origin)>> {
    use SymbolKind::*;
    let mut out: Vec<Vec<(SymbolKind, String, Origin)>> = m
        .components
        .iter()
        .map(|c| {
            let mut v = vec![
                (Slot, sym::FAULT.to_string(), Origin::Fixed),
                (Slot, sym::NOTIFICATION.to_string(), Origin::Fixed),
                (BadgeBit, sym::ROOT.to_string(), Origin::Fixed),
                (Vaddr, sym::IPC_BUFFER.to_string(), Origin::Fixed),
                (Vaddr, sym::STACK.to_string(), Origin::Fixed),
            ];
            if c.heap_size > 0 {
                v.push((Vaddr, sym::HEAP.to_string(), Origin::Fixed));
            }
            v
        })
        .collect();
    for (ci, c) in m.components.iter().enumerate() {
        let v = &mut out[ci];
        for (k, q) in c.irqs.iter().enumerate() {
            v.push((Slot, sym::irq(&q.name), Origin::Irq(ci, k)));
            v.push((BadgeBit, sym::irq(&q.name), Origin::Irq(ci, k)));
            if matches!(
                q.source,
                model::IrqSource::MsiX { .. } | model::IrqSource::IoApic { .. }
            ) {
                v.push((Param, sym::irq(&q.name), Origin::Irq(ci, k)));
            }
        }
        for (k, r) in c.io_ports.iter().enumerate() {
            v.push((Slot, sym::io(&r.name), Origin::Io(ci, k)));
        }
        for (k, m) in c.mmio.iter().enumerate() {
            v.push((Vaddr, sym::mmio(&m.name), Origin::Mmio(ci, k)));
        }
        for (k, (key, _)) in c.params.iter().enumerate() {
            v.push((Param, key.clone(), Origin::Param(ci, k)));
        }
        for (p, dev) in c.pci.iter().enumerate() {
            if dev.config != model::ConfigAccess::None {
                let name = sym::pci_config(&dev.name);
                out[ci].push((Slot, name, Origin::Device(ci, p)));
            }
            for b in &dev.bars {
                out[ci].push((Vaddr, sym::bar(&dev.name, b.index), Origin::Device(ci, p)));
            }
            for (w, win) in dev.dma.iter().enumerate() {
                let name = sym::dma(&dev.name, &win.name);
                out[ci].push((Iova, name.clone(), Origin::Window(ci, p, w)));
                for &mapper in &win.mapped_by {
                    out[mapper].push((Vaddr, name.clone(), Origin::Window(ci, p, w)));
                }
            }
        }
    }
    for (r, ring) in m.rings.iter().enumerate() {
        for end in [ring.producer, ring.consumer] {
            let v = &mut out[end];
            v.push((Slot, sym::ring(&ring.name), Origin::Ring(r)));
            v.push((BadgeBit, sym::ring(&ring.name), Origin::Ring(r)));
            v.push((Vaddr, sym::ring_queues(&ring.name), Origin::Ring(r)));
            v.push((Vaddr, sym::ring_data(&ring.name), Origin::Ring(r)));
        }
    }
    for (ch, channel) in m.channels.iter().enumerate() {
        for end in channel.ends {
            out[end].push((Slot, sym::channel(&channel.name), Origin::Channel(ch)));
            out[end].push((BadgeBit, sym::channel(&channel.name), Origin::Channel(ch)));
            if channel.server.is_some() {
                out[end].push((Slot, sym::endpoint(&channel.name), Origin::Channel(ch)));
            }
        }
    }
    for (s, region) in m.shared.iter().enumerate() {
        for map in &region.maps {
            out[map.component].push((Vaddr, sym::shared(&region.name), Origin::Shared(s)));
        }
    }
    out
}

impl Validator<'_> {
    /// Where the user wrote the name a symbol comes from, and a second
    /// place for a DMA window (its device's name is part of it too).
    fn origin_spans(&self, ci: usize, o: Origin) -> (Span, Option<Span>) {
        let d = self.d;
        match o {
            Origin::Fixed => (d.components[ci].name.span(), None),
            Origin::Irq(c, k) => (d.components[c].irqs[k].name.span(), None),
            Origin::Io(c, k) => (d.components[c].io_ports[k].name.span(), None),
            Origin::Param(c, k) => (
                d.components[c]
                    .params
                    .keys()
                    .nth(k)
                    .map_or(d.components[c].name.span(), |key| key.span()),
                None,
            ),
            Origin::Mmio(c, k) => (d.components[c].mmio[k].name.span(), None),
            Origin::Ring(r) => (d.rings[r].name.span(), None),
            Origin::Channel(ch) => (d.channels[ch].name.span(), None),
            Origin::Shared(s) => (d.shared[s].name.span(), None),
            Origin::Device(c, p) => (d.components[c].pci_devices[p].name.span(), None),
            Origin::Window(c, p, w) => {
                let dev = &d.components[c].pci_devices[p];
                (dev.dma[w].name.span(), Some(dev.name.span()))
            }
        }
    }

    pub(super) fn symbols(&mut self, m: &Model) {
        for (ci, symbols) in derive(m).into_iter().enumerate() {
            let component = &m.components[ci].name;
            // One error per declaration that makes names too long: its
            // longest name.
            let mut long: Vec<(Origin, String)> = vec![];
            for (_, name, origin) in &symbols {
                if name.len() <= SYMBOL_NAME_LEN {
                    continue;
                }
                match long.iter_mut().find(|(o, _)| o == origin) {
                    Some((_, n)) if n.len() < name.len() => *n = name.clone(),
                    Some(_) => {}
                    None => long.push((*origin, name.clone())),
                }
            }
            for (origin, name) in long {
                let (span, also) = self.origin_spans(ci, origin);
                let mut e = Error::new(format!(
                    "symbol `{name}` of `{component}` is {} bytes, longer than the {SYMBOL_NAME_LEN} an info page entry holds",
                    name.len()
                ))
                .at(span, "makes it too long");
                if let Some(also) = also {
                    e = e.also(also, "and this name");
                }
                self.push(e.help(format!(
                    "shorten the name by {} characters",
                    name.len() - SYMBOL_NAME_LEN
                )));
            }
            let mut seen: HashMap<(SymbolKind, &str), Origin> = HashMap::new();
            for (kind, name, origin) in &symbols {
                let Some(first) = seen.insert((*kind, name.as_str()), *origin) else {
                    continue;
                };
                let (span, _) = self.origin_spans(ci, *origin);
                let (first_span, _) = self.origin_spans(ci, first);
                self.push(
                    Error::new(format!(
                        "`{component}` would find two symbols named `{name}` on its info page"
                    ))
                    .at(span, "gives it again")
                    .also(first_span, "gives it first")
                    .help("rename one of the two declarations"),
                );
            }
        }
    }
}
