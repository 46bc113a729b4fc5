//! Error values. Nothing a peer writes is a panic: it is one of these.

use core::fmt;

use paddock_ring::{AttachError, LayoutError};

use crate::info::InfoError;

/// One of the four queues of a control region, to say where a peer broke
/// the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueId {
    /// Received frames, driver to client.
    RxActive,
    /// Empty RX buffers, client to driver.
    RxFree,
    /// Frames to send, client to driver.
    TxActive,
    /// Sent TX buffers, driver to client.
    TxFree,
}

impl fmt::Display for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::RxActive => "rx active",
            Self::RxFree => "rx free",
            Self::TxActive => "tx active",
            Self::TxFree => "tx free",
        })
    }
}

/// The peer broke the queue protocol. The side that sees it stops serving
/// (driver) or using (client) that control region; other clients are not
/// affected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerError {
    /// An index or descriptor of `queue` is impossible (see
    /// [`paddock_ring::PeerError`]): garbage indices, an offset off a
    /// buffer boundary or outside the window, a length beyond a buffer, or
    /// more buffers than exist (flooding, duplicates).
    Queue {
        /// The queue.
        queue: QueueId,
        /// What was wrong.
        error: paddock_ring::PeerError,
    },
    /// The client gave back on the RX free queue a buffer it did not hold:
    /// returned twice, or never delivered to it.
    ReturnedNotHeld {
        /// The buffer's offset in the RX part of the window.
        offset: u32,
    },
    /// The client queued a TX buffer the driver already holds: sent twice.
    SentTwice {
        /// The buffer's offset in the TX part of the window.
        offset: u32,
    },
}

impl PeerError {
    pub(crate) fn on(queue: QueueId) -> impl Fn(paddock_ring::PeerError) -> Self {
        move |error| Self::Queue { queue, error }
    }
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Queue { queue, error } => write!(f, "{queue} queue: {error}"),
            Self::ReturnedNotHeld { offset } => write!(
                f,
                "rx free queue: buffer at {offset:#x} returned although the client did not hold it (returned twice?)"
            ),
            Self::SentTwice { offset } => write!(
                f,
                "tx active queue: buffer at {offset:#x} sent while the driver still holds it (sent twice)"
            ),
        }
    }
}

impl core::error::Error for PeerError {}

/// Attaching to a control region failed: a configuration error, a page
/// that is not (yet) valid, or indices a peer left inconsistent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupError {
    /// The memory does not have the agreed shape.
    Layout(LayoutError),
    /// The indices in shared memory are inconsistent.
    Peer(PeerError),
    /// The info page was not accepted.
    Info(InfoError),
}

impl SetupError {
    pub(crate) fn attach(queue: QueueId) -> impl Fn(AttachError) -> Self {
        move |e| match e {
            AttachError::Layout(e) => Self::Layout(e),
            AttachError::Peer(error) => Self::Peer(PeerError::Queue { queue, error }),
        }
    }
}

impl From<LayoutError> for SetupError {
    fn from(e: LayoutError) -> Self {
        Self::Layout(e)
    }
}

impl From<InfoError> for SetupError {
    fn from(e: InfoError) -> Self {
        Self::Info(e)
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Layout(e) => e.fmt(f),
            Self::Peer(e) => e.fmt(f),
            Self::Info(e) => write!(f, "network info: {e}"),
        }
    }
}

impl core::error::Error for SetupError {}
