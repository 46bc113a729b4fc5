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
    paddr: u64,
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
    /// No device untyped covers these physical pages (or they were handed
    /// out already).
    NoDeviceMemory {
        paddr: u64,
        pages: u64,
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
            AllocError::NoDeviceMemory { paddr, pages } => write!(
                f,
                "no device memory available at {paddr:#x} ({pages} pages)"
            ),
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
    /// Device memory (MMIO), handed out only at the addresses asked for.
    devices: heapless::Vec<Untyped, MAX_UNTYPEDS>,
    /// Bytes of RAM handed out, for the boot report.
    pub allocated: u64,
}

impl Allocator {
    /// Takes every RAM untyped of the bootinfo, smallest first.
    pub fn new(bi: &BootInfo) -> Allocator {
        let of_kind = |device: bool| -> heapless::Vec<Untyped, MAX_UNTYPEDS> {
            bi.untypeds()
                .filter(|u| u.is_device == device)
                .map(|u| Untyped {
                    slot: u.slot,
                    paddr: u.paddr,
                    size_bits: u.size_bits,
                    used: 0,
                })
                .collect()
        };
        let mut untypeds = of_kind(false);
        untypeds.sort_unstable_by_key(|u| u.size_bits);
        Allocator {
            untypeds,
            devices: of_kind(true),
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

impl Allocator {
    /// The lowest address [`Allocator::alloc_device_frames`] can still
    /// hand out in the device untyped that covers `paddr` (its memory goes
    /// in address order); `None` when no device untyped covers it.
    pub fn device_next(&self, paddr: u64) -> Option<u64> {
        self.devices
            .iter()
            .find(|u| u.paddr <= paddr && paddr - u.paddr < u.size())
            .map(|u| u.paddr + u.used)
    }

    /// Frames for the `pages` device pages at physical address `paddr`
    /// (a BAR), in consecutive new slots; returns the first.
    ///
    /// Retype hands out an untyped's memory in address order, so the
    /// device untyped covering `paddr` is first advanced to it with filler
    /// untypeds (into slots of their own, never used), each as large as
    /// alignment allows.
    pub fn alloc_device_frames(
        &mut self,
        slots: &mut Slots,
        paddr: u64,
        pages: u64,
    ) -> Result<CPtr, AllocError> {
        let page_bits = sel4::sys::constants::PageBits as u8;
        let missing = AllocError::NoDeviceMemory { paddr, pages };
        let bytes = pages.checked_mul(1 << page_bits).ok_or(missing)?;
        let i = self
            .devices
            .iter()
            .position(|u| {
                u.paddr <= paddr
                    && paddr
                        .checked_add(bytes)
                        .is_some_and(|end| end <= u.paddr + u.size())
            })
            .ok_or(missing)?;
        let target = paddr - self.devices[i].paddr;
        if self.devices[i].used > target || !target.is_multiple_of(1 << page_bits) {
            return Err(missing);
        }
        let min_bits = sel4::sys::constants::MinUntypedBits as u32;
        while self.devices[i].used < target {
            let used = self.devices[i].used;
            // The largest block aligned at `used` that does not pass `target`.
            let align = if used == 0 { 63 } else { used.trailing_zeros() };
            let fits = 63 - (target - used).leading_zeros();
            let bits = align.min(fits).max(min_bits) as u8;
            let filler = slots.take(1)?;
            sel4::untyped::retype(
                self.devices[i].slot,
                sel4::sys::object_type::UntypedObject,
                bits.into(),
                sel4::bootinfo::init_cap::InitThreadCNode,
                0,
                0,
                filler,
                1,
            )
            .map_err(AllocError::Retype)?;
            self.devices[i].used = used + (1 << bits);
        }
        let first = slots.take(pages)?;
        let max_batch = sel4::sys::constants::UntypedRetypeMaxObjects as u64;
        let mut done = 0;
        while done < pages {
            let n = (pages - done).min(max_batch);
            sel4::untyped::retype(
                self.devices[i].slot,
                sel4::sys::object_type::X86_4K,
                0,
                sel4::bootinfo::init_cap::InitThreadCNode,
                0,
                0,
                first + done,
                n,
            )
            .map_err(AllocError::Retype)?;
            done += n;
        }
        self.devices[i].used = target + bytes;
        Ok(first)
    }
}
