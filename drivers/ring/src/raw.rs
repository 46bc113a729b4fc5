//! Attaching to shared memory by address: the crate's only unsafe code.
//!
//! A component learns where the planner mapped its rings as addresses; these
//! constructors turn them into the safe views the rest of the crate works
//! on. Everything in the views is atomic, so once the preconditions hold,
//! whatever the peer writes is a value to check, never undefined behaviour.
#![allow(unsafe_code)]

use core::sync::atomic::{AtomicU64, AtomicU8};

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

/// `bytes` as the bytes before its first 8-byte boundary, the whole 8-byte
/// words from there, and the bytes after the last whole word: the shape
/// [`copy`](crate::copy) moves a word at a time.
///
/// The same memory is then accessed both as bytes and as words. Within
/// this address space that never races: a buffer is touched by one side at
/// a time, handed over through the queues' Release/Acquire pairs. The peer
/// writing at the same moment is another address space, outside this
/// program's memory model; what it can do is change values, which the
/// atomics already allow for.
pub(crate) fn split_words(bytes: &[AtomicU8]) -> (&[AtomicU8], &[AtomicU64], &[AtomicU8]) {
    // SAFETY: `align_to` returns only in-bounds, correctly aligned words;
    // AtomicU64 has the size of 8 AtomicU8s, accepts any bit pattern and
    // is, like them, accessed only atomically (interior mutability through
    // a shared reference is what both types are for); the borrow of the
    // result is tied to that of `bytes`.
    unsafe { bytes.align_to::<AtomicU64>() }
}

/// Copies `n` bytes from `src` to `dst` with `rep movsb`, whose fast-string
/// form (ERMSB, FSRM) copies at about `memcpy`'s speed for a few hundred
/// bytes and more, without making the compiler treat shared memory as
/// plain memory.
///
/// What it does is what a loop of relaxed `AtomicU8` loads and stores
/// does: every byte is read and written once, whole (a byte cannot tear),
/// in some order. So the shared side may be written by the peer meanwhile
/// with the same meaning as for the crate's other accesses: a race on
/// values. The compiler sees an opaque block that reads `src` and writes
/// `dst`, so it neither moves the copy past the queues' Release stores and
/// Acquire loads around it nor assumes anything about the bytes. The
/// processor orders a later store (the tail's Release) after the string
/// operation's stores.
///
/// # Safety
///
/// `src` must be valid for reads and `dst` for writes of `n` bytes, for the
/// duration of the call, and neither may be memory this address space
/// accesses non-atomically meanwhile.
#[cfg(target_arch = "x86_64")]
unsafe fn copy_bytes(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller guarantees both ranges; the direction flag is
    // clear on entry to an `asm!` block (Rust's x86 ABI), so the copy runs
    // forward from the given pointers; the clobbered rcx, rdi and rsi are
    // declared; no stack is used and flags are preserved.
    unsafe {
        core::arch::asm!(
            "rep movsb",
            inout("rcx") n => _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags)
        );
    }
}

/// Copies `src` into the start of shared `dst` (the shorter length).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn copy_to_shared(dst: &[AtomicU8], src: &[u8]) -> usize {
    let n = dst.len().min(src.len());
    // SAFETY: both ranges hold `n` bytes (the shorter slice's length);
    // `dst` is atomics, which this address space never accesses
    // non-atomically, and writing through a pointer from a shared
    // reference to them is what their interior mutability allows; `src`
    // is borrowed shared, so nothing writes it during the call.
    unsafe { copy_bytes(dst.as_ptr().cast::<u8>().cast_mut(), src.as_ptr(), n) };
    n
}

/// Copies the start of shared `src` into `dst` (the shorter length).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn copy_from_shared(dst: &mut [u8], src: &[AtomicU8]) -> usize {
    let n = dst.len().min(src.len());
    // SAFETY: both ranges hold `n` bytes; `dst` is borrowed exclusively;
    // `src` is atomics, only ever accessed atomically here.
    unsafe { copy_bytes(dst.as_mut_ptr(), src.as_ptr().cast::<u8>(), n) };
    n
}

/// Copies the start of shared `src` into shared `dst` (the shorter length).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn copy_within_shared(dst: &[AtomicU8], src: &[AtomicU8]) -> usize {
    let n = dst.len().min(src.len());
    // SAFETY: both ranges hold `n` bytes and are atomics, only ever
    // accessed atomically in this address space (writes to `dst` through
    // their interior mutability).
    unsafe {
        copy_bytes(
            dst.as_ptr().cast::<u8>().cast_mut(),
            src.as_ptr().cast::<u8>(),
            n,
        )
    };
    n
}
