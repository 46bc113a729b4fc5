//! A split virtqueue over caller-provided memory, driven by a driver that
//! trusts nothing the device writes.
//!
//! # What the driver keeps to itself
//!
//! The free list, each chain's length and writable bytes, which heads are
//! in flight, and its own ring indices live in [`Virtqueue`], never in
//! shared memory: the device can overwrite the descriptor table and the
//! rings at will, and the driver never reads back anything it wrote there.
//! What it reads from the device, `used.idx` and each used entry's id and
//! length, is checked before it changes any state:
//!
//! - `used.idx` may be ahead of the driver's count by at most the chains in
//!   flight (made available, not completed), which is at most the queue
//!   size; an index that moved backwards looks the same and fails the same;
//! - an id must be below the queue size and be the head of a chain in
//!   flight: not free, not inside a chain, not pushed but unpublished, not
//!   completed already;
//! - a length may not exceed the chain's writable bytes.
//!
//! A violation is a [`DeviceError`] and consumes nothing.
//!
//! # The driver never dereferences data
//!
//! A chain is made of [`Segment`]s: IOVAs and lengths. The driver writes
//! them into descriptors and never touches the memory they name, which in
//! paddock lives in a window only the client maps.
//!
//! # Ordering (virtio 1.x, 2.7.13 and 2.7.14)
//!
//! - **Q-REL-AVAIL** ([`Virtqueue::publish`]): Release store of
//!   `avail.idx`, after the descriptors and ring entries are written
//!   (the specification's write barrier before the index update).
//! - **Q-FENCE** ([`Virtqueue::publish`]): a full fence between that store
//!   and the load of `used.flags`, so that either the device sees the new
//!   index or the driver sees the device asking to be notified (the
//!   specification's full barrier before the notification decision).
//!   The same fence orders the index store before the notify register
//!   write the caller makes next.
//! - **Q-ACQ-USED** ([`Virtqueue::pop_used`]): Acquire load of `used.idx`
//!   before reading used entries and the buffers they describe (the read
//!   barrier after reading the index).
//!
//! Notification suppression is the used ring's NO_NOTIFY flag;
//! VIRTIO_F_EVENT_IDX is not negotiated.

pub mod layout;

use core::sync::atomic::{fence, Ordering};

use crate::error::{DeviceError, LayoutError, SubmitError};
use crate::Iova;
use layout::{flags, QueueMemory};

/// One segment of a buffer chain: where the device finds it, and how long
/// it is. The driver never dereferences it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Device-visible address.
    pub iova: Iova,
    /// Bytes.
    pub len: u32,
}

/// A chain the device has finished with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Used {
    /// The chain's head descriptor: what [`Virtqueue::push`] returned.
    pub head: u16,
    /// Bytes the device says it wrote, at most the chain's writable bytes.
    pub len: u32,
}

/// Whether the caller must write the queue's notify register.
#[must_use = "notify the device when this is `Notify::Yes`, or it may never look at the queue"]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notify {
    /// Nothing new, or the device asked not to be notified.
    No,
    /// Notify the device ([`Transport::notify`](crate::Transport::notify)).
    Yes,
}

/// What the driver knows about one descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// On the free list.
    Free,
    /// On the free list; it headed a chain the device completed, and no
    /// chain has taken it since.
    Completed,
    /// Inside a chain, not its head.
    Chained,
    /// Head of a chain written to the available ring, index not published.
    Pushed { descriptors: u16, writable: u32 },
    /// Head of a chain the device may use.
    Available { descriptors: u16, writable: u32 },
}

/// A split virtqueue of up to `N` descriptors (the driver's bookkeeping is
/// sized at compile time: no allocation). Made by
/// [`Transport::setup_queue`](crate::Transport::setup_queue), or by
/// [`Virtqueue::new`] for tests.
pub struct Virtqueue<'a, const N: usize> {
    memory: QueueMemory<'a>,
    size: u16,
    state: [State; N],
    /// Free list and chain links: a chain is taken off the front of the
    /// free list in order, so the links of a chain are its free-list links.
    next: [u16; N],
    free_head: u16,
    free_count: u16,
    /// Heads in available-ring order, so publishing knows which to mark.
    avail_heads: [u16; N],
    /// Next available-ring entry to fill.
    avail_idx: u16,
    /// The last `avail.idx` stored.
    published_idx: u16,
    /// Next used-ring entry to read; also, modulo 2^16, completions so far.
    last_used: u16,
}

impl<'a, const N: usize> Virtqueue<'a, N> {
    /// A queue of `size` entries (a power of two, at most `N` and the
    /// memory's capacity) over `memory`, which must be all zero or
    /// otherwise unused by the device: the device is told its IOVAs
    /// separately.
    pub fn new(memory: QueueMemory<'a>, size: u16) -> Result<Self, LayoutError> {
        const {
            assert!(
                N <= layout::MAX_QUEUE_SIZE as usize,
                "a split queue has at most 32768 entries"
            )
        };
        if !size.is_power_of_two() || usize::from(size) > N || size > memory.capacity() {
            return Err(LayoutError::BadQueueSize { size: size.into() });
        }
        let mut next = [0u16; N];
        for (i, link) in next.iter_mut().enumerate().take(size.into()) {
            // The last one's link is never followed: free_count says so.
            *link = (i as u16).wrapping_add(1);
        }
        // Zeroed, as virtio 1.x asks (4.1.5.1.3), and so that a used index
        // left over from another use of the memory is not taken for
        // completions. The device does not look before the queue is
        // enabled.
        for d in memory.descriptors {
            d.addr.store(0, Ordering::Relaxed);
            d.len.store(0, Ordering::Relaxed);
            d.flags.store(0, Ordering::Relaxed);
            d.next.store(0, Ordering::Relaxed);
        }
        let (available, used) = (memory.available, memory.used);
        for word in [&available.flags, &available.idx, &used.flags, &used.idx] {
            word.store(0, Ordering::Relaxed);
        }
        for entry in &available.ring {
            entry.store(0, Ordering::Relaxed);
        }
        for entry in &used.ring {
            entry.id.store(0, Ordering::Relaxed);
            entry.len.store(0, Ordering::Relaxed);
        }
        Ok(Self {
            memory,
            size,
            state: [State::Free; N],
            next,
            free_head: 0,
            free_count: size,
            avail_heads: [0; N],
            avail_idx: 0,
            published_idx: 0,
            last_used: 0,
        })
    }

    /// Entries of the queue, as the device was told.
    pub fn size(&self) -> u16 {
        self.size
    }

    /// Descriptors not in any chain.
    pub fn free_descriptors(&self) -> u16 {
        self.free_count
    }

    /// Chains made available to the device and not yet completed.
    pub fn in_flight(&self) -> u16 {
        self.published_idx.wrapping_sub(self.last_used)
    }

    /// The head descriptor the next [`push`](Self::push) will use, if any
    /// descriptor is free: a request can put its header where that head's
    /// slot is before pushing.
    pub fn next_head(&self) -> Option<u16> {
        (self.free_count > 0).then_some(self.free_head)
    }

    /// The IOVAs of this queue's parts.
    pub fn iovas(&self) -> layout::QueueIovas {
        self.memory.iovas()
    }

    /// Adds a chain: the `readable` segments (the device reads them), then
    /// the `writable` ones (the device writes them), each a list of lists so
    /// that a caller can prepend a header without copying. The chain is
    /// offered to the device at the next [`publish`](Self::publish).
    /// Returns its head, the id the completion will carry.
    ///
    /// Everything is checked before anything is written: on error the
    /// queue is unchanged.
    pub fn push(
        &mut self,
        readable: &[&[Segment]],
        writable: &[&[Segment]],
    ) -> Result<u16, SubmitError> {
        let segments = || {
            let r = readable.iter().flat_map(|s| s.iter()).map(|s| (s, false));
            let w = writable.iter().flat_map(|s| s.iter()).map(|s| (s, true));
            r.chain(w)
        };
        let mut count = 0usize;
        let mut writable_bytes = 0u64;
        for (index, (segment, device_writes)) in segments().enumerate() {
            if segment.len == 0 {
                return Err(SubmitError::ZeroLength { index });
            }
            if segment.iova.checked_add(segment.len.into()).is_none() {
                return Err(SubmitError::SegmentWraps {
                    index,
                    iova: segment.iova,
                    len: segment.len,
                });
            }
            if device_writes {
                writable_bytes += u64::from(segment.len);
            }
            count += 1;
        }
        if count == 0 {
            return Err(SubmitError::Empty);
        }
        if count > usize::from(self.size) {
            return Err(SubmitError::ChainTooLong {
                descriptors: count,
                queue_size: self.size,
            });
        }
        if count > usize::from(self.free_count) {
            return Err(SubmitError::NoFreeDescriptors {
                needed: count,
                free: self.free_count,
            });
        }
        let writable = u32::try_from(writable_bytes).map_err(|_| SubmitError::WritableTooLong {
            bytes: writable_bytes,
        })?;

        let head = self.free_head;
        let mut current = head;
        for (i, (segment, device_writes)) in segments().enumerate() {
            let index = usize::from(current);
            let link = self.next[index];
            let last = i + 1 == count;
            let mut f = if device_writes { flags::WRITE } else { 0 };
            if !last {
                f |= flags::NEXT;
            }
            // Relaxed: published by Q-REL-AVAIL.
            let d = &self.memory.descriptors[index];
            d.addr.store(segment.iova.0.to_le(), Ordering::Relaxed);
            d.len.store(segment.len.to_le(), Ordering::Relaxed);
            d.flags.store(f.to_le(), Ordering::Relaxed);
            d.next
                .store(if last { 0 } else { link.to_le() }, Ordering::Relaxed);
            self.state[index] = State::Chained;
            current = link;
        }
        self.free_head = current;
        self.free_count -= count as u16;
        self.state[usize::from(head)] = State::Pushed {
            descriptors: count as u16,
            writable,
        };
        let slot = self.slot(self.avail_idx);
        self.memory.available.ring[slot].store(head.to_le(), Ordering::Relaxed);
        self.avail_heads[slot] = head;
        self.avail_idx = self.avail_idx.wrapping_add(1);
        Ok(head)
    }

    /// Offers every pushed chain to the device, and says whether to notify
    /// it.
    pub fn publish(&mut self) -> Notify {
        if self.avail_idx == self.published_idx {
            return Notify::No;
        }
        let mut idx = self.published_idx;
        while idx != self.avail_idx {
            let head = usize::from(self.avail_heads[self.slot(idx)]);
            if let State::Pushed {
                descriptors,
                writable,
            } = self.state[head]
            {
                self.state[head] = State::Available {
                    descriptors,
                    writable,
                };
            }
            idx = idx.wrapping_add(1);
        }
        // Q-REL-AVAIL: the descriptors and ring entries above are visible
        // to the device before the index that offers them.
        self.memory
            .available
            .idx
            .store(self.avail_idx.to_le(), Ordering::Release);
        self.published_idx = self.avail_idx;
        // Q-FENCE: the index store before the flags load (and before the
        // caller's notify write).
        fence(Ordering::SeqCst);
        let device_flags = u16::from_le(self.memory.used.flags.load(Ordering::Relaxed));
        // A hostile device can only suppress its own notifications here.
        if device_flags & flags::NO_NOTIFY != 0 {
            Notify::No
        } else {
            Notify::Yes
        }
    }

    /// Asks the device not to interrupt (`true`) or to interrupt again
    /// (`false`) on completions: a hint, as virtio 1.x says (2.7.10).
    pub fn suppress_interrupts(&mut self, suppress: bool) {
        let f = if suppress { flags::NO_INTERRUPT } else { 0 };
        self.memory
            .available
            .flags
            .store(f.to_le(), Ordering::Relaxed);
    }

    /// The next completed chain, if the device has completed one; its
    /// descriptors are free again. Every value read from the used ring is
    /// checked first; on error nothing is consumed.
    pub fn pop_used(&mut self) -> Result<Option<Used>, DeviceError> {
        // Q-ACQ-USED: the used entries, and what the device wrote into the
        // chains' buffers, are read after the index that announces them.
        let used_idx = u16::from_le(self.memory.used.idx.load(Ordering::Acquire));
        let ready = used_idx.wrapping_sub(self.last_used);
        if ready == 0 {
            return Ok(None);
        }
        let in_flight = self.in_flight();
        if ready > in_flight {
            return Err(DeviceError::UsedIdxAhead {
                used_idx,
                last_used: self.last_used,
                in_flight,
            });
        }
        let entry = &self.memory.used.ring[self.slot(self.last_used)];
        let id = u32::from_le(entry.id.load(Ordering::Relaxed));
        let len = u32::from_le(entry.len.load(Ordering::Relaxed));
        if id >= u32::from(self.size) {
            return Err(DeviceError::UsedIdOutOfRange {
                id,
                queue_size: self.size,
            });
        }
        let head = id as u16;
        let (descriptors, writable) = match self.state[usize::from(head)] {
            State::Available {
                descriptors,
                writable,
            } => (descriptors, writable),
            State::Chained => return Err(DeviceError::UsedIdNotHead { id }),
            State::Free | State::Pushed { .. } => {
                return Err(DeviceError::UsedIdNotInFlight { id })
            }
            State::Completed => return Err(DeviceError::UsedIdCompletedTwice { id }),
        };
        if len > writable {
            return Err(DeviceError::UsedLenTooLarge { id, len, writable });
        }
        self.recycle(head, descriptors);
        self.last_used = self.last_used.wrapping_add(1);
        Ok(Some(Used { head, len }))
    }

    /// Puts a completed chain back on the front of the free list, in chain
    /// order, so its links stay valid as free-list links.
    fn recycle(&mut self, head: u16, descriptors: u16) {
        let mut last = head;
        for _ in 1..descriptors {
            self.state[usize::from(last)] = State::Free;
            last = self.next[usize::from(last)];
        }
        self.state[usize::from(last)] = State::Free;
        self.next[usize::from(last)] = self.free_head;
        self.state[usize::from(head)] = State::Completed;
        self.free_head = head;
        self.free_count += descriptors;
    }

    /// The ring slot of a free-running index: in bounds, since `size` is a
    /// power of two no larger than each part (checked in `new`).
    fn slot(&self, idx: u16) -> usize {
        usize::from(idx & (self.size - 1))
    }
}
