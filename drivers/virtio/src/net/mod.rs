//! virtio-net over the modern PCI transport: one receive and one transmit
//! queue, each frame a chain of the 12-byte header (driver memory) and
//! one buffer the driver names by IOVA and never dereferences.
//!
//! The driver tells the device nothing it has not checked: a frame to send
//! is 14 to 1514 bytes; a receive buffer holds at least 1514. What the
//! device says back is checked by the virtqueue (heads, lengths) and here:
//! a receive shorter than the header is a protocol error, and the frame
//! length is what the device wrote minus the header, never more than the
//! buffer.
//!
//! Buffers are named by a caller's `token` (for example a buffer index),
//! returned with each completion, so the caller keeps its own records.
//! No offloads are negotiated (see [`KNOWN_FEATURES`]): frames are whole
//! and checksummed by the sender's stack, so the header is all zero on
//! transmit and ignored on receive. Both headers live in one
//! [`RequestMemory`] of two slots: slot 0 the transmit header every
//! frame shares (device-readable, zeroed before each send), slot 1 the
//! receive header every frame shares (device-writable, never read).

pub mod config;
mod error;

pub use config::{NetInfo, HEADER_BYTES, KNOWN_FEATURES, MAX_FRAME, MIN_FRAME, REQUIRED_FEATURES};
pub use error::NetError;

use core::sync::atomic::Ordering;

use crate::blk::request::RequestMemory;
use crate::mmio::Mmio;
use crate::queue::layout::QueueMemory;
use crate::queue::{Notify, Segment, Virtqueue};
use crate::transport::{Notifier, Transport};

/// Queue numbers (virtio 1.x, 5.1.2, without VIRTIO_NET_F_MQ).
pub mod queue_index {
    /// receiveq1.
    pub const RX: u16 = 0;
    /// transmitq1.
    pub const TX: u16 = 1;
}

/// Which MSI-X table entries (as the root task programmed them) the device
/// should use; `None` for no interrupt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetInterrupts {
    /// Configuration changes (link state).
    pub config: Option<u16>,
    /// Frames received.
    pub rx: Option<u16>,
    /// Frames sent.
    pub tx: Option<u16>,
}

/// A frame the device received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// The token the buffer was posted with.
    pub token: u32,
    /// Bytes of the frame in the buffer (the header excluded).
    pub len: u32,
}

/// A virtio-net device brought to DRIVER_OK, with a receive and a transmit
/// queue of up to `N` entries each.
pub struct NetDevice<'a, M: Mmio, const N: usize> {
    transport: Transport<M>,
    rx: Virtqueue<'a, N>,
    tx: Virtqueue<'a, N>,
    rx_notifier: Notifier,
    tx_notifier: Notifier,
    headers: RequestMemory<'a>,
    /// Per head: the posted buffer's token and the bytes it can take.
    rx_tokens: [Option<(u32, u32)>; N],
    tx_tokens: [Option<u32>; N],
    info: NetInfo,
}

/// The transmit header's slot, and the receive header's.
const TX_HEADER: u16 = 0;
const RX_HEADER: u16 = 1;

impl<'a, M: Mmio, const N: usize> NetDevice<'a, M, N> {
    /// Runs the whole handshake: features (VERSION_1, ACCESS_PLATFORM and
    /// MAC required, only [`KNOWN_FEATURES`] accepted), the configuration,
    /// the receive queue over `rx` and the transmit queue over `tx` with
    /// their interrupts, configuration changes on `interrupts.config`,
    /// DRIVER_OK. `headers` needs two slots. On error the device is left
    /// FAILED.
    pub fn new(
        mut transport: Transport<M>,
        rx: QueueMemory<'a>,
        tx: QueueMemory<'a>,
        headers: RequestMemory<'a>,
        interrupts: NetInterrupts,
    ) -> Result<Self, NetError> {
        let features = transport.negotiate(KNOWN_FEATURES, REQUIRED_FEATURES)?;
        let checked = config::read_info(&transport, features).and_then(|info| {
            let queues = transport.num_queues();
            if queues < 2 {
                return Err(NetError::TooFewQueues { queues });
            }
            if headers.len() < 2 {
                return Err(NetError::Layout(crate::LayoutError::TooFewRequestSlots {
                    slots: headers.len(),
                    queue_size: 2,
                }));
            }
            Ok(info)
        });
        let info = match checked {
            Ok(info) => info,
            Err(e) => {
                transport.fail();
                return Err(e);
            }
        };
        let (rx, rx_notifier) = transport.setup_queue::<N>(queue_index::RX, rx, interrupts.rx)?;
        let (tx, tx_notifier) = transport.setup_queue::<N>(queue_index::TX, tx, interrupts.tx)?;
        transport.set_config_vector(interrupts.config)?;
        transport.driver_ok()?;
        Ok(Self {
            transport,
            rx,
            tx,
            rx_notifier,
            tx_notifier,
            headers,
            rx_tokens: [None; N],
            tx_tokens: [None; N],
            info,
        })
    }

    /// What the device said about itself.
    pub fn info(&self) -> &NetInfo {
        &self.info
    }

    /// The transport, for the ISR byte and the status.
    pub fn transport(&self) -> &Transport<M> {
        &self.transport
    }

    /// Receive buffers that can still be posted (each takes two
    /// descriptors).
    pub fn rx_room(&self) -> u16 {
        self.rx.free_descriptors() / 2
    }

    /// Frames that can still be queued for sending.
    pub fn tx_room(&self) -> u16 {
        self.tx.free_descriptors() / 2
    }

    /// Receive buffers the device holds.
    pub fn rx_posted(&self) -> u16 {
        self.rx.in_flight()
    }

    /// Frames queued for sending and not yet completed.
    pub fn tx_in_flight(&self) -> u16 {
        self.tx.in_flight()
    }

    fn header(&self, slot: u16) -> Segment {
        Segment {
            iova: self.headers.header_iova(slot),
            len: HEADER_BYTES,
        }
    }

    /// Posts a buffer of `buffer.len` bytes (at least [`MAX_FRAME`]) for a
    /// frame to be received into; visible at [`kick_rx`](Self::kick_rx).
    pub fn post_rx(&mut self, token: u32, buffer: Segment) -> Result<(), NetError> {
        if buffer.len < MAX_FRAME {
            return Err(NetError::ReceiveBufferTooSmall { len: buffer.len });
        }
        let header = [self.header(RX_HEADER)];
        let head = self
            .rx
            .push(&[], &[&header, core::slice::from_ref(&buffer)])?;
        if let Some(t) = self.rx_tokens.get_mut(usize::from(head)) {
            *t = Some((token, buffer.len));
        }
        Ok(())
    }

    /// Queues `frame` (14 to 1514 bytes) for sending; visible at
    /// [`kick_tx`](Self::kick_tx).
    pub fn send(&mut self, token: u32, frame: Segment) -> Result<(), NetError> {
        if !(MIN_FRAME..=MAX_FRAME).contains(&frame.len) {
            return Err(NetError::FrameLength { len: frame.len });
        }
        if let Some(slot) = self.headers.slot(TX_HEADER) {
            // No flags, no segmentation, num_buffers 0: the 12 bytes the
            // device reads, rewritten in case a faulty device wrote there.
            // Relaxed: published by the queue's Q-REL-AVAIL store.
            slot.kind.store(0, Ordering::Relaxed);
            slot.reserved.store(0, Ordering::Relaxed);
            slot.sector.store(0, Ordering::Relaxed);
        }
        let header = [self.header(TX_HEADER)];
        let head = self
            .tx
            .push(&[&header, core::slice::from_ref(&frame)], &[])?;
        if let Some(t) = self.tx_tokens.get_mut(usize::from(head)) {
            *t = Some(token);
        }
        Ok(())
    }

    /// Offers the posted receive buffers to the device; returns whether it
    /// was notified.
    pub fn kick_rx(&mut self) -> bool {
        Self::kick(&mut self.rx, &self.transport, self.rx_notifier)
    }

    /// Offers the queued frames to the device; returns whether it was
    /// notified.
    pub fn kick_tx(&mut self) -> bool {
        Self::kick(&mut self.tx, &self.transport, self.tx_notifier)
    }

    fn kick(queue: &mut Virtqueue<'a, N>, transport: &Transport<M>, notifier: Notifier) -> bool {
        match queue.publish() {
            Notify::Yes => {
                transport.notify(notifier);
                true
            }
            Notify::No => false,
        }
    }

    /// The next received frame, if any. A [`NetError::Device`] or
    /// [`NetError::ShortReceive`] means the device broke the protocol;
    /// the device should be reset.
    pub fn received(&mut self) -> Result<Option<Received>, NetError> {
        let Some(used) = self.rx.pop_used()? else {
            return Ok(None);
        };
        let (token, capacity) = self
            .rx_tokens
            .get_mut(usize::from(used.head))
            .and_then(Option::take)
            .ok_or(NetError::UntrackedCompletion { head: used.head })?;
        let len = used
            .len
            .checked_sub(HEADER_BYTES)
            .ok_or(NetError::ShortReceive { written: used.len })?;
        // The virtqueue bounds `used.len` by the chain's writable bytes,
        // header and buffer; this restates it for the buffer alone.
        Ok(Some(Received {
            token,
            len: len.min(capacity),
        }))
    }

    /// The token of the next frame the device has sent, if any.
    pub fn sent(&mut self) -> Result<Option<u32>, NetError> {
        let Some(used) = self.tx.pop_used()? else {
            return Ok(None);
        };
        self.tx_tokens
            .get_mut(usize::from(used.head))
            .and_then(Option::take)
            .map(Some)
            .ok_or(NetError::UntrackedCompletion { head: used.head })
    }

    /// Asks the device not to interrupt for sent frames (the driver
    /// reclaims them when it next sends), or to again.
    pub fn suppress_tx_interrupts(&mut self, suppress: bool) {
        self.tx.suppress_interrupts(suppress);
    }

    /// Re-reads the link state (after a configuration-change interrupt).
    pub fn refresh_link(&mut self) -> Result<Option<bool>, NetError> {
        if self.info.link_up.is_some() {
            self.info.link_up = Some(config::link_up(config::read_link(&self.transport)?));
        }
        Ok(self.info.link_up)
    }
}
