//! The parts of a virtio-blk request the driver owns: its header and status
//! byte, in DMA memory the driver maps (virtio 1.x, 5.2.6).
//!
//! ```text
//! slot (32 bytes, one per descriptor of the queue, 16-byte aligned)
//! offset  size  field     written by
//!      0     4  type      driver (IN, OUT, FLUSH, GET_ID)
//!      4     4  reserved  driver (0)
//!      8     8  sector    driver
//!     16     1  status    device (OK, IOERR, UNSUPP); driver presets 0xff
//!     17    15  unused
//! ```
//!
//! The data segments between header and status are IOVAs the driver does
//! not map. A request uses the slot of its chain's head descriptor, so two
//! requests in flight never share one.

use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8};
use zerocopy::{FromBytes, IntoBytes, KnownLayout};

use crate::error::LayoutError;
use crate::queue::layout::check_aligned;
use crate::Iova;

/// One request's header and status byte.
#[derive(FromBytes, IntoBytes, KnownLayout)]
#[repr(C, align(16))]
pub struct RequestSlot {
    /// Request type ([`kind`]).
    pub kind: AtomicU32,
    /// Zero.
    pub reserved: AtomicU32,
    /// First sector.
    pub sector: AtomicU64,
    /// Written by the device on completion ([`status`]).
    pub status: AtomicU8,
    unused: [AtomicU8; 15],
}

/// Bytes of a [`RequestSlot`].
pub const SLOT_BYTES: usize = size_of::<RequestSlot>();
/// Bytes of the header the device reads.
pub const HEADER_BYTES: u32 = 16;
/// Offset of the status byte in a slot.
pub const STATUS_OFFSET: u64 = offset_of!(RequestSlot, status) as u64;

const _: () = assert!(SLOT_BYTES == 32 && STATUS_OFFSET == HEADER_BYTES as u64);

/// Request types (`type` in the header).
pub mod kind {
    /// Read from the disk into the data segments.
    pub const IN: u32 = 0;
    /// Write the data segments to the disk.
    pub const OUT: u32 = 1;
    /// Make earlier writes durable.
    pub const FLUSH: u32 = 4;
    /// Write the device's id string (20 bytes) into the data segment.
    pub const GET_ID: u32 = 8;
}

/// Status values the device writes.
pub mod status {
    /// Done.
    pub const OK: u8 = 0;
    /// The device or the disk failed.
    pub const IOERR: u8 = 1;
    /// The request type is not supported.
    pub const UNSUPP: u8 = 2;
    /// What the driver writes before submitting: no device status, so a
    /// device that never writes the byte is not taken to have succeeded.
    pub const NOT_WRITTEN: u8 = 0xff;
}

/// Bytes of the id GET_ID writes.
pub const ID_BYTES: u32 = 20;

impl RequestSlot {
    /// `count` slots over the start of `bytes` (16-byte aligned). Safe: the
    /// exclusive borrow means nothing else in this address space touches
    /// the memory for `'a`.
    pub fn slots_from_bytes(bytes: &mut [u8], count: usize) -> Result<&[RequestSlot], LayoutError> {
        let given = bytes.len();
        check_aligned("request slots", bytes.as_ptr() as u64, 16)?;
        <[RequestSlot]>::mut_from_prefix_with_elems(bytes, count)
            .map(|(slots, _)| &*slots)
            .map_err(|_| LayoutError::TooSmall {
                needed: count.saturating_mul(SLOT_BYTES),
                given,
            })
    }
}

/// The request slots: the driver's view and the IOVA of the first.
#[derive(Clone, Copy)]
pub struct RequestMemory<'a> {
    slots: &'a [RequestSlot],
    iova: Iova,
}

impl<'a> RequestMemory<'a> {
    /// Checks the IOVA's alignment and that the slots' range does not
    /// wrap. That `iova` maps `slots` is the plan's promise.
    pub fn new(slots: &'a [RequestSlot], iova: Iova) -> Result<Self, LayoutError> {
        check_aligned("request slots IOVA", iova.0, 16)?;
        let bytes = (slots.len() as u64).saturating_mul(SLOT_BYTES as u64);
        if iova.checked_add(bytes).is_none() {
            return Err(LayoutError::IovaWraps {
                part: "request slots",
                iova,
            });
        }
        Ok(Self { slots, iova })
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// No slots.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub(crate) fn slot(&self, index: u16) -> Option<&'a RequestSlot> {
        self.slots.get(usize::from(index))
    }

    /// The IOVA of slot `index`'s header; its status byte is
    /// [`STATUS_OFFSET`] further. In range: the slots' range was checked
    /// not to wrap, and callers pass an index below `len`.
    pub(crate) fn header_iova(&self, index: u16) -> Iova {
        Iova(self.iova.0 + u64::from(index) * SLOT_BYTES as u64)
    }
}
