//! MSI-X IRQs: `msix = "<device>"` names one of the component's own PCI
//! devices, `entry` the table entry (declaration order among the device's
//! MSI-X IRQs when absent). Each entry is its own IRQ, with its own vector,
//! handler and badge bit; the root task programs the table, which is never
//! mapped into the driver (docs/platform.md, "MSI-X").

use super::*;

/// The largest MSI-X table has 2048 entries (Table Size is 11 bits).
pub const MAX_MSIX_ENTRY: i64 = 2047;

/// What the component's earlier MSI-X IRQs took, per PCI device.
pub(super) struct Entries {
    /// MSI-X IRQs seen so far, per device: the default entry number.
    seen: Vec<usize>,
    /// Entries bound, per device, with where and by which IRQ.
    bound: Vec<Vec<(i64, Span, String)>>,
}

impl Entries {
    pub(super) fn new(c: &Component) -> Entries {
        Entries {
            seen: vec![0; c.pci_devices.len()],
            bound: vec![vec![]; c.pci_devices.len()],
        }
    }
}

impl Validator<'_> {
    /// The MSI-X entry this IRQ is, or `None` after an error. `msis` is
    /// the number of MSI IRQs of each of the component's devices: a
    /// function enables MSI or MSI-X, never both.
    pub(super) fn msix(
        &mut self,
        c: &Component,
        irq: &Irq,
        msis: &[usize],
        entries: &mut Entries,
    ) -> Option<model::IrqSource> {
        let Some(msix) = &irq.msix else {
            let entry = irq.entry.as_ref()?;
            self.push(
                Error::new(format!(
                    "IRQ `{}` sets `entry` but has no `msix`",
                    s(&irq.name)
                ))
                .at(entry.span(), "an MSI-X table entry")
                .help("add `msix = \"<pci device name>\"`, or remove `entry`"),
            );
            return None;
        };
        let others = [
            ("ioapic_pin", irq.ioapic_pin.as_ref().map(|x| x.span())),
            ("msi", irq.msi.as_ref().map(|x| x.span())),
            ("trigger", irq.trigger.as_ref().map(|x| x.span())),
            ("polarity", irq.polarity.as_ref().map(|x| x.span())),
        ];
        if let Some((what, Some(span))) = others.into_iter().find(|(_, span)| span.is_some()) {
            self.push(
                Error::new(format!("IRQ `{}` has `msix` and `{what}`", s(&irq.name)))
                    .at(span, "not for an MSI-X entry")
                    .also(msix.span(), "an MSI-X entry")
                    .help(format!(
                        "an MSI-X entry is a message of its own: remove `{what}`, or declare two IRQs"
                    )),
            );
            return None;
        }
        let Some(k) = c.pci_devices.iter().position(|p| s(&p.name) == s(msix)) else {
            let mut e = Error::new(format!(
                "MSI-X of IRQ `{}` names unknown PCI device `{}` of `{}`",
                s(&irq.name),
                s(msix),
                c.name()
            ))
            .at(msix.span(), "no such [[component.pci]]");
            if let Some(n) = nearest(s(msix), c.pci_devices.iter().map(|p| s(&p.name))) {
                e = e.help(format!("did you mean `{n}`?"));
            } else {
                e = e.help("an MSI-X entry belongs to one of the component's own PCI devices");
            }
            self.push(e);
            return None;
        };
        if msis[k] > 0 {
            self.push(
                Error::new(format!(
                    "PCI device `{}` of `{}` has both MSI and MSI-X IRQs",
                    s(msix),
                    c.name()
                ))
                .at(msix.span(), "an MSI-X entry")
                .also(c.pci_devices[k].name.span(), "the device")
                .help(
                    "a function enables MSI or MSI-X, never both: declare all its IRQs with `msix`",
                ),
            );
            return None;
        }
        let default = i64::try_from(entries.seen[k]).unwrap_or(i64::MAX);
        entries.seen[k] += 1;
        let (entry, span) = irq
            .entry
            .as_ref()
            .map_or((default, msix.span()), |e| (*e.get_ref(), e.span()));
        if !(0..=MAX_MSIX_ENTRY).contains(&entry) {
            self.push(
                Error::new(format!(
                    "MSI-X entry {entry} is outside a table's 0..={MAX_MSIX_ENTRY}"
                ))
                .at(span, "no such entry")
                .help("an MSI-X table has at most 2048 entries; the root task refuses an entry past the device's own table at boot"),
            );
            return None;
        }
        if let Some((_, first, owner)) = entries.bound[k].iter().find(|(e, ..)| *e == entry) {
            self.push(
                Error::new(format!(
                    "MSI-X entry {entry} of `{}` is already bound to IRQ `{owner}`",
                    s(msix)
                ))
                .at(span.clone(), "bound again here")
                .also(first.clone(), "first bound here")
                .help("give each IRQ its own `entry`"),
            );
            return None;
        }
        entries.bound[k].push((entry, span, s(&irq.name).to_string()));
        Some(model::IrqSource::MsiX {
            pci: k,
            entry: u16::try_from(entry).ok()?,
        })
    }
}
