//! Kernel vectors for every IRQ: the declared ones, then an IOAPIC pin's
//! own number when free, then blocks for each PCI device's MSIs.
//!
//! A device's MSIs share one address and one data value: with multiple
//! message enable set to log2(N), the device puts the message number in
//! the data's low log2(N) bits. The CPU vector is the data's low byte and
//! the kernel delivers its vector `v` as CPU vector 0x30 + `v`, so a device
//! with M messages needs N = M rounded up to a power of two free vectors
//! from a first one with 0x30 + first a multiple of N. All N are taken,
//! used or not: a device may send any message its enable allows.
//! MSIs take the lowest such block from 24 up, so pins keep their natural
//! vectors.

use super::*;
use paddock_spec::limits::MAX_IRQ_VECTOR;

/// The CPU vector of the kernel's vector 0.
pub const CPU_VECTOR_BASE: u32 = 0x30;
/// Where MSIs start looking: above the 24 IOAPIC pins' own numbers.
const FIRST_MSI_VECTOR: usize = 24;
const VECTORS: usize = MAX_IRQ_VECTOR as usize + 1;

/// The first vector of the lowest free block of `n` (a power of two)
/// aligned for multi-message MSI, searching from [`FIRST_MSI_VECTOR`] up
/// and then from 0.
pub fn msi_block(used: &[bool; VECTORS], n: usize) -> Option<usize> {
    (FIRST_MSI_VECTOR..VECTORS)
        .chain(0..FIRST_MSI_VECTOR)
        .find(|&first| {
            (CPU_VECTOR_BASE as usize + first).is_multiple_of(n)
                && first + n <= VECTORS
                && used[first..first + n].iter().all(|u| !u)
        })
}

impl Validator<'_> {
    /// Every IRQ's vector, by component and declaration; `None` after an
    /// error (no block left for a device's MSIs).
    pub(super) fn vectors(&mut self, irqs: &[Vec<Option<IrqDecl>>]) -> Option<Vec<Vec<u8>>> {
        let d = self.d;
        let mut used = [false; VECTORS];
        for q in irqs.iter().flatten().flatten() {
            if let Some(v) = q.vector {
                used[usize::from(v)] = true;
            }
        }
        let mut out: Vec<Vec<Option<u8>>> = irqs
            .iter()
            .map(|c| c.iter().map(|q| q.and_then(|q| q.vector)).collect())
            .collect();
        // Pins first, so an MSI never takes a pin's natural vector.
        for (ci, c) in irqs.iter().enumerate() {
            for (k, q) in c.iter().enumerate() {
                let Some(IrqDecl {
                    source: model::IrqSource::IoApic { pin, .. },
                    vector: None,
                }) = q
                else {
                    continue;
                };
                let pin = usize::from(*pin);
                let v = if pin < VECTORS && !used[pin] {
                    Some(pin)
                } else {
                    (0..VECTORS).find(|&v| !used[v])
                };
                if let Some(v) = v {
                    used[v] = true;
                }
                out[ci][k] = v.and_then(|v| u8::try_from(v).ok());
            }
        }
        for (ci, c) in irqs.iter().enumerate() {
            // The first vector of each of this component's devices' blocks.
            let mut blocks: Vec<Option<usize>> = vec![None; d.components[ci].pci_devices.len()];
            for (k, q) in c.iter().enumerate() {
                let Some(IrqDecl {
                    source: model::IrqSource::Msi { pci, message },
                    vector: None,
                }) = *q
                else {
                    continue;
                };
                let first = match blocks[pci] {
                    Some(first) => first,
                    None => {
                        let messages = c
                            .iter()
                            .flatten()
                            .filter(|q| {
                                matches!(q.source, model::IrqSource::Msi { pci: p, .. } if p == pci)
                            })
                            .count();
                        let n = messages.next_power_of_two();
                        let Some(first) = msi_block(&used, n) else {
                            let raw = &d.components[ci];
                            self.push(
                                Error::new(format!(
                                    "no block of {n} free vectors aligned for multi-message MSI is left for the {messages} MSIs of `{}`",
                                    s(&raw.pci_devices[pci].name)
                                ))
                                .at(raw.irqs[k].name.span(), "its first MSI")
                                .help("a device's N messages take N consecutive vectors (rounded up to a power of two) aligned to N: declare fewer MSIs, or fewer fixed `vector`s"),
                            );
                            return None;
                        };
                        used[first..first + n].fill(true);
                        blocks[pci] = Some(first);
                        first
                    }
                };
                out[ci][k] = u8::try_from(first + usize::from(message)).ok();
            }
        }
        // MSI-X entries last: each takes any free vector, alone.
        for (ci, c) in irqs.iter().enumerate() {
            for (k, q) in c.iter().enumerate() {
                if let Some(IrqDecl {
                    source: model::IrqSource::MsiX { .. },
                    vector: None,
                }) = q
                {
                    let v = (0..VECTORS).find(|&v| !used[v]);
                    if let Some(v) = v {
                        used[v] = true;
                    }
                    out[ci][k] = v.and_then(|v| u8::try_from(v).ok());
                }
            }
        }
        out.into_iter()
            .map(|c| c.into_iter().collect::<Option<Vec<u8>>>())
            .collect()
    }
}
