//! The machine's own account of its PCI interrupt routing, read from ACPI
//! at boot (docs/platform.md, "Shared interrupt lines").
//!
//! 1. The RSDP: from the bootinfo's extra region when the kernel passes it
//!    there (a chunk `SEL4_BOOTINFO_HEADER_X86_ACPI_RSDP`, which seL4 5.0
//!    does not define: then the generated `header_id::X86_ACPI_RSDP` is
//!    `None`), otherwise from the BIOS area 0xE0000..0x100000, where the
//!    kernel itself found it (`acpi_get_rsdp` in
//!    `src/plat/pc99/machine/acpi.c`).
//! 2. The tables (`tables`): RSDT or XSDT, FADT, DSDT, MADT, each copied
//!    out of physical memory into the root task's heap and checked. The
//!    memory is device untyped to seL4; the root task reads it through
//!    frames retyped from it (`phys`), before any BAR is mapped.
//! 3. The routing (`routing`): the DSDT's AML, evaluated by the `aml`
//!    crate, gives each (slot, pin) a GSI; the MADT turns it into an
//!    IOAPIC and pin.
//!
//! Only systems with a PCI device that signals through INTx read ACPI;
//! the heap it needs (`heap`) is used for nothing else.

#[cfg(not(test))]
mod heap;
#[cfg(not(test))]
mod phys;
pub mod routing;
pub mod tables;

use crate::untyped::AllocError;
use aml::AmlError;
use tables::Signature;

#[cfg(not(test))]
pub use routing::Routing;
pub use routing::{Route, RouteError};

/// Why physical memory could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryError {
    /// No frame could be made for the page: no device untyped covers it,
    /// or its memory was handed out already (frames are made in address
    /// order).
    Alloc(AllocError),
    /// Mapping the frame at the scratch window failed.
    Map(sel4::Error),
    /// The reader holds as many frames as it may.
    TooManyPages,
    /// Nothing backs the address (past the end of the address space, or
    /// outside host tests' fake memory).
    Unbacked,
}

impl core::fmt::Display for MemoryError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MemoryError::Alloc(e) => write!(f, "{e}"),
            MemoryError::Map(e) => write!(f, "mapping it failed: {e}"),
            MemoryError::TooManyPages => write!(
                f,
                "the ACPI reader holds its maximum of {} pages",
                MAX_PAGES
            ),
            MemoryError::Unbacked => write!(f, "no memory there"),
        }
    }
}

/// Most pages of physical memory the ACPI reader keeps frames for.
pub const MAX_PAGES: usize = 192;

/// Why the routing could not be read. Each names the table and address it
/// concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcpiError {
    NoRsdp {
        from: u64,
        to: u64,
    },
    /// The bootinfo's RSDP chunk is not an RSDP.
    BootinfoRsdp,
    RsdpChecksum {
        paddr: u64,
    },
    Read {
        paddr: u64,
        len: usize,
        error: MemoryError,
    },
    Signature {
        paddr: u64,
        wanted: Signature,
        found: Signature,
    },
    Length {
        table: Signature,
        paddr: u64,
        len: u32,
    },
    Checksum {
        table: Signature,
        paddr: u64,
        sum: u8,
    },
    NoHeap {
        table: Signature,
        len: usize,
    },
    Missing {
        table: Signature,
        root: Signature,
    },
    NoDsdt {
        fadt: u64,
    },
    MadtEntry {
        paddr: u64,
        offset: usize,
    },
    TooManyIoApics,
    NoIoApic,
    Dsdt(AmlError),
    Pic(AmlError),
    Prt(AmlError),
    Refused(routing::Refusal),
}

impl core::fmt::Display for AcpiError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use tables::{HEADER_LEN, MAX_TABLE_LEN};
        match self {
            AcpiError::NoRsdp { from, to } => write!(
                f,
                "no RSDP (\"RSD PTR \" with a valid checksum) in {from:#x}..{to:#x}"
            ),
            AcpiError::BootinfoRsdp => write!(
                f,
                "the RSDP chunk of the bootinfo's extra region is not a valid RSDP"
            ),
            AcpiError::RsdpChecksum { paddr } => write!(
                f,
                "the RSDP at {paddr:#x} is revision 2 or later, but its extended part is cut off or fails its checksum"
            ),
            AcpiError::Read { paddr, len, error } => write!(
                f,
                "reading {len} bytes of physical memory at {paddr:#x}: {error}"
            ),
            AcpiError::Signature {
                paddr,
                wanted,
                found,
            } => write!(
                f,
                "the table at {paddr:#x} should be the {wanted}, but its signature is `{found}`"
            ),
            AcpiError::Length { table, paddr, len } => write!(
                f,
                "the {table} at {paddr:#x} says it is {len} bytes long, outside {HEADER_LEN}..={MAX_TABLE_LEN}, or changed while it was read"
            ),
            AcpiError::Checksum { table, paddr, sum } => write!(
                f,
                "the {table} at {paddr:#x} fails its checksum (its bytes sum to {sum:#04x}, not 0)"
            ),
            AcpiError::NoHeap { table, len } => write!(
                f,
                "no room in the root task's ACPI heap for the {table}'s {len} bytes"
            ),
            AcpiError::Missing { table, root } => {
                write!(f, "the {root} lists no {table}")
            }
            AcpiError::NoDsdt { fadt } => {
                write!(f, "the FACP at {fadt:#x} gives no DSDT address")
            }
            AcpiError::MadtEntry { paddr, offset } => write!(
                f,
                "the APIC table (MADT) at {paddr:#x} has an entry at offset {offset} that runs past its end"
            ),
            AcpiError::TooManyIoApics => write!(
                f,
                "the MADT lists more than {} I/O APICs",
                tables::MAX_IOAPICS
            ),
            AcpiError::NoIoApic => write!(f, "the MADT lists no I/O APIC"),
            AcpiError::Dsdt(e) => write!(f, "the DSDT's AML could not be parsed: {e:?}"),
            AcpiError::Pic(e) => write!(f, "evaluating `\\_PIC(1)` (APIC mode) failed: {e:?}"),
            AcpiError::Prt(e) => write!(
                f,
                "evaluating `{}` failed: {e:?}",
                routing::PRT_PATH
            ),
            AcpiError::Refused(r) => write!(f, "{r}"),
        }
    }
}

#[cfg(not(test))]
pub use boot::read;

#[cfg(not(test))]
mod boot {
    use super::phys::PhysMemory;
    use super::tables::{self, Memory};
    use super::{heap, AcpiError, MemoryError, Routing};
    use crate::scratch::Scratch;
    use crate::slots::Slots;
    use crate::untyped::Allocator;
    use sel4::bootinfo::BootInfo;

    /// Where the RSDP is looked for when the kernel does not pass it: the
    /// BIOS area (ACPI 6.5, 5.2.5.1), the range seL4 5.0 itself searches.
    const BIOS_AREA: core::ops::Range<u64> = 0xe_0000..0x10_0000;

    /// Finds and checks the tables and evaluates the routing. Prints one
    /// line saying where the tables were found; everything else is the
    /// caller's to print.
    pub fn read(
        bootinfo: &BootInfo,
        alloc: &mut Allocator,
        slots: &mut Slots,
        scratch: &mut Scratch,
    ) -> Result<Routing, AcpiError> {
        heap::init();
        let mut mem = PhysMemory::new(alloc, slots, scratch);
        let (rsdp_paddr, rsdp, source) = match rsdp_from_bootinfo(bootinfo) {
            Some(found) => (found.0, found.1?, "the bootinfo"),
            None => {
                let mut area = alloc::vec::Vec::new();
                let len = (BIOS_AREA.end - BIOS_AREA.start) as usize;
                area.try_reserve_exact(len).map_err(|_| AcpiError::Read {
                    paddr: BIOS_AREA.start,
                    len,
                    error: MemoryError::TooManyPages,
                })?;
                area.resize(len, 0);
                mem.read(BIOS_AREA.start, &mut area)
                    .map_err(|error| AcpiError::Read {
                        paddr: BIOS_AREA.start,
                        len,
                        error,
                    })?;
                let (at, rsdp) = tables::find_rsdp(&area, BIOS_AREA.start)?;
                (at, rsdp, "the BIOS area")
            }
        };
        let t = tables::walk(&mut mem, rsdp_paddr, rsdp)?;
        println!(
            "paddock: ACPI: RSDP at {:#x} (from {source}, revision {}, OEM `{}`), {} at {:#x}, DSDT at {:#x} ({} bytes), {} I/O APIC(s), the first at {:#x} from GSI {}",
            t.rsdp_paddr,
            t.rsdp.revision,
            t.rsdp.oem_text(),
            t.root.signature(),
            t.root.paddr,
            t.dsdt.paddr,
            t.dsdt.bytes.len(),
            t.ioapics.len(),
            t.ioapics[0].address,
            t.ioapics[0].gsi_base,
        );
        let routing = Routing::new(&t.dsdt, t.ioapics, crate::pci::read);
        drop(t.root);
        drop(t.dsdt);
        routing
    }

    /// The RSDP the kernel copied into the bootinfo's extra region, on
    /// kernels whose bootinfo has such a chunk.
    fn rsdp_from_bootinfo(bootinfo: &BootInfo) -> Option<(u64, Result<tables::Rsdp, AcpiError>)> {
        let id = sel4::sys::bootinfo::header_id::X86_ACPI_RSDP?;
        let (_, chunk) = bootinfo.extra_chunks().find(|(i, _)| *i == id)?;
        // The copy has no physical address of its own; the tables it
        // points to do.
        Some((
            0,
            tables::Rsdp::parse(chunk, 0).unwrap_or(Err(AcpiError::BootinfoRsdp)),
        ))
    }

    /// The most heap ACPI used, and the heap's size, for the boot log.
    pub fn heap_use() -> (usize, usize) {
        heap::peak()
    }
}

#[cfg(not(test))]
pub use boot::heap_use;
