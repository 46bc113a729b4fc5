//! Turning the spec into running components.
//!
//! The root task makes no policy decisions here: it creates the objects the
//! spec lists, in its order, maps what it says where it says, and puts each
//! cap in the slot it names. What the spec cannot know (the programs' ELF
//! segments, the info page) follows the component ABI in
//! `paddock_protocol::component`.

use crate::cell::BootCell;
use crate::elf::Elf;
use crate::paging::{Level, Paging, PagingError};
use crate::pci;
use crate::scratch::Scratch;
use crate::slots::{Slots, ROOT_DEPTH};
use crate::untyped::{AllocError, Allocator};
use core::fmt;
use paddock_protocol::blob::Blob;
use paddock_protocol::component::{self as abi, INFO_VADDR};
use paddock_spec::{
    CapKind, ComponentRecord, IrqKind, MapPurpose, ObjectKind, Spec, SymbolKind, MAP_READ,
    MAP_WRITE, NONE, RIGHT_GRANT, RIGHT_READ, RIGHT_WRITE,
};
use sel4::bootinfo::init_cap;
use sel4::cnode::Slot;
use sel4::sys::{constants, object_type};
use sel4::tcb::UserContext;
use sel4::vspace::Cacheability;
use sel4::{CPtr, CapRights, Word};

/// Components one system may hold.
pub const MAX_COMPONENTS: usize = 64;
/// Kernel objects one system may list.
pub const MAX_OBJECTS: usize = 4096;
/// IRQs one system may bind (the kernel has 108 vectors).
pub const MAX_IRQS: usize = 108;
/// ELF pages one component may load.
const MAX_ELF_PAGES: usize = 256;
const PAGE: u64 = 4096;

/// Why the system could not be built. Every variant names the component
/// (or object) it concerns, so the message says where to look.
#[derive(Debug)]
pub enum BuildError<'a> {
    TooMany {
        what: &'static str,
        count: usize,
        max: usize,
    },
    Alloc {
        what: &'a str,
        error: AllocError,
    },
    Paging {
        component: &'a str,
        error: PagingError,
    },
    Invocation {
        what: &'static str,
        component: &'a str,
        error: sel4::Error,
    },
    MissingProgram {
        component: &'a str,
        program: &'a str,
    },
    BadProgram {
        component: &'a str,
        error: crate::elf::ElfError,
    },
    ProgramOverlaps {
        component: &'a str,
        vaddr: Word,
    },
    Info {
        component: &'a str,
        error: abi::InfoError,
    },
    Unsupported {
        component: &'a str,
        what: &'static str,
    },
    BarMismatch {
        what: &'a str,
        bdf: pci::Bdf,
        bar: usize,
        size: u64,
        wanted: u64,
    },
    Pci(pci::PciError<'a>),
}

impl fmt::Display for BuildError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::TooMany { what, count, max } => {
                write!(f, "the spec has {count} {what}, this root task holds {max}")
            }
            BuildError::Alloc { what, error } => write!(f, "creating `{what}`: {error}"),
            BuildError::Paging { component, error } => {
                write!(f, "component `{component}`: {error}")
            }
            BuildError::Invocation {
                what,
                component,
                error,
            } => {
                write!(f, "component `{component}`: {what} failed: {error}")
            }
            BuildError::MissingProgram { component, program } => write!(
                f,
                "component `{component}`: program `{program}` is not in the boot blob"
            ),
            BuildError::BadProgram { component, error } => {
                write!(
                    f,
                    "component `{component}`: its program is unusable: {error}"
                )
            }
            BuildError::ProgramOverlaps { component, vaddr } => write!(
                f,
                "component `{component}`: its program has two segments in the page at {vaddr:#x}, \
                 or one on the info page or among the planned regions"
            ),
            BuildError::Info { component, error } => {
                write!(f, "component `{component}`: info page: {error}")
            }
            BuildError::Unsupported { component, what } => {
                write!(
                    f,
                    "component `{component}`: {what} is not supported by this root task"
                )
            }
            BuildError::BarMismatch {
                what,
                bdf,
                bar,
                size,
                wanted,
            } => write!(
                f,
                "`{what}`: BAR {bar} of the device at {bdf} is {size:#x} bytes, the plan maps {wanted:#x}"
            ),
            BuildError::Pci(e) => write!(f, "{e}"),
        }
    }
}

/// Where a spec object's caps are in the root CNode.
#[derive(Clone, Copy, Debug, Default)]
pub struct ObjectCaps {
    pub first: CPtr,
    pub count: u32,
}

/// What the root task keeps of each component to serve its faults and
/// restart it.
pub struct Running {
    pub paging: Paging,
    pub entry: u64,
    /// Frames holding the program, by the page's vaddr (original caps,
    /// never mapped in the component; a copy is).
    pub program_frames: heapless::Vec<(Word, CPtr), MAX_ELF_PAGES>,
    pub info_frame: CPtr,
    pub generation: u64,
    /// Set once the component has been stopped for good.
    pub stopped: bool,
}

/// The per-object and per-component state of a built system: large, so it
/// lives in a static (see `TABLES`), not on the root task's stack.
pub struct Tables {
    pub objects: heapless::Vec<ObjectCaps, MAX_OBJECTS>,
    pub running: heapless::Vec<Running, MAX_COMPONENTS>,
    /// The root task's copy of each IRQ record's handler (0 until issued).
    pub irq_handlers: heapless::Vec<CPtr, MAX_IRQS>,
    /// Each PCI record's IOSpace cap (IOMMU systems).
    pub iospaces: heapless::Vec<CPtr, { pci::MAX_DEVICES }>,
}

pub static TABLES: BootCell<Tables> = BootCell::new(Tables {
    objects: heapless::Vec::new(),
    running: heapless::Vec::new(),
    irq_handlers: heapless::Vec::new(),
    iospaces: heapless::Vec::new(),
});

/// The built system.
pub struct System<'s> {
    pub spec: Spec<'s>,
    pub blob: Blob<'s>,
    /// The root task's cap to the fault endpoint (unbadged: it receives).
    pub fault_endpoint: CPtr,
    /// The status page every component maps read-only (original cap).
    pub status_frame: CPtr,
    pub tables: &'static mut Tables,
}

impl core::ops::Deref for System<'_> {
    type Target = Tables;
    fn deref(&self) -> &Tables {
        self.tables
    }
}

impl core::ops::DerefMut for System<'_> {
    fn deref_mut(&mut self) -> &mut Tables {
        self.tables
    }
}

/// Converts the spec's cap rights to the kernel's.
pub fn cap_rights(bits: u8) -> CapRights {
    CapRights::new(
        bits & RIGHT_READ != 0,
        bits & RIGHT_WRITE != 0,
        bits & RIGHT_GRANT != 0,
    )
}

fn page_rights(bits: u8) -> CapRights {
    CapRights::new(bits & MAP_READ != 0, bits & MAP_WRITE != 0, false)
}

/// Looks up a name in the string table for messages.
fn name_of<'s>(spec: &Spec<'s>, c: &ComponentRecord) -> &'s str {
    spec.str(c.name)
}

pub struct Builder<'b> {
    pub alloc: &'b mut Allocator,
    pub slots: &'b mut Slots,
    pub scratch: &'b mut Scratch,
    /// The spec's PCI devices as found on the bus, in spec order.
    pub pci: &'b [pci::Found],
}

impl Builder<'_> {
    /// Creates every object, loads every program, fills every CSpace and
    /// address space; leaves the components configured but not running.
    pub fn build<'s>(
        &mut self,
        spec: Spec<'s>,
        blob: Blob<'s>,
    ) -> Result<System<'s>, BuildError<'s>> {
        if spec.components.len() > MAX_COMPONENTS {
            return Err(BuildError::TooMany {
                what: "components",
                count: spec.components.len(),
                max: MAX_COMPONENTS,
            });
        }
        if spec.objects.len() > MAX_OBJECTS {
            return Err(BuildError::TooMany {
                what: "objects",
                count: spec.objects.len(),
                max: MAX_OBJECTS,
            });
        }
        let tables = TABLES.take().ok_or(BuildError::TooMany {
            what: "systems",
            count: 2,
            max: 1,
        })?;
        let mut system = System {
            spec,
            blob,
            fault_endpoint: 0,
            status_frame: 0,
            tables,
        };
        if spec.irqs.len() > MAX_IRQS {
            return Err(BuildError::TooMany {
                what: "IRQs",
                count: spec.irqs.len(),
                max: MAX_IRQS,
            });
        }
        for _ in spec.irqs {
            let _ = system.irq_handlers.push(0);
        }
        for _ in spec.components {
            // Cannot fail: the count was checked against the capacity.
            let _ = system.running.push(Running {
                paging: Paging::new(0),
                entry: 0,
                program_frames: heapless::Vec::new(),
                info_frame: 0,
                generation: 0,
                stopped: false,
            });
        }
        self.create_iospaces(&mut system)?;
        self.create_objects(&mut system)?;
        self.map_io(&mut system)?;
        self.create_status_page(&mut system)?;
        for (ci, c) in spec.components.iter().enumerate() {
            self.load_program(&mut system, ci)?;
            self.map_regions(&mut system, ci)?;
            self.fill_cspace(&mut system, ci)?;
            self.configure_thread(&system, ci)
                .map_err(|error| BuildError::Invocation {
                    what: "configuring the thread",
                    component: name_of(&spec, c),
                    error,
                })?;
        }
        Ok(system)
    }

    fn create_objects<'s>(&mut self, system: &mut System<'s>) -> Result<(), BuildError<'s>> {
        let spec = system.spec;
        for (index, o) in spec.objects.iter().enumerate() {
            let what = spec.str(o.name);
            let kind = ObjectKind::from_u8(o.kind);
            let owner = (o.owner.get() != NONE).then(|| o.owner.get() as usize);
            let owner_name = owner
                .and_then(|i| spec.components.get(i))
                .map_or(what, |c| name_of(&spec, c));
            let count = o.count.get();
            let alloc_err = |error| BuildError::Alloc { what, error };
            let (ty, size_bits, object_bits, n) = match kind {
                Some(ObjectKind::Tcb) => (object_type::TCBObject, 0, constants::TCBBits, 1),
                Some(ObjectKind::CNode) => (
                    object_type::CapTableObject,
                    u64::from(count),
                    constants::SlotBits + count as usize,
                    1,
                ),
                Some(ObjectKind::VSpace) => {
                    (object_type::X64_PML4Object, 0, constants::PML4Bits, 1)
                }
                Some(ObjectKind::Pdpt) => (object_type::X86_PDPTObject, 0, constants::PDPTBits, 1),
                Some(ObjectKind::PageDirectory) => (
                    object_type::X86_PageDirectoryObject,
                    0,
                    constants::PageDirBits,
                    1,
                ),
                Some(ObjectKind::PageTable) => (
                    object_type::X86_PageTableObject,
                    0,
                    constants::PageTableBits,
                    1,
                ),
                Some(ObjectKind::Notification) => (
                    object_type::NotificationObject,
                    0,
                    constants::NotificationBits,
                    1,
                ),
                Some(ObjectKind::Endpoint) => {
                    (object_type::EndpointObject, 0, constants::EndpointBits, 1)
                }
                Some(ObjectKind::Frames) => (
                    object_type::X86_4K,
                    0,
                    constants::PageBits,
                    u64::from(count),
                ),
                Some(ObjectKind::DeviceFrames) => {
                    let first = self.device_frames(system, o, what)?;
                    self.record(system, first, count)?;
                    continue;
                }
                Some(ObjectKind::IoPageTable) => {
                    let first = self.io_page_table(system, o, what)?;
                    self.record(system, first, 1)?;
                    continue;
                }
                None => {
                    return Err(BuildError::Unsupported {
                        component: owner_name,
                        what: "an object kind this root task does not know",
                    })
                }
            };
            let first = self
                .alloc
                .alloc(self.slots, ty, size_bits, object_bits as u8, n)
                .map_err(alloc_err)?;
            self.record(system, first, n as u32)?;
            if index == 0 {
                // The plan lists the shared fault endpoint first.
                system.fault_endpoint = first;
            }
            let Some(ci) = owner.filter(|&i| i < system.running.len()) else {
                continue;
            };
            let paging_err = |error| BuildError::Paging {
                component: owner_name,
                error,
            };
            match kind {
                Some(ObjectKind::VSpace) => {
                    sel4::vspace::asid_pool_assign(init_cap::InitThreadASIDPool, first).map_err(
                        |error| BuildError::Invocation {
                            what: "assigning an ASID",
                            component: owner_name,
                            error,
                        },
                    )?;
                    system.running[ci].paging = Paging::new(first);
                }
                Some(ObjectKind::Pdpt) => system.running[ci]
                    .paging
                    .map_table(Level::Pdpt, first, o.base.get())
                    .map_err(paging_err)?,
                Some(ObjectKind::PageDirectory) => system.running[ci]
                    .paging
                    .map_table(Level::PageDirectory, first, o.base.get())
                    .map_err(paging_err)?,
                Some(ObjectKind::PageTable) => system.running[ci]
                    .paging
                    .map_table(Level::PageTable, first, o.base.get())
                    .map_err(paging_err)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn record<'s>(
        &mut self,
        system: &mut System<'s>,
        first: CPtr,
        count: u32,
    ) -> Result<(), BuildError<'s>> {
        let max = system.spec.objects.len();
        system
            .objects
            .push(ObjectCaps { first, count })
            .map_err(|_| BuildError::TooMany {
                what: "objects",
                count: max,
                max: MAX_OBJECTS,
            })
    }

    /// The PCI device of a record index, found at boot.
    fn found<'s>(&self, index: u32, what: &'s str) -> Result<&pci::Found, BuildError<'s>> {
        self.pci.get(index as usize).ok_or(BuildError::Unsupported {
            component: what,
            what: "a PCI reference outside the spec",
        })
    }

    /// Frames over a BAR: `aux` is the PCI record, `aux2` the BAR index.
    fn device_frames<'s>(
        &mut self,
        system: &System<'s>,
        o: &paddock_spec::ObjectRecord,
        what: &'s str,
    ) -> Result<CPtr, BuildError<'s>> {
        let found = *self.found(o.aux.get(), what)?;
        let bar = o.aux2.get() as usize;
        let (paddr, size) = found.bars.get(bar).copied().unwrap_or((0, 0));
        let wanted = u64::from(o.count.get()) * PAGE;
        if paddr == 0 || size < wanted || !paddr.is_multiple_of(PAGE) {
            return Err(BuildError::BarMismatch {
                what,
                bdf: found.bdf,
                bar,
                size,
                wanted,
            });
        }
        let _ = system;
        self.alloc
            .alloc_device_frames(self.slots, paddr, u64::from(o.count.get()))
            .map_err(|error| BuildError::Alloc { what, error })
    }

    /// An IO page table of level `aux2` for PCI record `aux`, mapped into
    /// that device's IOSpace at `base` (levels come in order, so each map
    /// installs the next level down).
    fn io_page_table<'s>(
        &mut self,
        system: &System<'s>,
        o: &paddock_spec::ObjectRecord,
        what: &'s str,
    ) -> Result<CPtr, BuildError<'s>> {
        let Some((ty, bits)) = sel4::iommu::IO_PAGE_TABLE_OBJECT else {
            return Err(BuildError::Unsupported {
                component: what,
                what: "an IO page table on a kernel without IOMMU",
            });
        };
        let iospace =
            system
                .iospaces
                .get(o.aux.get() as usize)
                .copied()
                .ok_or(BuildError::Unsupported {
                    component: what,
                    what: "an IO page table of an unknown device",
                })?;
        let table = self
            .alloc
            .alloc(self.slots, ty, 0, bits as u8, 1)
            .map_err(|error| BuildError::Alloc { what, error })?;
        sel4::iommu::map_io_page_table(table, iospace, o.base.get()).map_err(|error| {
            BuildError::Invocation {
                what: "mapping an IO page table",
                component: what,
                error,
            }
        })?;
        Ok(table)
    }

    /// One IOSpace cap per PCI device, in the device's own VT-d domain.
    fn create_iospaces<'s>(&mut self, system: &mut System<'s>) -> Result<(), BuildError<'s>> {
        let spec = system.spec;
        for (i, record) in spec.pci.iter().enumerate() {
            let what = spec.str(record.name);
            let found = *self.found(i as u32, what)?;
            let fail = |error| BuildError::Invocation {
                what: "enabling the PCI device",
                component: what,
                error,
            };
            pci::enable(found.bdf).map_err(fail)?;
            if !spec.iommu() {
                let _ = system.iospaces.push(0);
                continue;
            }
            let slot = self.slots.take(1).map_err(|e| BuildError::Alloc {
                what,
                error: AllocError::Slots(e),
            })?;
            let data = sel4::cap::iospace_data(
                record.domain.get(),
                found.bdf.bus,
                found.bdf.dev,
                found.bdf.func,
            );
            sel4::cnode::mint(
                Slots::slot(slot),
                Slots::slot(init_cap::IOSpace),
                CapRights::ALL,
                data,
            )
            .map_err(|error| BuildError::Invocation {
                what: "minting the device's IOSpace",
                component: what,
                error,
            })?;
            let _ = system.iospaces.push(slot);
        }
        Ok(())
    }

    /// Maps the planned DMA frames into each device's IOSpace.
    fn map_io<'s>(&mut self, system: &mut System<'s>) -> Result<(), BuildError<'s>> {
        let spec = system.spec;
        for m in spec.io_mappings {
            let what = spec
                .pci
                .get(m.pci.get() as usize)
                .map_or("?", |p| spec.str(p.name));
            let iospace = system.iospaces[m.pci.get() as usize];
            let caps = system.objects[m.object.get() as usize];
            for page in 0..m.pages.get().min(caps.count) {
                let fail = |error| BuildError::Invocation {
                    what: "mapping a DMA page into the IOSpace",
                    component: what,
                    error,
                };
                let copy = self.copy_cap(caps.first + u64::from(page)).map_err(fail)?;
                let iova = m.iova.get() + u64::from(page) * PAGE;
                sel4::iommu::map_io(copy, iospace, CapRights::READ_WRITE, iova).map_err(fail)?;
            }
        }
        Ok(())
    }

    /// A new root CNode slot holding a copy of `src` (a frame may be mapped
    /// once per cap, so every mapping gets its own copy).
    fn copy_cap(&mut self, src: CPtr) -> Result<CPtr, sel4::Error> {
        let dest = self
            .slots
            .take(1)
            .map_err(|_| sel4::Error(sel4::sys::error::NotEnoughMemory))?;
        sel4::cnode::copy(Slots::slot(dest), Slots::slot(src), CapRights::ALL)?;
        Ok(dest)
    }

    fn map_page<'s>(
        &mut self,
        running: &mut Running,
        component: &'s str,
        original: CPtr,
        vaddr: Word,
        rights: CapRights,
        cache: Cacheability,
    ) -> Result<(), BuildError<'s>> {
        running
            .paging
            .ensure(self.alloc, self.slots, vaddr)
            .map_err(|error| BuildError::Paging { component, error })?;
        let invocation = |error| BuildError::Invocation {
            what: "mapping a page",
            component,
            error,
        };
        let copy = self.copy_cap(original).map_err(invocation)?;
        sel4::vspace::map_page(copy, running.paging.vspace, vaddr, rights, cache)
            .map_err(invocation)
    }

    /// The status page: every component's name at generation 0.
    fn create_status_page<'s>(&mut self, system: &mut System<'s>) -> Result<(), BuildError<'s>> {
        let spec = system.spec;
        let frame = self
            .alloc
            .alloc(
                self.slots,
                object_type::X86_4K,
                0,
                constants::PageBits as u8,
                1,
            )
            .map_err(|error| BuildError::Alloc {
                what: "the status page",
                error,
            })?;
        system.status_frame = frame;
        for (ci, c) in spec.components.iter().enumerate() {
            set_generation(self.scratch, system, ci, 0).map_err(|error| BuildError::Info {
                component: name_of(&spec, c),
                error,
            })?;
        }
        Ok(())
    }

    /// Loads the component's program, and its info page.
    fn load_program<'s>(
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
                if page == INFO_VADDR
                    || page >= layout_base
                    || running.program_frames.iter().any(|&(v, _)| v == page)
                {
                    return Err(BuildError::ProgramOverlaps {
                        component,
                        vaddr: page,
                    });
                }
                let frame = self
                    .alloc
                    .alloc(
                        self.slots,
                        object_type::X86_4K,
                        0,
                        constants::PageBits as u8,
                        1,
                    )
                    .map_err(|error| BuildError::Alloc {
                        what: component,
                        error,
                    })?;
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
        let info = self
            .alloc
            .alloc(
                self.slots,
                object_type::X86_4K,
                0,
                constants::PageBits as u8,
                1,
            )
            .map_err(|error| BuildError::Alloc {
                what: component,
                error,
            })?;
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
        let status = system.status_frame;
        self.map_page(
            &mut system.running[ci],
            component,
            status,
            abi::STATUS_VADDR,
            CapRights::READ,
            Cacheability::WriteBack,
        )
    }

    fn map_regions<'s>(
        &mut self,
        system: &mut System<'s>,
        ci: usize,
    ) -> Result<(), BuildError<'s>> {
        let spec = system.spec;
        let c = &spec.components[ci];
        let component = name_of(&spec, c);
        for m in spec.mappings_of(c) {
            let caps = system.objects[m.object.get() as usize];
            let rights = page_rights(m.rights);
            let cache = if m.cached != 0 {
                Cacheability::WriteBack
            } else {
                Cacheability::CacheDisabled
            };
            for page in 0..m.pages.get().min(caps.count) {
                let vaddr = m.vaddr.get() + u64::from(page) * PAGE;
                let frame = caps.first + u64::from(page);
                self.map_page(
                    &mut system.running[ci],
                    component,
                    frame,
                    vaddr,
                    rights,
                    cache,
                )?;
            }
        }
        Ok(())
    }

    fn fill_cspace<'s>(
        &mut self,
        system: &mut System<'s>,
        ci: usize,
    ) -> Result<(), BuildError<'s>> {
        let spec = system.spec;
        let c = &spec.components[ci];
        let component = name_of(&spec, c);
        let cnode = system.objects[c.cnode.get() as usize].first;
        for cap in spec.caps_of(c) {
            let dest = Slot::new(cnode, u64::from(cap.slot.get()), c.cnode_bits);
            let rights = cap_rights(cap.rights);
            let badge = cap.badge.get();
            let object = |o: u32| system.objects.get(o as usize).map(|x| x.first);
            let fail = |what, error| BuildError::Invocation {
                what,
                component,
                error,
            };
            match CapKind::from_u8(cap.kind) {
                Some(CapKind::FaultEndpoint)
                | Some(CapKind::Notification)
                | Some(CapKind::NotificationSend) => {
                    let src = object(cap.object.get())
                        .ok_or(fail("finding the cap's object", sel4::Error::FAILED_LOOKUP))?;
                    let data = sel4::cap::badge_data(badge).ok_or(fail(
                        "badging a cap",
                        sel4::Error(sel4::sys::error::RangeError),
                    ))?;
                    sel4::cnode::mint(dest, Slots::slot(src), rights, data)
                        .map_err(|e| fail("minting a badged cap", e))?;
                }
                Some(CapKind::IoPort) => {
                    // The badge is the port range, `first << 16 | last`.
                    sel4::cnode::mint(
                        dest,
                        Slot::new(init_cap::InitThreadCNode, init_cap::IOPort, ROOT_DEPTH),
                        rights,
                        badge,
                    )
                    .map_err(|e| fail("minting an IO port range", e))?;
                }
                Some(CapKind::IrqHandler) => {
                    let handler = self.irq_handler(system, cap.object.get() as usize, component)?;
                    sel4::cnode::copy(dest, Slots::slot(handler), rights)
                        .map_err(|e| fail("handing over an IRQ handler", e))?;
                }
                _ => {
                    return Err(BuildError::Unsupported {
                        component,
                        what: "a cap of this kind for a component",
                    })
                }
            }
        }
        Ok(())
    }

    /// Issues the handler of IRQ record `index` and binds it to the badged
    /// notification the plan names; returns the root task's handler cap.
    fn irq_handler<'s>(
        &mut self,
        system: &mut System<'s>,
        index: usize,
        component: &'s str,
    ) -> Result<CPtr, BuildError<'s>> {
        let fail = |what, error| BuildError::Invocation {
            what,
            component,
            error,
        };
        let irq = system
            .spec
            .irqs
            .get(index)
            .ok_or(fail("finding the IRQ", sel4::Error::FAILED_LOOKUP))?;
        let no_slot = |_| {
            fail(
                "finding a slot",
                sel4::Error(sel4::sys::error::NotEnoughMemory),
            )
        };
        let handler = self.slots.take(1).map_err(no_slot)?;
        let vector = u64::from(irq.vector.get());
        match IrqKind::from_u8(irq.kind) {
            Some(IrqKind::IoApic) => sel4::irq::get_ioapic(
                init_cap::IRQControl,
                Slots::slot(handler),
                0,
                u64::from(irq.pin.get()),
                if irq.level != 0 {
                    sel4::irq::Trigger::Level
                } else {
                    sel4::irq::Trigger::Edge
                },
                if irq.polarity != 0 {
                    sel4::irq::Polarity::ActiveLow
                } else {
                    sel4::irq::Polarity::ActiveHigh
                },
                vector,
            ),
            Some(IrqKind::Msi) => {
                let found = *self.found(irq.pci.get(), component)?;
                let bdf = found.bdf;
                let issued = sel4::irq::get_msi(
                    init_cap::IRQControl,
                    Slots::slot(handler),
                    bdf.bus.into(),
                    bdf.dev.into(),
                    bdf.func.into(),
                    u64::from(irq.pin.get()),
                    vector,
                );
                if issued.is_ok() {
                    pci::program_msi(bdf, irq.vector.get(), component).map_err(BuildError::Pci)?;
                }
                issued
            }
            None => {
                return Err(BuildError::Unsupported {
                    component,
                    what: "an IRQ of unknown kind",
                })
            }
        }
        .map_err(|e| fail("issuing the IRQ handler", e))?;
        let ntfn = system
            .objects
            .get(irq.notification.get() as usize)
            .ok_or(fail(
                "finding the IRQ's notification",
                sel4::Error::FAILED_LOOKUP,
            ))?
            .first;
        let badged = self.slots.take(1).map_err(no_slot)?;
        let data = sel4::cap::badge_data(irq.badge.get()).ok_or(fail(
            "badging the IRQ",
            sel4::Error(sel4::sys::error::RangeError),
        ))?;
        sel4::cnode::mint(
            Slots::slot(badged),
            Slots::slot(ntfn),
            CapRights::WRITE,
            data,
        )
        .map_err(|e| fail("minting the IRQ's notification", e))?;
        sel4::irq::set_notification(handler, badged)
            .map_err(|e| fail("IRQHandler_SetNotification", e))?;
        system.irq_handlers[index] = handler;
        Ok(handler)
    }

    fn configure_thread(&mut self, system: &System, ci: usize) -> Result<(), sel4::Error> {
        let spec = system.spec;
        let c = &spec.components[ci];
        let obj = |o: u32| system.objects[o as usize].first;
        let fault_slot = spec
            .caps_of(c)
            .iter()
            .find(|cap| cap.kind == CapKind::FaultEndpoint as u8)
            .map_or(0, |cap| u64::from(cap.slot.get()));
        let word_bits = constants::WordBits as u64;
        sel4::tcb::configure(
            obj(c.tcb.get()),
            fault_slot,
            0,
            c.priority,
            obj(c.cnode.get()),
            sel4::cap::guard_data(0, word_bits - u64::from(c.cnode_bits)),
            obj(c.vspace.get()),
            c.ipc_buffer.get(),
            obj(c.ipc_buffer_object.get()),
        )?;
        write_start_registers(system, ci)
    }
}

/// Sets a component's registers for a fresh start (without resuming it).
pub fn write_start_registers(system: &System, ci: usize) -> Result<(), sel4::Error> {
    let c = &system.spec.components[ci];
    let regs = UserContext {
        rip: system.running[ci].entry,
        rsp: c.stack_top.get(),
        rdi: INFO_VADDR,
        rsi: c.ipc_buffer.get(),
        ..UserContext::default()
    };
    sel4::tcb::write_registers(system.objects[c.tcb.get() as usize].first, false, &regs)
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

/// Records component `ci`'s restart generation on the status page.
pub fn set_generation(
    scratch: &mut Scratch,
    system: &System,
    ci: usize,
    generation: u64,
) -> Result<(), abi::InfoError> {
    let name = name_of(&system.spec, &system.spec.components[ci]);
    scratch
        .with_frame(system.status_frame, |page| {
            abi::write_status_entry(page, ci, name, generation)
        })
        .unwrap_or(Err(abi::InfoError::TooShort))
}

/// Purposes whose memory a restart wipes: the component's private state.
pub fn wiped_on_restart(purpose: u8) -> bool {
    matches!(
        MapPurpose::from_u8(purpose),
        Some(MapPurpose::IpcBuffer | MapPurpose::Stack | MapPurpose::Heap)
    )
}
