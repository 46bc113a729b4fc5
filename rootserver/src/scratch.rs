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

    /// Maps `frame` read-only at the window, copies the bytes from
    /// `offset` into `buf`, and unmaps it: a byte copy out of memory the
    /// root task only reads (ACPI tables, in device untypeds). A range
    /// past the page is refused (RangeError) without mapping anything.
    pub fn read_frame(
        &mut self,
        frame: CPtr,
        offset: usize,
        buf: &mut [u8],
    ) -> Result<(), sel4::Error> {
        if offset.checked_add(buf.len()).is_none_or(|end| end > PAGE) {
            return Err(sel4::Error(sel4::sys::error::RangeError));
        }
        sel4::vspace::map_page(
            frame,
            init_cap::InitThreadVSpace,
            WINDOW,
            CapRights::READ,
            Cacheability::WriteBack,
        )?;
        // SAFETY: the frame was just mapped readable at WINDOW, page
        // aligned; `offset + buf.len()` was checked to lie inside the page;
        // `buf` is the caller's memory, never the window, so the ranges do
        // not overlap. The copy ends before the unmap below.
        unsafe {
            core::ptr::copy_nonoverlapping(
                (WINDOW as usize + offset) as *const u8,
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        sel4::vspace::unmap_page(frame)?;
        Ok(())
    }

    /// Maps a device `frame` uncached at the window, runs `f` with
    /// volatile access to it, and unmaps it: device registers must see
    /// each access, in order.
    pub fn with_device_frame<R>(
        &mut self,
        frame: CPtr,
        f: impl FnOnce(&mut DeviceWindow) -> R,
    ) -> Result<R, sel4::Error> {
        sel4::vspace::map_page(
            frame,
            init_cap::InitThreadVSpace,
            WINDOW,
            CapRights::READ_WRITE,
            Cacheability::CacheDisabled,
        )?;
        let result = f(&mut DeviceWindow { _mapped: () });
        sel4::vspace::unmap_page(frame)?;
        Ok(result)
    }
}

/// A device page mapped at the window (only made by
/// [`Scratch::with_device_frame`], for the duration of its closure).
pub struct DeviceWindow {
    _mapped: (),
}

impl DeviceWindow {
    /// Writes a dword at `offset`; an offset past the page or unaligned
    /// is dropped (callers compute offsets inside the page).
    pub fn write32(&mut self, offset: usize, value: u32) {
        if offset + 4 > PAGE || !offset.is_multiple_of(4) {
            return;
        }
        // SAFETY: a DeviceWindow exists only while a frame is mapped
        // read-write at WINDOW; the offset was checked to be an aligned
        // dword inside that page.
        unsafe { core::ptr::write_volatile((WINDOW as usize + offset) as *mut u32, value) }
    }
}
