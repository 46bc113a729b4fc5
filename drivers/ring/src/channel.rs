//! One direction of buffer transfer: an *active* queue (sender to receiver:
//! filled buffers) and a *free* queue (receiver to sender: buffers to
//! reuse) over one data region, as in sDDF.
//!
//! The sender starts out owning every buffer (memory starts zeroed: both
//! queues empty), hands them out in index order, then reuses what comes
//! back on the free queue. Both queues have at least as many slots as there
//! are buffers, so an honest peer never finds one full; a full queue
//! therefore proves the peer returned or sent a buffer twice
//! ([`PeerError::QueueOverflow`]).
//!
//! For RX, the driver is the sender and the client the receiver; for TX,
//! the other way round.

use crate::error::{AttachError, LayoutError, PeerError, PushError};
use crate::queue::{Consumer, Idle, Notify, Producer, Queue};
use crate::region::{Buf, DataRegion};

fn check_capacity(q: &Queue<'_>, region: &DataRegion<'_>) -> Result<(), LayoutError> {
    if q.capacity() < region.buffers() {
        return Err(LayoutError::QueueSmallerThanBuffers {
            capacity: q.capacity(),
            buffers: region.buffers(),
        });
    }
    Ok(())
}

fn overflow(e: PushError) -> PeerError {
    match e {
        PushError::Full => PeerError::QueueOverflow,
        PushError::Peer(e) => e,
    }
}

/// The filling side: takes empty buffers, fills them, sends them.
pub struct Sender<'a> {
    active: Producer<'a>,
    free: Consumer<'a>,
    region: DataRegion<'a>,
    /// Buffers never handed out yet: `fresh..buffers` are still ours.
    fresh: u32,
}

impl<'a> Sender<'a> {
    /// The sender over freshly zeroed queues and region.
    pub fn new(
        active: Queue<'a>,
        free: Queue<'a>,
        region: DataRegion<'a>,
    ) -> Result<Self, AttachError> {
        check_capacity(&active, &region)?;
        check_capacity(&free, &region)?;
        Ok(Self {
            active: Producer::new(active)?,
            free: Consumer::new(free)?,
            region,
            fresh: 0,
        })
    }

    /// The sender of a restarted component, over queues and a region that
    /// have been in use.
    ///
    /// The queues' indices continue from shared memory (as in [`new`]),
    /// but which buffers the previous instance still held privately cannot
    /// be told from those the receiver holds. So none is handed out again
    /// until it comes back on the free queue: a buffer the receiver still
    /// reads is never reused. What the previous instance held is lost to
    /// the channel (its capacity shrinks by that much), never duplicated.
    ///
    /// [`new`]: Self::new
    pub fn reattach(
        active: Queue<'a>,
        free: Queue<'a>,
        region: DataRegion<'a>,
    ) -> Result<Self, AttachError> {
        let mut sender = Self::new(active, free, region)?;
        sender.fresh = sender.region.buffers();
        Ok(sender)
    }

    /// The data region.
    #[inline]
    pub fn region(&self) -> &DataRegion<'a> {
        &self.region
    }

    /// An empty buffer to fill, if one is available: first the never-used
    /// ones, then those the receiver gave back (checked).
    #[inline]
    pub fn alloc(&mut self) -> Result<Option<Buf>, PeerError> {
        if let Some(buf) = self.region.buffer(self.fresh) {
            self.fresh += 1;
            return Ok(Some(buf));
        }
        match self.free.pop()? {
            Some(d) => self.region.check_returned(d).map(Some),
            None => Ok(None),
        }
    }

    /// Copies as much of `src` as fits into `buf` after its bytes in use.
    #[inline]
    pub fn append(&self, buf: &mut Buf, src: &[u8]) -> usize {
        self.region.append(buf, src)
    }

    /// Queues `buf` for the receiver; visible at the next
    /// [`publish`](Self::publish).
    #[inline]
    pub fn send(&mut self, buf: Buf) -> Result<(), PeerError> {
        self.active.push(buf.descriptor()).map_err(overflow)
    }

    /// Publishes sent buffers and releases the free-queue slots consumed.
    /// Signal the receiver on [`Notify::Yes`].
    #[inline]
    pub fn publish(&mut self) -> Notify {
        self.free.release();
        self.active.publish()
    }

    /// Out of buffers and about to sleep: asks the receiver to signal when it
    /// gives buffers back. Wait only on [`Idle::Sleep`].
    #[inline]
    pub fn request_signal(&mut self) -> Result<Idle, PeerError> {
        if self.fresh < self.region.buffers() {
            return Ok(Idle::MoreWork);
        }
        self.free.request_signal()
    }
}

/// The draining side: receives filled buffers, reads them, gives them back.
pub struct Receiver<'a> {
    active: Consumer<'a>,
    free: Producer<'a>,
    region: DataRegion<'a>,
}

impl<'a> Receiver<'a> {
    /// The receiver over freshly zeroed queues and region.
    pub fn new(
        active: Queue<'a>,
        free: Queue<'a>,
        region: DataRegion<'a>,
    ) -> Result<Self, AttachError> {
        check_capacity(&active, &region)?;
        check_capacity(&free, &region)?;
        Ok(Self {
            active: Consumer::new(active)?,
            free: Producer::new(free)?,
            region,
        })
    }

    /// The data region.
    #[inline]
    pub fn region(&self) -> &DataRegion<'a> {
        &self.region
    }

    /// The next filled buffer, checked.
    #[inline]
    pub fn recv(&mut self) -> Result<Option<Buf>, PeerError> {
        match self.active.pop()? {
            Some(d) => self.region.check(d).map(Some),
            None => Ok(None),
        }
    }

    /// Buffers the sender has sent and this side has not yet received,
    /// checked against the queue's capacity like every index of the peer.
    #[inline]
    pub fn waiting(&mut self) -> Result<u32, PeerError> {
        self.active.available()
    }

    /// Buffers the ring's data region holds: when [`waiting`](Self::waiting)
    /// reaches it, the sender has none left.
    #[inline]
    pub fn buffers(&self) -> u32 {
        self.region.buffers()
    }

    /// Copies bytes of `buf` from `at` into `dst`.
    #[inline]
    pub fn read(&self, buf: &Buf, at: u32, dst: &mut [u8]) -> usize {
        self.region.read(buf, at, dst)
    }

    /// Gives `buf` back to the sender; visible at the next
    /// [`publish`](Self::publish).
    #[inline]
    pub fn give_back(&mut self, mut buf: Buf) -> Result<(), PeerError> {
        buf.set_len(0);
        self.free.push(buf.descriptor()).map_err(overflow)
    }

    /// Releases the active-queue slots consumed and publishes the buffers
    /// given back. Signal the sender on [`Notify::Yes`].
    #[inline]
    pub fn publish(&mut self) -> Notify {
        self.active.release();
        self.free.publish()
    }

    /// Nothing to receive and about to sleep: asks the sender to signal when
    /// it sends. Wait only on [`Idle::Sleep`].
    #[inline]
    pub fn request_signal(&mut self) -> Result<Idle, PeerError> {
        self.active.request_signal()
    }
}
