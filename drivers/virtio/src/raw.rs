//! Attaching to memory by address: the crate's only unsafe code.
//!
//! A component learns where the root task mapped its BAR and its DMA
//! windows as addresses; these constructors turn them into the safe views
//! the rest of the crate works on. Device registers are only touched with
//! volatile accesses inside the mapping; shared memory only through
//! atomics, so whatever the device writes is a value to check, never
//! undefined behaviour.
#![allow(unsafe_code)]

use core::ptr::NonNull;
use core::sync::atomic::AtomicU16;

use crate::blk::request::{RequestMemory, RequestSlot};
use crate::error::LayoutError;
use crate::mmio::Mmio;
use crate::queue::layout::{
    align, check_aligned, AvailRing, Descriptor, QueueIovas, QueueMemory, UsedElem, UsedRing,
};
use crate::Iova;

/// A BAR mapping (or the part of one the plan maps), accessed with
/// volatile loads and stores. An access outside it, or not aligned to its
/// width, reads as all ones and writes nothing (what a PCI read that no
/// device claims returns), so even a wrong offset stays inside the
/// mapping.
#[derive(Debug)]
pub struct MappedRegion {
    base: NonNull<u8>,
    size: usize,
}

impl MappedRegion {
    /// The `size` bytes at `base`.
    ///
    /// # Safety
    ///
    /// `base..base + size` must be an uncached mapping of device registers
    /// in this address space that stays mapped for as long as the
    /// `MappedRegion` exists, and nothing else in this program may treat it
    /// as ordinary memory.
    pub unsafe fn new(base: NonNull<u8>, size: usize) -> MappedRegion {
        MappedRegion { base, size }
    }

    /// The address of a `T` at `offset`, if it lies within the region and
    /// is aligned for `T`.
    fn at<T>(&self, offset: u64) -> Option<*mut T> {
        let width = core::mem::size_of::<T>();
        let offset = usize::try_from(offset).ok()?;
        let end = offset.checked_add(width)?;
        let address = (self.base.as_ptr() as usize).checked_add(offset)?;
        (end <= self.size && address.is_multiple_of(width))
            // Derived from `base` with `add`, so it keeps its provenance.
            .then(|| self.base.as_ptr().wrapping_add(offset).cast::<T>())
    }

    fn read<T: Copy>(&self, offset: u64, outside: T) -> T {
        match self.at::<T>(offset) {
            // SAFETY: `at` checked that the `T` lies inside the mapping
            // `new`'s contract guarantees and is aligned; registers need
            // volatile so each access reaches the device exactly once.
            Some(p) => unsafe { p.read_volatile() },
            None => outside,
        }
    }

    fn write<T: Copy>(&self, offset: u64, value: T) {
        if let Some(p) = self.at::<T>(offset) {
            // SAFETY: as in `read`.
            unsafe { p.write_volatile(value) }
        }
    }
}

impl Mmio for MappedRegion {
    fn size(&self) -> u64 {
        self.size as u64
    }
    fn read8(&self, offset: u64) -> u8 {
        self.read(offset, u8::MAX)
    }
    fn read16(&self, offset: u64) -> u16 {
        u16::from_le(self.read(offset, u16::MAX))
    }
    fn read32(&self, offset: u64) -> u32 {
        u32::from_le(self.read(offset, u32::MAX))
    }
    fn write8(&self, offset: u64, value: u8) {
        self.write(offset, value)
    }
    fn write16(&self, offset: u64, value: u16) {
        self.write(offset, value.to_le())
    }
    fn write32(&self, offset: u64, value: u32) {
        self.write(offset, value.to_le())
    }
}

/// The driver's address of one part of a queue, with the IOVA the device
/// reaches it at.
#[derive(Clone, Copy, Debug)]
pub struct Part {
    /// Where this component mapped it.
    pub vaddr: *mut u8,
    /// Bytes mapped there.
    pub len: usize,
    /// Where the device reaches it.
    pub iova: Iova,
}

impl<'a> QueueMemory<'a> {
    /// A queue of `size` entries whose descriptor table, available ring and
    /// used ring the driver mapped at the given addresses and the device
    /// reaches at the given IOVAs. Sizes and alignments are checked.
    ///
    /// # Safety
    ///
    /// For all of `'a`, each part's `len` bytes at `vaddr` must stay mapped
    /// readable and writable, must not overlap each other, and must be
    /// accessed in this address space only through views made here. The
    /// device may write anything there at any time: that is what the
    /// checks are for.
    pub unsafe fn from_raw(
        descriptors: Part,
        available: Part,
        used: Part,
        size: u16,
    ) -> Result<Self, LayoutError> {
        if !size.is_power_of_two() || size > crate::queue::layout::MAX_QUEUE_SIZE {
            return Err(LayoutError::BadQueueSize { size: size.into() });
        }
        let n = usize::from(size);
        let fits = |part: &'static str, p: Part, needed: usize, alignment: u64| {
            check_aligned(part, p.vaddr as u64, alignment)?;
            if p.len < needed {
                return Err(LayoutError::TooSmall {
                    needed,
                    given: p.len,
                });
            }
            Ok(())
        };
        fits(
            "descriptor table",
            descriptors,
            crate::queue::layout::descriptor_table_bytes(size),
            align::DESCRIPTORS,
        )?;
        fits(
            "available ring",
            available,
            crate::queue::layout::avail_ring_bytes(size),
            align::AVAIL,
        )?;
        fits(
            "used ring",
            used,
            crate::queue::layout::used_ring_bytes(size),
            align::USED,
        )?;
        // SAFETY: aligned for Descriptor (checked), `n` of them fit in the
        // part (checked), the caller guarantees the bytes stay valid for
        // `'a` and are touched only through these views, which are all
        // atomics; any bit pattern is a Descriptor (FromBytes).
        let table =
            unsafe { core::slice::from_raw_parts(descriptors.vaddr.cast::<Descriptor>(), n) };
        // SAFETY: as above for the available ring: a slice pointer of `n`
        // AtomicU16 cast to AvailRing keeps `n` as its ring's length, so
        // the view covers 4 + 2n bytes, within the checked 6 + 2n.
        let avail = unsafe {
            &*(core::ptr::slice_from_raw_parts_mut(available.vaddr.cast::<AtomicU16>(), n)
                as *mut AvailRing)
        };
        // SAFETY: as above: 4 + 8n bytes within the checked 6 + 8n.
        let used_ring = unsafe {
            &*(core::ptr::slice_from_raw_parts_mut(used.vaddr.cast::<UsedElem>(), n)
                as *mut UsedRing)
        };
        QueueMemory::new(
            table,
            avail,
            used_ring,
            QueueIovas {
                descriptors: descriptors.iova,
                available: available.iova,
                used: used.iova,
            },
        )
    }
}

impl<'a> RequestMemory<'a> {
    /// `count` request slots the driver mapped at `part.vaddr` and the
    /// device reaches at `part.iova`.
    ///
    /// # Safety
    ///
    /// As for [`QueueMemory::from_raw`]: the bytes stay mapped readable and
    /// writable for `'a` and are accessed in this address space only
    /// through the views made here.
    pub unsafe fn from_raw(part: Part, count: usize) -> Result<Self, LayoutError> {
        let needed = count
            .checked_mul(core::mem::size_of::<RequestSlot>())
            .ok_or(LayoutError::TooSmall {
                needed: usize::MAX,
                given: part.len,
            })?;
        check_aligned(
            "request slots",
            part.vaddr as u64,
            core::mem::align_of::<RequestSlot>() as u64,
        )?;
        if part.len < needed {
            return Err(LayoutError::TooSmall {
                needed,
                given: part.len,
            });
        }
        // SAFETY: aligned and large enough (checked); the caller's
        // guarantees as in QueueMemory::from_raw; RequestSlot is all
        // atomics and accepts any bit pattern.
        let slots = unsafe { core::slice::from_raw_parts(part.vaddr.cast::<RequestSlot>(), count) };
        RequestMemory::new(slots, part.iova)
    }
}
