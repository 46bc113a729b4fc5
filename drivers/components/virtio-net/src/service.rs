//! Serving clients from one virtio-net device.
//!
//! Receive: the device writes every frame into the driver's own pool (the
//! `pool` window); the driver reads its destination address and copies it
//! into a free buffer of each client it is for (its own MAC, or every
//! client for broadcast and multicast), then gives the pool buffer back to
//! the device. A client with no free buffer loses the frame (counted).
//! Transmit: a client's checked frame goes to the device straight from the
//! client's window (`window IOVA + offset`), and back to the client when
//! the device has sent it.
//!
//! A client that breaks the queue protocol is dropped and the others are
//! served on; a device that breaks the virtqueue's stops the service.

use core::fmt;
use core::sync::atomic::AtomicU8;

use paddock_net::{DmaBuf, DriverQueues, Idle, Notify, PeerError, Refusal};
use paddock_virtio::net::NetError;
use paddock_virtio::{Iova, Segment};

use crate::device::{Device, QUEUE};
use paddock_ring::copy::copy_shared;

/// Clients one driver serves at most (one badge bit each in the mask
/// [`Service::step`] returns).
pub const MAX_CLIENTS: usize = 8;
/// Bytes of a receive buffer in the pool.
pub const POOL_BUFFER: u32 = 2048;
/// Receive buffers the device holds at most: each takes two descriptors.
pub const POOL_BUFFERS: usize = QUEUE / 2;
/// Frames in flight to the device at most.
const TX_SLOTS: usize = QUEUE / 2;

/// Why serving stopped, or which client broke the protocol.
#[derive(Clone, Copy, Debug)]
pub enum Stop {
    /// The device broke the virtio protocol.
    Device(NetError),
    /// Client `n` broke the network protocol; it is no longer served.
    Client(usize, PeerError),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Device(e) => write!(f, "the device broke the protocol: {e}"),
            Stop::Client(n, e) => write!(f, "client {n} broke the protocol: {e}"),
        }
    }
}

/// One client: its queues, its window as the driver maps it (to copy
/// received frames in) and as the device reaches it, its address.
pub struct Client {
    pub queues: DriverQueues<'static>,
    window: &'static [AtomicU8],
    window_iova: u64,
    pub mac: [u8; 6],
    /// Dropped for a protocol break: never touched again.
    pub dropped: bool,
}

impl Client {
    /// A client over its queues and window (the window must hold the
    /// queues' layout; checked).
    pub fn new(
        queues: DriverQueues<'static>,
        window: &'static [AtomicU8],
        window_iova: u64,
        mac: [u8; 6],
    ) -> Result<Self, &'static str> {
        if window.len() < queues.layout().window_bytes() {
            return Err("a client's window is smaller than its queues' layout");
        }
        Ok(Self {
            queues,
            window,
            window_iova,
            mac,
            dropped: false,
        })
    }
}

/// The pool of receive buffers: the driver's mapping and the device's
/// address of it.
pub struct Pool {
    pub bytes: &'static [AtomicU8],
    pub iova: u64,
}

/// The device, its pool and its clients.
pub struct Service {
    device: Device,
    pool: Pool,
    clients: heapless::Vec<Client, MAX_CLIENTS>,
    /// Frames with the device: which client's, which buffer.
    tx_slots: [Option<(usize, DmaBuf)>; TX_SLOTS],
    /// The empty entries of `tx_slots`, so sending a frame does not scan.
    tx_free: heapless::Vec<u16, TX_SLOTS>,
    /// Frames received for nobody (no client has the address).
    pub unaddressed: u64,
}

fn is_group(mac: &[u8]) -> bool {
    mac.first().is_some_and(|b| b & 1 != 0)
}

impl Service {
    /// Serves `clients` from `device`, posting every pool buffer.
    pub fn new(device: Device, pool: Pool) -> Result<Self, NetError> {
        let mut s = Self {
            device,
            pool,
            clients: heapless::Vec::new(),
            tx_slots: [const { None }; TX_SLOTS],
            tx_free: (0..TX_SLOTS as u16).rev().collect(),
            unaddressed: 0,
        };
        let buffers = (s.pool.bytes.len() / POOL_BUFFER as usize).min(POOL_BUFFERS);
        if buffers == 0 {
            return Err(NetError::ReceiveBufferTooSmall {
                len: s.pool.bytes.len() as u32,
            });
        }
        for token in 0..buffers as u32 {
            s.post(token)?;
        }
        s.device.kick_rx();
        Ok(s)
    }

    /// Adds a client; `None` if the driver serves as many as it can.
    pub fn add_client(&mut self, client: Client) -> Option<usize> {
        self.clients.push(client).ok()?;
        Some(self.clients.len() - 1)
    }

    /// The clients.
    pub fn clients(&self) -> &[Client] {
        &self.clients
    }

    /// The device.
    pub fn device(&mut self) -> &mut Device {
        &mut self.device
    }

    fn post(&mut self, token: u32) -> Result<(), NetError> {
        let segment = Segment {
            iova: Iova(self.pool.iova + u64::from(token) * u64::from(POOL_BUFFER)),
            len: POOL_BUFFER,
        };
        self.device.post_rx(token, segment)
    }

    /// Drops client `n` after a protocol break; its frames still with the
    /// device are forgotten when they complete.
    pub fn drop_client(&mut self, n: usize) {
        if let Some(c) = self.clients.get_mut(n) {
            c.dropped = true;
            c.queues.info().withdraw();
        }
    }

    /// Does all the work there is: frames received are delivered, frames
    /// sent are returned, frames queued by clients are sent. Returns the
    /// clients to signal (bit `n` is client `n`). A client that broke the
    /// protocol is reported as [`Stop::Client`] (call [`drop_client`] and
    /// go on); the device breaking it as [`Stop::Device`].
    ///
    /// [`drop_client`]: Self::drop_client
    pub fn step(&mut self) -> Result<u32, Stop> {
        self.receive()?;
        self.reclaim()?;
        self.transmit()?;
        let mut signal = 0;
        for (n, c) in self.clients.iter_mut().enumerate() {
            if !c.dropped && c.queues.publish() == Notify::Yes {
                signal |= 1 << n;
            }
        }
        Ok(signal)
    }

    fn receive(&mut self) -> Result<(), Stop> {
        let mut posted = false;
        while let Some(r) = self.device.received().map_err(Stop::Device)? {
            let start = r.token as usize * POOL_BUFFER as usize;
            // Longer than a frame: no honest device writes it. Delivered
            // as it is, `complete_rx` drops and counts it.
            let len = r.len as usize;
            let frame = self.pool.bytes.get(start..start + len).unwrap_or(&[]);
            self.deliver(frame)?;
            self.post(r.token).map_err(Stop::Device)?;
            posted = true;
        }
        if posted {
            self.device.kick_rx();
        }
        Ok(())
    }

    /// Copies `frame` to every client it is addressed to.
    fn deliver(&mut self, frame: &[AtomicU8]) -> Result<(), Stop> {
        let mut dst = [0u8; 6];
        for (d, s) in dst.iter_mut().zip(frame) {
            *d = s.load(core::sync::atomic::Ordering::Relaxed);
        }
        let group = is_group(&dst);
        let mut delivered = false;
        for (n, c) in self.clients.iter_mut().enumerate() {
            if c.dropped || !(group || c.mac == dst) {
                continue;
            }
            delivered = true;
            let Some(buf) = c.queues.take_free_rx().map_err(|e| Stop::Client(n, e))? else {
                c.queues.count_rx_drop();
                continue;
            };
            let at = buf.window_offset() as usize;
            let room = c
                .window
                .get(at..at + buf.capacity() as usize)
                .unwrap_or(&[]);
            let copied = copy_shared(room, frame);
            c.queues
                .complete_rx(buf, copied as u32)
                .map_err(|e| Stop::Client(n, e))?;
        }
        if !delivered {
            self.unaddressed += 1;
        }
        Ok(())
    }

    /// Gives sent frames back to their clients.
    fn reclaim(&mut self) -> Result<(), Stop> {
        while let Some(token) = self.device.sent().map_err(Stop::Device)? {
            let Some((n, buf)) = self.tx_slots.get_mut(token as usize).and_then(Option::take)
            else {
                continue;
            };
            // Room: the entry was taken from the list when it was filled.
            let _ = self.tx_free.push(token as u16);
            if let Some(c) = self.clients.get_mut(n).filter(|c| !c.dropped) {
                c.queues.complete_tx(buf).map_err(|e| Stop::Client(n, e))?;
            }
        }
        Ok(())
    }

    /// Sends what clients queued, round robin one frame at a time, while
    /// the device has room.
    fn transmit(&mut self) -> Result<(), Stop> {
        let mut sent = false;
        loop {
            let mut any = false;
            for n in 0..self.clients.len() {
                let Some(&slot) = self.tx_free.last() else {
                    break;
                };
                let c = &mut self.clients[n];
                if c.dropped {
                    continue;
                }
                let Some(buf) = c.queues.next_tx().map_err(|e| Stop::Client(n, e))? else {
                    continue;
                };
                let frame = Segment {
                    iova: Iova(c.window_iova + u64::from(buf.window_offset())),
                    len: buf.len(),
                };
                self.device.send(slot.into(), frame).map_err(Stop::Device)?;
                self.tx_free.pop();
                if let Some(entry) = self.tx_slots.get_mut(usize::from(slot)) {
                    *entry = Some((n, buf));
                }
                any = true;
                sent = true;
            }
            if !any {
                break;
            }
        }
        if sent {
            self.device.kick_tx();
        }
        Ok(())
    }

    /// The next refusal of client `n` not yet reported.
    pub fn take_refusal(&mut self, n: usize) -> Option<Refusal> {
        self.clients.get_mut(n)?.queues.take_refusal()
    }

    /// Whether to sleep: asks each client to signal when it queues a
    /// frame. Frames still with the device mean it will interrupt. A
    /// client out of receive buffers is not waited for: frames for it are
    /// dropped (and counted) until it gives some back.
    pub fn idle(&mut self) -> Result<Idle, Stop> {
        let tx_room = !self.tx_free.is_empty();
        for (n, c) in self.clients.iter_mut().enumerate() {
            if c.dropped {
                continue;
            }
            let idle = if tx_room {
                c.queues.request_signal(false)
            } else {
                Ok(Idle::Sleep)
            };
            if idle.map_err(|e| Stop::Client(n, e))? == Idle::MoreWork {
                return Ok(Idle::MoreWork);
            }
        }
        Ok(Idle::Sleep)
    }
}
