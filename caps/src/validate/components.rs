//! A component's own settings (priority, stack, heap, CSpace size), and
//! the room its IRQs and connections need in its badge and its CSpace.

use super::*;

/// A component's checked settings.
#[derive(Clone, Copy, Debug)]
pub(super) struct Settings {
    pub priority: u8,
    pub cnode_bits: u8,
    pub stack_size: u64,
    pub heap_size: u64,
}

impl Validator<'_> {
    pub(super) fn components(&mut self) -> Vec<Option<Settings>> {
        let d = self.d;
        d.components.iter().map(|c| self.settings(c)).collect()
    }

    fn settings(&mut self, c: &Component) -> Option<Settings> {
        let at = c.name.span();
        let p = *c.priority.get_ref();
        let priority = if p >= ROOTSERVER_PRIORITY {
            self.push(
                Error::new(format!(
                    "priority {p} of `{}` is at or above the rootserver's ({ROOTSERVER_PRIORITY})",
                    c.name()
                ))
                .at(c.priority.span(), "too high")
                .help(format!(
                    "components run below the rootserver: use 0..={}",
                    ROOTSERVER_PRIORITY - 1
                )),
            );
            None
        } else if p < 0 {
            self.push(
                Error::new(format!("priority {p} of `{}` is negative", c.name()))
                    .at(c.priority.span(), "negative")
                    .help("use 0..=254"),
            );
            None
        } else {
            u8::try_from(p).ok()
        };
        let stack_size = self.power_of_two(
            "stack_size",
            &c.stack_size,
            MIN_STACK,
            MAX_STACK,
            at.clone(),
        );
        let heap_size = self.pages("heap_size", &c.heap_size, true, MAX_HEAP, at.clone());
        let bits = *c.cnode_size_bits.get_ref();
        let cnode_bits = if (MIN_CNODE_BITS..=MAX_CNODE_BITS).contains(&bits) {
            u8::try_from(bits).ok()
        } else {
            self.push(
                Error::new(format!(
                    "cnode_size_bits {bits} is outside {MIN_CNODE_BITS}..={MAX_CNODE_BITS}"
                ))
                .at(or(c.cnode_size_bits.span(), at), "out of range"),
            );
            None
        };
        Some(Settings {
            priority: priority?,
            cnode_bits: cnode_bits?,
            stack_size: stack_size?,
            heap_size: heap_size?,
        })
    }

    /// Badge bits and CNode slots follow from the whole description, so
    /// they are counted once everything else is known to be consistent.
    pub(super) fn badges_and_cnodes(&mut self) {
        let d = self.d;
        let ends = connection_ends(d);
        for c in &d.components {
            let name = c.name();
            let conns = ends.get(name).copied().unwrap_or(0);
            let bits = c.irqs.len() + conns;
            if bits > BADGE_BITS as usize {
                self.push(
                    Error::new(format!(
                        "`{name}` needs {bits} notification badge bits but has {BADGE_BITS}"
                    ))
                    .at(c.name.span(), "too many IRQs, rings and channels")
                    .help("each IRQ, ring end and channel end takes one bit of the 28-bit badge (bit 27 is the rootserver's): split the component"),
                );
            }
            // One configuration-space cap per device that declares access.
            let config = c.pci_devices.iter().filter(|d| d.config.is_some()).count();
            let slots = FIXED_SLOTS + (c.irqs.len() + c.io_ports.len() + conns + config) as u64;
            let b = *c.cnode_size_bits.get_ref();
            if (MIN_CNODE_BITS..=MAX_CNODE_BITS).contains(&b) && slots > 1u64 << b {
                let need = 64 - (slots - 1).leading_zeros();
                self.push(
                    Error::new(format!(
                        "the {slots} caps of `{name}` do not fit its CNode of {} slots",
                        1u64 << b
                    ))
                    .at(or(c.cnode_size_bits.span(), c.name.span()), "too small")
                    .help(format!("set `cnode_size_bits = {need}`")),
                );
            }
        }
    }
}

/// Ring ends and channel ends per component name.
fn connection_ends(d: &Description) -> HashMap<&str, usize> {
    let mut n = HashMap::new();
    for r in &d.rings {
        *n.entry(s(&r.producer)).or_insert(0) += 1;
        *n.entry(s(&r.consumer)).or_insert(0) += 1;
    }
    for ch in &d.channels {
        for e in ch.ends.get_ref() {
            *n.entry(s(e)).or_insert(0) += 1;
        }
    }
    n
}
