//! Device memory named by physical address (`[[component.mmio]]`): page
//! aligned, bounded, given to one driver only, and clear of the memory
//! the kernel keeps and of the guest's RAM.

use super::*;

/// The most one declaration maps: a platform device's registers are a few
/// pages (the HPET's one), and every page costs the root task two slots.
pub const MAX_MMIO: u64 = 16 << 20;
/// Physical addresses must lie below 2^40: QEMU's x86 CPU models have 40
/// physical address bits.
pub const MMIO_LIMIT: u64 = 1 << 40;
/// Below 1 MiB lie the BIOS data, the VGA window and option ROMs: legacy
/// areas no component should map, and which seL4 does not hand out as
/// device untypeds one can rely on.
pub const MMIO_LOW: u64 = 1 << 20;
/// Where QEMU 7.2 puts the guest's RAM: below 4 GiB up to the machine's
/// low-memory limit, the rest from 4 GiB (`pc_q35_init`: 2 GiB below when
/// there are 2.75 GiB or more, else all of it; `pc_init1`: 3 GiB below
/// when there are 3.5 GiB or more, else all of it).
pub fn ram_ranges(machine: Machine, memory_mib: u32) -> Vec<(u64, u64)> {
    let ram = u64::from(memory_mib) << 20;
    let below = match machine {
        Machine::Q35 if ram >= 0xB000_0000 => 0x8000_0000,
        Machine::Pc if ram >= 0xE000_0000 => 0xC000_0000,
        _ => ram,
    };
    let mut out = vec![(0, below)];
    if ram > below {
        out.push((1 << 32, (1 << 32) + ram - below));
    }
    out
}

/// Physical memory the kernel keeps for itself: never in a device
/// untyped, and no driver's business.
#[derive(Clone, Copy, Debug)]
pub struct ReservedMemory {
    pub first: u64,
    /// Bytes.
    pub size: u64,
    pub owner: &'static str,
    pub why: &'static str,
}

pub const RESERVED_MEMORY: [ReservedMemory; 3] = [
    ReservedMemory {
        first: 0xFEC0_0000,
        size: 0x1000,
        owner: "the kernel's IOAPIC",
        why: "the kernel programs the IOAPIC's redirection entries itself (seL4 src/plat/pc99/machine/ioapic.c); drivers get its pins through [[component.irq]] `ioapic_pin`",
    },
    ReservedMemory {
        first: 0xFED9_0000,
        size: 0x1000,
        owner: "the kernel's VT-d remapping unit (QEMU q35's DMAR)",
        why: "the kernel drives the IOMMU through these registers (seL4 src/plat/pc99/machine/intel-vtd.c); DMA is confined through [[component.pci.dma]] windows",
    },
    ReservedMemory {
        first: 0xFEE0_0000,
        size: 0x10_0000,
        owner: "the kernel's local APIC and the MSI address window",
        why: "the kernel owns the local APIC (seL4 src/arch/x86/kernel/apic.c), and a write anywhere in 0xFEE00000..=0xFEEFFFFF is an interrupt message",
    },
];

impl Validator<'_> {
    pub(super) fn mmio(&mut self) -> Vec<Vec<Option<model::Mmio>>> {
        let ram = ram_ranges(self.d.system.qemu_machine, self.d.system.memory_mib);
        let mut out = vec![];
        // (first, end, component, span) of every well-formed range.
        let mut ranges: Vec<(u64, u64, &str, Span)> = vec![];
        for c in &self.d.components {
            let mut mine = vec![];
            for m in &c.mmio {
                let size = self.pages(
                    "device memory size",
                    &m.size,
                    false,
                    MAX_MMIO,
                    m.name.span(),
                );
                let paddr = self.mmio_paddr(c.name(), m);
                let (Some(paddr), Some(size)) = (paddr, size) else {
                    mine.push(None);
                    continue;
                };
                // `paddr` may be anything up to u64::MAX: an end that
                // does not fit in 64 bits is past the limit too.
                let Some(end) = paddr.checked_add(size).filter(|&e| e <= MMIO_LIMIT) else {
                    let end = u128::from(paddr) + u128::from(size);
                    self.push(
                        Error::new(format!(
                            "device memory `{}` of `{}` ends at {end:#x}, past the 2^40 bytes a physical address reaches",
                            s(&m.name),
                            c.name()
                        ))
                        .at(m.paddr.span(), "too high")
                        .help("QEMU's x86 CPUs have 40 physical address bits"),
                    );
                    mine.push(None);
                    continue;
                };
                if let Some((first, last)) = ram.iter().find(|(f, l)| *f < end && paddr < *l) {
                    self.push(
                        Error::new(format!(
                            "device memory {paddr:#x}..{end:#x} of `{}` overlaps the guest's RAM at {first:#x}..{last:#x}",
                            c.name()
                        ))
                        .at(m.paddr.span(), "RAM, not a device")
                        .help(format!(
                            "with `memory_mib = {}` on `{}`, QEMU puts RAM there; name the device's own registers (the ACPI tables give them; QEMU's HPET is at 0xFED00000)",
                            self.d.system.memory_mib,
                            self.d.system.qemu_machine.name()
                        )),
                    );
                    mine.push(None);
                    continue;
                }
                if let Some(res) = RESERVED_MEMORY
                    .iter()
                    .find(|r| r.first < end && paddr < r.first + r.size)
                {
                    self.push(
                        Error::new(format!(
                            "device memory {paddr:#x}..{end:#x} of `{}` overlaps {:#x}..{:#x}, {}",
                            c.name(),
                            res.first,
                            res.first + res.size,
                            res.owner
                        ))
                        .at(m.paddr.span(), "this range")
                        .help(res.why),
                    );
                    mine.push(None);
                    continue;
                }
                ranges.push((paddr, end, c.name(), m.paddr.span()));
                mine.push(Some(model::Mmio {
                    name: s(&m.name).to_string(),
                    paddr,
                    size,
                }));
            }
            out.push(mine);
        }
        for (i, (f, e, owner, span)) in ranges.iter().enumerate() {
            if let Some((pf, pe, powner, pspan)) =
                ranges[..i].iter().find(|(pf, pe, ..)| pf < e && f < pe)
            {
                self.errors.push(
                    Error::new(format!(
                        "device memory {f:#x}..{e:#x} of `{owner}` overlaps {pf:#x}..{pe:#x} of `{powner}`"
                    ))
                    .at(span.clone(), "this range")
                    .also(pspan.clone(), "overlaps this one")
                    .help("device memory belongs to one driver only, and is declared once"),
                );
            }
        }
        out
    }

    /// The physical address: page aligned and above the legacy first MiB.
    fn mmio_paddr(&mut self, component: &str, m: &crate::description::Mmio) -> Option<u64> {
        let paddr = *m.paddr.get_ref();
        let span = m.paddr.span();
        let name = s(&m.name);
        if paddr & (PAGE_SIZE - 1) != 0 {
            self.push(
                Error::new(format!(
                    "device memory `{name}` of `{component}` starts at {paddr:#x}, not on a 4 KiB page"
                ))
                .at(span, "not page-aligned")
                .help(format!(
                    "declare the whole page: {:#x}, and find the registers at their offset in it",
                    paddr & !(PAGE_SIZE - 1)
                )),
            );
        } else if paddr < MMIO_LOW {
            self.push(
                Error::new(format!(
                    "device memory `{name}` of `{component}` at {paddr:#x} is in the first MiB"
                ))
                .at(span, "legacy memory")
                .help("the first MiB holds the BIOS data, the VGA window and option ROMs; platform devices decode above it"),
            );
        } else {
            return Some(paddr);
        }
        None
    }
}
