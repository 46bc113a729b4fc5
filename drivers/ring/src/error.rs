//! Error values. A misbehaving peer is reported, never trusted and never a
//! panic: the component decides what to do (log, stop using the ring, ask
//! for the peer to be restarted).

use core::fmt;

/// The peer wrote something into shared memory that the protocol forbids.
///
/// Each case carries the offending value(s) so that the component can report
/// them. After a `PeerError` the handle is still usable (nothing was
/// consumed from, or committed to, the bad state), but a peer that broke the
/// protocol once is not expected to recover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerError {
    /// The consumer's head is not in `[previous head, our tail]`: it moved
    /// backwards, or claims to have consumed slots that were never produced.
    HeadOutOfRange {
        /// The head read from shared memory.
        head: u32,
        /// The last head we accepted.
        last_head: u32,
        /// Our own tail.
        tail: u32,
    },
    /// The producer's tail is not in `[previous tail, head + capacity]`: it
    /// moved backwards, or claims more filled slots than the queue has.
    TailOutOfRange {
        /// The tail read from shared memory.
        tail: u32,
        /// The last tail we accepted.
        last_tail: u32,
        /// Our own head.
        head: u32,
    },
    /// When attaching, the indices in shared memory are more than a
    /// capacity apart.
    IndicesInconsistent {
        /// Head found in shared memory.
        head: u32,
        /// Tail found in shared memory.
        tail: u32,
    },
    /// A descriptor's offset is not a multiple of the buffer size.
    MisalignedOffset {
        /// The offset read from the queue.
        offset: u32,
    },
    /// A descriptor's offset is at or past the end of the data region.
    OffsetOutOfRange {
        /// The offset read from the queue.
        offset: u32,
    },
    /// A descriptor's length exceeds the buffer size, so `offset + len` would
    /// leave the buffer (and possibly the data region).
    LengthTooLarge {
        /// The length read from the queue.
        len: u32,
    },
    /// A queue with at least as many slots as buffers is full: the peer
    /// handed the same buffer on more than once.
    QueueOverflow,
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::HeadOutOfRange {
                head,
                last_head,
                tail,
            } => write!(
                f,
                "peer head {head} outside [{last_head}, {tail}] (last accepted head, our tail)"
            ),
            Self::TailOutOfRange {
                tail,
                last_tail,
                head,
            } => write!(
                f,
                "peer tail {tail} outside [last accepted tail {last_tail}, our head {head} + capacity]"
            ),
            Self::IndicesInconsistent { head, tail } => {
                write!(f, "head {head} and tail {tail} more than a capacity apart")
            }
            Self::MisalignedOffset { offset } => {
                write!(f, "descriptor offset {offset:#x} not on a buffer boundary")
            }
            Self::OffsetOutOfRange { offset } => {
                write!(f, "descriptor offset {offset:#x} outside the data region")
            }
            Self::LengthTooLarge { len } => {
                write!(f, "descriptor length {len} larger than a buffer")
            }
            Self::QueueOverflow => {
                f.write_str("queue overflow: the peer handed a buffer on twice")
            }
        }
    }
}

/// Why pushing a descriptor did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushError {
    /// Every slot is in use. With queues at least as large as the number of
    /// buffers (which [`Sender::new`](crate::Sender::new) and
    /// [`Receiver::new`](crate::Receiver::new) require) an honest peer never
    /// causes this; a duplicated buffer from a hostile one can.
    Full,
    /// The peer's index was invalid when refreshed.
    Peer(PeerError),
}

impl From<PeerError> for PushError {
    fn from(e: PeerError) -> Self {
        Self::Peer(e)
    }
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full => f.write_str("queue full"),
            Self::Peer(e) => e.fmt(f),
        }
    }
}

/// The shared memory handed to a constructor does not have the agreed shape.
/// These are configuration errors of the system, found at attach time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// The slot count is not a power of two in `1..=MAX_SLOTS`.
    BadSlotCount {
        /// The slot count found.
        slots: usize,
    },
    /// The memory is too small for what was asked of it.
    TooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        given: usize,
    },
    /// The memory is not aligned to [`QUEUE_ALIGN`](crate::layout::QUEUE_ALIGN)
    /// (queues) or [`DATA_ALIGN`](crate::layout::DATA_ALIGN) (data regions).
    Misaligned {
        /// The address given.
        addr: usize,
    },
    /// Buffer size zero, not a multiple of `DATA_ALIGN`, or a region larger
    /// than `u32` offsets can name.
    BadBufferGeometry {
        /// Buffer size requested.
        buf_size: u32,
        /// Number of buffers requested.
        buffers: u32,
    },
    /// A queue has fewer slots than there are buffers, so an honest peer
    /// could be refused a push.
    QueueSmallerThanBuffers {
        /// The queue's capacity.
        capacity: u32,
        /// Buffers in the data region.
        buffers: u32,
    },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BadSlotCount { slots } => {
                write!(f, "slot count {slots} is not a power of two in 1..=2^31")
            }
            Self::TooSmall { needed, given } => {
                write!(f, "shared memory of {given} bytes, {needed} needed")
            }
            Self::Misaligned { addr } => write!(f, "shared memory at {addr:#x} misaligned"),
            Self::BadBufferGeometry { buf_size, buffers } => write!(
                f,
                "{buffers} buffers of {buf_size} bytes: size must be a non-zero multiple of the data alignment and the region addressable by u32 offsets"
            ),
            Self::QueueSmallerThanBuffers { capacity, buffers } => write!(
                f,
                "queue of {capacity} slots cannot hold all {buffers} buffers"
            ),
        }
    }
}

/// Attaching a sender or receiver failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachError {
    /// The memory does not have the agreed shape.
    Layout(LayoutError),
    /// The indices in shared memory are inconsistent.
    Peer(PeerError),
}

impl From<LayoutError> for AttachError {
    fn from(e: LayoutError) -> Self {
        Self::Layout(e)
    }
}

impl From<PeerError> for AttachError {
    fn from(e: PeerError) -> Self {
        Self::Peer(e)
    }
}

impl fmt::Display for AttachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Layout(e) => e.fmt(f),
            Self::Peer(e) => e.fmt(f),
        }
    }
}
