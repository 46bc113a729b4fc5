//! The driver's end of the queues: requests in, checked; responses out.
//!
//! [`DriverQueues`] pops requests, answers refusals itself and hands the
//! driver only [`Accepted`] ones; the driver gives them to the device and
//! reports each outcome with [`DriverQueues::complete`].
//!
//! # Room for every answer
//!
//! Every request popped is owed exactly one response, and the response
//! queue is bounded. So a request is popped only while the response queue
//! has more free slots than there are requests in flight: the in-flight
//! ones' answers and this one's always fit, and
//! [`complete`](DriverQueues::complete) never finds the queue full.
//!
//! An honest client never meets this limit (its ids, each queued, in
//! flight or answered-but-unread, number at most the queue depth, which is
//! at most the response queue's capacity, provided it releases the
//! responses it has read before publishing requests that reuse their ids).
//! A client that floods requests without reading the answers does: the
//! driver stops popping and sleeps until the client publishes again,
//! instead of spinning, blocking or dropping answers. Only that client
//! waits.

use core::fmt;

use paddock_ring::{Idle, Notify, PeerError, PushError};

use crate::checker::{Accepted, NotInFlight, RequestChecker};
use crate::error::SetupError;
use crate::queue::{RecordConsumer, RecordProducer, RecordQueue};
use crate::record::{Request, Response, Status};

/// The driver's end of one client's request and response queues.
pub struct DriverQueues<'a> {
    requests: RecordConsumer<'a, Request>,
    responses: RecordProducer<'a, Response>,
    checker: RequestChecker,
    /// Requests may be waiting, but the response queue has no room for
    /// another answer.
    stalled: bool,
    refused: u64,
}

impl<'a> DriverQueues<'a> {
    /// Attaches to the queues, which must each hold at least the checker's
    /// queue depth of records.
    pub fn new(
        requests: RecordQueue<'a, Request>,
        responses: RecordQueue<'a, Response>,
        checker: RequestChecker,
    ) -> Result<Self, SetupError> {
        let depth = checker.geometry().queue_depth;
        for capacity in [requests.capacity(), responses.capacity()] {
            if capacity < depth {
                return Err(SetupError::QueueSmallerThanDepth { capacity, depth });
            }
        }
        Ok(Self {
            requests: RecordConsumer::new(requests)?,
            responses: RecordProducer::new(responses)?,
            checker,
            stalled: false,
            refused: 0,
        })
    }

    /// The checker, with its geometry and ids in flight.
    pub fn checker(&self) -> &RequestChecker {
        &self.checker
    }

    /// Requests refused so far (each answered with its refusal).
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// The next request that passed the checks, if any. Refused requests
    /// met on the way are answered (visible at the next
    /// [`publish`](Self::publish)) and skipped. `None` when no request
    /// waits, or when the response queue has no room for another answer.
    pub fn next_request(&mut self) -> Result<Option<Accepted>, PeerError> {
        loop {
            if self.responses.free_slots()? <= self.checker.in_flight().len() {
                self.stalled = true;
                return Ok(None);
            }
            self.stalled = false;
            let Some(request) = self.requests.pop()? else {
                return Ok(None);
            };
            match self.checker.check(&request) {
                Ok(accepted) => return Ok(Some(accepted)),
                Err(refusal) => {
                    self.refused += 1;
                    // Room checked above: `free > in_flight >= 0`.
                    self.responses.push(&refusal).map_err(room_was_checked)?;
                }
            }
        }
    }

    /// Answers the accepted request `id` and frees its id. `blocks_done`
    /// is the request's count on `Ok`, what the device finished on errors.
    pub fn complete(
        &mut self,
        id: u32,
        status: Status,
        blocks_done: u32,
    ) -> Result<(), CompleteError> {
        if !self.checker.in_flight().contains(id) {
            return Err(CompleteError::NotInFlight(NotInFlight { id }));
        }
        self.responses
            .push(&Response::new(id, status, blocks_done))
            .map_err(|e| CompleteError::Peer(room_was_checked(e)))?;
        self.checker
            .complete(id)
            .map_err(CompleteError::NotInFlight)
    }

    /// Publishes the answers so far and releases the request slots read.
    /// Signal the client on [`Notify::Yes`].
    pub fn publish(&mut self) -> Notify {
        self.requests.release();
        self.responses.publish()
    }

    /// Nothing to do and about to sleep: asks the client to signal when it
    /// publishes requests. Wait only on [`Idle::Sleep`]. A stalled driver
    /// (see the module documentation) sleeps even with requests waiting,
    /// until the client publishes again.
    pub fn request_signal(&mut self) -> Result<Idle, PeerError> {
        if self.stalled {
            self.requests.request_signal_for_next_publish();
            return Ok(Idle::Sleep);
        }
        self.requests.request_signal()
    }
}

/// A full response queue cannot happen (room is checked before a request
/// is popped); if the client's head made it so, report it as the peer's.
fn room_was_checked(e: PushError) -> PeerError {
    match e {
        PushError::Full => PeerError::QueueOverflow,
        PushError::Peer(e) => e,
    }
}

/// Why [`DriverQueues::complete`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompleteError {
    /// The id is not in flight: a bug in the driver.
    NotInFlight(NotInFlight),
    /// The client's index of the response queue is invalid.
    Peer(PeerError),
}

impl fmt::Display for CompleteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotInFlight(e) => e.fmt(f),
            Self::Peer(e) => write!(f, "response queue: {e}"),
        }
    }
}

impl core::error::Error for CompleteError {}
