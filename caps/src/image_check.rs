//! Limits only the image builder can count: what each program loads, the
//! paging structures its address space then needs, and the slots of the
//! root task's own CNode. Each error names the component and where the
//! description declares it.

use crate::description::Description;
use crate::diagnostics::Error;
use crate::plan::{ObjectKind, Owner, Plan};
use paddock_protocol::component::{INFO_SIZE, INFO_VADDR, STATUS_VADDR};
use paddock_spec::limits::{
    MAX_ELF_PAGES, MAX_PAGING_TABLES, ROOT_CNODE_SLOTS, ROOT_SLOTS_RESERVED,
};
use std::collections::BTreeSet;

const PAGE: u64 = 4096;

/// The info page and the status pages every component maps below its
/// program's region.
fn abi_pages() -> impl Iterator<Item = u64> {
    (STATUS_VADDR..INFO_VADDR + INFO_SIZE as u64).step_by(PAGE as usize)
}

/// The status pages, right below the info page.
fn status_pages() -> usize {
    ((INFO_VADDR - STATUS_VADDR) / PAGE) as usize
}

/// Root CNode slots the root task takes whatever the plan: the scratch
/// window's PDPT, page directory and page table (`scratch.rs`), the top
/// level CNode of the CSpace views (`views.rs`), the runtime dump's spare
/// slot (`boot.rs`), and the status pages (`system/program.rs`).
pub fn root_fixed_slots() -> usize {
    3 + 1 + 1 + status_pages()
}

/// Filler untypeds the root task may retype to reach a BAR inside a device
/// untyped (`untyped.rs`, `alloc_device_frames`): at most one per bit of a
/// physical address.
const DEVICE_FILLERS: usize = 64;

/// The pages a program's ELF loadable segments cover, as the root task
/// loads them (`system/program.rs`: each page of each PT_LOAD segment).
pub fn program_pages(elf: &[u8]) -> Result<Vec<u64>, String> {
    let u16_at = |at: usize| -> Option<u16> {
        Some(u16::from_le_bytes(elf.get(at..at + 2)?.try_into().ok()?))
    };
    let u32_at = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(elf.get(at..at + 4)?.try_into().ok()?))
    };
    let u64_at = |at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(elf.get(at..at + 8)?.try_into().ok()?))
    };
    // ELF64 (class 2), little-endian (data 1).
    if elf.get(..6) != Some(&[0x7f, b'E', b'L', b'F', 2, 1][..]) {
        return Err("not a little-endian ELF64 file".into());
    }
    let headers = (|| {
        let phoff = usize::try_from(u64_at(0x20)?).ok()?;
        let phentsize = usize::from(u16_at(0x36)?);
        let phnum = usize::from(u16_at(0x38)?);
        Some((phoff, phentsize, phnum))
    })();
    let Some((phoff, phentsize, phnum)) = headers else {
        return Err("truncated ELF header".into());
    };
    let mut pages = vec![];
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        let segment = (|| Some((u32_at(at)?, u64_at(at + 0x10)?, u64_at(at + 0x28)?)))();
        let Some((kind, vaddr, memsz)) = segment else {
            return Err(format!("program header {i} lies outside the file"));
        };
        const PT_LOAD: u32 = 1;
        if kind != PT_LOAD {
            continue;
        }
        let end = vaddr
            .checked_add(memsz)
            .ok_or_else(|| format!("segment {i} ends beyond the address space"))?;
        let mut page = vaddr & !(PAGE - 1);
        while page < end {
            pages.push(page);
            page += PAGE;
        }
    }
    Ok(pages)
}

/// The paging structures (PDPTs, page directories, page tables) the pages
/// at `vaddrs` need.
fn paging_structures(vaddrs: impl Iterator<Item = u64>) -> usize {
    let mut tables = BTreeSet::new();
    for a in vaddrs {
        for (level, shift) in [(0, 39), (1, 30), (2, 21)] {
            tables.insert((level, a >> shift));
        }
    }
    tables.len()
}

/// What only the build knows, for the plan of `d` and the programs it
/// built (`(program name, ELF bytes)`; a component whose program is not
/// listed is not counted).
pub fn check(d: &Description, plan: &Plan, programs: &[(&str, &[u8])]) -> Vec<Error> {
    let mut errors = vec![];
    let limit = ROOT_CNODE_SLOTS - ROOT_SLOTS_RESERVED;
    // Slots for what belongs to no one component: the fixed ones, ring,
    // shared and DMA frames, device frames, IOSpaces and their mappings.
    let mut slots = root_fixed_slots();
    for o in &plan.objects {
        if !matches!(o.owner, Owner::Component(_)) {
            slots += object_slots(o.kind, o.count);
        }
    }
    if plan.kernel.iommu {
        slots += plan.pci.len();
    }
    slots += plan
        .io_mappings
        .iter()
        .map(|m| m.pages as usize)
        .sum::<usize>();
    let mut over = slots > limit;
    if over {
        errors.push(root_slots_error(d, slots, limit, None));
    }
    for (ci, c) in d.components.iter().enumerate() {
        let Some(elf) = programs
            .iter()
            .find(|(name, _)| *name == c.program())
            .map(|(_, elf)| *elf)
        else {
            continue;
        };
        let pages = match program_pages(elf) {
            Ok(pages) => pages,
            Err(why) => {
                errors.push(
                    Error::new(format!(
                        "program `{}` of `{}` cannot be loaded: {why}",
                        c.program(),
                        c.name()
                    ))
                    .at(c.program.span(), "this program"),
                );
                continue;
            }
        };
        if pages.len() > MAX_ELF_PAGES {
            errors.push(
                Error::new(format!(
                    "program `{}` of `{}` loads {} pages but the root task loads at most {MAX_ELF_PAGES} per component",
                    c.program(),
                    c.name(),
                    pages.len()
                ))
                .at(c.program.span(), "this program")
                .help(format!(
                    "make the program smaller than {} KiB of code and data, or move large buffers to the heap",
                    MAX_ELF_PAGES * PAGE as usize / 1024
                )),
            );
        }
        let planned = plan
            .objects
            .iter()
            .filter(|o| {
                o.owner == Owner::Component(ci)
                    && matches!(
                        o.kind,
                        ObjectKind::Pdpt | ObjectKind::PageDirectory | ObjectKind::PageTable
                    )
            })
            .count();
        let low = paging_structures(pages.iter().copied().chain(abi_pages()));
        if planned + low > MAX_PAGING_TABLES {
            errors.push(
                Error::new(format!(
                    "`{}` needs {} paging structures ({planned} for its regions, {low} for its program and its info and status pages) but an address space holds {MAX_PAGING_TABLES}",
                    c.name(),
                    planned + low
                ))
                .at(c.name.span(), "this component")
                .help("make the program or the component's regions smaller"),
            );
        }
        // Its objects, a copy of each page mapped, each program page and
        // its copy, the program's paging structures, the info page and
        // its copy, a copy of each status page, and each IRQ's handler
        // and badged notification.
        slots += plan
            .objects
            .iter()
            .filter(|o| o.owner == Owner::Component(ci))
            .map(|o| object_slots(o.kind, o.count))
            .sum::<usize>();
        slots += plan
            .mappings_of(ci)
            .map(|m| m.pages as usize)
            .sum::<usize>();
        slots += 2 * pages.len() + low + 2 + status_pages();
        slots += 2 * plan.irqs.iter().filter(|q| q.component == ci).count();
        if !over && slots > limit {
            over = true;
            errors.push(root_slots_error(d, slots, limit, Some(ci)));
        }
    }
    errors
}

/// Root CNode slots one object takes: one per frame, and for device
/// frames the fillers that reach their BAR.
fn object_slots(kind: ObjectKind, count: u32) -> usize {
    match kind {
        ObjectKind::Frames => count as usize,
        ObjectKind::DeviceFrames | ObjectKind::PlatformFrames => count as usize + DEVICE_FILLERS,
        _ => 1,
    }
}

fn root_slots_error(d: &Description, slots: usize, limit: usize, at: Option<usize>) -> Error {
    let e = Error::new(format!(
        "the root task may need {slots} slots of its CNode for this image but has {limit} ({ROOT_CNODE_SLOTS} less {ROOT_SLOTS_RESERVED} the kernel's boot caps take)"
    ))
    .help("each frame takes a slot, and each mapped page one more: make regions smaller or split the system");
    match at {
        Some(ci) => e.at(
            d.components[ci].name.span(),
            "the slots pass the limit with this component",
        ),
        None => e.at(
            d.system.spans.name.clone(),
            "shared regions, rings and DMA buffers pass the limit",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// An ELF64 executable with one PT_LOAD segment per `(vaddr, bytes)`.
    fn elf(segments: &[(u64, u64)]) -> Vec<u8> {
        let mut b = vec![0u8; 64];
        b[..6].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1]);
        b[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        b[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        b[0x38..0x3a].copy_from_slice(&(segments.len() as u16).to_le_bytes());
        for &(vaddr, size) in segments {
            let mut ph = [0u8; 56];
            ph[..4].copy_from_slice(&1u32.to_le_bytes());
            ph[0x10..0x18].copy_from_slice(&vaddr.to_le_bytes());
            ph[0x28..0x30].copy_from_slice(&size.to_le_bytes());
            b.extend_from_slice(&ph);
        }
        b
    }

    fn system(extra: &str) -> (Description, Plan) {
        let text = format!(
            "[system]\nname = \"x\"\nkernel = \"debug\"\n\n[[component]]\nname = \"a\"\nprogram = \"a-prog\"\n{extra}"
        );
        let (v, plan) = crate::parse_planned(Path::new("x.toml"), &text).unwrap();
        (v.description, plan)
    }

    fn messages(errors: &[Error]) -> Vec<&str> {
        errors.iter().map(|e| e.message.as_str()).collect()
    }

    #[test]
    fn a_program_is_counted_as_the_root_task_loads_it() {
        // Two segments, the first ending mid-page: 3 + 2 pages.
        let pages = program_pages(&elf(&[(0x40_0000, 0x2001), (0x40_4000, 0x2000)])).unwrap();
        assert_eq!(
            pages,
            [0x40_0000, 0x40_1000, 0x40_2000, 0x40_4000, 0x40_5000]
        );
        assert!(program_pages(b"not an elf").is_err());
        let (d, plan) = system("");
        let small = elf(&[(0x40_0000, 0x10_0000)]);
        assert!(check(&d, &plan, &[("a-prog", &small)]).is_empty());
    }

    #[test]
    fn a_program_too_large_is_refused_at_its_name() {
        let (d, plan) = system("");
        let big = elf(&[(0x40_0000, (MAX_ELF_PAGES as u64 + 1) * PAGE)]);
        let errors = check(&d, &plan, &[("a-prog", &big)]);
        assert_eq!(
            messages(&errors),
            ["program `a-prog` of `a` loads 257 pages but the root task loads at most 256 per component"]
        );
        let at = errors[0].primary.as_ref().unwrap().span.clone();
        assert_eq!(&d.source.text[at], "\"a-prog\"");
    }

    #[test]
    fn a_scattered_program_runs_out_of_paging_structures() {
        let (d, plan) = system("");
        // One page in each of 100 page tables' reach.
        let scattered: Vec<(u64, u64)> = (0..100)
            .map(|i| (0x40_0000 + i * 0x20_0000, PAGE))
            .collect();
        let errors = check(&d, &plan, &[("a-prog", &elf(&scattered))]);
        assert_eq!(errors.len(), 1, "{:?}", messages(&errors));
        assert!(
            errors[0].message.starts_with(
                "`a` needs 106 paging structures (3 for its regions, 103 for its program"
            ),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn a_system_beyond_the_root_tasks_slots_is_refused_at_the_component() {
        // 64 MiB of heap: a slot per frame and one per mapped page.
        let (d, plan) = system("heap_size = 0x4000000\n");
        let small = elf(&[(0x40_0000, PAGE)]);
        let errors = check(&d, &plan, &[("a-prog", &small)]);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].message.starts_with("the root task may need 3"),
            "{}",
            errors[0].message
        );
        let at = errors[0].primary.as_ref().unwrap().span.clone();
        assert_eq!(&d.source.text[at], "\"a\"");
    }
}
