//! Shared IOAPIC lines (docs/platform.md, "Shared interrupt lines").
//!
//! A pin that two or more components claim, every one of them with
//! `shared = true`, gets one holder: a multiplexer component added to the
//! description before validation, so that every later stage (validation,
//! the plan, the audit, the image build) treats it as any other
//! component. The holder takes the IRQ; each sharer loses its claim on the
//! pin and gets instead a channel to the holder, named
//! `<sharer>-<irq name>`: the holder signals it on every interrupt (the
//! sharer's bit), and the sharer answers on it (its own bit in the
//! holder's notification, which only its cap sets). A pin whose claimants
//! do not all say `shared = true` is left alone, for validation to report.

use crate::description::{Channel, Component, Description, Irq, Restart};
use crate::diagnostics::Error;
use std::collections::BTreeMap;
use toml::Spanned;

/// The program of every holder (`drivers/components/irq-mux`).
pub const MUX_PROGRAM: &str = paddock_protocol::line_report::HOLDER_PROGRAM;

/// How long the holder waits for the sharers' answers before it
/// acknowledges the line anyway and reports the late ones, in TSC ticks
/// (about 2 ms at 1 GHz; under `-icount` the TSC counts guest
/// instructions).
pub const ACK_BOUND_TSC: u64 = 2_000_000;

/// The range a description's `ack_bound_tsc` may take: from 10 µs to
/// 10 s at 1 GHz. Below it the holder would acknowledge before a sharer
/// could be scheduled at all; above it a rogue could stall the line for
/// good.
pub const ACK_BOUND_RANGE: std::ops::RangeInclusive<i64> = 10_000..=10_000_000_000;

/// The holder of IOAPIC pin `pin`.
pub fn holder(pin: i64) -> String {
    format!("intx-{pin}")
}

/// The channel between a line's holder and `sharer`, whose IRQ `irq` the
/// holder stands in for.
pub fn channel(sharer: &str, irq: &str) -> String {
    format!("{sharer}-{irq}")
}

fn spanned<T>(v: T) -> Spanned<T> {
    Spanned::new(0..0, v)
}

/// The claims on one pin: (component, IRQ) of each claimant, whether all
/// agreed to share, and the smallest bound any of them states.
type Claims = (Vec<(usize, usize)>, bool, Option<i64>);

/// Checks a stated `ack_bound_tsc`: it needs `shared = true` and a value
/// in [`ACK_BOUND_RANGE`].
fn check_bound(component: &str, q: &Irq) -> Result<(), Error> {
    let Some(bound) = &q.ack_bound_tsc else {
        return Ok(());
    };
    if !q.shared.as_ref().is_some_and(|s| *s.get_ref()) {
        return Err(Error::new(format!(
            "IRQ `{}` of `{component}` sets `ack_bound_tsc` but does not share its line",
            q.name.get_ref()
        ))
        .at(bound.span(), "a bound for a shared line")
        .help("add `shared = true` to this IRQ, or remove `ack_bound_tsc`"));
    }
    let value = *bound.get_ref();
    if !ACK_BOUND_RANGE.contains(&value) {
        return Err(Error::new(format!(
            "`ack_bound_tsc` {value} of IRQ `{}` of `{component}` is outside {}..={}",
            q.name.get_ref(),
            ACK_BOUND_RANGE.start(),
            ACK_BOUND_RANGE.end()
        ))
        .at(bound.span(), "out of range")
        .help("the bound is in TSC ticks: 2000000 is about 2 ms at 1 GHz"));
    }
    Ok(())
}

/// Adds a holder for each agreed shared line of `d` and moves its sharers'
/// IRQs onto channels to it. Returns the errors in the sharers' bounds
/// (`ack_bound_tsc`); a line with such an error is held all the same, with
/// the default bound, so that the rest of validation can go on.
pub fn hold_shared_lines(d: &mut Description) -> Vec<Error> {
    let mut errors = vec![];
    let mut lines: BTreeMap<i64, Claims> = BTreeMap::new();
    for (ci, c) in d.components.iter().enumerate() {
        for (qi, q) in c.irqs.iter().enumerate() {
            let stated = match check_bound(c.name(), q) {
                Ok(()) => q.ack_bound_tsc.as_ref().map(|b| *b.get_ref()),
                Err(e) => {
                    errors.push(e);
                    None
                }
            };
            let (Some(pin), None) = (&q.ioapic_pin, &q.msi) else {
                continue;
            };
            let agreed = q.shared.as_ref().is_some_and(|s| *s.get_ref());
            let line = lines.entry(*pin.get_ref()).or_insert((vec![], true, None));
            line.0.push((ci, qi));
            line.1 &= agreed;
            line.2 = match (line.2, stated) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
    }
    let mut taken = vec![];
    for (pin, (claims, agreed, bound)) in lines {
        let distinct = claims.windows(2).all(|w| w[0].0 != w[1].0);
        if !agreed || claims.len() < 2 || !distinct {
            continue;
        }
        let name = holder(pin);
        let first = &d.components[claims[0].0].irqs[claims[0].1];
        let irq = Irq {
            name: spanned("line".to_string()),
            ioapic_pin: Some(spanned(pin)),
            trigger: first.trigger.clone(),
            polarity: first.polarity.clone(),
            shared: None,
            ack_bound_tsc: None,
            msi: None,
            msix: None,
            entry: None,
            vector: None,
        };
        // The holder runs at the lowest sharer's priority: it yields while
        // it waits for answers, and a yield only gives way to threads of
        // its own priority or higher, so every sharer can still run and
        // answer.
        let priority = claims
            .iter()
            .map(|&(ci, _)| *d.components[ci].priority.get_ref())
            .min()
            .unwrap_or(0);
        let mut params = BTreeMap::new();
        params.insert(
            spanned("ack_bound_tsc".to_string()),
            spanned(bound.map_or(ACK_BOUND_TSC, |b| b as u64)),
        );
        params.insert(spanned("pin".to_string()), spanned(pin as u64));
        let template = &d.components[claims[0].0];
        let mux = Component {
            name: spanned(name.clone()),
            program: spanned(MUX_PROGRAM.to_string()),
            priority: spanned(priority),
            stack_size: template.stack_size.clone(),
            heap_size: spanned(0),
            restart: spanned(Restart::Never),
            cnode_size_bits: template.cnode_size_bits.clone(),
            io_ports: vec![],
            irqs: vec![irq],
            pci_devices: vec![],
            mmio: vec![],
            params,
        };
        for &(ci, qi) in &claims {
            for dev in &mut d.components[ci].pci_devices {
                dev.intx = true;
            }
            let sharer = &d.components[ci];
            d.channels.push(Channel {
                name: spanned(channel(sharer.name(), sharer.irqs[qi].name.get_ref())),
                ends: spanned(vec![
                    spanned(name.clone()),
                    spanned(sharer.name().to_string()),
                ]),
                server: None,
            });
            taken.push((ci, qi));
        }
        d.components.push(mux);
    }
    // Remove the sharers' claims, highest index first so the others stay put.
    taken.sort_unstable();
    for (ci, qi) in taken.into_iter().rev() {
        d.components[ci].irqs.remove(qi);
    }
    errors
}
