//! The driver's checks on every request a client sends.
//!
//! A request is the client's claim; nothing in it is used before
//! [`RequestChecker::check`] has accepted it. The checks, in order (the
//! first that fails decides the refusal):
//!
//! 1. `id < queue_depth`, else [`Status::UnknownId`];
//! 2. the id is not in flight, else [`Status::IdInFlight`] (the earlier
//!    request keeps the id and completes normally);
//! 3. the op is Read, Write or Flush, else [`Status::BadOp`];
//! 4. Write and Flush on a read-only device: [`Status::ReadOnly`];
//! 5. Flush on a device without a cache flush: [`Status::Unsupported`];
//! 6. Read and Write only: `count >= 1` ([`Status::ZeroCount`]),
//!    `count <= max_blocks_per_request` ([`Status::TooLarge`]),
//!    `block + count <= capacity` ([`Status::OutOfRange`]), and
//!    `offset + count * block_size <= window size`
//!    ([`Status::OffsetOutsideWindow`]), all in overflow-checked `u64`
//!    arithmetic.
//!
//! An accepted request takes its id until [`RequestChecker::complete`];
//! a refused one takes nothing, and the driver goes on serving.

use core::fmt;
use core::ops::Range;

use crate::info::{Geometry, InfoError, MAX_QUEUE_DEPTH};
use crate::record::{Op, Request, Response, Status};

/// Which ids are in flight: one bit per id below [`MAX_QUEUE_DEPTH`].
#[derive(Clone, Debug, Default)]
pub struct InFlight {
    bits: [u64; (MAX_QUEUE_DEPTH as usize).div_ceil(64)],
    count: u32,
}

impl InFlight {
    /// No id in flight.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `id` is in flight (`false` for ids past the table).
    pub fn contains(&self, id: u32) -> bool {
        match Self::position(id) {
            Some((word, bit)) => self.bits[word] & bit != 0,
            None => false,
        }
    }

    /// Marks `id` in flight; `false` if it already was or is past the
    /// table.
    pub fn insert(&mut self, id: u32) -> bool {
        match Self::position(id) {
            Some((word, bit)) if self.bits[word] & bit == 0 => {
                self.bits[word] |= bit;
                self.count += 1;
                true
            }
            _ => false,
        }
    }

    /// Frees `id`; `false` if it was not in flight.
    pub fn remove(&mut self, id: u32) -> bool {
        match Self::position(id) {
            Some((word, bit)) if self.bits[word] & bit != 0 => {
                self.bits[word] &= !bit;
                self.count -= 1;
                true
            }
            _ => false,
        }
    }

    /// Ids in flight.
    pub fn len(&self) -> u32 {
        self.count
    }

    /// Whether no id is in flight.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn position(id: u32) -> Option<(usize, u64)> {
        (id < MAX_QUEUE_DEPTH).then(|| ((id / 64) as usize, 1u64 << (id % 64)))
    }
}

/// A request that passed every check: its values are safe to act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The request's id, now in flight.
    pub id: u32,
    /// What to do.
    pub op: Op,
    /// First device block (0 for Flush).
    pub block: u64,
    /// Blocks (0 for Flush).
    pub count: u32,
    /// The bytes of the client's data window the transfer reads or writes
    /// (empty for Flush): inside the window, `count * block_size` long.
    pub window: Range<u64>,
}

impl Accepted {
    /// The IO address of the first data byte, for a window the device
    /// reaches at `window_iova`: `window_iova + window.start`. `None` on
    /// overflow, which a window the planner placed cannot cause.
    pub fn iova(&self, window_iova: u64) -> Option<u64> {
        window_iova.checked_add(self.window.start)
    }

    /// Bytes to transfer.
    pub fn len(&self) -> u64 {
        self.window.end - self.window.start
    }

    /// Whether no bytes move (a flush).
    pub fn is_empty(&self) -> bool {
        self.window.is_empty()
    }
}

/// Completing an id that is not in flight: a bug in the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotInFlight {
    /// The id given.
    pub id: u32,
}

impl fmt::Display for NotInFlight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request {} is not in flight", self.id)
    }
}

impl core::error::Error for NotInFlight {}

/// The driver's request checks and its table of ids in flight.
#[derive(Clone, Debug)]
pub struct RequestChecker {
    geometry: Geometry,
    window_bytes: u64,
    flush_supported: bool,
    in_flight: InFlight,
}

impl RequestChecker {
    /// Checks for a device of `geometry` and a client data window of
    /// `window_bytes` bytes. Flush is taken to be supported; see
    /// [`without_flush`](Self::without_flush).
    pub fn new(geometry: Geometry, window_bytes: u64) -> Result<Self, InfoError> {
        geometry.validate()?;
        Ok(Self {
            geometry,
            window_bytes,
            flush_supported: true,
            in_flight: InFlight::new(),
        })
    }

    /// Answers every flush with [`Status::Unsupported`] (a virtio-blk
    /// device without `VIRTIO_BLK_F_FLUSH`).
    pub fn without_flush(mut self) -> Self {
        self.flush_supported = false;
        self
    }

    /// The geometry checked against.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// The ids in flight.
    pub fn in_flight(&self) -> &InFlight {
        &self.in_flight
    }

    /// Checks `request`; on acceptance its id is in flight. A refusal comes
    /// back as the response to send, with the request's id echoed.
    pub fn check(&mut self, request: &Request) -> Result<Accepted, Response> {
        let id = request.id.get();
        let refuse = |status| Response::refusal(id, status);
        if id >= self.geometry.queue_depth {
            return Err(refuse(Status::UnknownId));
        }
        if self.in_flight.contains(id) {
            return Err(refuse(Status::IdInFlight));
        }
        let op = Op::from_wire(request.op.get()).ok_or(refuse(Status::BadOp))?;
        if self.geometry.read_only && matches!(op, Op::Write | Op::Flush) {
            return Err(refuse(Status::ReadOnly));
        }
        let accepted = match op {
            Op::Flush if !self.flush_supported => return Err(refuse(Status::Unsupported)),
            Op::Flush => Accepted {
                id,
                op,
                block: 0,
                count: 0,
                window: 0..0,
            },
            Op::Read | Op::Write => {
                let (block, count) = (request.block.get(), request.count.get());
                let window = self
                    .check_transfer(block, count, request.offset.get())
                    .map_err(refuse)?;
                Accepted {
                    id,
                    op,
                    block,
                    count,
                    window,
                }
            }
        };
        // Cannot fail: the id is below the depth, which is at most the
        // table's size, and was not in flight.
        self.in_flight.insert(id);
        Ok(accepted)
    }

    /// The checks of a data transfer; returns its byte range in the window.
    fn check_transfer(&self, block: u64, count: u32, offset: u64) -> Result<Range<u64>, Status> {
        if count == 0 {
            return Err(Status::ZeroCount);
        }
        if count > self.geometry.max_blocks_per_request {
            return Err(Status::TooLarge);
        }
        match block.checked_add(u64::from(count)) {
            Some(end) if end <= self.geometry.capacity_blocks => {}
            _ => return Err(Status::OutOfRange),
        }
        // `count * block_size` < 2^32 * 2^16: no overflow in u64.
        let bytes = u64::from(count) * u64::from(self.geometry.block_size);
        match offset.checked_add(bytes) {
            Some(end) if end <= self.window_bytes => Ok(offset..end),
            _ => Err(Status::OffsetOutsideWindow),
        }
    }

    /// Frees `id` once its response is sent.
    pub fn complete(&mut self, id: u32) -> Result<(), NotInFlight> {
        if self.in_flight.remove(id) {
            Ok(())
        } else {
            Err(NotInFlight { id })
        }
    }
}
