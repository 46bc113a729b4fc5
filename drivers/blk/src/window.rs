//! The client's data window: the DMA buffer the client maps and the device
//! reaches through the IOMMU, and the driver does not map.
//!
//! The device may write any byte of the window at any time (a hostile
//! driver can point it anywhere in the window), so the client's view is
//! made of atomics: a concurrent write is a race on values, never
//! undefined behaviour. Words of 8 bytes rather than single bytes keep the
//! copies fast; every offset and length the client uses is a multiple of
//! the block size, so of 8.
//!
//! Ordering comes from the queues: the client's copy into the window
//! happens before it publishes the write request (P-REL-TAIL), and its copy
//! out happens after it pops the response (C-ACQ-TAIL), which the driver
//! published after the device finished.

use core::sync::atomic::{AtomicU64, Ordering};

use paddock_ring::LayoutError;
use zerocopy::FromBytes;

/// Bytes per word of the window.
pub const WINDOW_WORD: usize = 8;

/// A view of the data window.
#[derive(Clone, Copy)]
pub struct DataWindow<'a> {
    words: &'a [AtomicU64],
}

impl<'a> DataWindow<'a> {
    /// The window over `words`.
    pub fn new(words: &'a [AtomicU64]) -> Self {
        Self { words }
    }

    /// The window over `bytes`: 8-byte aligned, a whole number of words
    /// long. Safe: the exclusive borrow means nothing else in this address
    /// space touches it for `'a`.
    pub fn from_bytes(bytes: &'a mut [u8]) -> Result<Self, LayoutError> {
        let addr = bytes.as_ptr() as usize;
        let len = bytes.len();
        if !len.is_multiple_of(WINDOW_WORD) {
            return Err(LayoutError::TooSmall {
                needed: len.next_multiple_of(WINDOW_WORD),
                given: len,
            });
        }
        let words =
            <[AtomicU64]>::mut_from_bytes(bytes).map_err(|_| LayoutError::Misaligned { addr })?;
        Ok(Self::new(words))
    }

    /// Bytes of the window.
    pub fn len(&self) -> usize {
        self.words.len() * WINDOW_WORD
    }

    /// Whether the window has no bytes.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The words holding bytes `offset..offset + len`, if that range is
    /// inside the window and word-aligned at both ends.
    fn span(&self, offset: usize, len: usize) -> Option<&'a [AtomicU64]> {
        if !offset.is_multiple_of(WINDOW_WORD) || !len.is_multiple_of(WINDOW_WORD) {
            return None;
        }
        let first = offset / WINDOW_WORD;
        self.words.get(first..first.checked_add(len / WINDOW_WORD)?)
    }

    /// Copies `dst.len()` bytes from `offset` into `dst`. `false` (and
    /// nothing copied) if the range is outside the window or not
    /// word-aligned.
    pub fn copy_out(&self, offset: usize, dst: &mut [u8]) -> bool {
        let Some(words) = self.span(offset, dst.len()) else {
            return false;
        };
        for (bytes, word) in dst.chunks_exact_mut(WINDOW_WORD).zip(words) {
            // Relaxed: ordered by the response queue (module docs).
            bytes.copy_from_slice(&word.load(Ordering::Relaxed).to_ne_bytes());
        }
        true
    }

    /// Copies `src` into the window at `offset`. `false` (and nothing
    /// copied) if the range is outside the window or not word-aligned.
    pub fn copy_in(&self, offset: usize, src: &[u8]) -> bool {
        let Some(words) = self.span(offset, src.len()) else {
            return false;
        };
        for (bytes, word) in src.chunks_exact(WINDOW_WORD).zip(words) {
            let mut b = [0; WINDOW_WORD];
            b.copy_from_slice(bytes);
            // Relaxed: ordered by the request queue (module docs).
            word.store(u64::from_ne_bytes(b), Ordering::Relaxed);
        }
        true
    }
}
