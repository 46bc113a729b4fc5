//! Copying a received frame from the driver's pool into a client's
//! window. Both are views of shared memory as atomics (the device writes
//! the pool; the client may write its window at any time), so the copy is
//! one relaxed load and store per word: a race on values, never undefined
//! behaviour. Ordering comes from the queues: the device's writes are
//! visible after the used ring's Acquire, and the client reads the frame
//! after the RX active queue's Release.

use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

/// Copies `src` into the start of `dst` (the shorter length); returns the
/// bytes copied. Whole 8-byte words where both sides are aligned for
/// them, bytes elsewhere.
pub fn copy(src: &[AtomicU8], dst: &[AtomicU8]) -> usize {
    let n = src.len().min(dst.len());
    let (src, dst) = (&src[..n], &dst[..n]);
    let aligned = |s: &[AtomicU8]| (s.as_ptr() as usize).is_multiple_of(8);
    let mut done = 0;
    if aligned(src) && aligned(dst) {
        let words = n / 8;
        let (src_words, dst_words) = (as_words(src, words), as_words(dst, words));
        for (d, s) in dst_words.iter().zip(src_words) {
            d.store(s.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        done = words * 8;
    }
    for (d, s) in dst[done..].iter().zip(&src[done..]) {
        d.store(s.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    n
}

/// The first `words` 8-byte words of `bytes`, which is 8-byte aligned and
/// at least `8 * words` long.
fn as_words(bytes: &[AtomicU8], words: usize) -> &[AtomicU64] {
    debug_assert!(bytes.len() >= words * 8);
    debug_assert!((bytes.as_ptr() as usize).is_multiple_of(8));
    // SAFETY: `bytes` is 8-byte aligned and holds `8 * words` bytes (both
    // checked by the caller, `copy`); AtomicU64 has the size and bit
    // validity of 8 AtomicU8s, and mixed-size atomic access to the same
    // shared memory is a race on values (the peer is another address
    // space, not Rust code under this model), not undefined behaviour
    // here: the lifetime ties the words to the borrowed bytes.
    unsafe { core::slice::from_raw_parts(bytes.as_ptr().cast::<AtomicU64>(), words) }
}
