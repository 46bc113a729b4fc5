//! Single-producer/single-consumer queues of fixed-size records.
//!
//! # Why not `paddock-ring`'s queue
//!
//! `paddock-ring`'s [`Producer`](paddock_ring::Producer) and
//! [`Consumer`](paddock_ring::Consumer) carry one kind of slot, an 8-byte
//! `(offset, len)` descriptor into a data region cut into equal buffers. A
//! block request is 32 bytes and names its own byte range, so it fits
//! neither the slot nor the buffer model. This module is the same queue
//! generalised to any [`Record`] made of whole 32-bit words, and it reuses
//! what can be reused: the ring's 192-byte [`QueueHeader`] (so a tool that
//! dumps a ring's indices dumps these too), its error types
//! ([`PeerError`], [`PushError`], [`LayoutError`]) and its wake-up
//! answers ([`Notify`], [`Idle`]).
//!
//! # Layout
//!
//! ```text
//! offset  size        field              written by
//!      0  128         QueueHeader        (tail: producer; head,
//!                                         signal_requested: consumer)
//!    128  N * size_of::<R>()  records    producer, before it publishes tail
//! ```
//!
//! `N` is a power of two; record `i` (free-running) is at slot `i & (N-1)`.
//! All zero is the valid empty state.
//!
//! # Index and wake-up protocol
//!
//! Exactly `paddock_ring::queue`'s, with the same four ordering points:
//!
//! - **P-REL-TAIL** ([`RecordProducer::publish`]): Release store of `tail`
//!   after the record words are written. Pairs with C-ACQ-TAIL.
//! - **C-ACQ-TAIL** (`RecordConsumer::refresh_tail`): Acquire load of
//!   `tail` before reading records.
//! - **C-REL-HEAD** ([`RecordConsumer::release`]): Release store of `head`
//!   after the record words are read. Pairs with P-ACQ-HEAD.
//! - **P-ACQ-HEAD** (`RecordProducer::refresh_head`): Acquire load of
//!   `head` before overwriting records.
//!
//! and the same signal suppression: the consumer sets `signal_requested`,
//! issues a SeqCst fence (**C-FENCE**) and re-checks the tail before
//! sleeping; the producer stores the tail, issues a SeqCst fence
//! (**P-FENCE**) and takes the request if it is set. The argument that no
//! wake-up is lost is in `paddock_ring::queue`; `paddock-ring`'s loom test
//! checks it on that copy of the code, not on this one.
//!
//! # Hostile peers
//!
//! Each side keeps its own index locally and never reads it back. The
//! peer's index is checked: a tail may only move forward and at most a
//! capacity past the head this side released; a head may only move forward
//! and never past the tail this side published. A violation is a
//! [`PeerError`], and the handle stays usable. A record's words are copied
//! out with atomic loads, then decoded as bytes: any bytes are a valid
//! record (zerocopy's `FromBytes`), so a garbage record is just values for
//! the layer above to check.

use core::marker::PhantomData;
use core::mem::size_of;
use core::sync::atomic::{fence, AtomicU32, Ordering};

use paddock_ring::layout::{is_valid_slot_count, QueueHeader, HEADER_BYTES};
use paddock_ring::{Idle, LayoutError, Notify, PeerError, PushError};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// A record a queue can carry: plain bytes, any value valid, a whole
/// number of 32-bit words (so it is copied with word-sized atomics).
pub trait Record: FromBytes + IntoBytes + Immutable + KnownLayout + Copy {
    /// 32-bit words per record.
    const WORDS: usize = {
        assert!(size_of::<Self>() > 0 && size_of::<Self>().is_multiple_of(4));
        size_of::<Self>() / 4
    };
}

impl Record for crate::Request {}
impl Record for crate::Response {}

/// Bytes of shared memory for a queue of `slots` records of type `R`, or
/// `None` if `slots` is not a power of two in `1..=2^31` or the size
/// overflows.
pub const fn record_queue_bytes<R: Record>(slots: u32) -> Option<usize> {
    if !is_valid_slot_count(slots) {
        return None;
    }
    match (slots as usize).checked_mul(size_of::<R>()) {
        Some(records) => records.checked_add(HEADER_BYTES),
        None => None,
    }
}

/// A view of one record queue in shared memory. Roles are taken by
/// [`RecordProducer::new`] and [`RecordConsumer::new`].
pub struct RecordQueue<'a, R> {
    header: &'a QueueHeader,
    /// `capacity * R::WORDS` words.
    words: &'a [AtomicU32],
    capacity: u32,
    _record: PhantomData<R>,
}

// Manual impls: the derives would require `R: Clone`/`R: Copy` although
// only references are copied.
impl<R> Clone for RecordQueue<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R> Copy for RecordQueue<'_, R> {}

impl<'a, R: Record> RecordQueue<'a, R> {
    /// A queue over a header and its record words (`slots * R::WORDS` of
    /// them); `slots` must be a valid slot count.
    pub fn new(
        header: &'a QueueHeader,
        words: &'a [AtomicU32],
        slots: u32,
    ) -> Result<Self, LayoutError> {
        let bad = LayoutError::BadSlotCount {
            slots: slots as usize,
        };
        if !is_valid_slot_count(slots) {
            return Err(bad);
        }
        let needed = (slots as usize).checked_mul(R::WORDS).ok_or(bad)?;
        let words = words.get(..needed).ok_or(LayoutError::TooSmall {
            needed: needed * 4,
            given: words.len() * 4,
        })?;
        Ok(Self {
            header,
            words,
            capacity: slots,
            _record: PhantomData,
        })
    }

    /// A queue of `slots` records over the start of `bytes`, which must be
    /// [`QUEUE_ALIGN`](paddock_ring::layout::QUEUE_ALIGN)-aligned and [`record_queue_bytes`] long. Safe: the
    /// exclusive borrow means nothing else in this address space touches
    /// the memory for `'a` (host tests, or memory a component owns).
    pub fn from_bytes(bytes: &'a mut [u8], slots: u32) -> Result<Self, LayoutError> {
        let needed = record_queue_bytes::<R>(slots).ok_or(LayoutError::BadSlotCount {
            slots: slots as usize,
        })?;
        check_memory(bytes.as_ptr() as usize, bytes.len(), needed)?;
        let addr = bytes.as_ptr() as usize;
        let (header, rest) = bytes[..needed].split_at_mut(HEADER_BYTES);
        // Neither conversion can fail after the checks above (aligned, long
        // enough, and a header or a word accepts any bytes); they are
        // mapped to an error rather than unwrapped so no path here panics.
        let header =
            QueueHeader::mut_from_bytes(header).map_err(|_| LayoutError::Misaligned { addr })?;
        let words =
            <[AtomicU32]>::mut_from_bytes(rest).map_err(|_| LayoutError::Misaligned { addr })?;
        Self::new(header, words, slots)
    }

    /// Number of record slots.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// The header, for tools that inspect a queue (and hostile-peer tests).
    pub fn header(&self) -> &'a QueueHeader {
        self.header
    }

    /// The words of slot `index & (capacity - 1)`, for tools and
    /// hostile-peer tests.
    pub fn slot_words(&self, index: u32) -> &'a [AtomicU32] {
        let start = (index & (self.capacity - 1)) as usize * R::WORDS;
        // In bounds: the slot index is below `capacity` and `words` holds
        // `capacity * WORDS` words (checked in `new`); `get` keeps even a
        // broken invariant from indexing out of bounds.
        self.words.get(start..start + R::WORDS).unwrap_or(&[])
    }

    /// Copies the record in slot `index` out of shared memory.
    fn load(&self, index: u32) -> R {
        let mut record = R::new_zeroed();
        for (bytes, word) in record
            .as_mut_bytes()
            .chunks_exact_mut(4)
            .zip(self.slot_words(index))
        {
            // Relaxed: ordered by C-ACQ-TAIL before and C-REL-HEAD after
            // (see the module documentation). Native-endian: the word is
            // moved as the four bytes it is, never interpreted here.
            bytes.copy_from_slice(&word.load(Ordering::Relaxed).to_ne_bytes());
        }
        record
    }

    /// Copies `record` into slot `index`.
    fn store(&self, index: u32, record: &R) {
        for (bytes, word) in record
            .as_bytes()
            .chunks_exact(4)
            .zip(self.slot_words(index))
        {
            let b = [bytes[0], bytes[1], bytes[2], bytes[3]];
            // Relaxed: ordered before the consumer's reads by P-REL-TAIL.
            word.store(u32::from_ne_bytes(b), Ordering::Relaxed);
        }
    }
}

pub(crate) use paddock_ring::layout::check_memory;

/// The producer end of a record queue. Hold exactly one per queue.
pub struct RecordProducer<'a, R> {
    q: RecordQueue<'a, R>,
    /// Next slot to fill; ahead of `published` by the unpublished pushes.
    tail: u32,
    /// The last value stored to the shared `tail`.
    published: u32,
    /// The last consumer head accepted, always in `[.., published]`.
    head: u32,
}

impl<'a, R: Record> RecordProducer<'a, R> {
    /// Takes the producer role on `q`, continuing from the indices in
    /// shared memory (zero for a fresh queue).
    pub fn new(q: RecordQueue<'a, R>) -> Result<Self, PeerError> {
        // Relaxed: our own word, read once at attach time; the consistency
        // check below catches a peer that wrote it.
        let tail = q.header.tail.load(Ordering::Relaxed);
        // Acquire: pairs with C-REL-HEAD in `RecordConsumer::release`.
        let head = q.header.head.load(Ordering::Acquire);
        if tail.wrapping_sub(head) > q.capacity {
            return Err(PeerError::IndicesInconsistent { head, tail });
        }
        Ok(Self {
            q,
            tail,
            published: tail,
            head,
        })
    }

    /// Number of slots.
    pub fn capacity(&self) -> u32 {
        self.q.capacity
    }

    /// Reads and checks the consumer's head: forward only, never past what
    /// we published.
    fn refresh_head(&mut self) -> Result<(), PeerError> {
        // P-ACQ-HEAD. Acquire: pairs with C-REL-HEAD, so the consumer's
        // reads of the slots it gives back happen before we overwrite them.
        let head = self.q.header.head.load(Ordering::Acquire);
        if head.wrapping_sub(self.head) > self.published.wrapping_sub(self.head) {
            return Err(PeerError::HeadOutOfRange {
                head,
                last_head: self.head,
                tail: self.published,
            });
        }
        self.head = head;
        Ok(())
    }

    /// Slots that can be pushed now, after looking at the consumer's head.
    pub fn free_slots(&mut self) -> Result<u32, PeerError> {
        self.refresh_head()?;
        Ok(self.capacity() - self.tail.wrapping_sub(self.head))
    }

    /// Writes `record` into the next slot; visible at the next
    /// [`publish`](Self::publish).
    pub fn push(&mut self, record: &R) -> Result<(), PushError> {
        if self.tail.wrapping_sub(self.head) == self.capacity() {
            self.refresh_head()?;
            if self.tail.wrapping_sub(self.head) == self.capacity() {
                return Err(PushError::Full);
            }
        }
        self.q.store(self.tail, record);
        self.tail = self.tail.wrapping_add(1);
        Ok(())
    }

    /// Makes every push so far visible and says whether the consumer asked
    /// to be woken.
    pub fn publish(&mut self) -> Notify {
        if self.tail == self.published {
            return Notify::No;
        }
        // P-REL-TAIL. Release: pairs with C-ACQ-TAIL, making the record
        // writes visible before the new tail.
        self.q.header.tail.store(self.tail, Ordering::Release);
        self.published = self.tail;
        // P-FENCE: orders the tail store before the flag load; pairs with
        // C-FENCE in `RecordConsumer::request_signal`.
        fence(Ordering::SeqCst);
        let flag = &self.q.header.signal_requested;
        // Relaxed: ordered by the fences; a compare-exchange from the value
        // seen fails only if the consumer cancelled meanwhile (it found
        // work and needs no signal). See `paddock_ring::queue`.
        let requested = flag.load(Ordering::Relaxed);
        if requested != 0
            && flag
                .compare_exchange(requested, 0, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            Notify::Yes
        } else {
            Notify::No
        }
    }
}

/// The consumer end of a record queue. Hold exactly one per queue.
pub struct RecordConsumer<'a, R> {
    q: RecordQueue<'a, R>,
    /// Next slot to read.
    head: u32,
    /// The last value stored to the shared `head`.
    released: u32,
    /// The last producer tail accepted, in `[head, released + capacity]`.
    tail: u32,
}

impl<'a, R: Record> RecordConsumer<'a, R> {
    /// Takes the consumer role on `q`, continuing from the indices in
    /// shared memory (zero for a fresh queue).
    pub fn new(q: RecordQueue<'a, R>) -> Result<Self, PeerError> {
        // Relaxed: our own word, read once at attach time.
        let head = q.header.head.load(Ordering::Relaxed);
        // Acquire: pairs with P-REL-TAIL in `RecordProducer::publish`.
        let tail = q.header.tail.load(Ordering::Acquire);
        if tail.wrapping_sub(head) > q.capacity {
            return Err(PeerError::IndicesInconsistent { head, tail });
        }
        Ok(Self {
            q,
            head,
            released: head,
            tail,
        })
    }

    /// Number of slots.
    pub fn capacity(&self) -> u32 {
        self.q.capacity
    }

    /// Reads and checks the producer's tail: forward only, at most a
    /// capacity past the head we released.
    fn refresh_tail(&mut self) -> Result<(), PeerError> {
        // C-ACQ-TAIL. Acquire: pairs with P-REL-TAIL, so the records below
        // `tail` are written.
        let tail = self.q.header.tail.load(Ordering::Acquire);
        let limit = self.released.wrapping_add(self.capacity());
        if tail.wrapping_sub(self.tail) > limit.wrapping_sub(self.tail) {
            return Err(PeerError::TailOutOfRange {
                tail,
                last_tail: self.tail,
                head: self.released,
            });
        }
        self.tail = tail;
        Ok(())
    }

    /// Records ready to pop, after looking at the producer's tail.
    pub fn available(&mut self) -> Result<u32, PeerError> {
        self.refresh_tail()?;
        Ok(self.tail.wrapping_sub(self.head))
    }

    /// Takes the next record, if any: a copy, so the producer cannot change
    /// it after it is checked. Its slot goes back to the producer at the
    /// next [`release`](Self::release).
    pub fn pop(&mut self) -> Result<Option<R>, PeerError> {
        if self.head == self.tail {
            self.refresh_tail()?;
            if self.head == self.tail {
                return Ok(None);
            }
        }
        let record = self.q.load(self.head);
        self.head = self.head.wrapping_add(1);
        Ok(Some(record))
    }

    /// Hands the slots popped so far back to the producer.
    pub fn release(&mut self) {
        if self.head == self.released {
            return;
        }
        // C-REL-HEAD. Release: pairs with P-ACQ-HEAD, so our record reads
        // happen before the producer overwrites the slots.
        self.q.header.head.store(self.head, Ordering::Release);
        self.released = self.head;
    }

    /// Before sleeping: releases popped slots, asks the producer for a
    /// signal and re-checks the queue. Wait only on [`Idle::Sleep`].
    pub fn request_signal(&mut self) -> Result<Idle, PeerError> {
        self.release();
        let flag = &self.q.header.signal_requested;
        // Relaxed: ordered before the re-check by C-FENCE.
        flag.store(1, Ordering::Relaxed);
        // C-FENCE: orders the flag store before the tail re-check; pairs
        // with P-FENCE in `RecordProducer::publish`.
        fence(Ordering::SeqCst);
        self.refresh_tail()?;
        if self.head != self.tail {
            // Work arrived: withdraw the request so a busy consumer draws
            // no signals (one spurious wake-up if the producer already took
            // it).
            flag.store(0, Ordering::Relaxed);
            Ok(Idle::MoreWork)
        } else {
            Ok(Idle::Sleep)
        }
    }

    /// Asks for a signal at the producer's next publish even though records
    /// are waiting: for a consumer that chooses not to take them yet (a
    /// driver whose response queue has no room), so it sleeps until the
    /// producer does something new instead of spinning.
    pub fn request_signal_for_next_publish(&mut self) {
        self.release();
        // Relaxed: no re-check follows; whatever the producer published
        // before this store is deliberately left waiting.
        self.q.header.signal_requested.store(1, Ordering::Relaxed);
    }
}
