//! PCI devices: found one way (id or address), given to one driver, their
//! BARs, and the DMA they may do: windows behind the IOMMU, or, without
//! one, DMA anywhere where the description says so.

use super::*;
use std::collections::BTreeMap;

/// Hex digits only: `from_str_radix` also takes a leading `+`.
fn hex<T>(s: &str, parse: fn(&str, u32) -> Result<T, std::num::ParseIntError>) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    parse(s, 16).ok()
}

/// `vendor:device`, four hex digits each.
pub fn parse_pci_id(s: &str) -> Option<(u16, u16)> {
    let (v, d) = s.split_once(':')?;
    if v.len() != 4 || d.len() != 4 {
        return None;
    }
    Some((hex(v, u16::from_str_radix)?, hex(d, u16::from_str_radix)?))
}

/// `bus:device.function` in hex: bus < 0x100, device < 0x20, function < 8.
pub fn parse_pci_address(s: &str) -> Option<(u8, u8, u8)> {
    let (bus, rest) = s.split_once(':')?;
    let (dev, func) = rest.split_once('.')?;
    let bus = hex(bus, u8::from_str_radix)?;
    let dev = hex(dev, u8::from_str_radix)?;
    let func = hex(func, u8::from_str_radix)?;
    (dev < 0x20 && func < 8).then_some((bus, dev, func))
}

/// The IOAPIC lines of component `c` a PCI device of it may signal on,
/// with where each is declared: its own IOAPIC IRQs, and the line of each
/// holder (`crate::intx`) it has a channel to, which stands in for an IRQ
/// it declared shared.
fn intx_lines(d: &Description, c: &Component) -> Vec<(i64, Span)> {
    let ioapic = |q: &Irq| match (&q.ioapic_pin, &q.msi, &q.msix) {
        (Some(pin), None, None) => Some((*pin.get_ref(), pin.span())),
        _ => None,
    };
    let mut lines: Vec<(i64, Span)> = c.irqs.iter().filter_map(ioapic).collect();
    for ch in &d.channels {
        let ends = ch.ends.get_ref();
        let Some(other) = ends.iter().map(s).find(|e| *e != c.name()) else {
            continue;
        };
        if !ends.iter().any(|e| s(e) == c.name()) {
            continue;
        }
        let holder = d
            .components
            .iter()
            .find(|h| h.name() == other && *h.program.get_ref() == crate::intx::MUX_PROGRAM);
        if let Some(h) = holder {
            // The holder's line has no span of its own: point at the
            // channel's ends, which name the sharer.
            lines.extend(
                h.irqs
                    .iter()
                    .filter_map(ioapic)
                    .map(|(pin, _)| (pin, ch.ends.span())),
            );
        }
    }
    lines
}

impl Validator<'_> {
    pub(super) fn pci(&mut self) -> Vec<Vec<Option<model::PciDevice>>> {
        let d = self.d;
        // Where each selector was first given, and to whom.
        let mut given: BTreeMap<model::PciSelector, (Span, &str)> = BTreeMap::new();
        let mut out = vec![];
        for (ci, c) in d.components.iter().enumerate() {
            let mut mine = vec![];
            let lines = intx_lines(d, c);
            for p in &c.pci_devices {
                let selector = self.selector(c, p, &mut given);
                let bars = self.bars(p);
                let dma = self.dma(ci, p);
                let unconfined = self.unconfined(p);
                let config = self.config(p);
                let intx = self.intx(c, p, &lines);
                mine.push((|| {
                    Some(model::PciDevice {
                        name: s(&p.name).to_string(),
                        selector: selector?,
                        bars: bars?,
                        dma: dma?,
                        unconfined_dma: unconfined?,
                        config: config?,
                        intx: intx?,
                    })
                })());
            }
            out.push(mine);
        }
        out
    }

    /// The IOAPIC pin a device's INTx is declared on: the one line of
    /// `lines` (the driver's own IOAPIC lines and the shared lines held
    /// for it), `Some(None)` when it has none or signals by MSI. Two lines
    /// or more for a device that may use INTx are refused: the root task
    /// could not tell which one its routing must reach.
    fn intx(&mut self, c: &Component, p: &PciDevice, lines: &[(i64, Span)]) -> Option<Option<u8>> {
        let name = s(&p.name);
        let by_msi = c.irqs.iter().any(|q| {
            [&q.msi, &q.msix]
                .into_iter()
                .flatten()
                .any(|m| s(m) == name)
        });
        match lines {
            _ if by_msi => Some(None),
            [] => Some(None),
            [(pin, _)] => Some(u8::try_from(*pin).ok()),
            [(first, at), (second, also), ..] => {
                self.push(
                    Error::new(format!(
                        "PCI device `{name}` of `{}` may signal through INTx, but `{}` has {} IOAPIC lines (pins {first} and {second}{}): which one is the device's is not said",
                        c.name(),
                        c.name(),
                        lines.len(),
                        if lines.len() > 2 { ", ..." } else { "" },
                    ))
                    .at(p.name.span(), "this device, without MSI")
                    .also(at.clone(), "one line")
                    .also(also.clone(), "another")
                    .help("give the device an MSI (`msi = \"<device>\"`), or declare the other line in another component"),
                );
                None
            }
        }
    }

    fn selector<'a>(
        &mut self,
        c: &'a Component,
        p: &PciDevice,
        given: &mut BTreeMap<model::PciSelector, (Span, &'a str)>,
    ) -> Option<model::PciSelector> {
        let (text, selector) = match (&p.id, &p.address) {
            (None, None) => {
                self.push(
                    Error::new(format!(
                        "PCI device `{}` has neither `id` nor `address`",
                        s(&p.name)
                    ))
                    .at(p.name.span(), "which device?")
                    .help("give `id = \"vendor:device\"` (hex) or `address = \"bus:device.function\"`"),
                );
                return None;
            }
            (Some(id), Some(addr)) => {
                self.push(
                    Error::new(format!(
                        "PCI device `{}` has both `id` and `address`",
                        s(&p.name)
                    ))
                    .at(addr.span(), "an address")
                    .also(id.span(), "and an id")
                    .help("keep one: the id finds the device wherever QEMU puts it"),
                );
                return None;
            }
            (Some(id), None) => match parse_pci_id(s(id)) {
                None => {
                    self.push(
                        Error::new(format!("invalid PCI id `{}`", s(id)))
                            .at(id.span(), "not vendor:device")
                            .help("write four hex digits each, e.g. `1234:11e8`"),
                    );
                    return None;
                }
                Some((vendor, device)) => (id, model::PciSelector::Id { vendor, device }),
            },
            (None, Some(addr)) => match parse_pci_address(s(addr)) {
                None => {
                    self.push(
                        Error::new(format!("invalid PCI address `{}`", s(addr)))
                            .at(addr.span(), "not bus:device.function")
                            .help("write hex bus:device.function, device < 0x20 and function < 8, e.g. `00:03.0`"),
                    );
                    return None;
                }
                Some((bus, dev, func)) => (addr, model::PciSelector::At { bus, dev, func }),
            },
        };
        if let Some((first, owner)) = given.get(&selector) {
            self.push(
                Error::new(format!(
                    "PCI device {} of `{}` is already given to `{owner}`",
                    s(text),
                    c.name()
                ))
                .at(text.span(), "given again here")
                .also(first.clone(), "first given here")
                .help("a PCI device belongs to one driver only"),
            );
        } else {
            given.insert(selector, (text.span(), c.name()));
        }
        Some(selector)
    }

    fn bars(&mut self, p: &PciDevice) -> Option<Vec<model::Bar>> {
        let mut seen: BTreeMap<i64, Span> = BTreeMap::new();
        let mut bars = Some(vec![]);
        for b in &p.bars {
            let i = *b.index.get_ref();
            let mut index = None;
            if !(0..=5).contains(&i) {
                self.push(
                    Error::new(format!("BAR index {i} is outside 0..=5"))
                        .at(b.index.span(), "no such BAR")
                        .help("a PCI function has BARs 0 to 5"),
                );
            } else if let Some(first) = seen.insert(i, b.index.span()) {
                self.push(
                    Error::new(format!("BAR {i} of `{}` is declared twice", s(&p.name)))
                        .at(b.index.span(), "declared again here")
                        .also(first, "first declared here"),
                );
            } else {
                index = u8::try_from(i).ok();
            }
            let size = self.power_of_two("BAR size", &b.size, PAGE_SIZE, MAX_BAR, b.index.span());
            match (index, size, bars.as_mut()) {
                (Some(index), Some(size), Some(v)) => v.push(model::Bar { index, size }),
                _ => bars = None,
            }
        }
        bars
    }

    fn dma(&mut self, owner: usize, p: &PciDevice) -> Option<Vec<model::DmaWindow>> {
        let mut windows: Vec<(u64, u64, Span)> = vec![];
        let mut out = Some(vec![]);
        for w in &p.dma {
            if !self.d.system.iommu {
                let sp = &self.d.system.spans;
                let mut e = Error::new(format!(
                    "DMA window `{}` is declared while the IOMMU is off",
                    s(&w.name)
                ))
                .at(w.name.span(), "needs an IOMMU");
                e = if sp.iommu.is_empty() {
                    e.also(sp.name.clone(), "this system has no `iommu = true`")
                } else {
                    e.also(sp.iommu.clone(), "the IOMMU is off here")
                };
                self.push(e.help(
                    "without an IOMMU a device can DMA anywhere: set `iommu = true` in [system], or declare `unconfined_dma = true` on the device",
                ));
            }
            let (iova, size) = (*w.iova.get_ref(), *w.size.get_ref());
            let mut ok = true;
            if iova & (PAGE_SIZE - 1) != 0 {
                ok = false;
                self.push(
                    Error::new(format!(
                        "DMA window `{}` IOVA {iova:#x} is not 4 KiB aligned",
                        s(&w.name)
                    ))
                    .at(w.iova.span(), "not aligned")
                    .help(format!("use {:#x}", iova & !(PAGE_SIZE - 1))),
                );
            }
            ok &= self
                .pages("DMA window size", &w.size, false, MAX_DMA, w.name.span())
                .is_some();
            if ok && iova.checked_add(size).is_none_or(|end| end > IOVA_LIMIT) {
                ok = false;
                self.push(
                    Error::new(format!(
                        "DMA window `{}` ends beyond the IOMMU's 39-bit address space",
                        s(&w.name)
                    ))
                    .at(w.iova.span(), "too high"),
                );
            }
            if ok {
                if let Some((pi, ps, pspan)) = windows
                    .iter()
                    .find(|(pi, ps, _)| *pi < iova + size && iova < pi + ps)
                {
                    self.push(
                        Error::new(format!(
                            "DMA window `{}` ({iova:#x}..{:#x}) overlaps {pi:#x}..{:#x} of `{}`",
                            s(&w.name),
                            iova + size,
                            pi + ps,
                            s(&p.name)
                        ))
                        .at(w.iova.span(), "this window")
                        .also(pspan.clone(), "overlaps this one")
                        .help("DMA windows of one device need disjoint IOVA ranges"),
                    );
                }
                windows.push((iova, size, w.iova.span()));
            }
            let mapped_by = match &w.mapped_by {
                // The driver, when nothing is said.
                None => Some(vec![owner]),
                Some(list) => {
                    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
                    let mut mappers = Some(vec![]);
                    for m in list {
                        let what = format!("DMA window `{}`", s(&w.name));
                        let Some(i) = self.component_ref(&what, m) else {
                            mappers = None;
                            continue;
                        };
                        if let Some(first) = seen.insert(s(m), m.span()) {
                            self.push(
                                Error::new(format!(
                                    "`{}` maps DMA window `{}` twice",
                                    s(m),
                                    s(&w.name)
                                ))
                                .at(m.span(), "listed again here")
                                .also(first, "first listed here"),
                            );
                        }
                        if let Some(v) = mappers.as_mut() {
                            v.push(i);
                        }
                    }
                    mappers
                }
            };
            match (ok, mapped_by, out.as_mut()) {
                (true, Some(mapped_by), Some(v)) => v.push(model::DmaWindow {
                    name: s(&w.name).to_string(),
                    iova,
                    size,
                    mapped_by,
                }),
                _ => out = None,
            }
        }
        out
    }

    /// `unconfined_dma = true` lets a device master the bus with nothing
    /// confining it, so it is only for systems without an IOMMU (the audit
    /// then fails the system unless `[system]` accepts it).
    fn unconfined(&mut self, p: &PciDevice) -> Option<bool> {
        let Some(flag) = &p.unconfined_dma else {
            return Some(false);
        };
        if *flag.get_ref() && self.d.system.iommu {
            self.push(
                Error::new(format!(
                    "PCI device `{}` declares unconfined DMA on a system with an IOMMU",
                    s(&p.name)
                ))
                .at(flag.span(), "unconfined")
                .also(self.d.system.spans.iommu.clone(), "the IOMMU is on here")
                .help("remove `unconfined_dma` and declare [[component.pci.dma]] windows: the IOMMU confines the device to them"),
            );
            return None;
        }
        Some(*flag.get_ref())
    }

    /// `config`: what the driver may do with the function's configuration
    /// space.
    fn config(&mut self, p: &PciDevice) -> Option<model::ConfigAccess> {
        let Some(access) = &p.config else {
            return Some(model::ConfigAccess::None);
        };
        match access.get_ref().as_str() {
            "read" => Some(model::ConfigAccess::Read),
            "read-write" => Some(model::ConfigAccess::ReadWrite),
            other => {
                self.push(
                    Error::new(format!(
                        "PCI device `{}`: unknown configuration-space access `{other}`",
                        s(&p.name)
                    ))
                    .at(access.span(), "not an access")
                    .help("use `config = \"read\"` or `config = \"read-write\"` (writes are filtered by the root task), or leave it out for no access"),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_addresses_are_hex_digits_only() {
        assert_eq!(parse_pci_id("1234:11e8"), Some((0x1234, 0x11e8)));
        assert_eq!(parse_pci_id("+234:11e8"), None);
        assert_eq!(parse_pci_id("1234:-1e8"), None);
        assert_eq!(parse_pci_id("жук:11e8"), None);
        assert_eq!(parse_pci_address("00:03.0"), Some((0, 3, 0)));
        assert_eq!(parse_pci_address("+0:03.0"), None);
        assert_eq!(parse_pci_address("00:+3.0"), None);
        assert_eq!(parse_pci_address("00:03.+0"), None);
        assert_eq!(parse_pci_address("100:03.0"), None);
        assert_eq!(parse_pci_address(":."), None);
    }
}
