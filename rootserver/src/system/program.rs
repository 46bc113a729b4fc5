//! Each component's address space: its program (ELF segments with their
//! own rights), its info page, the status page, and the planned regions.

use super::*;

impl Builder<'_> {
    /// The status pages: every component's name at generation 0.
    pub(super) fn create_status_page<'s>(
        &mut self,
        system: &mut System<'s>,
    ) -> Result<(), BuildError<'s>> {
        let spec = system.spec;
        // Consecutive caps: page `i` of the region is `status_frames + i`.
        system.status_frames = self
            .alloc
            .alloc(
                self.slots,
                object_type::X86_4K,
                0,
                constants::PageBits as u8,
                abi::STATUS_PAGES as u64,
            )
            .map_err(|error| BuildError::Alloc {
                what: "the status pages",
                error,
            })?;
        for (ci, c) in spec.components.iter().enumerate() {
            set_generation(self.scratch, system, ci, 0).map_err(|error| BuildError::Info {
                component: name_of(&spec, c),
                error,
            })?;
        }
        Ok(())
    }

    /// Loads the component's program, and its info page.
    pub(super) fn load_program<'s>(
        &mut self,
        system: &mut System<'s>,
        ci: usize,
    ) -> Result<(), BuildError<'s>> {
        let spec = system.spec;
        let c = &spec.components[ci];
        let component = name_of(&spec, c);
        let program = spec.str(c.program);
        let bytes = system
            .blob
            .program(program)
            .ok_or(BuildError::MissingProgram { component, program })?;
        let elf = Elf::parse(bytes).map_err(|error| BuildError::BadProgram { component, error })?;
        // The planned regions start here; the program must stay below.
        let layout_base = spec.header.layout_base.get();
        let running = &mut system.running[ci];
        running.entry = elf.entry();
        for seg in elf.segments() {
            let first = seg.vaddr & !(PAGE - 1);
            let end = seg.vaddr + seg.mem_size;
            let rights = CapRights::new(true, seg.write, false);
            let mut page = first;
            while page < end {
                if (abi::STATUS_VADDR..=INFO_VADDR).contains(&page)
                    || page >= layout_base
                    || running.program_frames.iter().any(|&(v, _)| v == page)
                {
                    return Err(BuildError::ProgramOverlaps {
                        component,
                        vaddr: page,
                    });
                }
                let frame = self.new_frame(component)?;
                self.scratch
                    .with_frame(frame, |bytes| fill_program_page(bytes, page, &seg))
                    .map_err(|error| BuildError::Invocation {
                        what: "loading the program",
                        component,
                        error,
                    })?;
                self.map_page(
                    running,
                    component,
                    frame,
                    page,
                    rights,
                    Cacheability::WriteBack,
                )?;
                running.program_frames.push((page, frame)).map_err(|_| {
                    BuildError::ProgramOverlaps {
                        component,
                        vaddr: page,
                    }
                })?;
                page += PAGE;
            }
        }
        let info = self.new_frame(component)?;
        running.info_frame = info;
        write_info_page(self.scratch, &spec, ci, info, 0)?;
        self.map_page(
            running,
            component,
            info,
            INFO_VADDR,
            CapRights::READ,
            Cacheability::WriteBack,
        )?;
        for page in 0..abi::STATUS_PAGES as u64 {
            let frame = system.status_frames + page;
            self.map_page(
                &mut system.running[ci],
                component,
                frame,
                abi::STATUS_VADDR + page * PAGE,
                CapRights::READ,
                Cacheability::WriteBack,
            )?;
        }
        Ok(())
    }

    pub(super) fn map_regions<'s>(
        &mut self,
        system: &mut System<'s>,
        ci: usize,
    ) -> Result<(), BuildError<'s>> {
        let spec = system.spec;
        let c = &spec.components[ci];
        let component = name_of(&spec, c);
        let first = c.mappings.first.get() as usize;
        // Each page is mapped through its own copy, in the run of slots the
        // dump reads back (`System::mapping_copies`).
        let mut copy = super::copy_slots(system, false, first);
        for (index, m) in (first..).zip(spec.mappings_of(c)) {
            let first_copy = copy;
            copy += u64::from(m.pages.get());
            let caps = system.objects[m.object.get() as usize];
            let rights = page_rights(m.rights);
            let cache = if m.cached != 0 {
                Cacheability::WriteBack
            } else {
                Cacheability::CacheDisabled
            };
            let stray = crate::inject::stray_mapping(&spec, index);
            for page in 0..m.pages.get().min(caps.count) {
                let original = if stray && page == 0 {
                    self.new_frame(component)?
                } else {
                    caps.first + u64::from(page)
                };
                let page = Page {
                    original,
                    copy: first_copy + u64::from(page),
                    vaddr: m.vaddr.get() + u64::from(page) * PAGE,
                };
                self.map_page_into(&mut system.running[ci], component, page, rights, cache)?;
            }
        }
        Ok(())
    }
}

/// Fills one page of a program: the segment's bytes that fall in it, zero
/// elsewhere.
pub fn fill_program_page(page: &mut [u8; 4096], page_vaddr: Word, seg: &crate::elf::Segment) {
    page.fill(0);
    let data_start = seg.vaddr;
    let data_end = seg.vaddr + seg.data.len() as u64;
    let from = data_start.max(page_vaddr);
    let to = data_end.min(page_vaddr + PAGE);
    if from < to {
        let src = &seg.data[(from - data_start) as usize..(to - data_start) as usize];
        page[(from - page_vaddr) as usize..(to - page_vaddr) as usize].copy_from_slice(src);
    }
}

/// Writes component `ci`'s info page into `frame` for restart generation
/// `generation`.
pub fn write_info_page<'s>(
    scratch: &mut Scratch,
    spec: &Spec<'s>,
    ci: usize,
    frame: CPtr,
    generation: u64,
) -> Result<(), BuildError<'s>> {
    let c = &spec.components[ci];
    let component = name_of(spec, c);
    let symbols = spec.symbols_of(c);
    let as_abi = |s: &paddock_spec::SymbolRecord| abi::Symbol {
        kind: match SymbolKind::from_u8(s.kind) {
            Some(SymbolKind::Slot) => abi::SymbolKind::Slot,
            Some(SymbolKind::BadgeBit) => abi::SymbolKind::BadgeBit,
            Some(SymbolKind::Iova) => abi::SymbolKind::Iova,
            Some(SymbolKind::Param) => abi::SymbolKind::Param,
            _ => abi::SymbolKind::Vaddr,
        },
        name: spec.str(s.name),
        value: s.value.get(),
        size: s.size.get(),
    };
    let written = scratch
        .with_frame(frame, |page| {
            abi::write_info(
                page,
                component,
                c.cnode_bits,
                generation,
                symbols.iter().map(as_abi),
            )
        })
        .map_err(|error| BuildError::Invocation {
            what: "writing the info page",
            component,
            error,
        })?;
    written.map_err(|error| BuildError::Info { component, error })
}

/// Records component `ci`'s restart generation on the status pages.
pub fn set_generation(
    scratch: &mut Scratch,
    system: &System,
    ci: usize,
    generation: u64,
) -> Result<(), abi::InfoError> {
    let name = name_of(&system.spec, &system.spec.components[ci]);
    let page = abi::status_page_of(ci).ok_or(abi::InfoError::TooManySymbols(ci + 1))?;
    scratch
        .with_frame(system.status_frames + page as u64, |page| {
            abi::write_status_entry(page, ci, name, generation)
        })
        .unwrap_or(Err(abi::InfoError::TooShort))
}
