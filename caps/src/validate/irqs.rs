//! IRQs: one source each (an IOAPIC pin claimed once, or a message of one
//! of the component's own PCI devices), and declared vectors in range and
//! unique.

use super::*;
use paddock_spec::limits::MAX_MSI_MESSAGES;
use std::collections::BTreeMap;

impl Validator<'_> {
    pub(super) fn irqs(&mut self) -> Vec<Vec<Option<IrqDecl>>> {
        let mut pins: BTreeMap<i64, (Span, &str)> = BTreeMap::new();
        // Per pin, the span of its first claimant's `shared = true`. Pins
        // every claimant shares never get here (`crate::intx` gave them a
        // holder), so a claim meeting another is always refused.
        let mut agreed: BTreeMap<i64, Option<Span>> = BTreeMap::new();
        let mut vectors: BTreeMap<i64, (Span, &str)> = BTreeMap::new();
        let mut out = vec![];
        for c in &self.d.components {
            // MSIs per PCI device of this component, to number messages
            // and to tell a device with several from one with one.
            let mut msis = vec![0usize; c.pci_devices.len()];
            for irq in &c.irqs {
                if let (None, Some(msi)) = (&irq.ioapic_pin, &irq.msi) {
                    if let Some(k) = c.pci_devices.iter().position(|p| s(&p.name) == s(msi)) {
                        msis[k] += 1;
                    }
                }
            }
            let mut numbered = vec![0usize; c.pci_devices.len()];
            let mut entries = super::msix::Entries::new(c);
            let mut mine = vec![];
            for irq in &c.irqs {
                let at = irq.name.span();
                let source = match (&irq.ioapic_pin, &irq.msi) {
                    _ if irq.msix.is_some() || irq.entry.is_some() => {
                        self.msix(c, irq, &msis, &mut entries)
                    }
                    (None, None) => {
                        self.push(
                            Error::new(format!(
                                "IRQ `{}` has neither `ioapic_pin` nor `msi`",
                                s(&irq.name)
                            ))
                            .at(at.clone(), "this IRQ")
                            .help("give `ioapic_pin = <0..=23>`, `msi = \"<pci device name>\"` or `msix = \"<pci device name>\"`"),
                        );
                        None
                    }
                    (Some(pin), Some(msi)) => {
                        self.push(
                            Error::new(format!(
                                "IRQ `{}` has both `ioapic_pin` and `msi`",
                                s(&irq.name)
                            ))
                            .at(msi.span(), "an MSI")
                            .also(pin.span(), "and an IOAPIC pin")
                            .help("declare two IRQs if the device really has two lines"),
                        );
                        None
                    }
                    (Some(pin), None) => {
                        let p = *pin.get_ref();
                        if !(0..=MAX_IOAPIC_PIN).contains(&p) {
                            self.push(
                                Error::new(format!(
                                    "IOAPIC pin {p} is outside 0..={MAX_IOAPIC_PIN}"
                                ))
                                .at(pin.span(), "no such pin")
                                .help("the IOAPIC has 24 pins"),
                            );
                        } else if let Some((first, owner)) = pins.get(&p) {
                            let first_shared = agreed.get(&p).cloned().flatten();
                            match (first_shared, shared_span(irq)) {
                                (Some(agreed), None) => self.push(
                                    Error::new(format!(
                                        "IOAPIC pin {p} is shared by `{owner}`, but `{}` does not declare `shared = true`",
                                        c.name()
                                    ))
                                    .at(pin.span(), "claimed here without consent")
                                    .also(agreed, "shared here")
                                    .help(format!("a line is shared only when every driver on it says so: add `shared = true` to this IRQ of `{}`, or give its device a line of its own", c.name())),
                                ),
                                (None, Some(agreed)) => self.push(
                                    Error::new(format!(
                                        "IOAPIC pin {p} is shared by `{}`, but `{owner}` does not declare `shared = true`",
                                        c.name()
                                    ))
                                    .at(first.clone(), "claimed here without consent")
                                    .also(agreed, "shared here")
                                    .help(format!("a line is shared only when every driver on it says so: add `shared = true` to this IRQ of `{owner}`, or give the devices lines of their own")),
                                ),
                                // Both agreed, yet no holder: one component
                                // claims the pin twice.
                                (Some(_), Some(_)) | (None, None) => self.push(
                                    Error::new(format!(
                                        "IOAPIC pin {p} of `{}` is already claimed by `{owner}`",
                                        c.name()
                                    ))
                                    .at(pin.span(), "claimed again here")
                                    .also(first.clone(), "first claimed here")
                                .help("a shared IRQ line would let one driver mask or ack another's device: give each pin to one driver, or declare `shared = true` in every driver on it"),
                                ),
                            }
                        } else {
                            pins.insert(p, (pin.span(), c.name()));
                            agreed.insert(p, shared_span(irq));
                        }
                        let level = irq
                            .trigger
                            .as_ref()
                            .is_some_and(|t| *t.get_ref() == Trigger::Level);
                        let active_low = irq
                            .polarity
                            .as_ref()
                            .is_some_and(|t| *t.get_ref() == Polarity::Low);
                        u8::try_from(p).ok().map(|pin| model::IrqSource::IoApic {
                            pin,
                            level,
                            active_low,
                        })
                    }
                    (None, Some(msi)) => {
                        let source = self.msi(c, irq, msi, &msis, &mut numbered);
                        for (what, span) in [
                            ("trigger", irq.trigger.as_ref().map(|t| t.span())),
                            ("polarity", irq.polarity.as_ref().map(|p| p.span())),
                            ("shared", shared_span(irq)),
                        ] {
                            if let Some(span) = span {
                                self.push(
                                    Error::new(format!(
                                        "`{what}` applies to IOAPIC pins, not to an MSI"
                                    ))
                                    .at(span, "not for an MSI")
                                    .help(format!("remove `{what}`")),
                                );
                            }
                        }
                        source
                    }
                };
                let vector = irq.vector.as_ref().and_then(|v| {
                    let n = *v.get_ref();
                    if !(0..=MAX_IRQ_VECTOR).contains(&n) {
                        self.push(
                            Error::new(format!(
                                "IRQ vector {n} is outside the kernel's 0..={MAX_IRQ_VECTOR}"
                            ))
                            .at(v.span(), "out of range")
                            .help("leave `vector` out to let the planner choose one"),
                        );
                    } else if let Some((first, owner)) = vectors.get(&n) {
                        self.push(
                            Error::new(format!(
                                "IRQ vector {n} of `{}` is already claimed by `{owner}`",
                                c.name()
                            ))
                            .at(v.span(), "claimed again here")
                            .also(first.clone(), "first claimed here")
                            .help("leave `vector` out to let the planner choose a free one"),
                        );
                    } else {
                        vectors.insert(n, (v.span(), c.name()));
                    }
                    u8::try_from(n).ok()
                });
                mine.push(source.map(|source| IrqDecl { source, vector }));
            }
            out.push(mine);
        }
        out
    }

    /// The message of device `msi` this IRQ is, numbered in declaration
    /// order among the device's MSIs.
    fn msi(
        &mut self,
        c: &Component,
        irq: &Irq,
        msi: &Spanned<String>,
        counts: &[usize],
        numbered: &mut [usize],
    ) -> Option<model::IrqSource> {
        let Some(k) = c.pci_devices.iter().position(|p| s(&p.name) == s(msi)) else {
            let mut e = Error::new(format!(
                "MSI of IRQ `{}` names unknown PCI device `{}` of `{}`",
                s(&irq.name),
                s(msi),
                c.name()
            ))
            .at(msi.span(), "no such [[component.pci]]");
            if let Some(n) = nearest(s(msi), c.pci_devices.iter().map(|p| s(&p.name))) {
                e = e.help(format!("did you mean `{n}`?"));
            } else {
                e = e.help("an MSI belongs to one of the component's own PCI devices");
            }
            self.push(e);
            return None;
        };
        let message = numbered[k];
        numbered[k] += 1;
        if message == MAX_MSI_MESSAGES {
            self.push(
                Error::new(format!(
                    "PCI device `{}` of `{}` has {} MSIs but MSI carries at most {MAX_MSI_MESSAGES} messages",
                    s(msi),
                    c.name(),
                    counts[k]
                ))
                .at(irq.name.span(), "one message too many")
                .also(c.pci_devices[k].name.span(), "the device")
                .help("a device's MSI capability has at most 32 messages: share a message between events"),
            );
        }
        if let (Some(v), true) = (&irq.vector, counts[k] > 1) {
            self.push(
                Error::new(format!(
                    "IRQ `{}` sets `vector`, but `{}` has {} MSIs, whose vectors the planner chooses as one aligned block",
                    s(&irq.name),
                    s(msi),
                    counts[k]
                ))
                .at(v.span(), "a vector for one message of several")
                .help("remove `vector`: a device's messages share one MSI address and data, so their vectors are consecutive and aligned to their count"),
            );
        }
        Some(model::IrqSource::Msi {
            pci: k,
            message: u8::try_from(message).ok()?,
        })
    }
}

/// The span of `shared = true` on this IRQ; `None` when it is absent or
/// false.
fn shared_span(irq: &Irq) -> Option<Span> {
    irq.shared
        .as_ref()
        .filter(|v| *v.get_ref())
        .map(|v| or(v.span(), irq.name.span()))
}
