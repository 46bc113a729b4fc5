//! The client library: block reads, writes and flushes over the queues,
//! the information page and the client's data window.
//!
//! # How a transfer is cut up
//!
//! The window is split into one slot per id in use:
//! `ids = min(queue_depth, window blocks)` slots of
//! `chunk_blocks = min(max_blocks_per_request, window blocks / ids)` blocks;
//! id `i` always uses the bytes at `i * chunk_blocks * block_size`. A call
//! cuts its blocks into chunks of at most `chunk_blocks`, keeps up to `ids`
//! of them in flight, and matches each response to its chunk by id. Every
//! call waits for all its requests before returning, so none is in flight
//! between calls; after an error status it submits nothing more, waits for
//! what is in flight, and reports the first error.
//!
//! # What the client trusts
//!
//! Nothing the driver writes. A response must name an id in flight, carry
//! a known status and a plausible block count; anything else is a
//! [`ProtocolViolation`], after which the client refuses every call (the
//! queues are in an unknown state). The client takes every response
//! already queued before it reuses ids, so a response repeated within
//! such a batch names an id no longer in flight and is caught; one
//! repeated after its id was reused cannot be told from an answer to the
//! new request. That is a false claim of completion, which a hostile
//! driver can make anyway (answer `Ok` without starting the device), as
//! it can return wrong data: the protocol keeps the driver out of the
//! client's memory, it cannot vouch for what the device did.

use paddock_ring::{Idle, PushError};

use crate::checker::InFlight;
use crate::error::{BlockError, ProtocolViolation, SetupError};
use crate::info::{Geometry, MAX_QUEUE_DEPTH};
use crate::layout::Control;
use crate::queue::{RecordConsumer, RecordProducer, RecordQueue};
use crate::record::{Op, Request, Response, Status};
use crate::window::DataWindow;

/// The kernel calls the client needs, so that the same client runs over
/// seL4 notifications and in host tests.
pub trait DriverSignal {
    /// Wake the driver (on seL4: signal the channel's cap to the driver's
    /// notification).
    fn signal_driver(&mut self);
    /// Block until the driver has signalled this client (on seL4: wait on
    /// the client's own notification until the channel's badge bit is
    /// set). A signal sent before the wait must end it at once, as a seL4
    /// notification's sticky bit does.
    fn wait_for_driver(&mut self);
}

/// Copies blocks of a caller's buffer into the window (writes).
pub(crate) trait Source {
    /// Copies `count` blocks from the buffer's block `first` into the
    /// window at `offset`.
    fn fill_window(&self, first: usize, count: usize, window: &DataWindow<'_>, offset: usize);
}

/// Copies blocks from the window into a caller's buffer (reads).
pub(crate) trait Sink {
    /// Copies `count` blocks from the window at `offset` into the buffer
    /// from its block `first`.
    fn drain_window(&mut self, first: usize, count: usize, window: &DataWindow<'_>, offset: usize);
}

/// A caller's buffer of whole blocks to write, as plain bytes.
struct WriteBytes<'b> {
    buf: &'b [u8],
    block_size: usize,
}

impl Source for WriteBytes<'_> {
    fn fill_window(&self, first: usize, count: usize, window: &DataWindow<'_>, offset: usize) {
        let range = first * self.block_size..(first + count) * self.block_size;
        let copied = self
            .buf
            .get(range)
            .is_some_and(|src| window.copy_in(offset, src));
        debug_assert!(copied, "chunks are cut inside the buffer and the window");
    }
}

/// A caller's buffer of whole blocks to read into, as plain bytes.
struct ReadBytes<'b> {
    buf: &'b mut [u8],
    block_size: usize,
}

impl Sink for ReadBytes<'_> {
    fn drain_window(&mut self, first: usize, count: usize, window: &DataWindow<'_>, offset: usize) {
        let range = first * self.block_size..(first + count) * self.block_size;
        let copied = self
            .buf
            .get_mut(range)
            .is_some_and(|dst| window.copy_out(offset, dst));
        debug_assert!(copied, "chunks are cut inside the buffer and the window");
    }
}

/// What a call moves, and where.
pub(crate) enum Data<'b> {
    Read(&'b mut dyn Sink),
    Write(&'b dyn Source),
}

/// A request in flight: which blocks. Where they are in the window
/// follows from the id, and where in the caller's buffer from the call's
/// first block, so the table of these stays small (4 KiB at the largest
/// queue depth) for components with small stacks.
#[derive(Clone, Copy, Debug)]
struct Pending {
    block: u64,
    count: u32,
}

/// A checked response: the request it answers, and what the driver said.
#[derive(Clone, Copy, Debug)]
struct Answer {
    id: u32,
    pending: Pending,
    status: Status,
    done: u32,
}

/// The client end of a block device.
pub struct BlockClient<'a, S> {
    requests: RecordProducer<'a, Request>,
    responses: RecordConsumer<'a, Response>,
    window: DataWindow<'a>,
    geometry: Geometry,
    signal: S,
    /// Ids in use, `0..ids`; each owns one window slot.
    ids: u32,
    /// Blocks per window slot, and so per request.
    chunk_blocks: u32,
    /// Ids in flight; `pending[id]` is meaningful only for these.
    in_flight: InFlight,
    pending: [Pending; MAX_QUEUE_DEPTH as usize],
    /// Set by the first protocol violation; every later call fails with it.
    broken: Option<ProtocolViolation>,
}

impl<'a, S: DriverSignal> BlockClient<'a, S> {
    /// Attaches to a control region: waits until the driver has published
    /// the information page, checks it, and takes the client's roles on
    /// the queues.
    pub fn attach(
        control: Control<'a>,
        window: DataWindow<'a>,
        mut signal: S,
    ) -> Result<Self, SetupError> {
        let geometry = control.info.wait_ready(&mut signal)?;
        Self::new(
            control.requests,
            control.responses,
            geometry,
            window,
            signal,
        )
    }

    /// A client for a device of `geometry` (already read from the
    /// information page) over the given queues and window.
    pub fn new(
        requests: RecordQueue<'a, Request>,
        responses: RecordQueue<'a, Response>,
        geometry: Geometry,
        window: DataWindow<'a>,
        signal: S,
    ) -> Result<Self, SetupError> {
        geometry.validate()?;
        let depth = geometry.queue_depth;
        for capacity in [requests.capacity(), responses.capacity()] {
            if capacity < depth {
                return Err(SetupError::QueueSmallerThanDepth { capacity, depth });
            }
        }
        let block_size = geometry.block_size as usize;
        let window_blocks = window.len() / block_size;
        if window_blocks == 0 {
            return Err(SetupError::WindowSmallerThanBlock {
                window_bytes: window.len(),
                block_size: geometry.block_size,
            });
        }
        // Both at least 1: depth >= 1 and window_blocks >= 1 (checked), and
        // window_blocks / ids >= 1 because ids <= window_blocks.
        let ids = depth.min(u32::try_from(window_blocks).unwrap_or(u32::MAX));
        let per_id = u32::try_from(window_blocks / ids as usize).unwrap_or(u32::MAX);
        let chunk_blocks = geometry.max_blocks_per_request.min(per_id);
        Ok(Self {
            requests: RecordProducer::new(requests)?,
            responses: RecordConsumer::new(responses)?,
            window,
            geometry,
            signal,
            ids,
            chunk_blocks,
            in_flight: InFlight::new(),
            pending: [Pending { block: 0, count: 0 }; MAX_QUEUE_DEPTH as usize],
            broken: None,
        })
    }

    /// The device, as the driver described it.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// Requests this client keeps in flight at most.
    pub fn ids_in_use(&self) -> u32 {
        self.ids
    }

    /// Blocks per request at most (the per-request maximum, or less if
    /// the window is small).
    pub fn chunk_blocks(&self) -> u32 {
        self.chunk_blocks
    }

    /// The protocol violation that stopped this client, if any.
    pub fn violation(&self) -> Option<ProtocolViolation> {
        self.broken
    }

    /// The signalling half, e.g. for a test's model of the driver.
    pub fn signal_mut(&mut self) -> &mut S {
        &mut self.signal
    }

    /// Reads `buf.len() / block_size` blocks from `start_block` into `buf`.
    pub fn read(&mut self, start_block: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let blocks = self.whole_blocks(buf.len())?;
        let mut sink = ReadBytes {
            buf,
            block_size: self.geometry.block_size as usize,
        };
        self.transfer(Op::Read, start_block, blocks, Data::Read(&mut sink))
    }

    /// Writes `buf` to the device from `start_block`.
    pub fn write(&mut self, start_block: u64, buf: &[u8]) -> Result<(), BlockError> {
        let blocks = self.whole_blocks(buf.len())?;
        let source = WriteBytes {
            buf,
            block_size: self.geometry.block_size as usize,
        };
        self.transfer(Op::Write, start_block, blocks, Data::Write(&source))
    }

    /// Asks the device to make completed writes durable.
    pub fn flush(&mut self) -> Result<(), BlockError> {
        if self.geometry.read_only {
            return Err(BlockError::ReadOnly);
        }
        self.usable()?;
        let nothing = Pending { block: 0, count: 0 };
        self.submit(Request::flush(0), nothing)?;
        self.publish_requests();
        match self.wait_response()? {
            Answer {
                status: Status::Ok, ..
            } => Ok(()),
            Answer { status, .. } => Err(BlockError::Status { status, block: 0 }),
        }
    }

    fn whole_blocks(&self, len: usize) -> Result<u64, BlockError> {
        let block_size = self.geometry.block_size;
        if !len.is_multiple_of(block_size as usize) {
            return Err(BlockError::PartialBlock { len, block_size });
        }
        Ok((len / block_size as usize) as u64)
    }

    fn usable(&self) -> Result<(), BlockError> {
        match self.broken {
            Some(v) => Err(BlockError::Protocol(v)),
            None => Ok(()),
        }
    }

    /// Moves `blocks` blocks from `start`, pipelined over the ids in use.
    pub(crate) fn transfer(
        &mut self,
        op: Op,
        start: u64,
        blocks: u64,
        mut data: Data<'_>,
    ) -> Result<(), BlockError> {
        self.usable()?;
        let capacity = self.geometry.capacity_blocks;
        if start.checked_add(blocks).is_none_or(|end| end > capacity) {
            return Err(BlockError::OutOfRange {
                start,
                count: blocks,
                capacity,
            });
        }
        if op == Op::Write && self.geometry.read_only {
            return Err(BlockError::ReadOnly);
        }
        let chunk_bytes = self.chunk_blocks as usize * self.geometry.block_size as usize;
        let mut submitted = 0u64;
        let mut first_error = None;
        loop {
            while first_error.is_none() && submitted < blocks {
                let Some(id) = self.free_id() else { break };
                let count = u64::from(self.chunk_blocks).min(blocks - submitted) as u32;
                let offset = id as usize * chunk_bytes;
                if let Data::Write(source) = &data {
                    let first = submitted as usize;
                    source.fill_window(first, count as usize, &self.window, offset);
                }
                let block = start + submitted;
                let request = match op {
                    Op::Read => Request::read(id, block, count, offset as u64),
                    _ => Request::write(id, block, count, offset as u64),
                };
                self.submit(request, Pending { block, count })?;
                submitted += u64::from(count);
            }
            self.publish_requests();
            if self.in_flight.is_empty() {
                break;
            }
            // Sleep for one response, then take every other one already
            // there before submitting more: ids are reused only after the
            // batch, so a response duplicated within it is caught as a
            // response for an id not in flight.
            let mut next = Some(self.wait_response()?);
            while let Some(answer) = next {
                let Pending { block, count } = answer.pending;
                match (answer.status, &mut data) {
                    (Status::Ok, Data::Read(sink)) => {
                        // `block - start` indexes the caller's buffer: the
                        // chunk was cut from it.
                        let first = (block - start) as usize;
                        let offset = answer.id as usize * chunk_bytes;
                        sink.drain_window(first, count as usize, &self.window, offset);
                    }
                    (Status::Ok, Data::Write(_)) => {}
                    (status, _) => {
                        first_error.get_or_insert(BlockError::Status {
                            status,
                            block: block + u64::from(answer.done),
                        });
                    }
                }
                next = if self.in_flight.is_empty() {
                    None
                } else {
                    self.poll_response()?
                };
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn free_id(&self) -> Option<u32> {
        (0..self.ids).find(|&id| !self.in_flight.contains(id))
    }

    /// Queues `request` (visible at the next publish) and records it in
    /// flight.
    fn submit(&mut self, request: Request, pending: Pending) -> Result<(), BlockError> {
        let id = request.id.get();
        if let Err(e) = self.requests.push(&request) {
            return Err(self.fail(match e {
                PushError::Full => ProtocolViolation::RequestQueueFull,
                PushError::Peer(e) => ProtocolViolation::Queue(e),
            }));
        }
        if let Some(slot) = self.pending.get_mut(id as usize) {
            *slot = pending;
            self.in_flight.insert(id);
        }
        Ok(())
    }

    /// Publishes queued requests. The responses read so far are released
    /// first: requests may reuse their ids, and the driver counts on the
    /// room they leave (see the `driver` module).
    fn publish_requests(&mut self) {
        self.responses.release();
        if self.requests.publish().is_needed() {
            self.signal.signal_driver();
        }
    }

    /// The next response, checked, sleeping until the driver signals while
    /// there is none.
    fn wait_response(&mut self) -> Result<Answer, BlockError> {
        loop {
            if let Some(answer) = self.poll_response()? {
                return Ok(answer);
            }
            match self.responses.request_signal() {
                Ok(Idle::Sleep) => self.signal.wait_for_driver(),
                Ok(Idle::MoreWork) => {}
                Err(e) => return Err(self.fail(ProtocolViolation::Queue(e))),
            }
        }
    }

    /// The next response, checked, if there is one.
    fn poll_response(&mut self) -> Result<Option<Answer>, BlockError> {
        match self.responses.pop() {
            Ok(Some(response)) => self.accept(&response).map(Some).map_err(|v| self.fail(v)),
            Ok(None) => Ok(None),
            Err(e) => Err(self.fail(ProtocolViolation::Queue(e))),
        }
    }

    /// Checks a response against what is in flight and takes its id back.
    fn accept(&mut self, response: &Response) -> Result<Answer, ProtocolViolation> {
        let id = response.id.get();
        let pending = match self.pending.get(id as usize) {
            Some(&pending) if self.in_flight.contains(id) => pending,
            _ => return Err(ProtocolViolation::UnexpectedResponse { id }),
        };
        let status =
            Status::from_wire(response.status.get()).ok_or(ProtocolViolation::UnknownStatus {
                id,
                status: response.status.get(),
            })?;
        let done = response.blocks_done.get();
        if done > pending.count || (status == Status::Ok && done != pending.count) {
            return Err(ProtocolViolation::WrongBlocksDone {
                id,
                requested: pending.count,
                done,
            });
        }
        self.in_flight.remove(id);
        Ok(Answer {
            id,
            pending,
            status,
            done,
        })
    }

    fn fail(&mut self, v: ProtocolViolation) -> BlockError {
        self.broken = Some(v);
        BlockError::Protocol(v)
    }
}
