//! Turning the spec into running components.
//!
//! The root task makes no policy decisions here: it creates the objects the
//! spec lists, in its order, maps what it says where it says, and puts each
//! cap in the slot it names. What the spec cannot know (the programs' ELF
//! segments, the info page) follows the component ABI in
//! `paddock_protocol::component`.

mod cspace;
pub mod msix;
mod objects;
mod program;

// For the fault handler, which restarts components (absent from host tests).
#[cfg_attr(test, allow(unused_imports))]
pub use program::{fill_program_page, set_generation, write_info_page};

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

// The capacities of the tables below are the limits host validation and
// the spec decoder enforce, so a spec that decoded always fits.
use paddock_spec::limits::{MAX_COMPONENTS, MAX_ELF_PAGES, MAX_IRQS, MAX_OBJECTS};

// Every component of the largest system has its status entry.
const _: () = assert!(abi::MAX_STATUS_ENTRIES >= MAX_COMPONENTS);
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
    /// Device memory declared by physical address that no device untyped
    /// offers (absent, kept by the kernel, or handed out already).
    DeviceMemory {
        component: &'a str,
        what: &'a str,
        paddr: u64,
        pages: u32,
        /// The lowest address still free in the device untyped covering
        /// `paddr`, if one does.
        next: Option<u64>,
        error: AllocError,
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
            BuildError::DeviceMemory {
                component,
                what,
                paddr,
                pages,
                next,
                error,
            } => match (error, next) {
                (AllocError::NoDeviceMemory { .. }, Some(next)) if *next > *paddr => write!(
                    f,
                    "component `{component}`: device memory `{what}` at {paddr:#x} ({pages} pages): \
                     its device untyped is handed out up to {next:#x} already; device memory comes \
                     out of an untyped in address order, so declare it in ascending order"
                ),
                (AllocError::NoDeviceMemory { .. }, _) => write!(
                    f,
                    "component `{component}`: device memory `{what}` at {paddr:#x} ({pages} pages): \
                     no one device untyped covers it (nothing decodes there, the kernel keeps it, or \
                     it straddles two untypeds)"
                ),
                _ => write!(
                    f,
                    "component `{component}`: device memory `{what}` at {paddr:#x}: {error}"
                ),
            },
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
    /// Never built: a device it drives is missing.
    pub refused: bool,
    /// How often a shared line's holder reported this component late.
    pub late_answers: u32,
    /// Faults since `window_start` (TSC), for the crash-loop budget.
    pub recent_faults: u32,
    pub window_start: u64,
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
    /// Where the MSI-X table and PBA of each programmed device are, by
    /// PCI record (for the dump's `msix` facts).
    pub msix: heapless::Vec<(u32, msix::MsixLayout), { pci::MAX_DEVICES }>,
}

pub static TABLES: BootCell<Tables> = BootCell::new(Tables {
    objects: heapless::Vec::new(),
    running: heapless::Vec::new(),
    irq_handlers: heapless::Vec::new(),
    iospaces: heapless::Vec::new(),
    msix: heapless::Vec::new(),
});

/// The built system.
pub struct System<'s> {
    pub spec: Spec<'s>,
    pub blob: Blob<'s>,
    /// The root task's cap to the fault endpoint (unbadged: it receives).
    pub fault_endpoint: CPtr,
    /// The first of the status pages every component maps read-only
    /// (original caps, consecutive).
    pub status_frames: CPtr,
    /// The caps each planned mapping's pages are mapped through, in one
    /// run of slots: spec mapping `i`'s page `p` is at `mapping_copies +`
    /// the pages of the mappings before `i` `+ p`. Kept so that the dump
    /// can ask the kernel which frame each mapping holds (see
    /// [`copy_slots`]). Slots of pages never mapped stay empty.
    pub mapping_copies: CPtr,
    /// The same for the IOSpace mappings (`spec.io_mappings`).
    pub io_copies: CPtr,
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

pub(super) fn page_rights(bits: u8) -> CapRights {
    CapRights::new(bits & MAP_READ != 0, bits & MAP_WRITE != 0, false)
}

/// Looks up a name in the string table for messages.
pub(super) fn name_of<'s>(spec: &Spec<'s>, c: &ComponentRecord) -> &'s str {
    spec.str(c.name)
}

pub struct Builder<'b> {
    pub alloc: &'b mut Allocator,
    pub slots: &'b mut Slots,
    pub scratch: &'b mut Scratch,
    /// The spec's PCI devices as found on the bus, in spec order (`None`:
    /// absent, and its driver is refused).
    pub pci: &'b [Option<pci::Found>],
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
            status_frames: 0,
            mapping_copies: 0,
            io_copies: 0,
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
                refused: false,
                late_answers: 0,
                recent_faults: 0,
                window_start: 0,
            });
        }
        // A component whose device is missing is refused: none of its
        // objects are made and it never runs; the others are built as
        // planned, less their caps to it.
        for (record, found) in spec.pci.iter().zip(self.pci) {
            if found.is_none() {
                if let Some(r) = system.running.get_mut(record.owner.get() as usize) {
                    r.refused = true;
                }
            }
        }
        let mut pages = |n: u64, what| {
            self.slots.take(n).map_err(|e| BuildError::Alloc {
                what,
                error: AllocError::Slots(e),
            })
        };
        system.mapping_copies = pages(
            spec.mappings.iter().map(|m| u64::from(m.pages.get())).sum(),
            "the mappings' caps",
        )?;
        system.io_copies = pages(
            spec.io_mappings
                .iter()
                .map(|m| u64::from(m.pages.get()))
                .sum(),
            "the IOSpace mappings' caps",
        )?;
        self.msix_check(&mut system);
        self.create_iospaces(&mut system)?;
        self.create_objects(&mut system)?;
        self.msix_program(&mut system)?;
        self.map_io(&mut system)?;
        self.create_status_page(&mut system)?;
        for (ci, c) in spec.components.iter().enumerate() {
            if system.running[ci].refused {
                continue;
            }
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

    pub(super) fn record<'s>(
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
    pub(super) fn found<'s>(
        &self,
        index: u32,
        what: &'s str,
    ) -> Result<&pci::Found, BuildError<'s>> {
        self.pci
            .get(index as usize)
            .and_then(Option::as_ref)
            .ok_or(BuildError::Unsupported {
                component: what,
                what: "a PCI reference to a device that is not there",
            })
    }

    /// Whether PCI record `index` names a device that was found.
    pub(super) fn present(&self, index: u32) -> bool {
        self.pci.get(index as usize).is_some_and(Option::is_some)
    }

    /// One fresh (zeroed) 4 KiB frame from RAM, for `what`.
    pub(super) fn new_frame<'s>(&mut self, what: &'s str) -> Result<CPtr, BuildError<'s>> {
        self.alloc
            .alloc(
                self.slots,
                object_type::X86_4K,
                0,
                constants::PageBits as u8,
                1,
            )
            .map_err(|error| BuildError::Alloc { what, error })
    }

    /// Maps `original` at `vaddr` through a copy in a fresh slot.
    pub(super) fn map_page<'s>(
        &mut self,
        running: &mut Running,
        component: &'s str,
        original: CPtr,
        vaddr: Word,
        rights: CapRights,
        cache: Cacheability,
    ) -> Result<(), BuildError<'s>> {
        let copy = self.slots.take(1).map_err(|e| BuildError::Alloc {
            what: component,
            error: AllocError::Slots(e),
        })?;
        let page = Page {
            original,
            copy,
            vaddr,
        };
        self.map_page_into(running, component, page, rights, cache)
    }

    /// Maps `page.original` at `page.vaddr` through a copy placed in the
    /// empty root slot `page.copy`.
    pub(super) fn map_page_into<'s>(
        &mut self,
        running: &mut Running,
        component: &'s str,
        page: Page,
        rights: CapRights,
        cache: Cacheability,
    ) -> Result<(), BuildError<'s>> {
        running
            .paging
            .ensure(self.alloc, self.slots, page.vaddr)
            .map_err(|error| BuildError::Paging { component, error })?;
        let invocation = |error| BuildError::Invocation {
            what: "mapping a page",
            component,
            error,
        };
        sel4::cnode::copy(
            Slots::slot(page.copy),
            Slots::slot(page.original),
            CapRights::ALL,
        )
        .map_err(invocation)?;
        sel4::vspace::map_page(page.copy, running.paging.vspace, page.vaddr, rights, cache)
            .map_err(invocation)
    }
}

/// One page to map: the frame's cap, the empty slot its mapping copy goes
/// in, and where.
#[derive(Clone, Copy, Debug)]
pub(super) struct Page {
    pub original: CPtr,
    pub copy: CPtr,
    pub vaddr: Word,
}

/// The first of the `pages` slots `spec.mappings[index]` (or, for
/// `io`, `spec.io_mappings[index]`) is mapped through: see
/// [`System::mapping_copies`].
pub fn copy_slots(system: &System, io: bool, index: usize) -> CPtr {
    let before: u64 = if io {
        system.spec.io_mappings[..index]
            .iter()
            .map(|m| u64::from(m.pages.get()))
            .sum()
    } else {
        system.spec.mappings[..index]
            .iter()
            .map(|m| u64::from(m.pages.get()))
            .sum()
    };
    before
        + if io {
            system.io_copies
        } else {
            system.mapping_copies
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

/// Purposes whose memory a restart wipes: the component's private state.
pub fn wiped_on_restart(purpose: u8) -> bool {
    matches!(
        MapPurpose::from_u8(purpose),
        Some(MapPurpose::IpcBuffer | MapPurpose::Stack | MapPurpose::Heap)
    )
}
