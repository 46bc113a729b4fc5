//! Paging structures of one address space, made on demand.
//!
//! The plan names the structures of its own regions; the root task adds
//! those an ELF segment or the info page needs. Either way a structure is
//! recorded here once mapped, so each level is made at most once.

use crate::slots::Slots;
use crate::untyped::{AllocError, Allocator};
use sel4::sys::{constants, object_type};
use sel4::{CPtr, Word};

/// Structures one address space may hold: the planned layout uses a
/// handful, ELF segments a few more (the shared limit host validation
/// checks).
const MAX_TABLES: usize = paddock_spec::limits::MAX_PAGING_TABLES;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Covers 512 GiB.
    Pdpt,
    /// Covers 1 GiB.
    PageDirectory,
    /// Covers 2 MiB.
    PageTable,
}

impl Level {
    pub fn shift(self) -> u32 {
        match self {
            Level::Pdpt => 39,
            Level::PageDirectory => 30,
            Level::PageTable => 21,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PagingError {
    Alloc(AllocError),
    Map {
        level: Level,
        vaddr: Word,
        error: sel4::Error,
    },
    TooManyTables,
}

impl core::fmt::Display for PagingError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PagingError::Alloc(e) => write!(f, "{e}"),
            PagingError::Map {
                level,
                vaddr,
                error,
            } => {
                write!(f, "mapping a {level:?} at {vaddr:#x}: {error}")
            }
            PagingError::TooManyTables => f.write_str("too many paging structures"),
        }
    }
}

impl From<AllocError> for PagingError {
    fn from(e: AllocError) -> Self {
        PagingError::Alloc(e)
    }
}

/// The structures mapped in one VSpace, by level and the vaddr bits above
/// the level's reach.
pub struct Paging {
    pub vspace: CPtr,
    tables: heapless::Vec<(Level, Word), MAX_TABLES>,
}

impl Paging {
    pub fn new(vspace: CPtr) -> Paging {
        Paging {
            vspace,
            tables: heapless::Vec::new(),
        }
    }

    fn has(&self, level: Level, vaddr: Word) -> bool {
        let key = vaddr >> level.shift();
        self.tables.iter().any(|&(l, k)| l == level && k == key)
    }

    /// Maps the structure `cap` of `level` covering `vaddr`, and records
    /// it.
    pub fn map_table(&mut self, level: Level, cap: CPtr, vaddr: Word) -> Result<(), PagingError> {
        let vaddr = vaddr & !((1 << level.shift()) - 1);
        let mapped = match level {
            Level::Pdpt => sel4::vspace::map_pdpt(cap, self.vspace, vaddr),
            Level::PageDirectory => sel4::vspace::map_page_directory(cap, self.vspace, vaddr),
            Level::PageTable => sel4::vspace::map_page_table(cap, self.vspace, vaddr),
        };
        mapped.map_err(|error| PagingError::Map {
            level,
            vaddr,
            error,
        })?;
        self.tables
            .push((level, vaddr >> level.shift()))
            .map_err(|_| PagingError::TooManyTables)
    }

    /// Makes and maps whatever structures a page at `vaddr` still lacks.
    pub fn ensure(
        &mut self,
        alloc: &mut Allocator,
        slots: &mut Slots,
        vaddr: Word,
    ) -> Result<(), PagingError> {
        for level in [Level::Pdpt, Level::PageDirectory, Level::PageTable] {
            if self.has(level, vaddr) {
                continue;
            }
            let (ty, bits) = match level {
                Level::Pdpt => (object_type::X86_PDPTObject, constants::PDPTBits),
                Level::PageDirectory => {
                    (object_type::X86_PageDirectoryObject, constants::PageDirBits)
                }
                Level::PageTable => (object_type::X86_PageTableObject, constants::PageTableBits),
            };
            let cap = alloc.alloc(slots, ty, 0, bits as u8, 1)?;
            self.map_table(level, cap, vaddr)?;
        }
        Ok(())
    }
}
