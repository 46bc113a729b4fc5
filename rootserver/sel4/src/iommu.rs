//! VT-d: IO page tables and frames mapped into a device's IOSpace.
//!
//! These methods exist only on IOMMU kernels; elsewhere they fail with
//! IllegalOperation without reaching the kernel, because their labels are
//! not part of the interface.

#[cfg(sel4_iommu)]
use crate::invoke::invoke;
#[cfg(sel4_iommu)]
use crate::sys::invocation as label;
use crate::{CPtr, CapRights, Result, Word};

/// `seL4_X86_IOPageTable_Map`. Call it once per IO page-table level (the
/// bootinfo's `numIOPTLevels`) for each IOVA range; the first installs the
/// device's context entry.
pub fn map_io_page_table(iopt: CPtr, iospace: CPtr, iova: Word) -> Result<()> {
    #[cfg(sel4_iommu)]
    return invoke(iopt, label::X86IOPageTableMap, &[iova], &[iospace]).map(drop);
    #[cfg(not(sel4_iommu))]
    {
        let _ = (iopt, iospace, iova);
        Err(crate::Error::ILLEGAL_OPERATION)
    }
}

/// `seL4_X86_Page_MapIO`: makes `frame` visible to the device at `iova`.
pub fn map_io(frame: CPtr, iospace: CPtr, rights: CapRights, iova: Word) -> Result<()> {
    #[cfg(sel4_iommu)]
    return invoke(frame, label::X86PageMapIO, &[rights.0, iova], &[iospace]).map(drop);
    #[cfg(not(sel4_iommu))]
    {
        let _ = (frame, iospace, rights, iova);
        Err(crate::Error::ILLEGAL_OPERATION)
    }
}

/// The IO page table object type and its size in bits, on IOMMU kernels
/// (the type does not exist elsewhere).
pub const IO_PAGE_TABLE_OBJECT: Option<(Word, usize)> = {
    #[cfg(sel4_iommu)]
    {
        Some((
            crate::sys::object_type::X86_IOPageTableObject,
            crate::sys::constants::IOPageTableBits,
        ))
    }
    #[cfg(not(sel4_iommu))]
    {
        None
    }
};
