//! Attaching to shared memory by address: the crate's only unsafe code.
//!
//! A component learns where the planner mapped its rings as addresses; these
//! constructors turn them into the safe views the rest of the crate works
//! on. Everything in the views is atomic, so once the preconditions hold,
//! whatever the peer writes is a value to check, never undefined behaviour.
#![allow(unsafe_code)]

use core::sync::atomic::AtomicU8;

use crate::error::LayoutError;
#[cfg(not(feature = "loom"))]
use crate::layout::{queue_bytes, QueueHeader, Slot};
#[cfg(not(feature = "loom"))]
use crate::queue::{check_memory, Queue};
use crate::region::DataRegion;

// Under the `loom` feature the header's atomics are loom's, which have
// another size: only the real layout may be attached by address.
#[cfg(not(feature = "loom"))]
impl<'a> Queue<'a> {
    /// A queue of `slots` slots at `ptr`, in memory of `len` bytes.
    ///
    /// Alignment, size and slot count are checked and reported as
    /// [`LayoutError`].
    ///
    /// # Safety
    ///
    /// For all of `'a`, the `len` bytes at `ptr` must be mapped readable and
    /// writable, must not be deallocated or unmapped, and must be accessed
    /// in this address space only through atomics (ring handles, or other
    /// views made by this function). The peer, in another address space,
    /// may write anything at any time: that is what the checks are for.
    pub unsafe fn from_raw(ptr: *mut u8, len: usize, slots: u32) -> Result<Self, LayoutError> {
        let needed = queue_bytes(slots).ok_or(LayoutError::BadSlotCount {
            slots: slots as usize,
        })?;
        check_memory(ptr as usize, len, needed)?;
        // SAFETY: `ptr` is QUEUE_ALIGN-aligned (checked), which satisfies
        // QueueHeader's alignment; the caller guarantees the first `len >=
        // HEADER_BYTES` bytes are valid for `'a` and touched only through
        // atomics, which are what QueueHeader's non-reserved fields are; any
        // bit pattern is a valid QueueHeader (it derives FromBytes).
        let header = unsafe { &*ptr.cast::<QueueHeader>() };
        // SAFETY: the slots start HEADER_BYTES (a multiple of Slot's
        // alignment, asserted in `layout`) past an aligned pointer, `slots`
        // of them fit in `needed <= len` bytes, and the caller's guarantees
        // cover them as above; any bit pattern is a valid Slot.
        let slots = unsafe {
            core::slice::from_raw_parts(
                ptr.add(crate::layout::HEADER_BYTES).cast::<Slot>(),
                slots as usize,
            )
        };
        Queue::new(header, slots)
    }
}

impl<'a> DataRegion<'a> {
    /// A data region of `buffers` buffers of `buf_size` bytes at `ptr`, in
    /// memory of `len` bytes.
    ///
    /// # Safety
    ///
    /// As for [`Queue::from_raw`]: the `len` bytes at `ptr` stay mapped
    /// readable and writable for `'a` and are accessed in this address space
    /// only through atomics (or by devices, through DMA).
    pub unsafe fn from_raw(
        ptr: *mut u8,
        len: usize,
        buf_size: u32,
        buffers: u32,
    ) -> Result<Self, LayoutError> {
        // SAFETY: AtomicU8 has the size and alignment of u8 and accepts any
        // bit pattern; the caller guarantees `len` bytes valid for `'a` and
        // accessed only atomically.
        let bytes = unsafe { core::slice::from_raw_parts(ptr.cast::<AtomicU8>(), len) };
        DataRegion::new(bytes, buf_size, buffers)
    }
}
