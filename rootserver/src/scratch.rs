//! A one-page window in the root task's own address space, through which
//! it fills frames before handing them to components (ELF segments, info
//! pages) and wipes them on a restart.

use crate::paging::{Paging, PagingError};
use crate::slots::Slots;
use crate::untyped::Allocator;
use sel4::bootinfo::init_cap;
use sel4::vspace::Cacheability;
use sel4::{CPtr, CapRights};

/// Far from the root task's image and bootinfo: PML4 slot 2, so every
/// structure on the way is the root task's own.
const WINDOW: u64 = 0x100_0000_0000;
const PAGE: usize = 4096;

pub struct Scratch {
    _paging: Paging,
}

impl Scratch {
    pub fn new(alloc: &mut Allocator, slots: &mut Slots) -> Result<Scratch, PagingError> {
        let mut paging = Paging::new(init_cap::InitThreadVSpace);
        paging.ensure(alloc, slots, WINDOW)?;
        Ok(Scratch { _paging: paging })
    }

    /// Maps `frame` (a cap mapped nowhere else) at the window, runs `f` on
    /// its bytes, and unmaps it.
    pub fn with_frame<R>(
        &mut self,
        frame: CPtr,
        f: impl FnOnce(&mut [u8; PAGE]) -> R,
    ) -> Result<R, sel4::Error> {
        sel4::vspace::map_page(
            frame,
            init_cap::InitThreadVSpace,
            WINDOW,
            CapRights::READ_WRITE,
            Cacheability::WriteBack,
        )?;
        // SAFETY: the frame was just mapped read-write at WINDOW, page
        // aligned, and nothing else in the root task aliases the window;
        // the reference ends before the unmap below.
        let result = f(unsafe { &mut *(WINDOW as *mut [u8; PAGE]) });
        sel4::vspace::unmap_page(frame)?;
        Ok(result)
    }
}
