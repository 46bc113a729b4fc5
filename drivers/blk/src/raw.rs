//! Attaching to shared memory by address: the crate's only unsafe code.
//!
//! A component learns where the planner mapped its control region and its
//! data window as addresses; these constructors turn them into the safe
//! views the rest of the crate works on. Everything in the views is atomic
//! (the queue header's reserved bytes are never accessed), so once the
//! preconditions hold, whatever the peer writes is a value to check, never
//! undefined behaviour.
#![allow(unsafe_code)]

use core::mem::size_of;
use core::sync::atomic::{AtomicU32, AtomicU64};

use paddock_ring::layout::{QueueHeader, HEADER_BYTES};
use paddock_ring::LayoutError;

use crate::info::InfoPage;
use crate::layout::{Control, ControlLayout};
use crate::queue::{check_memory, Record, RecordQueue};
use crate::record::INFO_BYTES;
use crate::window::{DataWindow, WINDOW_WORD};

impl<'a> Control<'a> {
    /// The control region of `layout` at `ptr`, in memory of `len` bytes.
    /// Alignment and size are checked and reported as [`LayoutError`].
    ///
    /// # Safety
    ///
    /// For all of `'a`, the `len` bytes at `ptr` must be mapped readable and
    /// writable, must not be unmapped, and must be accessed in this address
    /// space only through atomics (the views this crate makes). The peer,
    /// in another address space, may write anything at any time: that is
    /// what the checks are for.
    pub unsafe fn from_raw(
        ptr: *mut u8,
        len: usize,
        layout: ControlLayout,
    ) -> Result<Self, LayoutError> {
        check_memory(ptr as usize, len, layout.total_bytes())?;
        // SAFETY: the info page lies at offset 0, INFO_BYTES long, inside
        // the checked `total_bytes() <= len`; the caller's guarantees cover
        // it.
        let info = unsafe { words_at(ptr, layout.info_offset(), INFO_BYTES) };
        Ok(Self {
            info: InfoPage::new(info)?,
            // SAFETY: each queue lies inside `total_bytes()` at a
            // QUEUE_ALIGN-aligned offset of the aligned base (both checked
            // or computed by `ControlLayout`), with its slot count from the
            // same layout; the caller's guarantees cover it.
            requests: unsafe { queue_at(ptr, layout.requests_offset(), layout.request_slots) }?,
            // SAFETY: as above.
            responses: unsafe { queue_at(ptr, layout.responses_offset(), layout.response_slots) }?,
        })
    }
}

/// `bytes / 4` atomic words at `base + offset`.
///
/// # Safety
///
/// `base + offset` is 4-byte aligned and the `bytes` bytes there are valid
/// as in [`Control::from_raw`].
unsafe fn words_at<'a>(base: *mut u8, offset: usize, bytes: usize) -> &'a [AtomicU32] {
    // SAFETY: AtomicU32 has the size and alignment of u32 and accepts any
    // bit pattern; alignment, extent and lifetime are the caller's
    // guarantees.
    unsafe { core::slice::from_raw_parts(base.add(offset).cast::<AtomicU32>(), bytes / 4) }
}

/// The record queue of `slots` slots at `base + offset`.
///
/// # Safety
///
/// `base + offset` is QUEUE_ALIGN-aligned and the queue's
/// `record_queue_bytes` bytes there are valid as in [`Control::from_raw`].
unsafe fn queue_at<'a, R: Record>(
    base: *mut u8,
    offset: usize,
    slots: u32,
) -> Result<RecordQueue<'a, R>, LayoutError> {
    // SAFETY: QueueHeader derives FromBytes (any bit pattern is valid), its
    // alignment is QUEUE_ALIGN, which `base + offset` has; its fields other
    // than the never-accessed reserved bytes are atomics.
    let header = unsafe { &*base.add(offset).cast::<QueueHeader>() };
    let record_bytes = slots as usize * size_of::<R>();
    // SAFETY: the records follow the header, HEADER_BYTES (a multiple of 4)
    // further, inside the queue's extent.
    let words = unsafe { words_at(base, offset + HEADER_BYTES, record_bytes) };
    RecordQueue::new(header, words, slots)
}

impl<'a> DataWindow<'a> {
    /// The data window at `ptr`, `len` bytes (8-byte aligned, a multiple of
    /// 8 long; checked).
    ///
    /// # Safety
    ///
    /// As for [`Control::from_raw`]: the `len` bytes at `ptr` stay mapped
    /// readable and writable for `'a` and are accessed in this address space
    /// only through atomics (or by the device, through DMA).
    pub unsafe fn from_raw(ptr: *mut u8, len: usize) -> Result<Self, LayoutError> {
        let addr = ptr as usize;
        if !addr.is_multiple_of(WINDOW_WORD) {
            return Err(LayoutError::Misaligned { addr });
        }
        if !len.is_multiple_of(WINDOW_WORD) {
            return Err(LayoutError::TooSmall {
                needed: len.next_multiple_of(WINDOW_WORD),
                given: len,
            });
        }
        // SAFETY: AtomicU64 has the size and alignment of u64 (alignment
        // checked above) and accepts any bit pattern; the caller guarantees
        // `len` bytes valid for `'a` and accessed only atomically.
        let words =
            unsafe { core::slice::from_raw_parts(ptr.cast::<AtomicU64>(), len / WINDOW_WORD) };
        Ok(Self::new(words))
    }
}
