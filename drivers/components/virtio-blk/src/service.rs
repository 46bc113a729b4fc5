//! The driver's logic between its clients and its device, free of kernel
//! calls: requests the clients queued become virtio-blk requests (after
//! the block protocol's checks), device completions become responses to
//! the client that asked.
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

/// Why the driver dropped a client or stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Client `n` wrote a queue index no honest client can: it is no
    /// longer served; the others are.
    Client(usize, PeerError),
    /// The device broke the virtqueue protocol: nothing is served.
    Device(BlkError),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Client(_, e) => write!(f, "the client broke the block protocol: {e}"),
            Stop::Device(e) => write!(f, "the device broke the virtqueue protocol: {e}"),
        }
    }
}

/// Clients one driver serves at most (one bit each in [`Service::step`]'s
/// answer).
pub const MAX_CLIENTS: usize = 8;

/// One client: its queues and where the device reaches its data window.
struct Client<'a> {
    queues: DriverQueues<'a>,
    data_iova: u64,
    /// Dropped for breaking the queue protocol.
    dropped: bool,
}

/// A request the device has: whose, which id, how many blocks.
#[derive(Clone, Copy)]
struct Owner {
    client: u8,
    id: u32,
    count: u32,
}

/// Clients' requests on one device with a queue of `N` entries.
pub struct Service<'a, M: Mmio, const N: usize> {
    device: BlkDevice<'a, M, N>,
    clients: heapless::Vec<Client<'a>, MAX_CLIENTS>,
    /// Client to offer first next time: each step starts one further on,
    /// so no client's backlog keeps another's out of the device.
    next: usize,
    /// For each virtqueue head in flight, whose request it is.
    owners: [Option<Owner>; N],
    /// Requests were added to the virtqueue and not yet offered to the
    /// device (a step that dropped a client ended before its kick).
    unkicked: bool,
    pub stats: Stats,
}

impl<'a, M: Mmio, const N: usize> Service<'a, M, N> {
    /// A service of one client (more with [`add_client`](Self::add_client)).
    pub fn new(device: BlkDevice<'a, M, N>, queues: DriverQueues<'a>, data_iova: u64) -> Self {
        let mut service = Self {
            device,
            clients: heapless::Vec::new(),
            next: 0,
            owners: [None; N],
            unkicked: false,
            stats: Stats::default(),
        };
        let _ = service.add_client(queues, data_iova);
        service
    }

    /// Serves another client; `None` past [`MAX_CLIENTS`].
    pub fn add_client(&mut self, queues: DriverQueues<'a>, data_iova: u64) -> Option<usize> {
        let n = self.clients.len();
        self.clients
            .push(Client {
                queues,
                data_iova,
                dropped: false,
            })
            .ok()?;
        Some(n)
    }

    pub fn device(&self) -> &BlkDevice<'a, M, N> {
        &self.device
    }

    /// Re-reads the capacity after a configuration-change interrupt.
    /// Clients keep the geometry they attached with: a disk that grows is
    /// used at its old size, one that shrinks has requests past its end
    /// failed by the device.
    pub fn refresh_capacity(&mut self) -> Result<u64, BlkError> {
        self.device.refresh_capacity()
    }

    /// Requests of client `n` refused by the protocol's checks so far.
    pub fn refused(&self, n: usize) -> u64 {
        self.clients.get(n).map_or(0, |c| c.queues.refused())
    }

    /// Does all there is to do now: answers what the device finished, then
    /// offers the device what the clients queued, one request of each in
    /// turn. Returns the clients to signal (bit `n` for client `n`), or
    /// why a client was dropped or the device given up; after a dropped
    /// client, call again: the others are still served.
    pub fn step(&mut self) -> Result<u32, Stop> {
        while let Some(done) = self.device.complete().map_err(Stop::Device)? {
            self.finish(done);
        }
        let clients = self.clients.len();
        let mut idle_in_a_row = 0;
        let mut at = self.next;
        while usize::from(self.device.in_flight()) < N && clients > 0 && idle_in_a_row < clients {
            let n = at % clients;
            at += 1;
            let client = &mut self.clients[n];
            if client.dropped {
                idle_in_a_row += 1;
                continue;
            }
            match client.queues.next_request() {
                Ok(Some(request)) => {
                    idle_in_a_row = 0;
                    let offered = self.submit(n, request);
                    self.unkicked |= offered;
                }
                Ok(None) => idle_in_a_row += 1,
                Err(e) => {
                    client.dropped = true;
                    return Err(Stop::Client(n, e));
                }
            }
        }
        self.next = (self.next + 1) % clients.max(1);
        if self.unkicked {
            self.device.kick();
            self.unkicked = false;
        }
        let mut signal = 0;
        for (n, client) in self.clients.iter_mut().enumerate() {
            if !client.dropped && client.queues.publish() == Notify::Yes {
                signal |= 1 << n;
            }
        }
        Ok(signal)
    }

    /// Nothing to do: may the driver wait? Also asks every client to
    /// signal its next request.
    pub fn idle(&mut self) -> Result<Idle, Stop> {
        let mut idle = Idle::Sleep;
        for (n, client) in self.clients.iter_mut().enumerate() {
            if client.dropped {
                continue;
            }
            match client.queues.request_signal() {
                Ok(Idle::MoreWork) => idle = Idle::MoreWork,
                Ok(Idle::Sleep) => {}
                Err(e) => {
                    client.dropped = true;
                    return Err(Stop::Client(n, e));
                }
            }
        }
        Ok(idle)
    }

    /// Offers client `n`'s `request` to the device; answers it at once if
    /// the device refuses it. Returns whether the device has something
    /// new.
    fn submit(&mut self, n: usize, request: Accepted) -> bool {
        let data_iova = self.clients[n].data_iova;
        let data = request.iova(data_iova).and_then(|iova| {
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
                    *owner = Some(Owner {
                        client: n as u8,
                        id: request.id,
                        count: request.count,
                    });
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
                self.answer(n, request.id, status, 0);
                false
            }
        }
    }

    fn finish(&mut self, done: Completion) {
        let Some(owner) = self
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
                self.stats.bytes += u64::from(owner.count) * paddock_virtio::blk::SECTOR_BYTES;
                (Status::Ok, owner.count)
            }
            Err(RequestError::Unsupported) => (Status::Unsupported, 0),
            Err(_) => {
                self.stats.device_errors += 1;
                (Status::IoError, 0)
            }
        };
        self.answer(usize::from(owner.client), owner.id, status, blocks);
    }

    fn answer(&mut self, n: usize, id: u32, status: Status, blocks: u32) {
        let Some(client) = self.clients.get_mut(n) else {
            return;
        };
        if client.dropped {
            return;
        }
        // The id was accepted and is in flight, and the response queue
        // had room for every answer owed when it was taken: this cannot
        // fail unless the client rewrote the queue, which the next step
        // reports.
        let _ = client.queues.complete(id, status, blocks);
    }
}
