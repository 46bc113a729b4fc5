//! One single-producer/single-consumer queue of descriptors.
//!
//! # Index protocol
//!
//! `tail` and `head` are free-running `u32`s; slot `i` lives at
//! `slots[i & (capacity - 1)]`. The queue holds `tail - head` (wrapping)
//! descriptors, at most `capacity`. Each side keeps its own index locally
//! and only *writes* it to shared memory; it never reads its own index back
//! (a peer could have scribbled on it). The peer's index is read, checked
//! against what the protocol allows, and cached.
//!
//! The four ordering points, named so each side of a pair can refer to the
//! other:
//!
//! - **P-REL-TAIL** ([`Producer::publish`]): Release store of `tail`, after
//!   the slot writes. Pairs with C-ACQ-TAIL.
//! - **C-ACQ-TAIL** (`Consumer::refresh_tail`): Acquire load of `tail`
//!   before reading slots, so the slot contents written before P-REL-TAIL
//!   are visible.
//! - **C-REL-HEAD** ([`Consumer::release`]): Release store of `head`, after
//!   the slot reads. Pairs with P-ACQ-HEAD.
//! - **P-ACQ-HEAD** (`Producer::refresh_head`): Acquire load of `head`
//!   before overwriting slots, so the consumer's reads of the old contents
//!   happen before the producer's new writes.
//!
//! # Wake-up protocol (signal suppression without lost wake-ups)
//!
//! The crate never calls the kernel: [`Producer::publish`] returns
//! [`Notify`], and the caller signals the consumer's notification when it
//! says [`Notify::Yes`]. A seL4 notification is a sticky bit: a signal sent
//! before the consumer waits is not lost, it makes the wait return at once.
//!
//! Consumer, when it finds the queue empty and wants to sleep
//! ([`Consumer::request_signal`]):
//! 1. store `signal_requested = 1`;
//! 2. full fence (**C-FENCE**, `SeqCst`);
//! 3. load `tail` again (the re-check). If work arrived, cancel the request
//!    (`signal_requested = 0`) and process it ([`Idle::MoreWork`]);
//!    otherwise wait on the notification ([`Idle::Sleep`]).
//!
//! Producer, after filling slots ([`Producer::publish`]):
//! 1. store `tail` (P-REL-TAIL);
//! 2. full fence (**P-FENCE**, `SeqCst`);
//! 3. load `signal_requested`; if set, clear it (compare-exchange to 0)
//!    and return [`Notify::Yes`].
//!
//! Why no wake-up is lost: C-FENCE and P-FENCE are ordered one way or the
//! other in the single total order of `SeqCst` fences. If C-FENCE comes
//! first, the producer's step 3 sees the request (it was stored before
//! C-FENCE) and notifies. If P-FENCE comes first, the consumer's re-check
//! sees the new tail (stored before P-FENCE) and does not sleep. Without the
//! fences both loads could read stale values (store buffering) and both
//! sides would conclude the other has nothing to do; without the re-check
//! the consumer could set the flag after the producer looked at it. The
//! loom test checks both this argument and its failure without the
//! re-check.
//!
//! Suppression: while the consumer is busy it has no request set, so a
//! producer publishing many batches sends no signals; a sleeping consumer
//! gets one signal, since the producer clears the request as it notifies.
//!
//! # Deferred wake-up check
//!
//! P-FENCE is the expensive part of a publish on a multi-core machine: it
//! waits until the tail store, and every slot store before it, has reached
//! the cache, which takes a cache-line transfer when the consumer has just
//! read those lines. A producer that publishes often and keeps working may
//! instead call [`Producer::publish_deferred`]: it stores `tail` and looks
//! at `signal_requested` with a plain load (the request has its own cache
//! line, so this is a hit), and notifies if a request is already visible.
//! It skips P-FENCE, so a consumer going to sleep at that very moment may
//! be missed; that wake-up is only *deferred*, never lost, as long as the
//! producer calls [`Producer::settle`] (P-FENCE, then step 3) before it
//! waits for anything or stops publishing. The argument above applies to
//! the settle's fence: if C-FENCE comes first, the settle sees the
//! request; if P-FENCE comes first, the consumer's re-check sees every
//! tail stored before it. A later `publish_deferred` also wakes the
//! consumer, since by then the request is visible to the plain load. The
//! loom test checks that deferring and settling loses nothing, and that
//! deferring without the settle does.
//!
//! On a single core (seL4 as paddock configures it) the store buffering
//! this guards against cannot happen between components at all, but the
//! protocol does not rely on that.

use crate::error::{LayoutError, PeerError, PushError};
#[cfg(not(feature = "loom"))]
pub(crate) use crate::layout::check_memory;
use crate::layout::{is_valid_slot_count, QueueHeader, Slot};
use crate::sync::{fence, Ordering};

/// One descriptor: a buffer of the data region, as a byte offset and a
/// length. Values popped from a queue are the peer's claims; turn them into
/// buffers only through [`DataRegion`](crate::DataRegion), which checks them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Descriptor {
    /// Byte offset of the buffer in the data region.
    pub offset: u32,
    /// Bytes of the buffer in use.
    pub len: u32,
}

/// Whether the caller must signal the peer's notification.
#[must_use = "signal the peer when this is `Notify::Yes`, or it may sleep forever"]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notify {
    /// The peer is not waiting for this queue.
    No,
    /// The peer asked to be woken: signal its notification.
    Yes,
}

impl Notify {
    /// `true` for [`Notify::Yes`].
    #[inline]
    pub fn is_needed(self) -> bool {
        self == Notify::Yes
    }
}

impl core::ops::BitOr for Notify {
    type Output = Notify;
    fn bitor(self, rhs: Notify) -> Notify {
        if self.is_needed() || rhs.is_needed() {
            Notify::Yes
        } else {
            Notify::No
        }
    }
}

/// What a consumer about to go idle should do, from
/// [`Consumer::request_signal`].
#[must_use = "sleeping on `Idle::MoreWork` loses work; looping on `Idle::Sleep` spins"]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idle {
    /// The queue is empty and the producer will notify on its next publish:
    /// wait on the notification.
    Sleep,
    /// Descriptors arrived meanwhile: pop them; do not wait.
    MoreWork,
}

/// A view of one queue in shared memory: header and slots, with a
/// power-of-two slot count. Roles are taken by [`Producer::new`] and
/// [`Consumer::new`].
#[derive(Clone, Copy)]
pub struct Queue<'a> {
    header: &'a QueueHeader,
    slots: &'a [Slot],
}

impl<'a> Queue<'a> {
    /// A queue over a header and its slots; the slot count must be a power
    /// of two.
    pub fn new(header: &'a QueueHeader, slots: &'a [Slot]) -> Result<Self, LayoutError> {
        match u32::try_from(slots.len()) {
            Ok(n) if is_valid_slot_count(n) => Ok(Self { header, slots }),
            _ => Err(LayoutError::BadSlotCount { slots: slots.len() }),
        }
    }

    /// A queue of `slots` slots over the start of `bytes`, which must be
    /// [`QUEUE_ALIGN`](crate::layout::QUEUE_ALIGN)-aligned and at least
    /// [`queue_bytes`](crate::layout::queue_bytes)`(slots)` long. Safe: the
    /// exclusive borrow means no one else in this address space touches the
    /// memory for `'a` (host tests, or memory a component owns outright).
    #[cfg(not(feature = "loom"))]
    pub fn from_bytes(bytes: &'a mut [u8], slots: u32) -> Result<Self, LayoutError> {
        use zerocopy::FromBytes;
        let needed = crate::layout::queue_bytes(slots).ok_or(LayoutError::BadSlotCount {
            slots: slots as usize,
        })?;
        check_memory(bytes.as_ptr() as usize, bytes.len(), needed)?;
        let (header, rest) =
            QueueHeader::mut_from_prefix(bytes).map_err(|_| LayoutError::Misaligned {
                addr: 0, // unreachable: alignment and size checked above
            })?;
        let (slots, _) = <[Slot]>::mut_from_prefix_with_elems(rest, slots as usize)
            .map_err(|_| LayoutError::Misaligned { addr: 0 })?;
        Self::new(header, slots)
    }

    /// Number of slots.
    #[inline]
    pub fn capacity(&self) -> u32 {
        // Checked in `new` to fit.
        self.slots.len() as u32
    }

    /// The header, for tools that inspect a ring (and hostile-peer tests).
    pub fn header(&self) -> &'a QueueHeader {
        self.header
    }

    /// The slots, for tools that inspect a ring (and hostile-peer tests).
    pub fn slots(&self) -> &'a [Slot] {
        self.slots
    }

    #[inline]
    fn mask(&self) -> u32 {
        self.capacity() - 1
    }

    #[inline]
    fn slot(&self, index: u32) -> &'a Slot {
        // In bounds: the mask is `len - 1` and `len` is a power of two.
        &self.slots[(index & self.mask()) as usize]
    }

    /// The slots of `count` indices from `first` (at most a capacity), as
    /// the two contiguous runs they occupy, so batch loops need no mask
    /// per item.
    #[inline]
    fn runs(&self, first: u32, count: usize) -> (&'a [Slot], &'a [Slot]) {
        let start = (first & self.mask()) as usize;
        let (to_end, from_start) = self.slots.split_at(start);
        let in_first = count.min(from_start.len());
        let rest = (count - in_first).min(to_end.len());
        (&from_start[..in_first], &self.slots[..rest])
    }
}

/// The producer end of a queue: fills slots and moves `tail`. Hold exactly
/// one per queue, in the producing component.
pub struct Producer<'a> {
    q: Queue<'a>,
    /// Next slot to fill; ahead of `published` by the unpublished pushes.
    tail: u32,
    /// The last value stored to the shared `tail`.
    published: u32,
    /// The last consumer head accepted, always in `[.., published]`.
    head: u32,
    /// A [`publish_deferred`](Self::publish_deferred) has not yet been
    /// followed by the fenced check of [`settle`](Self::settle).
    unsettled: bool,
}

impl<'a> Producer<'a> {
    /// Takes the producer role on `q`, continuing from the indices in shared
    /// memory (zero for a fresh queue).
    pub fn new(q: Queue<'a>) -> Result<Self, PeerError> {
        // Relaxed: our own word, read once at attach time; nobody else may
        // write it, and the consistency check below catches a peer that did.
        let tail = q.header.tail.load(Ordering::Relaxed);
        // Acquire: pairs with C-REL-HEAD in `Consumer::release`.
        let head = q.header.head.load(Ordering::Acquire);
        if tail.wrapping_sub(head) > q.capacity() {
            return Err(PeerError::IndicesInconsistent { head, tail });
        }
        Ok(Self {
            q,
            tail,
            published: tail,
            head,
            unsettled: false,
        })
    }

    /// Number of slots.
    #[inline]
    pub fn capacity(&self) -> u32 {
        self.q.capacity()
    }

    /// Reads and checks the consumer's head. It may only move forward, and
    /// never past what we published.
    #[inline]
    fn refresh_head(&mut self) -> Result<(), PeerError> {
        // P-ACQ-HEAD. Acquire: pairs with C-REL-HEAD (the Release store in
        // `Consumer::release`), so the consumer's reads of the slots it
        // gives back happen before we overwrite them.
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
    #[inline]
    pub fn free_slots(&mut self) -> Result<u32, PeerError> {
        self.refresh_head()?;
        Ok(self.capacity() - self.tail.wrapping_sub(self.head))
    }

    /// Writes `d` into the next slot. Not visible to the consumer until
    /// [`publish`](Self::publish).
    #[inline]
    pub fn push(&mut self, d: Descriptor) -> Result<(), PushError> {
        if self.tail.wrapping_sub(self.head) == self.capacity() {
            self.refresh_head()?;
            if self.tail.wrapping_sub(self.head) == self.capacity() {
                return Err(PushError::Full);
            }
        }
        // Ordered before the consumer's reads by P-REL-TAIL in `publish`.
        self.q.slot(self.tail).write(d);
        self.tail = self.tail.wrapping_add(1);
        Ok(())
    }

    /// Writes as many of `ds` as there are free slots for, in order, and
    /// returns how many; like that many [`push`](Self::push)es, in one
    /// pass. Not visible to the consumer until [`publish`](Self::publish).
    #[inline]
    pub fn push_slice(&mut self, ds: &[Descriptor]) -> Result<usize, PeerError> {
        let mut free = self.capacity() - self.tail.wrapping_sub(self.head);
        if (free as usize) < ds.len() {
            self.refresh_head()?;
            free = self.capacity() - self.tail.wrapping_sub(self.head);
        }
        let n = ds.len().min(free as usize);
        let (first, second) = self.q.runs(self.tail, n);
        let (ds_first, ds_second) = ds[..n].split_at(first.len());
        for (slot, d) in first.iter().zip(ds_first) {
            slot.write(*d);
        }
        for (slot, d) in second.iter().zip(ds_second) {
            slot.write(*d);
        }
        // `n <= free <= capacity`, a `u32`.
        self.tail = self.tail.wrapping_add(n as u32);
        Ok(n)
    }

    /// Pushes not yet published.
    #[inline]
    pub fn unpublished(&self) -> u32 {
        self.tail.wrapping_sub(self.published)
    }

    /// Makes every push so far visible to the consumer, and says whether the
    /// consumer asked to be woken (see the module documentation).
    #[inline]
    pub fn publish(&mut self) -> Notify {
        if !self.store_tail() {
            // Nothing new: a sleeping consumer has nothing to wake up for.
            return Notify::No;
        }
        self.unsettled = true;
        self.settle()
    }

    /// Makes every push so far visible to the consumer without the full
    /// fence of [`publish`](Self::publish): notifies only a consumer whose
    /// request to be woken is already visible. Call [`settle`](Self::settle)
    /// before this component waits for anything or stops publishing, or a
    /// consumer that went to sleep meanwhile may sleep on (module
    /// documentation, "Deferred wake-up check").
    #[inline]
    pub fn publish_deferred(&mut self) -> Notify {
        if !self.store_tail() {
            return Notify::No;
        }
        let notify = self.take_request();
        // A request taken means the consumer will be signalled and look
        // again, so nothing is left to check; otherwise the settle's fenced
        // look is still owed.
        self.unsettled = !notify.is_needed();
        notify
    }

    /// The wake-up check owed by earlier
    /// [`publish_deferred`](Self::publish_deferred) calls: a full fence,
    /// then a look at the consumer's request. Costs nothing when nothing is
    /// owed.
    #[inline]
    pub fn settle(&mut self) -> Notify {
        if !self.unsettled {
            return Notify::No;
        }
        self.unsettled = false;
        // P-FENCE: orders the tail store before the flag load; pairs with
        // C-FENCE in `Consumer::request_signal`.
        fence(Ordering::SeqCst);
        self.take_request()
    }

    /// P-REL-TAIL: stores the tail if there are unpublished pushes; returns
    /// whether it did.
    #[inline]
    fn store_tail(&mut self) -> bool {
        if self.tail == self.published {
            return false;
        }
        // Release: pairs with C-ACQ-TAIL (the Acquire load in
        // `Consumer::refresh_tail`), making the slot writes visible.
        self.q.header.tail.store(self.tail, Ordering::Release);
        self.published = self.tail;
        true
    }

    /// Step 3 of the producer's side: takes the consumer's request to be
    /// woken, if one is visible.
    #[inline]
    fn take_request(&self) -> Notify {
        let flag = &self.q.header.signal_requested;
        // Relaxed: the fences order these against the consumer's flag
        // store and tail re-check; nothing is read through the flag. The
        // plain load keeps the common case (no request) free of a locked
        // instruction. Clearing the request makes a sleeping consumer get
        // one signal, not one per publish. A compare-exchange from the value
        // seen, rather than a swap: it fails only if the consumer cancelled
        // meanwhile (it found work, so needs no signal), and loom models it
        // faithfully where it mis-models a swap racing a plain store
        // (tokio-rs/loom#254).
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

/// The consumer end of a queue: reads slots and moves `head`. Hold exactly
/// one per queue, in the consuming component.
pub struct Consumer<'a> {
    q: Queue<'a>,
    /// Next slot to read.
    head: u32,
    /// The last value stored to the shared `head`.
    released: u32,
    /// The last producer tail accepted, always in `[head, released + capacity]`.
    tail: u32,
}

impl<'a> Consumer<'a> {
    /// Takes the consumer role on `q`, continuing from the indices in shared
    /// memory (zero for a fresh queue).
    pub fn new(q: Queue<'a>) -> Result<Self, PeerError> {
        // Relaxed: our own word, read once at attach time (see
        // `Producer::new`).
        let head = q.header.head.load(Ordering::Relaxed);
        // Acquire: pairs with P-REL-TAIL in `Producer::publish`.
        let tail = q.header.tail.load(Ordering::Acquire);
        if tail.wrapping_sub(head) > q.capacity() {
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
    #[inline]
    pub fn capacity(&self) -> u32 {
        self.q.capacity()
    }

    /// Reads and checks the producer's tail. It may only move forward, and
    /// at most a capacity past the head we released (the producer cannot
    /// know of slots we read but did not release).
    #[inline]
    fn refresh_tail(&mut self) -> Result<(), PeerError> {
        // C-ACQ-TAIL. Acquire: pairs with P-REL-TAIL (the Release store in
        // `Producer::publish`), so the slots below `tail` are written.
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

    /// Descriptors ready to pop, after looking at the producer's tail.
    #[inline]
    pub fn available(&mut self) -> Result<u32, PeerError> {
        self.refresh_tail()?;
        Ok(self.tail.wrapping_sub(self.head))
    }

    /// Takes the next descriptor, if any. Its slot is handed back to the
    /// producer at the next [`release`](Self::release) (or
    /// [`request_signal`](Self::request_signal)).
    #[inline]
    pub fn pop(&mut self) -> Result<Option<Descriptor>, PeerError> {
        if self.head == self.tail {
            self.refresh_tail()?;
            if self.head == self.tail {
                return Ok(None);
            }
        }
        // Made visible by C-ACQ-TAIL in `refresh_tail`; ordered before the
        // producer's reuse of the slot by C-REL-HEAD in `release`.
        let d = self.q.slot(self.head).read();
        self.head = self.head.wrapping_add(1);
        Ok(Some(d))
    }

    /// Takes up to `out.len()` descriptors into `out`, in order, and returns
    /// how many; like that many [`pop`](Self::pop)s, in one pass. Their
    /// slots are handed back at the next [`release`](Self::release).
    #[inline]
    pub fn pop_into(&mut self, out: &mut [Descriptor]) -> Result<usize, PeerError> {
        let mut ready = self.tail.wrapping_sub(self.head);
        if (ready as usize) < out.len() {
            self.refresh_tail()?;
            ready = self.tail.wrapping_sub(self.head);
        }
        let n = out.len().min(ready as usize);
        let (first, second) = self.q.runs(self.head, n);
        let (out_first, out_second) = out[..n].split_at_mut(first.len());
        for (d, slot) in out_first.iter_mut().zip(first) {
            *d = slot.read();
        }
        for (d, slot) in out_second.iter_mut().zip(second) {
            *d = slot.read();
        }
        // `n <= ready <= capacity`, a `u32`.
        self.head = self.head.wrapping_add(n as u32);
        Ok(n)
    }

    /// Hands the slots popped so far back to the producer.
    #[inline]
    pub fn release(&mut self) {
        if self.head == self.released {
            return;
        }
        // C-REL-HEAD. Release: pairs with P-ACQ-HEAD (the Acquire load in
        // `Producer::refresh_head`): our slot reads happen before the
        // producer overwrites them.
        self.q.header.head.store(self.head, Ordering::Release);
        self.released = self.head;
    }

    /// Before sleeping: releases popped slots, asks the producer for a
    /// signal, and re-checks the queue (see the module documentation).
    /// Wait on the notification only on [`Idle::Sleep`].
    #[inline]
    pub fn request_signal(&mut self) -> Result<Idle, PeerError> {
        self.request_signal_with(true)
    }

    #[inline]
    fn request_signal_with(&mut self, full_fence: bool) -> Result<Idle, PeerError> {
        self.release();
        let flag = &self.q.header.signal_requested;
        // Relaxed: ordered before the re-check by C-FENCE.
        flag.store(1, Ordering::Relaxed);
        if full_fence {
            // C-FENCE: orders the flag store before the tail re-check; pairs
            // with P-FENCE in `Producer::publish`.
            fence(Ordering::SeqCst);
        }
        self.refresh_tail()?;
        if self.head != self.tail {
            // Work arrived: withdraw the request so a busy consumer does not
            // draw signals. If the producer already took it, one spurious
            // wake-up follows, which is harmless.
            flag.store(0, Ordering::Relaxed);
            Ok(Idle::MoreWork)
        } else {
            Ok(Idle::Sleep)
        }
    }

    /// A deliberately broken [`request_signal`](Self::request_signal)
    /// without C-FENCE, so the loom test can show that the model finds the
    /// lost wake-up (store buffering) this allows. Never use it.
    #[cfg(feature = "loom")]
    #[doc(hidden)]
    pub fn request_signal_without_fence(&mut self) -> Result<Idle, PeerError> {
        self.request_signal_with(false)
    }

    /// Like [`request_signal_without_fence`](Self::request_signal_without_fence),
    /// but without the re-check as well. Never use it.
    #[cfg(feature = "loom")]
    #[doc(hidden)]
    pub fn request_signal_without_recheck(&mut self) {
        self.release();
        self.q.header.signal_requested.store(1, Ordering::Relaxed);
    }
}
