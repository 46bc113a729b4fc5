//! Error values. Nothing a peer writes is a panic: it is one of these.

use core::fmt;

use paddock_ring::{LayoutError, PeerError};

use crate::info::InfoError;
use crate::record::Status;

/// Attaching to the shared memory failed: a configuration error of the
/// system, or a peer that left the memory in a state the protocol forbids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupError {
    /// The memory does not have the agreed shape.
    Layout(LayoutError),
    /// The indices in shared memory are inconsistent.
    Peer(PeerError),
    /// The storage-information page was not accepted.
    Info(InfoError),
    /// A queue cannot hold a record for every id.
    QueueSmallerThanDepth {
        /// The queue's capacity.
        capacity: u32,
        /// The queue depth.
        depth: u32,
    },
    /// The data window cannot hold one block.
    WindowSmallerThanBlock {
        /// Bytes of the window.
        window_bytes: usize,
        /// Bytes per block.
        block_size: u32,
    },
}

impl From<LayoutError> for SetupError {
    fn from(e: LayoutError) -> Self {
        Self::Layout(e)
    }
}

impl From<PeerError> for SetupError {
    fn from(e: PeerError) -> Self {
        Self::Peer(e)
    }
}

impl From<InfoError> for SetupError {
    fn from(e: InfoError) -> Self {
        Self::Info(e)
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Layout(e) => e.fmt(f),
            Self::Peer(e) => e.fmt(f),
            Self::Info(e) => write!(f, "storage information: {e}"),
            Self::QueueSmallerThanDepth { capacity, depth } => write!(
                f,
                "queue of {capacity} records cannot hold one for each of {depth} ids"
            ),
            Self::WindowSmallerThanBlock {
                window_bytes,
                block_size,
            } => write!(
                f,
                "data window of {window_bytes} bytes cannot hold a {block_size}-byte block"
            ),
        }
    }
}

impl core::error::Error for SetupError {}

/// The driver broke the protocol. The client stops using the queues: every
/// later call fails with the same violation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolViolation {
    /// An index of the request or response queue is invalid.
    Queue(PeerError),
    /// A response names an id this client has not got in flight.
    UnexpectedResponse {
        /// The id in the response.
        id: u32,
    },
    /// A response's status is not one of [`Status`].
    UnknownStatus {
        /// The id in the response.
        id: u32,
        /// The status value.
        status: u32,
    },
    /// A response says more blocks were done than asked for, or fewer than
    /// all on `Ok`.
    WrongBlocksDone {
        /// The id in the response.
        id: u32,
        /// Blocks the request named.
        requested: u32,
        /// Blocks the response claims.
        done: u32,
    },
    /// The request queue is full although this client has no more requests
    /// outstanding than its capacity: the driver answered requests it had
    /// not taken off the queue.
    RequestQueueFull,
}

impl fmt::Display for ProtocolViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Queue(e) => e.fmt(f),
            Self::UnexpectedResponse { id } => {
                write!(f, "response for id {id}, which is not in flight")
            }
            Self::UnknownStatus { id, status } => {
                write!(f, "response for id {id} has unknown status {status}")
            }
            Self::WrongBlocksDone {
                id,
                requested,
                done,
            } => write!(
                f,
                "response for id {id} claims {done} blocks done of {requested} requested"
            ),
            Self::RequestQueueFull => {
                f.write_str("request queue full with no more requests outstanding than it holds")
            }
        }
    }
}

/// Why a block operation of [`BlockClient`](crate::BlockClient) failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockError {
    /// The driver answered with a status other than `Ok`: a device error,
    /// an unsupported operation, or a refusal with its reason.
    Status {
        /// What the driver said.
        status: Status,
        /// The first block not done.
        block: u64,
    },
    /// The blocks asked for are not all on the device (caught before
    /// anything is sent).
    OutOfRange {
        /// First block asked for.
        start: u64,
        /// Blocks asked for.
        count: u64,
        /// Blocks on the device.
        capacity: u64,
    },
    /// The buffer is not a whole number of blocks.
    PartialBlock {
        /// Bytes of the buffer.
        len: usize,
        /// Bytes per block.
        block_size: u32,
    },
    /// A write to a read-only device (caught before anything is sent).
    ReadOnly,
    /// embedded-sdmmc deals in 512-byte blocks; the device's differ.
    BlockSizeNot512 {
        /// The device's block size.
        block_size: u32,
    },
    /// The client was called again while a call was running (through the
    /// `BlockDevice` adapter's shared reference).
    Busy,
    /// The driver broke the protocol; the client has stopped using it.
    Protocol(ProtocolViolation),
}

impl From<ProtocolViolation> for BlockError {
    fn from(v: ProtocolViolation) -> Self {
        Self::Protocol(v)
    }
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Status { status, block } => write!(f, "block {block}: {status}"),
            Self::OutOfRange {
                start,
                count,
                capacity,
            } => write!(
                f,
                "{count} blocks from block {start} do not fit a device of {capacity} blocks"
            ),
            Self::PartialBlock { len, block_size } => write!(
                f,
                "buffer of {len} bytes is not a whole number of {block_size}-byte blocks"
            ),
            Self::ReadOnly => f.write_str("the device is read-only"),
            Self::BlockSizeNot512 { block_size } => write!(
                f,
                "device blocks are {block_size} bytes; embedded-sdmmc needs 512"
            ),
            Self::Busy => f.write_str("block client re-entered while busy"),
            Self::Protocol(v) => write!(f, "driver broke the block protocol: {v}"),
        }
    }
}

impl core::error::Error for BlockError {}
