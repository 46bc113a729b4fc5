//! The shared-memory layout, defined once.
//!
//! A queue is a [`QueueHeader`] followed directly by `N` [`Slot`]s (`N` a
//! power of two). The header gives each control word its own 128 bytes: a
//! cache line and the neighbour that x86 processors fetch with it (the
//! adjacent-line prefetcher), so that an index update by one side never
//! takes away a line the other side reads often: the producer's `tail`, the
//! wake-up request, which the producer reads at every publish but the
//! consumer writes only when it is about to sleep, and the consumer's
//! `head`:
//!
//! ```text
//! offset  size  field              written by
//!      0     4  tail               producer (Release)
//!      4   124  (reserved, zero)   nobody
//!    128     4  signal_requested   consumer sets/cancels, producer clears
//!    132   124  (reserved, zero)   nobody
//!    256     4  head               consumer (Release)
//!    260   124  (reserved, zero)   nobody
//!    384   8*N  slots[N]           producer (before the Release of tail)
//! ```
//!
//! A slot holds one descriptor `(offset, len)` into the data region, which is
//! `buffers * buf_size` bytes cut into equal buffers.
//!
//! All zero is a valid, empty queue: fresh frames from the kernel need no
//! initialisation.
//!
//! The types derive zerocopy's layout traits, so "no padding" and "any bytes
//! are a valid value" are checked by the compiler; the byte sizes below are
//! plain constants (the planner needs them in `const` context and they must
//! not change under the `loom` feature) and are asserted equal to the types'
//! sizes at compile time.

use crate::error::LayoutError;
use crate::queue::Descriptor;
use crate::sync::{AtomicU32, AtomicU64, Ordering};

/// Control words of one queue. See the module documentation for who writes
/// what.
#[cfg_attr(
    not(feature = "loom"),
    derive(zerocopy::FromBytes, zerocopy::IntoBytes, zerocopy::KnownLayout)
)]
#[repr(C, align(128))]
pub struct QueueHeader {
    /// Free-running index of the next slot the producer will fill. Written
    /// only by the producer.
    pub tail: AtomicU32,
    _reserved0: [u8; 124],
    /// Non-zero: the consumer is about to sleep and asks for a notification
    /// when the tail moves. The consumer sets and cancels it; the producer
    /// clears it when it decides to notify.
    pub signal_requested: AtomicU32,
    _reserved1: [u8; 124],
    /// Free-running index of the next slot the consumer will read. Written
    /// only by the consumer.
    pub head: AtomicU32,
    _reserved2: [u8; 124],
}

/// One descriptor slot: the buffer's byte offset in bytes 0..4 and its
/// length in bytes 4..8, both little-endian, accessed as one 64-bit word
/// (one load or store per descriptor). A value read here is a claim by the
/// producer, checked before use.
#[cfg_attr(
    not(feature = "loom"),
    derive(zerocopy::FromBytes, zerocopy::IntoBytes, zerocopy::KnownLayout)
)]
#[repr(C)]
pub struct Slot {
    word: AtomicU64,
}

impl QueueHeader {
    /// An empty queue's header (all zero). For host tests and the loom
    /// model; components attach to memory that is already zero.
    pub fn new() -> Self {
        Self {
            tail: AtomicU32::new(0),
            _reserved0: [0; 124],
            signal_requested: AtomicU32::new(0),
            _reserved1: [0; 124],
            head: AtomicU32::new(0),
            _reserved2: [0; 124],
        }
    }
}

impl Default for QueueHeader {
    fn default() -> Self {
        Self::new()
    }
}

impl Slot {
    /// An empty slot.
    pub fn new() -> Self {
        Self {
            word: AtomicU64::new(0),
        }
    }

    /// Writes `d` (Relaxed: the queue's tail store orders it).
    #[inline]
    pub fn write(&self, d: Descriptor) {
        let word = u64::from(d.offset) | u64::from(d.len) << 32;
        self.word.store(word.to_le(), Ordering::Relaxed);
    }

    /// Reads the descriptor (Relaxed: the queue's tail load orders it).
    #[inline]
    pub fn read(&self) -> Descriptor {
        let word = u64::from_le(self.word.load(Ordering::Relaxed));
        Descriptor {
            offset: word as u32,
            len: (word >> 32) as u32,
        }
    }
}

impl Default for Slot {
    fn default() -> Self {
        Self::new()
    }
}

/// Bytes of [`QueueHeader`].
pub const HEADER_BYTES: usize = 384;
/// Bytes of one [`Slot`].
pub const SLOT_BYTES: usize = 8;
/// Alignment a queue's memory must have: the header's, so that each
/// control word's 128 bytes are a pair of lines the prefetcher fetches
/// together.
pub const QUEUE_ALIGN: usize = 128;
/// Alignment of a data region's base, and granularity of buffer sizes, so
/// that every buffer starts on a cache line.
pub const DATA_ALIGN: usize = 64;
/// Largest slot count: indices are free-running `u32`s, and their
/// differences are only unambiguous up to `2^31`.
pub const MAX_SLOTS: u32 = 1 << 31;

/// Offsets of the header fields, for the planner and for tools that dump a
/// ring.
pub mod offsets {
    /// `QueueHeader::tail`.
    pub const TAIL: usize = 0;
    /// `QueueHeader::head`.
    pub const HEAD: usize = 256;
    /// `QueueHeader::signal_requested`.
    pub const SIGNAL_REQUESTED: usize = 128;
    /// First slot.
    pub const SLOTS: usize = super::HEADER_BYTES;
}

#[cfg(not(feature = "loom"))]
const _: () = {
    use core::mem::{align_of, offset_of, size_of};
    assert!(size_of::<QueueHeader>() == HEADER_BYTES);
    assert!(align_of::<QueueHeader>() == QUEUE_ALIGN);
    assert!(offset_of!(QueueHeader, tail) == offsets::TAIL);
    assert!(offset_of!(QueueHeader, head) == offsets::HEAD);
    assert!(offset_of!(QueueHeader, signal_requested) == offsets::SIGNAL_REQUESTED);
    assert!(size_of::<Slot>() == SLOT_BYTES);
    assert!(HEADER_BYTES.is_multiple_of(core::mem::align_of::<Slot>()));
};

/// Checks that shared memory at `addr` of `given` bytes can hold `needed`
/// bytes of queues (or of anything laid out with them): aligned to
/// [`QUEUE_ALIGN`] and large enough.
pub fn check_memory(addr: usize, given: usize, needed: usize) -> Result<(), LayoutError> {
    if !addr.is_multiple_of(QUEUE_ALIGN) {
        return Err(LayoutError::Misaligned { addr });
    }
    if given < needed {
        return Err(LayoutError::TooSmall { needed, given });
    }
    Ok(())
}

/// Whether `slots` is an allowed slot count (a power of two, at most
/// [`MAX_SLOTS`]).
pub const fn is_valid_slot_count(slots: u32) -> bool {
    slots.is_power_of_two() && slots <= MAX_SLOTS
}

/// Bytes of shared memory for a queue of `slots` slots, or `None` if the
/// count is not valid (or the size overflows `usize`).
pub const fn queue_bytes(slots: u32) -> Option<usize> {
    if !is_valid_slot_count(slots) {
        return None;
    }
    match (slots as usize).checked_mul(SLOT_BYTES) {
        Some(s) => s.checked_add(HEADER_BYTES),
        None => None,
    }
}

/// Checks a data region's geometry: `buf_size` a non-zero multiple of
/// [`DATA_ALIGN`], at least one buffer, and every offset fits in a `u32`.
pub const fn check_data_region(buf_size: u32, buffers: u32) -> Result<(), LayoutError> {
    let bad = LayoutError::BadBufferGeometry { buf_size, buffers };
    if buf_size == 0 || !(buf_size as usize).is_multiple_of(DATA_ALIGN) || buffers == 0 {
        return Err(bad);
    }
    match (buf_size as u64).checked_mul(buffers as u64) {
        Some(total) if total <= u32::MAX as u64 + 1 => Ok(()),
        _ => Err(bad),
    }
}

/// Bytes of a data region of `buffers` buffers of `buf_size` bytes, or
/// `None` if [`check_data_region`] rejects the geometry.
pub const fn data_region_bytes(buf_size: u32, buffers: u32) -> Option<usize> {
    match check_data_region(buf_size, buffers) {
        Ok(()) => (buf_size as usize).checked_mul(buffers as usize),
        Err(_) => None,
    }
}

/// One direction of a buffer channel packed in one block of memory: the
/// active queue, the free queue, then the data region. The planner may also
/// place the three parts in separate frames; then only the individual sizes
/// matter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelLayout {
    /// Slots of each queue (at least `buffers`).
    pub slots: u32,
    /// Bytes per buffer.
    pub buf_size: u32,
    /// Buffers in the data region.
    pub buffers: u32,
}

impl ChannelLayout {
    /// A layout whose queues can hold every buffer, checked.
    pub const fn new(slots: u32, buf_size: u32, buffers: u32) -> Result<Self, LayoutError> {
        if !is_valid_slot_count(slots) {
            return Err(LayoutError::BadSlotCount {
                slots: slots as usize,
            });
        }
        if let Err(e) = check_data_region(buf_size, buffers) {
            return Err(e);
        }
        if slots < buffers {
            return Err(LayoutError::QueueSmallerThanBuffers {
                capacity: slots,
                buffers,
            });
        }
        Ok(Self {
            slots,
            buf_size,
            buffers,
        })
    }

    /// Bytes of each queue.
    pub const fn queue_bytes(&self) -> usize {
        HEADER_BYTES + self.slots as usize * SLOT_BYTES
    }

    /// Offset of the active queue in the block.
    pub const fn active_offset(&self) -> usize {
        0
    }

    /// Offset of the free queue in the block.
    pub const fn free_offset(&self) -> usize {
        align_up(self.queue_bytes(), QUEUE_ALIGN)
    }

    /// Offset of the data region in the block (`DATA_ALIGN`-aligned if the
    /// block is).
    pub const fn data_offset(&self) -> usize {
        align_up(self.free_offset() + self.queue_bytes(), DATA_ALIGN)
    }

    /// Bytes of the data region.
    pub const fn data_bytes(&self) -> usize {
        self.buf_size as usize * self.buffers as usize
    }

    /// Bytes of the whole block.
    pub const fn total_bytes(&self) -> usize {
        self.data_offset() + self.data_bytes()
    }
}

const fn align_up(n: usize, align: usize) -> usize {
    (n + align - 1) & !(align - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_sizes() {
        assert_eq!(queue_bytes(1), Some(392));
        assert_eq!(queue_bytes(512), Some(384 + 4096));
        assert_eq!(queue_bytes(0), None);
        assert_eq!(queue_bytes(3), None);
        assert_eq!(queue_bytes(MAX_SLOTS), Some(384 + 8 * (1 << 31)));
    }

    #[test]
    fn data_region_sizes() {
        assert_eq!(data_region_bytes(2048, 512), Some(1 << 20));
        assert_eq!(data_region_bytes(0, 1), None);
        assert_eq!(data_region_bytes(100, 1), None, "not a multiple of 64");
        assert_eq!(data_region_bytes(64, 0), None);
        // Offsets are u32: 4 GiB is the most a region can span.
        assert_eq!(data_region_bytes(1 << 16, 1 << 16), Some(1 << 32));
        assert_eq!(data_region_bytes(1 << 16, (1 << 16) + 1), None);
    }

    #[test]
    fn channel_layout_packs_aligned() {
        let l = ChannelLayout::new(2, 64, 2).unwrap();
        assert_eq!(l.queue_bytes(), 400);
        assert_eq!(l.free_offset(), 512);
        assert_eq!(l.data_offset(), 960);
        assert_eq!(l.total_bytes(), 960 + 128);
        assert_eq!(
            ChannelLayout::new(4, 64, 8),
            Err(LayoutError::QueueSmallerThanBuffers {
                capacity: 4,
                buffers: 8
            })
        );
        assert_eq!(
            ChannelLayout::new(6, 64, 4),
            Err(LayoutError::BadSlotCount { slots: 6 })
        );
    }

    #[test]
    #[cfg(not(feature = "loom"))]
    fn zero_is_empty() {
        use zerocopy::FromZeros;
        let h = QueueHeader::new_zeroed();
        assert_eq!(h.tail.into_inner(), 0);
        assert_eq!(h.head.into_inner(), 0);
        assert_eq!(h.signal_requested.into_inner(), 0);
    }
}
