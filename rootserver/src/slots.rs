//! The root task's own CSpace: a bump allocator over the empty slots the
//! kernel reported. Boot-time objects are never freed, so nothing more is
//! needed; running out is an error naming what was being made.

use core::ops::Range;
use sel4::bootinfo::init_cap;
use sel4::cnode::Slot;
use sel4::CPtr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfSlots {
    pub wanted: u64,
    pub left: u64,
}

/// The root CNode cap's guard and radix together cover the whole word, so
/// its slots are addressed at full depth (and CPtrs are slot numbers).
pub const ROOT_DEPTH: u8 = sel4::sys::constants::WordBits as u8;

pub struct Slots {
    next: CPtr,
    end: CPtr,
}

impl Slots {
    pub fn new(empty: Range<CPtr>) -> Slots {
        Slots {
            next: empty.start,
            end: empty.end,
        }
    }

    /// `count` consecutive slots; returns the first.
    pub fn take(&mut self, count: u64) -> Result<CPtr, OutOfSlots> {
        let left = self.end - self.next;
        if count > left {
            return Err(OutOfSlots {
                wanted: count,
                left,
            });
        }
        let first = self.next;
        self.next += count;
        Ok(first)
    }

    /// How many slots are still free.
    pub fn left(&self) -> u64 {
        self.end - self.next
    }

    /// A slot of the root CNode as a CNode invocation addresses it.
    pub fn slot(cptr: CPtr) -> Slot {
        Slot::new(init_cap::InitThreadCNode, cptr, ROOT_DEPTH)
    }
}
