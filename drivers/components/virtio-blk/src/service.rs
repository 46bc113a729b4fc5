//! The driver's logic between its client and its device, free of kernel
//! calls: requests the client queued become virtio-blk requests (after
//! the block protocol's checks), device completions become responses.
//! The isolated component runs it between waits; a benchmark links it
//! into a client to measure what isolation costs.

use core::fmt;
use paddock_blk::{Accepted, DriverQueues, Idle, Notify, Op, PeerError, Status};
use paddock_virtio::blk::{BlkDevice, BlkError, Completion, RequestError};
use paddock_virtio::{Iova, Mmio, Segment};

/// Counters a report can print.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub reads: u64,
    pub writes: u64,
    pub flushes: u64,
    pub device_errors: u64,
    pub bytes: u64,
}

/// Why the driver stopped serving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The client wrote a queue index no honest client can.
    Client(PeerError),
    /// The device broke the virtqueue protocol.
    Device(BlkError),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Client(e) => write!(f, "the client broke the block protocol: {e}"),
            Stop::Device(e) => write!(f, "the device broke the virtqueue protocol: {e}"),
        }
    }
}

/// One client's requests on one device with a queue of `N` entries.
pub struct Service<'a, M: Mmio, const N: usize> {
    device: BlkDevice<'a, M, N>,
    queues: DriverQueues<'a>,
    /// Where the device reaches the client's data window.
    data_iova: u64,
    /// For each virtqueue head in flight: the client's id and block count.
    owners: [Option<(u32, u32)>; N],
    pub stats: Stats,
}

impl<'a, M: Mmio, const N: usize> Service<'a, M, N> {
    pub fn new(device: BlkDevice<'a, M, N>, queues: DriverQueues<'a>, data_iova: u64) -> Self {
        Self {
            device,
            queues,
            data_iova,
            owners: [None; N],
            stats: Stats::default(),
        }
    }

    pub fn device(&self) -> &BlkDevice<'a, M, N> {
        &self.device
    }

    /// Requests refused by the protocol's checks so far.
    pub fn refused(&self) -> u64 {
        self.queues.refused()
    }

    /// Does all there is to do now: answers what the device finished, then
    /// offers the device what the client queued. Returns whether the
    /// client must be signalled.
    pub fn step(&mut self) -> Result<bool, Stop> {
        while let Some(done) = self.device.complete().map_err(Stop::Device)? {
            self.finish(done);
        }
        let mut offered = false;
        while usize::from(self.device.in_flight()) < N {
            let Some(request) = self.queues.next_request().map_err(Stop::Client)? else {
                break;
            };
            offered |= self.submit(request);
        }
        if offered {
            self.device.kick();
        }
        Ok(self.queues.publish() == Notify::Yes)
    }

    /// Nothing to do: may the driver wait? Also asks the client to signal
    /// its next request.
    pub fn idle(&mut self) -> Result<Idle, Stop> {
        self.queues.request_signal().map_err(Stop::Client)
    }

    /// Offers `request` to the device; answers it at once if the device
    /// refuses it. Returns whether the device has something new.
    fn submit(&mut self, request: Accepted) -> bool {
        let data = request.iova(self.data_iova).and_then(|iova| {
            Some(Segment {
                iova: Iova(iova),
                len: u32::try_from(request.len()).ok()?,
            })
        });
        let submitted = match (request.op, data) {
            (Op::Read, Some(data)) => self.device.read(request.block, &[data]).map_err(Some),
            (Op::Write, Some(data)) => self.device.write(request.block, &[data]).map_err(Some),
            (Op::Flush, _) => self.device.flush().map_err(Some),
            // A window the planner placed cannot overflow an IOVA.
            (_, None) => Err(None),
        };
        match submitted {
            Ok(head) => {
                if let Some(owner) = self.owners.get_mut(usize::from(head.0)) {
                    *owner = Some((request.id, request.count));
                }
                match request.op {
                    Op::Read => self.stats.reads += 1,
                    Op::Write => self.stats.writes += 1,
                    Op::Flush => self.stats.flushes += 1,
                }
                true
            }
            Err(e) => {
                let status = match e {
                    Some(BlkError::FlushNotSupported) => Status::Unsupported,
                    Some(BlkError::ReadOnly) => Status::ReadOnly,
                    _ => Status::IoError,
                };
                self.answer(request.id, status, 0);
                false
            }
        }
    }

    fn finish(&mut self, done: Completion) {
        let Some((id, count)) = self
            .owners
            .get_mut(usize::from(done.id.0))
            .and_then(Option::take)
        else {
            // The device can only complete what is in flight (the queue
            // checks it); an unknown head is this driver's bug.
            return;
        };
        let (status, blocks) = match done.result {
            Ok(()) => {
                self.stats.bytes += u64::from(count) * 512;
                (Status::Ok, count)
            }
            Err(RequestError::Unsupported) => (Status::Unsupported, 0),
            Err(_) => {
                self.stats.device_errors += 1;
                (Status::IoError, 0)
            }
        };
        self.answer(id, status, blocks);
    }

    fn answer(&mut self, id: u32, status: Status, blocks: u32) {
        // The id was accepted and is in flight, and the response queue
        // had room for every answer owed when it was taken: this cannot
        // fail unless the client rewrote the queue, which the next step
        // reports.
        let _ = self.queues.complete(id, status, blocks);
    }
}
