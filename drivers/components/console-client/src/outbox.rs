//! Bytes waiting for room in the serial driver's transmit ring.

use paddock_component_support::rings::Writer;
use paddock_ring::PeerError;

pub const CAPACITY: usize = 2048;

/// A fixed FIFO of bytes.
pub struct Outbox {
    bytes: [u8; CAPACITY],
    head: usize,
    len: usize,
}

impl Outbox {
    pub const fn new() -> Self {
        Self {
            bytes: [0; CAPACITY],
            head: 0,
            len: 0,
        }
    }

    pub fn free(&self) -> usize {
        CAPACITY - self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends what fits of `src`; callers check [`free`](Self::free)
    /// first, so nothing is cut in practice.
    pub fn push(&mut self, src: &[u8]) {
        for &b in src.iter().take(self.free()) {
            self.bytes[(self.head + self.len) % CAPACITY] = b;
            self.len += 1;
        }
    }

    /// Moves as much as the ring takes into it (not yet flushed).
    pub fn drain_into(&mut self, tx: &mut Writer) -> Result<(), PeerError> {
        while self.len > 0 {
            let end = (self.head + self.len).min(CAPACITY);
            let want = end - self.head;
            let taken = tx.io.write(&self.bytes[self.head..end])?;
            self.head = (self.head + taken) % CAPACITY;
            self.len -= taken;
            if taken < want {
                // The ring is out of buffers.
                break;
            }
        }
        Ok(())
    }
}
