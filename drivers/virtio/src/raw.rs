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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::layout::{avail_ring_bytes, descriptor_table_bytes, used_ring_bytes};

    /// 256 bytes standing in for a BAR.
    #[repr(C, align(4096))]
    struct Page([u8; 256]);

    #[test]
    fn a_mapped_region_stays_inside_its_mapping() {
        let mut page = Page([0; 256]);
        let base = NonNull::new(page.0.as_mut_ptr()).unwrap();
        // SAFETY: `page` outlives `r` and is only accessed through it.
        let r = unsafe { MappedRegion::new(base, 64) };
        r.write32(0x10, 0x1234_5678);
        r.write64(0x20, 0x1122_3344_5566_7788);
        assert_eq!(
            (r.read32(0x10), r.read16(0x12), r.read8(0x13)),
            (0x1234_5678, 0x1234, 0x12)
        );
        assert_eq!(r.read64(0x20), 0x1122_3344_5566_7788);
        // Past the end, straddling it, misaligned, or at an offset that
        // would overflow: all ones, and nothing written.
        assert_eq!(r.read32(64), u32::MAX);
        assert_eq!(r.read32(62), u32::MAX);
        assert_eq!(r.read32(0x11), u32::MAX);
        assert_eq!(r.read16(u64::MAX), u16::MAX);
        r.write32(64, 0xdead_beef);
        r.write16(0x11, 0xbeef);
        r.write8(u64::MAX, 1);
        // `r` is not used again: the page is read directly from here on.
        assert!(page.0[64..].iter().all(|&b| b == 0));
        assert_eq!(page.0[0x11], 0x56);
    }

    #[test]
    fn raw_queue_memory_is_checked() {
        let mut page = Page([0; 256]);
        let p = page.0.as_mut_ptr();
        let part = |offset: usize, len: usize, iova: u64| Part {
            vaddr: p.wrapping_add(offset),
            len,
            iova: Iova(iova),
        };
        let (d, a, u) = (
            descriptor_table_bytes(4),
            avail_ring_bytes(4),
            used_ring_bytes(4),
        );
        // SAFETY (all calls): the parts lie in `page`, which outlives the
        // views and is touched only through them; they do not overlap.
        let ok = unsafe {
            QueueMemory::from_raw(
                part(0, d, 0x1000),
                part(64, a, 0x2000),
                part(96, u, 0x3000),
                4,
            )
        };
        assert_eq!(ok.map(|m| m.capacity()), Ok(4));
        let misaligned = unsafe {
            QueueMemory::from_raw(
                part(8, d, 0x1000),
                part(80, a, 0x2000),
                part(96, u, 0x3000),
                4,
            )
        };
        assert!(matches!(
            misaligned,
            Err(LayoutError::Misaligned {
                part: "descriptor table",
                ..
            })
        ));
        let short = unsafe {
            QueueMemory::from_raw(
                part(0, d, 0x1000),
                part(64, a, 0x2000),
                part(96, u - 1, 0x3000),
                4,
            )
        };
        assert_eq!(
            short.err(),
            Some(LayoutError::TooSmall {
                needed: u,
                given: u - 1
            })
        );
        let bad_iova = unsafe {
            QueueMemory::from_raw(
                part(0, d, 0x1008),
                part(64, a, 0x2000),
                part(96, u, 0x3000),
                4,
            )
        };
        assert!(matches!(
            bad_iova,
            Err(LayoutError::Misaligned {
                address: 0x1008,
                ..
            })
        ));
        let bad_size =
            unsafe { QueueMemory::from_raw(part(0, d, 0), part(64, a, 0), part(96, u, 0), 3) };
        assert_eq!(bad_size.err(), Some(LayoutError::BadQueueSize { size: 3 }));
        let slots = unsafe { RequestMemory::from_raw(part(128, 128, 0x4000), 4) };
        assert_eq!(slots.map(|s| s.len()), Ok(4));
        let slots = unsafe { RequestMemory::from_raw(part(128, 100, 0x4000), 4) };
        assert!(matches!(slots, Err(LayoutError::TooSmall { .. })));
    }
}
