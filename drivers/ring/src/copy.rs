//! Copies between shared memory and this side's own memory.
//!
//! Shared memory is a slice of `AtomicU8` (see [`DataRegion`]): the peer may
//! write it at any moment, and relaxed atomic accesses make that a race on
//! values, never undefined behaviour. Copying it one `AtomicU8` at a time
//! costs a load and a store per byte. On x86_64 these functions copy with
//! `rep movsb`, which means exactly what that byte loop means (each byte
//! read and written once, whole) at about `memcpy`'s speed; elsewhere they
//! move the aligned middle as relaxed `AtomicU64`s and only the unaligned
//! ends as bytes.
//!
//! [`DataRegion`]: crate::DataRegion

use core::sync::atomic::{AtomicU8, Ordering};

use crate::raw::split_words;

/// Copies `src` into the start of `dst` (the shorter length); returns the
/// bytes copied.
#[inline]
pub fn copy_in(dst: &[AtomicU8], src: &[u8]) -> usize {
    #[cfg(target_arch = "x86_64")]
    return crate::raw::copy_to_shared(dst, src);
    #[cfg(not(target_arch = "x86_64"))]
    {
        let n = dst.len().min(src.len());
        copy_in_words(&dst[..n], &src[..n]);
        n
    }
}

/// Copies the start of `src` into `dst` (the shorter length); returns the
/// bytes copied.
#[inline]
pub fn copy_out(dst: &mut [u8], src: &[AtomicU8]) -> usize {
    #[cfg(target_arch = "x86_64")]
    return crate::raw::copy_from_shared(dst, src);
    #[cfg(not(target_arch = "x86_64"))]
    {
        let n = dst.len().min(src.len());
        copy_out_words(&mut dst[..n], &src[..n]);
        n
    }
}

/// Copies the start of `src` into the start of `dst`, both shared memory
/// (the shorter length); returns the bytes copied.
#[inline]
pub fn copy_shared(dst: &[AtomicU8], src: &[AtomicU8]) -> usize {
    #[cfg(target_arch = "x86_64")]
    return crate::raw::copy_within_shared(dst, src);
    #[cfg(not(target_arch = "x86_64"))]
    {
        let n = dst.len().min(src.len());
        copy_shared_words(&dst[..n], &src[..n]);
        n
    }
}

/// [`copy_in`] of two equally long slices, a word at a time.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn copy_in_words(dst: &[AtomicU8], src: &[u8]) {
    let (head, words, tail) = split_words(dst);
    let (src_head, rest) = src.split_at(head.len().min(src.len()));
    let (src_words, src_tail) = rest.split_at((words.len() * 8).min(rest.len()));
    for (d, s) in head.iter().zip(src_head) {
        d.store(*s, Ordering::Relaxed);
    }
    for (d, s) in words.iter().zip(src_words.chunks_exact(8)) {
        let mut word = [0; 8];
        word.copy_from_slice(s);
        d.store(u64::from_ne_bytes(word), Ordering::Relaxed);
    }
    for (d, s) in tail.iter().zip(src_tail) {
        d.store(*s, Ordering::Relaxed);
    }
}

/// [`copy_out`] of two equally long slices, a word at a time.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn copy_out_words(dst: &mut [u8], src: &[AtomicU8]) {
    let (head, words, tail) = split_words(src);
    let (dst_head, rest) = dst.split_at_mut(head.len().min(dst.len()));
    let (dst_words, dst_tail) = rest.split_at_mut((words.len() * 8).min(rest.len()));
    for (d, s) in dst_head.iter_mut().zip(head) {
        *d = s.load(Ordering::Relaxed);
    }
    for (d, s) in dst_words.chunks_exact_mut(8).zip(words) {
        d.copy_from_slice(&s.load(Ordering::Relaxed).to_ne_bytes());
    }
    for (d, s) in dst_tail.iter_mut().zip(tail) {
        *d = s.load(Ordering::Relaxed);
    }
}

/// [`copy_shared`] of two equally long slices: words when the two are
/// equally aligned, bytes otherwise.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn copy_shared_words(dst: &[AtomicU8], src: &[AtomicU8]) {
    let (dst_head, dst_words, dst_tail) = split_words(dst);
    let (src_head, src_words, src_tail) = split_words(src);
    let bytes = |d: &[AtomicU8], s: &[AtomicU8]| {
        for (d, s) in d.iter().zip(s) {
            d.store(s.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    };
    if dst_head.len() != src_head.len() || dst_words.len() != src_words.len() {
        bytes(dst, src);
        return;
    }
    bytes(dst_head, src_head);
    for (d, s) in dst_words.iter().zip(src_words) {
        d.store(s.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    bytes(dst_tail, src_tail);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(len: usize) -> Vec<AtomicU8> {
        (0..len).map(|_| AtomicU8::new(0)).collect()
    }

    fn snapshot(bytes: &[AtomicU8]) -> Vec<u8> {
        bytes.iter().map(|b| b.load(Ordering::Relaxed)).collect()
    }

    type In = fn(&[AtomicU8], &[u8]);
    type Out = fn(&mut [u8], &[AtomicU8]);
    type Shared = fn(&[AtomicU8], &[AtomicU8]);

    /// The copies this target uses, and the word-at-a-time ones.
    fn implementations() -> [(&'static str, In, Out, Shared); 2] {
        [
            (
                "native",
                |d, s| {
                    copy_in(d, s);
                },
                |d, s| {
                    copy_out(d, s);
                },
                |d, s| {
                    copy_shared(d, s);
                },
            ),
            ("words", copy_in_words, copy_out_words, copy_shared_words),
        ]
    }

    /// Every start offset and length around the word boundaries lands
    /// exactly the bytes asked for, and nothing past them.
    #[test]
    fn every_alignment_and_length_copies_exactly() {
        let src: Vec<u8> = (0..96u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(1))
            .collect();
        for (name, copy_in, copy_out, copy_shared) in implementations() {
            for start in 0..9 {
                for len in 0..40 {
                    let mem = shared(64);
                    let dst = &mem[start..start + len];
                    copy_in(dst, &src[..len]);
                    let after = snapshot(&mem);
                    assert!(
                        after[..start].iter().all(|b| *b == 0),
                        "{name}: before {start}"
                    );
                    assert_eq!(&after[start..start + len], &src[..len], "{name}");
                    assert!(
                        after[start + len..].iter().all(|b| *b == 0),
                        "{name}: past {start}+{len}"
                    );

                    let mut out = vec![0xAAu8; len + 3];
                    copy_out(&mut out[..len], dst);
                    assert_eq!(&out[..len], &src[..len], "{name}");
                    assert!(out[len..].iter().all(|b| *b == 0xAA), "{name}");

                    for other in [start, (start + 3) % 8] {
                        let to = shared(64);
                        copy_shared(&to[other..other + len], dst);
                        assert_eq!(&snapshot(&to)[other..other + len], &src[..len], "{name}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_shorter_side_bounds_the_copy() {
        let mem = shared(16);
        assert_eq!(copy_in(&mem[..5], &[7; 12]), 5);
        assert_eq!(snapshot(&mem)[5], 0);
        let mut out = [0u8; 3];
        assert_eq!(copy_out(&mut out, &mem), 3);
        assert_eq!(out, [7; 3]);
        assert_eq!(copy_shared(&mem[..2], &mem[8..]), 2);
        assert_eq!(copy_in(&mem[..0], &[1]), 0);
    }
}
