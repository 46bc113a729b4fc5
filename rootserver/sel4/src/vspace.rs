//! x86_64 address spaces: paging structures, frames and ASID pools.

use crate::invoke::invoke;
use crate::sys::invocation as label;
use crate::{CPtr, CapRights, Result, Word};

/// `seL4_X86_VMAttributes` (x86 `types.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cacheability {
    WriteBack = 0,
    CacheDisabled = 2,
}

/// `seL4_X86_PDPT_Map` into a PML4.
pub fn map_pdpt(pdpt: CPtr, pml4: CPtr, vaddr: Word) -> Result<()> {
    invoke(pdpt, label::X86PDPTMap, &[vaddr, 0], &[pml4]).map(drop)
}

/// `seL4_X86_PageDirectory_Map`.
pub fn map_page_directory(pd: CPtr, vspace: CPtr, vaddr: Word) -> Result<()> {
    invoke(pd, label::X86PageDirectoryMap, &[vaddr, 0], &[vspace]).map(drop)
}

/// `seL4_X86_PageTable_Map`.
pub fn map_page_table(pt: CPtr, vspace: CPtr, vaddr: Word) -> Result<()> {
    invoke(pt, label::X86PageTableMap, &[vaddr, 0], &[vspace]).map(drop)
}

/// `seL4_X86_Page_Map`.
pub fn map_page(
    frame: CPtr,
    vspace: CPtr,
    vaddr: Word,
    rights: CapRights,
    cache: Cacheability,
) -> Result<()> {
    invoke(
        frame,
        label::X86PageMap,
        &[vaddr, rights.0, cache as Word],
        &[vspace],
    )
    .map(drop)
}

/// `seL4_X86_Page_Unmap`.
pub fn unmap_page(frame: CPtr) -> Result<()> {
    invoke(frame, label::X86PageUnmap, &[], &[]).map(drop)
}

/// `seL4_X86_Page_GetAddress`: the frame's physical address.
pub fn page_address(frame: CPtr) -> Result<Word> {
    invoke(frame, label::X86PageGetAddress, &[], &[]).map(|r| r.mrs[0])
}

/// `seL4_X86_ASIDPool_Assign`: gives a VSpace root an ASID.
pub fn asid_pool_assign(pool: CPtr, vspace: CPtr) -> Result<()> {
    invoke(pool, label::X86ASIDPoolAssign, &[], &[vspace]).map(drop)
}
