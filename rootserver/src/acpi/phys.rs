//! Physical memory, read through frames the root task retypes from the
//! device untypeds that cover it and maps, one at a time and read-only, at
//! its scratch window.
//!
//! Retype hands out an untyped's memory in address order only, and ACPI
//! tables point at each other in any order (SeaBIOS puts the DSDT below
//! the RSDT that leads to it). So each page's frame is kept once made,
//! and the first page read in an untyped brings frames for up to
//! [`KEEP_BELOW`] pages below it too, which a later, lower table can then
//! be read from. This runs before any BAR or MSI-X table is mapped, so it
//! takes no device memory those need (ACPI tables and the BIOS area lie in
//! other untypeds than PCI memory anyway).

use super::tables::Memory;
use super::{MemoryError, MAX_PAGES};
use crate::scratch::Scratch;
use crate::slots::Slots;
use crate::untyped::{AllocError, Allocator};
use sel4::CPtr;

const PAGE: u64 = 4096;
/// Pages below the first one read in an untyped that get frames too.
pub const KEEP_BELOW: u64 = 32;

pub struct PhysMemory<'a> {
    alloc: &'a mut Allocator,
    slots: &'a mut Slots,
    scratch: &'a mut Scratch,
    /// The frame of each page made so far, by physical address.
    pages: heapless::Vec<(u64, CPtr), MAX_PAGES>,
}

impl<'a> PhysMemory<'a> {
    pub fn new(
        alloc: &'a mut Allocator,
        slots: &'a mut Slots,
        scratch: &'a mut Scratch,
    ) -> PhysMemory<'a> {
        PhysMemory {
            alloc,
            slots,
            scratch,
            pages: heapless::Vec::new(),
        }
    }

    /// The frame of the page at `page`, made (with the pages below it
    /// still available, up to [`KEEP_BELOW`]) if it was not yet.
    fn frame(&mut self, page: u64) -> Result<CPtr, MemoryError> {
        if let Some(&(_, frame)) = self.pages.iter().find(|(p, _)| *p == page) {
            return Ok(frame);
        }
        let gone = MemoryError::Alloc(AllocError::NoDeviceMemory {
            paddr: page,
            pages: 1,
        });
        let next = self.alloc.device_next(page).ok_or(gone)?;
        if next > page {
            return Err(gone);
        }
        let start = next.max(page.saturating_sub(KEEP_BELOW * PAGE));
        let count = (page - start) / PAGE + 1;
        if self.pages.len() as u64 + count > MAX_PAGES as u64 {
            return Err(MemoryError::TooManyPages);
        }
        let first = self
            .alloc
            .alloc_device_frames(self.slots, start, count)
            .map_err(MemoryError::Alloc)?;
        for i in 0..count {
            // Cannot fail: the capacity was checked above.
            let _ = self.pages.push((start + i * PAGE, first + i));
        }
        Ok(first + count - 1)
    }
}

impl Memory for PhysMemory<'_> {
    fn read(&mut self, paddr: u64, buf: &mut [u8]) -> Result<(), MemoryError> {
        let mut done = 0;
        while done < buf.len() {
            let at = paddr
                .checked_add(done as u64)
                .ok_or(MemoryError::Unbacked)?;
            let page = at & !(PAGE - 1);
            let offset = (at - page) as usize;
            let n = (PAGE as usize - offset).min(buf.len() - done);
            let frame = self.frame(page)?;
            self.scratch
                .read_frame(frame, offset, &mut buf[done..done + n])
                .map_err(MemoryError::Map)?;
            done += n;
        }
        Ok(())
    }
}
