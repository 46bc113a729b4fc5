//! The driver's end of one client's queues, over the window's shape only:
//! the driver hands the device `window IOVA + offset` and never maps the
//! client's frames.
//!
//! RX: the driver is the sender. It starts holding every RX buffer,
//! gives empty ones to the device ([`take_free_rx`](DriverQueues::take_free_rx)),
//! and queues filled ones to the client ([`complete_rx`](DriverQueues::complete_rx));
//! the client gives them back on the RX free queue.
//!
//! TX: the driver is the receiver. [`next_tx`](DriverQueues::next_tx)
//! yields checked frames to hand the device;
//! [`complete_tx`](DriverQueues::complete_tx) returns them to the client.
//!
//! Beyond paddock-ring's checks (indices, offsets, lengths, overflow), the
//! driver tracks which side holds each buffer, so a buffer given back or
//! sent twice is named at once ([`PeerError::ReturnedNotHeld`],
//! [`PeerError::SentTwice`]) instead of when a queue overflows, and is
//! never handed to the device twice. A frame length outside
//! [`MIN_FRAME`]`..=`[`MAX_FRAME`] is not a protocol break: the frame is
//! refused, counted, and its buffer returned.

use core::fmt;

use paddock_ring::{Buf, Idle, Notify, Receiver, Sender};

use crate::error::{PeerError, QueueId, SetupError};
use crate::info::{InfoPage, NetStats};
use crate::layout::{Control, NetLayout, MAX_BUFFERS, MAX_FRAME, MIN_FRAME};

/// A buffer of the client's window, checked, as the driver hands it to the
/// device. Not `Clone`: one token per buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct DmaBuf {
    buf: Buf,
    base: u32,
}

impl DmaBuf {
    /// Byte offset in the client's data window: add it to the window's IO
    /// address for the device.
    pub fn window_offset(&self) -> u32 {
        // In range: `base + offset < window_bytes <= u32::MAX` (layout).
        self.base + self.buf.offset()
    }

    /// Bytes of frame (TX), or 0 for an empty RX buffer.
    pub fn len(&self) -> u32 {
        self.buf.len()
    }

    /// Whether the buffer holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Bytes the buffer can hold: the most the device may write.
    pub fn capacity(&self) -> u32 {
        self.buf.capacity()
    }
}

/// A TX frame the driver refused for its length, reported once through
/// [`DriverQueues::take_refusal`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The buffer's offset in the window.
    pub window_offset: u32,
    /// The length the client claimed.
    pub len: u32,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tx frame of {} bytes at window offset {:#x} refused: not in {MIN_FRAME}..={MAX_FRAME}",
            self.len, self.window_offset
        )
    }
}

const MAP_WORDS: usize = MAX_BUFFERS as usize / 64;

/// One bit per buffer of a direction.
#[derive(Clone)]
struct BufferSet([u64; MAP_WORDS]);

impl BufferSet {
    const EMPTY: Self = Self([0; MAP_WORDS]);

    fn first_n(n: u32) -> Self {
        let mut s = Self::EMPTY;
        for i in 0..n {
            s.insert(i);
        }
        s
    }

    /// Adds `i`; `false` if it was there.
    fn insert(&mut self, i: u32) -> bool {
        let (w, b) = ((i / 64) as usize, i % 64);
        let Some(word) = self.0.get_mut(w) else {
            return false;
        };
        let was = *word & (1 << b) != 0;
        *word |= 1 << b;
        !was
    }

    /// Removes `i`; `false` if it was not there.
    fn remove(&mut self, i: u32) -> bool {
        let (w, b) = ((i / 64) as usize, i % 64);
        let Some(word) = self.0.get_mut(w) else {
            return false;
        };
        let was = *word & (1 << b) != 0;
        *word &= !(1 << b);
        was
    }

    fn pop_first(&mut self) -> Option<u32> {
        let (w, word) = self.0.iter().enumerate().find(|(_, w)| **w != 0)?;
        let i = w as u32 * 64 + word.trailing_zeros();
        self.remove(i);
        Some(i)
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
}

/// The driver's end of one client's four queues.
pub struct DriverQueues<'a> {
    rx: Sender<'a>,
    tx: Receiver<'a>,
    info: InfoPage<'a>,
    layout: NetLayout,
    /// RX buffers the driver holds unused (all of them at the start).
    rx_spare: BufferSet,
    /// RX buffers queued to the client and not yet given back.
    rx_with_client: BufferSet,
    /// TX buffers popped from the client and not yet completed.
    tx_held: BufferSet,
    stats: NetStats,
    refusal: Option<Refusal>,
}

impl<'a> DriverQueues<'a> {
    /// Attaches to a client's control region. Does not publish the info
    /// page: do that ([`InfoPage::publish`]) once the device is up.
    pub fn new(control: Control<'a>) -> Result<Self, SetupError> {
        let layout = control.layout;
        // `reattach`: the sender never hands out buffers of its own; every
        // RX buffer the driver holds is in `rx_spare`, so one ownership
        // table covers fresh and returned buffers alike.
        let rx = Sender::reattach(control.rx_active, control.rx_free, layout.rx_unmapped()?)
            .map_err(SetupError::attach(QueueId::RxActive))?;
        let tx = Receiver::new(control.tx_active, control.tx_free, layout.tx_unmapped()?)
            .map_err(SetupError::attach(QueueId::TxActive))?;
        Ok(Self {
            rx,
            tx,
            info: control.info,
            layout,
            rx_spare: BufferSet::first_n(layout.rx_buffers),
            rx_with_client: BufferSet::EMPTY,
            tx_held: BufferSet::EMPTY,
            stats: NetStats::default(),
            refusal: None,
        })
    }

    /// Attaches a restarted driver to a control region that has been in
    /// use. The queues continue from their indices. Which RX buffers the
    /// previous instance still held (posted to the device) cannot be told
    /// from those the client holds, so the driver starts with none and
    /// accepts each RX buffer the client gives back; what the previous
    /// instance held is lost to the client's ring (its capacity shrinks by
    /// that much), never handed out twice. TX frames it had taken without
    /// publishing (releasing their slots) are taken again, so sent twice
    /// at worst, which Ethernet allows; those it had released and not
    /// completed are lost like RX buffers. Publish the page with a new
    /// generation afterwards.
    pub fn reattach(control: Control<'a>) -> Result<Self, SetupError> {
        let mut d = Self::new(control)?;
        d.rx_spare = BufferSet::EMPTY;
        d.rx_with_client = BufferSet::first_n(d.layout.rx_buffers);
        Ok(d)
    }

    /// The layout of this client's region and window.
    pub fn layout(&self) -> &NetLayout {
        &self.layout
    }

    /// The info page, to publish or withdraw.
    pub fn info(&self) -> &InfoPage<'a> {
        &self.info
    }

    /// An empty RX buffer to give the device, if the driver holds one or
    /// the client gave one back. Checked: on a buffer boundary inside the
    /// RX part of the window, and one the client held.
    pub fn take_free_rx(&mut self) -> Result<Option<DmaBuf>, PeerError> {
        let base = self.layout.rx_data_offset() as u32;
        while let Some(i) = self.rx_spare.pop_first() {
            let d = paddock_ring::Descriptor {
                offset: i * self.layout.buf_size,
                len: 0,
            };
            // Always Ok: only indices below `rx_buffers` enter `rx_spare`.
            if let Ok(buf) = self.rx.region().check_returned(d) {
                return Ok(Some(DmaBuf { buf, base }));
            }
        }
        let Some(buf) = self.rx.alloc().map_err(PeerError::on(QueueId::RxFree))? else {
            return Ok(None);
        };
        if !self
            .rx_with_client
            .remove(buf.offset() / self.layout.buf_size)
        {
            return Err(PeerError::ReturnedNotHeld {
                offset: buf.offset(),
            });
        }
        Ok(Some(DmaBuf { buf, base }))
    }

    /// The device wrote a frame of `frame_len` bytes into `buf`: queue it
    /// for the client (visible at the next [`publish`](Self::publish)). A
    /// length the device could not have written honestly (shorter than an
    /// Ethernet header, longer than the buffer or a frame) drops the frame
    /// and keeps the buffer.
    pub fn complete_rx(&mut self, buf: DmaBuf, frame_len: u32) -> Result<(), PeerError> {
        let mut buf = buf.buf;
        let i = buf.offset() / self.layout.buf_size;
        if !(MIN_FRAME..=MAX_FRAME).contains(&frame_len) || !buf.set_len(frame_len) {
            self.stats.rx_dropped += 1;
            self.rx_spare.insert(i);
            return Ok(());
        }
        self.rx_with_client.insert(i);
        self.rx
            .send(buf)
            .map_err(PeerError::on(QueueId::RxActive))?;
        self.stats.rx_frames += 1;
        self.stats.rx_bytes += u64::from(frame_len);
        Ok(())
    }

    /// A received frame was lost before it reached a buffer (the device
    /// had none, or reported an error): counted in the statistics.
    pub fn count_rx_drop(&mut self) {
        self.stats.rx_dropped += 1;
    }

    /// The next frame the client queued to send, checked (offset inside
    /// the TX part of the window, length within the buffer and
    /// [`MIN_FRAME`]`..=`[`MAX_FRAME`], a buffer the driver does not
    /// already hold). Frames of a refused length are given back, counted
    /// ([`refused`](Self::refused)) and reported
    /// ([`take_refusal`](Self::take_refusal)), and skipped.
    pub fn next_tx(&mut self) -> Result<Option<DmaBuf>, PeerError> {
        let base = self.layout.tx_data_offset() as u32;
        loop {
            let Some(buf) = self.tx.recv().map_err(PeerError::on(QueueId::TxActive))? else {
                return Ok(None);
            };
            let i = buf.offset() / self.layout.buf_size;
            if !self.tx_held.insert(i) {
                return Err(PeerError::SentTwice {
                    offset: buf.offset(),
                });
            }
            if (MIN_FRAME..=MAX_FRAME).contains(&buf.len()) {
                return Ok(Some(DmaBuf { buf, base }));
            }
            self.stats.tx_refused += 1;
            self.refusal = Some(Refusal {
                window_offset: base + buf.offset(),
                len: buf.len(),
            });
            self.give_back_tx(buf)?;
        }
    }

    /// The device sent `buf`: give it back to the client (visible at the
    /// next [`publish`](Self::publish)).
    pub fn complete_tx(&mut self, buf: DmaBuf) -> Result<(), PeerError> {
        self.stats.tx_frames += 1;
        self.stats.tx_bytes += u64::from(buf.len());
        self.give_back_tx(buf.buf)
    }

    fn give_back_tx(&mut self, buf: Buf) -> Result<(), PeerError> {
        self.tx_held.remove(buf.offset() / self.layout.buf_size);
        self.tx
            .give_back(buf)
            .map_err(PeerError::on(QueueId::TxFree))
    }

    /// TX frames refused for their length so far.
    pub fn refused(&self) -> u64 {
        self.stats.tx_refused
    }

    /// The latest refusal not yet reported, to log.
    pub fn take_refusal(&mut self) -> Option<Refusal> {
        self.refusal.take()
    }

    /// The counters kept for this client.
    pub fn stats(&self) -> NetStats {
        self.stats
    }

    /// Publishes received frames and returned TX buffers, releases the
    /// slots read, and updates the statistics on the info page. Signal the
    /// client on [`Notify::Yes`].
    pub fn publish(&mut self) -> Notify {
        self.info.publish_stats(&self.stats);
        self.rx.publish() | self.tx.publish()
    }

    /// Nothing to do and about to sleep: asks the client to signal when it
    /// queues a frame to send and, if `need_rx_buffers` (the device has
    /// none to receive into), when it gives RX buffers back. Wait only on
    /// [`Idle::Sleep`].
    pub fn request_signal(&mut self, need_rx_buffers: bool) -> Result<Idle, PeerError> {
        let tx = self
            .tx
            .request_signal()
            .map_err(PeerError::on(QueueId::TxActive))?;
        if tx == Idle::MoreWork {
            return Ok(Idle::MoreWork);
        }
        if need_rx_buffers {
            if !self.rx_spare.is_empty() {
                return Ok(Idle::MoreWork);
            }
            return self
                .rx
                .request_signal()
                .map_err(PeerError::on(QueueId::RxFree));
        }
        Ok(Idle::Sleep)
    }
}
