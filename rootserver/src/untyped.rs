//! Allocation of kernel objects from the boot untypeds.
//!
//! Boot untypeds start "fully used": the first retype from one resets it,
//! zeroing all of it (80-500 ms for a 128 MiB untyped under TCG). So an
//! object is always carved from the smallest RAM untyped that still has
//! room for it, and a large untyped is only touched once the small ones are
//! exhausted.

use crate::slots::{OutOfSlots, Slots};
use sel4::bootinfo::BootInfo;
use sel4::{CPtr, Word};

/// Most untypeds tracked; the bootinfo list holds at most this many.
const MAX_UNTYPEDS: usize = sel4::sys::config::MAX_NUM_BOOTINFO_UNTYPED_CAPS;

#[derive(Clone, Copy, Debug)]
struct Untyped {
    slot: CPtr,
    size_bits: u8,
    /// Bytes already handed out, from the untyped's start.
    used: u64,
}

impl Untyped {
    fn size(&self) -> u64 {
        1 << self.size_bits
    }
    /// Offset where an object of 2^bits bytes would go, if it fits.
    fn fit(&self, bits: u8) -> Option<u64> {
        let align = 1u64 << bits;
        let at = self.used.checked_add(align - 1)? & !(align - 1);
        (at.checked_add(align)? <= self.size()).then_some(at)
    }
}

/// Why an allocation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocError {
    /// No RAM untyped has room for an object of 2^bits bytes.
    OutOfMemory {
        bits: u8,
    },
    Slots(OutOfSlots),
    Retype(sel4::Error),
}

impl core::fmt::Display for AllocError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AllocError::OutOfMemory { bits } => {
                write!(f, "out of memory: no untyped has 2^{bits} bytes left")
            }
            AllocError::Slots(s) => write!(
                f,
                "out of root CNode slots: wanted {}, {} left",
                s.wanted, s.left
            ),
            AllocError::Retype(e) => write!(f, "Untyped_Retype failed: {e}"),
        }
    }
}

impl From<OutOfSlots> for AllocError {
    fn from(e: OutOfSlots) -> Self {
        AllocError::Slots(e)
    }
}

pub struct Allocator {
    untypeds: heapless::Vec<Untyped, MAX_UNTYPEDS>,
    /// Bytes of RAM handed out, for the boot report.
    pub allocated: u64,
}

impl Allocator {
    /// Takes every RAM untyped of the bootinfo, smallest first.
    pub fn new(bi: &BootInfo) -> Allocator {
        let mut untypeds: heapless::Vec<Untyped, MAX_UNTYPEDS> = bi
            .untypeds()
            .filter(|u| !u.is_device)
            .map(|u| Untyped {
                slot: u.slot,
                size_bits: u.size_bits,
                used: 0,
            })
            .collect();
        untypeds.sort_unstable_by_key(|u| u.size_bits);
        Allocator {
            untypeds,
            allocated: 0,
        }
    }

    /// Creates `count` objects of `object_type`, each of 2^`object_bits`
    /// bytes (`size_bits` is the retype's size argument, for types whose
    /// size varies), into consecutive new root CNode slots; returns the
    /// first slot.
    pub fn alloc(
        &mut self,
        slots: &mut Slots,
        object_type: Word,
        size_bits: Word,
        object_bits: u8,
        count: u64,
    ) -> Result<CPtr, AllocError> {
        let first = slots.take(count)?;
        let max_batch = sel4::sys::constants::UntypedRetypeMaxObjects as u64;
        let mut done = 0;
        while done < count {
            // Each batch from one untyped: as many as fit, up to the
            // kernel's fan-out limit.
            let (i, at) = self
                .untypeds
                .iter()
                .enumerate()
                .find_map(|(i, u)| u.fit(object_bits).map(|at| (i, at)))
                .ok_or(AllocError::OutOfMemory { bits: object_bits })?;
            let ut = &mut self.untypeds[i];
            let room = (ut.size() - at) >> object_bits;
            let n = room.min(count - done).min(max_batch);
            sel4::untyped::retype(
                ut.slot,
                object_type,
                size_bits,
                sel4::bootinfo::init_cap::InitThreadCNode,
                0,
                0,
                first + done,
                n,
            )
            .map_err(AllocError::Retype)?;
            ut.used = at + (n << object_bits);
            self.allocated += n << object_bits;
            done += n;
        }
        Ok(first)
    }
}
