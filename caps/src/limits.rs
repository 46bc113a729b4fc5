//! Limits that can only be counted on the plan: symbols per info page,
//! kernel objects, memory, paging structures per address space. Each
//! error points at the declaration responsible (the model keeps the
//! description's order, so plan indices lead back to spans).

use crate::description::Description;
use crate::diagnostics::Error;
use crate::plan::{ObjectKind, Owner, Plan};
use crate::validate::MAX_MEMORY_MIB;
use paddock_protocol::component::{INFO_VADDR, STATUS_VADDR};
use paddock_spec::limits::{
    MAX_ELF_PAGES, MAX_OBJECTS, MAX_PAGING_TABLES, MAX_SYMBOLS, MEMORY_RESERVED_MIB,
};

/// Paging structures kept, in each address space, for what lies below
/// the planned region: one PDPT and one page directory for the low 1 GiB,
/// the page tables covering the info and status pages, and those of a
/// program of [`MAX_ELF_PAGES`] pages, which may straddle one more 2 MiB
/// boundary than its size needs. Programs linked by
/// `drivers/runtime/link.ld` start at 4 MiB, right above the page table
/// of the info and status pages, and need fewer; `paddock build` counts
/// each program's own.
pub const PROGRAM_PAGING_MARGIN: usize =
    2 + ((INFO_VADDR >> 21) - (STATUS_VADDR >> 21) + 1) as usize + MAX_ELF_PAGES.div_ceil(512) + 1;

/// Paging structures the planned region of one component may have.
pub const MAX_PLANNED_PAGING_TABLES: usize = MAX_PAGING_TABLES - PROGRAM_PAGING_MARGIN;

const MIB: u64 = 1 << 20;

/// The memory a model declares (stacks, heaps, rings, shared regions, DMA
/// buffers), checked before it is planned against the most any guest
/// has: the plan makes objects and page tables in proportion to it, so a
/// description declaring terabytes is refused here, not after they are
/// made. [`check`] then counts the plan's exact need against the
/// system's own `memory_mib`.
pub fn check_model(d: &Description, m: &crate::model::Model) -> Vec<Error> {
    let components = m
        .components
        .iter()
        .map(|c| c.stack_size.saturating_add(c.heap_size));
    let rings = m
        .rings
        .iter()
        .map(|r| r.queues_size.saturating_add(r.data_size));
    let shared = m.shared.iter().map(|s| s.size);
    let dma = m
        .components
        .iter()
        .flat_map(|c| &c.pci)
        .flat_map(|p| &p.dma)
        .map(|w| w.size);
    let declared = components
        .chain(rings)
        .chain(shared)
        .chain(dma)
        .fold(0u64, u64::saturating_add);
    let max = u64::from(MAX_MEMORY_MIB - MEMORY_RESERVED_MIB as u32) * MIB;
    if declared <= max {
        return vec![];
    }
    vec![Error::new(format!(
        "the description declares {} MiB of stacks, heaps, rings, shared regions and DMA buffers but a guest has at most {MAX_MEMORY_MIB} MiB, {} MiB for them",
        declared.div_ceil(MIB),
        max / MIB
    ))
    .at(memory_span(d), "guest memory")
    .help(format!(
        "make them smaller: {MEMORY_RESERVED_MIB} MiB go to the kernel and the root task"
    ))]
}

/// Where the guest's memory is set, or the system's name when defaulted.
fn memory_span(d: &Description) -> crate::description::Span {
    let spans = &d.system.spans;
    if spans.memory_mib.is_empty() {
        spans.name.clone()
    } else {
        spans.memory_mib.clone()
    }
}

/// Every limit the plan of `d` exceeds.
pub fn check(d: &Description, plan: &Plan) -> Vec<Error> {
    let mut errors = Vec::new();
    // Symbols and paging structures per component, counted in one pass.
    let mut names = vec![0usize; d.components.len()];
    for s in &plan.symbols {
        names[s.component] += 1;
    }
    let mut tables = vec![0usize; d.components.len()];
    for o in &plan.objects {
        if let (
            Owner::Component(c),
            ObjectKind::Pdpt | ObjectKind::PageDirectory | ObjectKind::PageTable,
        ) = (o.owner, o.kind)
        {
            tables[c] += 1;
        }
    }
    for (ci, c) in d.components.iter().enumerate() {
        let (names, tables) = (names[ci], tables[ci]);
        if names > MAX_SYMBOLS {
            errors.push(
                Error::new(format!(
                    "`{}` needs {names} names on its info page but one holds {MAX_SYMBOLS}",
                    c.name()
                ))
                .at(c.name.span(), "this component")
                .help("each cap, mapped region, DMA window, badge bit and parameter takes one: split the component"),
            );
        }
        if tables > MAX_PLANNED_PAGING_TABLES {
            errors.push(
                Error::new(format!(
                    "the regions of `{}` need {tables} paging structures but an address space holds {MAX_PAGING_TABLES}, {PROGRAM_PAGING_MARGIN} of them kept for its program",
                    c.name()
                ))
                .at(c.name.span(), "this component")
                .help("each page table maps 2 MiB: make the heap, rings, shared regions, BARs or DMA buffers of this component smaller"),
            );
        }
    }
    if let Some(extra) = plan.objects.get(MAX_OBJECTS) {
        let (span, what) = match extra.owner {
            Owner::Root => (d.system.spans.name.clone(), "this system"),
            Owner::Component(c) => (d.components[c].name.span(), "this component's"),
            Owner::Ring(r) => (d.rings[r].name.span(), "this ring's"),
            Owner::Shared(s) => (d.shared[s].name.span(), "this shared region's"),
            Owner::Pci(pi) => {
                let dev = &plan.pci[pi];
                let name = d.components[dev.owner]
                    .pci_devices
                    .iter()
                    .find(|p| *p.name.get_ref() == dev.name)
                    .map_or(d.components[dev.owner].name.span(), |p| p.name.span());
                (name, "this device's")
            }
        };
        errors.push(
            Error::new(format!(
                "the system needs {} kernel objects but the root task holds {MAX_OBJECTS}",
                plan.objects.len()
            ))
            .at(span, format!("{what} objects pass the limit"))
            .help("each component, ring, shared region and DMA window takes objects: split the system"),
        );
    }
    let sys = &d.system;
    let available = u64::from(sys.memory_mib).saturating_sub(MEMORY_RESERVED_MIB) * MIB;
    let needed = plan.memory_bytes();
    if needed > available {
        let need_mib = needed.div_ceil(MIB) + MEMORY_RESERVED_MIB;
        let span = memory_span(d);
        errors.push(
            Error::new(format!(
                "the plan needs {} MiB of memory but memory_mib {} leaves {} MiB for it",
                needed.div_ceil(MIB),
                sys.memory_mib,
                available / MIB
            ))
            .at(span, "guest memory")
            .help(format!(
                "set `memory_mib = {need_mib}` or more: {MEMORY_RESERVED_MIB} MiB go to the kernel and the root task"
            )),
        );
    }
    errors
}
