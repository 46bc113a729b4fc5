//! The split virtqueue's shared memory (virtio 1.x, 2.7), defined once.
//!
//! ```text
//! part              size        align  written by
//! descriptor table  16 * N      16     driver: addr (IOVA), len, flags, next
//! available ring    6 + 2 * N   2      driver: flags, idx, ring[N] (used_event unused)
//! used ring         6 + 8 * N   4      device: flags, idx, ring[N] {id, len} (avail_event unused)
//! ```
//!
//! Every field is an atomic: the device writes this memory while the
//! driver holds references to it, so every word is a value to load and
//! check, never undefined behaviour. The zerocopy derives check that the
//! types have no padding and that any bytes are a valid value; all zero is
//! an empty queue. Fields are little-endian in memory (the `to_le` and
//! `from_le` calls cost nothing on x86).
//!
//! The driver may map these parts at one address and the device reach them
//! at another (its IOVA): a [`QueueMemory`] holds both, and only the IOVAs
//! are ever written to the device.

use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64};
use zerocopy::{FromBytes, IntoBytes, KnownLayout};

use crate::error::LayoutError;
use crate::Iova;

/// The largest split queue (virtio 1.x, 2.7).
pub const MAX_QUEUE_SIZE: u16 = 32768;

/// One descriptor: a segment of a buffer chain, as the device sees it.
#[derive(FromBytes, IntoBytes, KnownLayout)]
#[repr(C, align(16))]
pub struct Descriptor {
    /// Device-visible address (IOVA) of the segment.
    pub addr: AtomicU64,
    /// Bytes.
    pub len: AtomicU32,
    /// [`NEXT`](flags::NEXT), [`WRITE`](flags::WRITE).
    pub flags: AtomicU16,
    /// Index of the next descriptor when `flags` has NEXT.
    pub next: AtomicU16,
}

/// Descriptor and ring flags.
pub mod flags {
    /// Descriptor: the chain continues at `next`.
    pub const NEXT: u16 = 1;
    /// Descriptor: the device writes this segment (otherwise it reads it).
    pub const WRITE: u16 = 2;
    /// Available ring: the driver asks not to be interrupted.
    pub const NO_INTERRUPT: u16 = 1;
    /// Used ring: the device asks not to be notified.
    pub const NO_NOTIFY: u16 = 1;
}

/// The available ring: heads of chains the driver offers, in order.
#[derive(FromBytes, IntoBytes, KnownLayout)]
#[repr(C)]
pub struct AvailRing {
    /// [`NO_INTERRUPT`](flags::NO_INTERRUPT).
    pub flags: AtomicU16,
    /// Free-running count of entries the driver has made available.
    pub idx: AtomicU16,
    /// Chain heads, at `idx % N`.
    pub ring: [AtomicU16],
}

/// One completion in the used ring.
#[derive(FromBytes, IntoBytes, KnownLayout)]
#[repr(C)]
pub struct UsedElem {
    /// Head of the completed chain (a claim by the device, checked).
    pub id: AtomicU32,
    /// Bytes the device says it wrote (a claim, checked).
    pub len: AtomicU32,
}

/// The used ring: chains the device has finished with.
#[derive(FromBytes, IntoBytes, KnownLayout)]
#[repr(C)]
pub struct UsedRing {
    /// [`NO_NOTIFY`](flags::NO_NOTIFY).
    pub flags: AtomicU16,
    /// Free-running count of entries the device has written.
    pub idx: AtomicU16,
    /// Completions, at `idx % N`.
    pub ring: [UsedElem],
}

/// Bytes of a descriptor table of `size` entries.
pub const fn descriptor_table_bytes(size: u16) -> usize {
    16 * size as usize
}

/// Bytes of an available ring of `size` entries, `used_event` included.
pub const fn avail_ring_bytes(size: u16) -> usize {
    6 + 2 * size as usize
}

/// Bytes of a used ring of `size` entries, `avail_event` included.
pub const fn used_ring_bytes(size: u16) -> usize {
    6 + 8 * size as usize
}

/// Alignments of the three parts (virtio 1.x, 2.7).
pub mod align {
    /// Descriptor table.
    pub const DESCRIPTORS: u64 = 16;
    /// Available ring.
    pub const AVAIL: u64 = 2;
    /// Used ring.
    pub const USED: u64 = 4;
}

fn check_size(size: u16) -> Result<(), LayoutError> {
    if size.is_power_of_two() && size <= MAX_QUEUE_SIZE {
        Ok(())
    } else {
        Err(LayoutError::BadQueueSize { size: size.into() })
    }
}

fn too_small(needed: usize, given: usize) -> LayoutError {
    LayoutError::TooSmall { needed, given }
}

impl Descriptor {
    /// A table of `size` descriptors over the start of `bytes` (16-byte
    /// aligned). Safe: the exclusive borrow means nothing else in this
    /// address space touches the memory for `'a`.
    pub fn table_from_bytes(bytes: &mut [u8], size: u16) -> Result<&[Descriptor], LayoutError> {
        check_size(size)?;
        let given = bytes.len();
        check_aligned(
            "descriptor table",
            bytes.as_ptr() as u64,
            align::DESCRIPTORS,
        )?;
        <[Descriptor]>::mut_from_prefix_with_elems(bytes, size.into())
            .map(|(table, _)| &*table)
            .map_err(|_| too_small(descriptor_table_bytes(size), given))
    }
}

impl AvailRing {
    /// An available ring of `size` entries over the start of `bytes`
    /// (2-byte aligned, [`avail_ring_bytes`] long). Safe as
    /// [`Descriptor::table_from_bytes`] is.
    pub fn from_bytes(bytes: &mut [u8], size: u16) -> Result<&AvailRing, LayoutError> {
        check_size(size)?;
        if bytes.len() < avail_ring_bytes(size) {
            return Err(too_small(avail_ring_bytes(size), bytes.len()));
        }
        check_aligned("available ring", bytes.as_ptr() as u64, align::AVAIL)?;
        let given = bytes.len();
        AvailRing::mut_from_prefix_with_elems(bytes, size.into())
            .map(|(ring, _)| &*ring)
            .map_err(|_| too_small(avail_ring_bytes(size), given))
    }
}

impl UsedRing {
    /// A used ring of `size` entries over the start of `bytes` (4-byte
    /// aligned, [`used_ring_bytes`] long). Safe as
    /// [`Descriptor::table_from_bytes`] is.
    pub fn from_bytes(bytes: &mut [u8], size: u16) -> Result<&UsedRing, LayoutError> {
        check_size(size)?;
        if bytes.len() < used_ring_bytes(size) {
            return Err(too_small(used_ring_bytes(size), bytes.len()));
        }
        check_aligned("used ring", bytes.as_ptr() as u64, align::USED)?;
        let given = bytes.len();
        UsedRing::mut_from_prefix_with_elems(bytes, size.into())
            .map(|(ring, _)| &*ring)
            .map_err(|_| too_small(used_ring_bytes(size), given))
    }
}

pub(crate) fn check_aligned(
    part: &'static str,
    address: u64,
    alignment: u64,
) -> Result<(), LayoutError> {
    if address.is_multiple_of(alignment) {
        Ok(())
    } else {
        Err(LayoutError::Misaligned {
            part,
            address,
            alignment,
        })
    }
}

/// Where the device reaches the three parts: IOVAs in its IOSpace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueIovas {
    /// The descriptor table.
    pub descriptors: Iova,
    /// The available ring.
    pub available: Iova,
    /// The used ring.
    pub used: Iova,
}

/// A queue's memory: the driver's views of its three parts and the IOVAs
/// the device will be told.
#[derive(Clone, Copy)]
pub struct QueueMemory<'a> {
    pub(crate) descriptors: &'a [Descriptor],
    pub(crate) available: &'a AvailRing,
    pub(crate) used: &'a UsedRing,
    iovas: QueueIovas,
}

impl<'a> QueueMemory<'a> {
    /// Checks that the parts agree on their size (a power of two up to
    /// [`MAX_QUEUE_SIZE`]) and that each IOVA is aligned as its part needs
    /// and does not wrap. That the IOVAs really map these parts is the
    /// plan's promise: the driver cannot see the device's IOSpace.
    pub fn new(
        descriptors: &'a [Descriptor],
        available: &'a AvailRing,
        used: &'a UsedRing,
        iovas: QueueIovas,
    ) -> Result<Self, LayoutError> {
        let size = descriptors.len();
        if available.ring.len() != size || used.ring.len() != size {
            return Err(LayoutError::MismatchedParts {
                descriptors: size,
                available: available.ring.len(),
                used: used.ring.len(),
            });
        }
        let size = u16::try_from(size).map_err(|_| LayoutError::BadQueueSize { size })?;
        check_size(size)?;
        let parts = [
            (
                "descriptor table",
                iovas.descriptors,
                align::DESCRIPTORS,
                descriptor_table_bytes(size),
            ),
            (
                "available ring",
                iovas.available,
                align::AVAIL,
                avail_ring_bytes(size),
            ),
            ("used ring", iovas.used, align::USED, used_ring_bytes(size)),
        ];
        for (part, iova, alignment, bytes) in parts {
            check_aligned(part, iova.0, alignment)?;
            if iova.checked_add(bytes as u64).is_none() {
                return Err(LayoutError::IovaWraps { part, iova });
            }
        }
        Ok(Self {
            descriptors,
            available,
            used,
            iovas,
        })
    }

    /// Entries of each part.
    pub fn capacity(&self) -> u16 {
        // Checked in `new` to fit.
        self.descriptors.len() as u16
    }

    /// The IOVAs the device is told.
    pub fn iovas(&self) -> QueueIovas {
        self.iovas
    }
}
