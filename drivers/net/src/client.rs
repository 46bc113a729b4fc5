//! The client's end: frames in and out of the mapped data window, and
//! smoltcp's [`Device`] on top.
//!
//! RX: the client is the receiver; each frame is copied out of its buffer
//! and the buffer given straight back, so the driver never runs short
//! because smoltcp holds a token. TX: the client is the sender; a buffer
//! is reserved before smoltcp is offered a token, so a token always has
//! somewhere to go. The copies are unavoidable (the window is shared
//! memory, viewed as atomics); everything else is in place.
//!
//! The driver is not trusted either: its descriptors are checked by
//! paddock-ring, and a frame length outside [`MIN_FRAME`]`..=`[`MAX_FRAME`]
//! is skipped and counted. A broken queue protocol makes the device stop
//! offering tokens and is kept in [`ClientQueues::fault`].

use paddock_ring::{Buf, Idle, Notify, Receiver, Sender};
use smoltcp::phy::{self, ChecksumCapabilities, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use crate::error::{PeerError, QueueId, SetupError};
use crate::info::{InfoError, InfoPage, LinkState, NetInfo, NetStats};
use crate::layout::{Control, Window, MAX_FRAME, MIN_FRAME};

const FRAME: usize = MAX_FRAME as usize;

struct RxHalf<'a> {
    q: Receiver<'a>,
    frame: [u8; FRAME],
    notify: Notify,
    fault: Option<PeerError>,
    bad_frames: u64,
}

struct TxHalf<'a> {
    q: Sender<'a>,
    /// A buffer taken for the next token, so a token is only offered when
    /// its frame has somewhere to go.
    reserved: Option<Buf>,
    frame: [u8; FRAME],
    notify: Notify,
    fault: Option<PeerError>,
    /// smoltcp wanted to send and found no buffer: ask the driver for a
    /// signal when it returns one.
    starved: bool,
}

/// The client's end of its four queues and its data window.
pub struct ClientQueues<'a> {
    rx: RxHalf<'a>,
    tx: TxHalf<'a>,
    info: InfoPage<'a>,
    net: NetInfo,
}

impl<'a> ClientQueues<'a> {
    /// Attaches to the control region and window, after reading and
    /// checking the driver's info page ([`InfoError::NotReady`] until the
    /// driver has published it: wait for its signal and try again).
    pub fn attach(control: Control<'a>, window: Window<'a>) -> Result<Self, SetupError> {
        let layout = control.layout;
        let net = control.info.read(&layout)?;
        let geometry = |r: &paddock_ring::DataRegion<'_>| (r.buf_size(), r.buffers());
        if geometry(&window.rx) != (layout.buf_size, layout.rx_buffers)
            || geometry(&window.tx) != (layout.buf_size, layout.tx_buffers)
        {
            return Err(SetupError::Layout(
                paddock_ring::LayoutError::BadBufferGeometry {
                    buf_size: window.rx.buf_size(),
                    buffers: window.rx.buffers() + window.tx.buffers(),
                },
            ));
        }
        let rx = Receiver::new(control.rx_active, control.rx_free, window.rx)
            .map_err(SetupError::attach(QueueId::RxActive))?;
        let tx = Sender::new(control.tx_active, control.tx_free, window.tx)
            .map_err(SetupError::attach(QueueId::TxActive))?;
        Ok(Self {
            rx: RxHalf {
                q: rx,
                frame: [0; FRAME],
                notify: Notify::No,
                fault: None,
                bad_frames: 0,
            },
            tx: TxHalf {
                q: tx,
                reserved: None,
                frame: [0; FRAME],
                notify: Notify::No,
                fault: None,
                starved: false,
            },
            info: control.info,
            net,
        })
    }

    /// What the driver published at attach time (MAC, MTU, generation).
    pub fn info(&self) -> &NetInfo {
        &self.net
    }

    /// The driver's state now (a restart shows as `Withdrawn`, or as a
    /// new generation through [`InfoPage::read`]).
    pub fn driver_state(&self) -> Result<LinkState, InfoError> {
        self.info.state()
    }

    /// The driver's counters for this client, as last published.
    pub fn driver_stats(&self) -> NetStats {
        self.info.stats()
    }

    /// Frames from the driver skipped for an impossible length.
    pub fn bad_frames(&self) -> u64 {
        self.rx.bad_frames
    }

    /// The first protocol break seen from the driver, if any; after one,
    /// the device offers smoltcp no more tokens.
    pub fn fault(&self) -> Option<PeerError> {
        self.rx.fault.or(self.tx.fault)
    }

    /// Copies the next received frame into `dst` (truncated if `dst` is
    /// shorter) and gives its buffer back; returns the frame's length.
    pub fn recv_frame(&mut self, dst: &mut [u8]) -> Result<Option<usize>, PeerError> {
        let rx = &mut self.rx;
        let n = rx.recv()?;
        if let Some(n) = n {
            let m = n.min(dst.len());
            dst[..m].copy_from_slice(&rx.frame[..m]);
        }
        Ok(n)
    }

    /// Queues `frame` to send (visible at the next
    /// [`publish`](Self::publish)). `false`, and nothing queued, if no TX
    /// buffer is free or the length is outside
    /// [`MIN_FRAME`]`..=`[`MAX_FRAME`] (the driver would refuse it).
    pub fn send_frame(&mut self, frame: &[u8]) -> Result<bool, PeerError> {
        if !(MIN_FRAME as usize..=FRAME).contains(&frame.len()) || !self.tx.reserve()? {
            return Ok(false);
        }
        self.tx.frame[..frame.len()].copy_from_slice(frame);
        self.tx.send(frame.len())?;
        Ok(true)
    }

    /// Publishes what was sent and given back, and says whether to signal
    /// the driver (frames sent through smoltcp are published as they go;
    /// their signals are collected here).
    pub fn publish(&mut self) -> Notify {
        let n = self.rx.q.publish() | self.tx.q.publish() | self.rx.notify | self.tx.notify;
        self.rx.notify = Notify::No;
        self.tx.notify = Notify::No;
        n
    }

    /// Nothing to do and about to sleep: asks the driver to signal when it
    /// delivers a frame and, if smoltcp found no TX buffer, when it
    /// returns one. Wait only on [`Idle::Sleep`] (or for a timer).
    pub fn request_signal(&mut self) -> Result<Idle, PeerError> {
        let rx = self
            .rx
            .q
            .request_signal()
            .map_err(PeerError::on(QueueId::RxActive))?;
        if rx == Idle::MoreWork || !self.tx.starved {
            return Ok(rx);
        }
        self.tx
            .q
            .request_signal()
            .map_err(PeerError::on(QueueId::TxFree))
    }
}

impl RxHalf<'_> {
    /// Pops the next frame of a plausible length into `self.frame` and
    /// gives its buffer back; its length, or `None`.
    fn recv(&mut self) -> Result<Option<usize>, PeerError> {
        loop {
            let Some(buf) = self.q.recv().map_err(PeerError::on(QueueId::RxActive))? else {
                return Ok(None);
            };
            let len = buf.len() as usize;
            let plausible = (MIN_FRAME as usize..=FRAME).contains(&len);
            if plausible {
                self.q.read(&buf, 0, &mut self.frame[..len]);
            } else {
                self.bad_frames += 1;
            }
            self.q
                .give_back(buf)
                .map_err(PeerError::on(QueueId::RxFree))?;
            // Returned buffers go back at once: the driver may be waiting.
            self.notify = self.notify | self.q.publish();
            if plausible {
                return Ok(Some(len));
            }
        }
    }
}

impl TxHalf<'_> {
    /// Makes sure a buffer is reserved; `false` if none is free.
    fn reserve(&mut self) -> Result<bool, PeerError> {
        if self.reserved.is_none() {
            self.reserved = self.q.alloc().map_err(PeerError::on(QueueId::TxFree))?;
        }
        self.starved = self.reserved.is_none();
        Ok(!self.starved)
    }

    /// Sends the first `len` bytes of `self.frame` in the reserved buffer.
    fn send(&mut self, len: usize) -> Result<(), PeerError> {
        let Some(mut buf) = self.reserved.take() else {
            return Ok(());
        };
        self.q.append(&mut buf, &self.frame[..len]);
        self.q.send(buf).map_err(PeerError::on(QueueId::TxActive))?;
        self.notify = self.notify | self.q.publish();
        Ok(())
    }

    fn ready(&mut self) -> bool {
        if self.fault.is_some() {
            return false;
        }
        match self.reserve() {
            Ok(ready) => ready,
            Err(e) => {
                self.fault = Some(e);
                false
            }
        }
    }
}

/// smoltcp's receive token: the frame, already copied out of the window.
pub struct NetRxToken<'b> {
    frame: &'b [u8],
}

/// smoltcp's transmit token: a reserved TX buffer.
pub struct NetTxToken<'b, 'a> {
    tx: &'b mut TxHalf<'a>,
}

impl phy::RxToken for NetRxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

impl phy::TxToken for NetTxToken<'_, '_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        // smoltcp never asks for more than the MTU we advertise.
        let len = len.min(FRAME);
        let r = f(&mut self.tx.frame[..len]);
        if let Err(e) = self.tx.send(len) {
            self.tx.fault = Some(e);
        }
        r
    }
}

impl<'a> Device for ClientQueues<'a> {
    type RxToken<'b>
        = NetRxToken<'b>
    where
        Self: 'b;
    type TxToken<'b>
        = NetTxToken<'b, 'a>
    where
        Self: 'b;

    fn receive(&mut self, _: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        // Without a TX buffer for a reply, leave the frame queued: the
        // driver returns TX buffers as it sends, and signals if asked.
        if self.rx.fault.is_some() || !self.tx.ready() {
            return None;
        }
        match self.rx.recv() {
            Ok(Some(len)) => Some((
                NetRxToken {
                    frame: &self.rx.frame[..len],
                },
                NetTxToken { tx: &mut self.tx },
            )),
            Ok(None) => None,
            Err(e) => {
                self.rx.fault = Some(e);
                None
            }
        }
    }

    fn transmit(&mut self, _: Instant) -> Option<Self::TxToken<'_>> {
        self.tx.ready().then_some(NetTxToken { tx: &mut self.tx })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = FRAME;
        caps.max_burst_size = None;
        // Verify and compute every checksum in software: the driver
        // offloads nothing.
        caps.checksum = ChecksumCapabilities::default();
        caps
    }
}
