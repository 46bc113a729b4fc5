//! Rings by the names the plan gives them.
//!
//! For a ring `<name>` a component holds: the regions `ring.<name>.queues`
//! (the active queue at offset 0, the free queue right after it) and
//! `ring.<name>.data`, a signal cap `ring.<name>` to the peer's
//! notification, and the badge bit `ring.<name>` of its own. The producer
//! writes the data region; the consumer maps it read-only and writes only
//! the queues.
//!
//! The slot count is not among the symbols (the queue region is
//! page-rounded), so both ends pass the count the image declares; the
//! region size is checked against it. Buffer geometry follows from the
//! data size and the slot count ([`geometry`]), so both ends agree.

use core::fmt::{self, Write};

use paddock_ring::layout::{queue_bytes, DATA_ALIGN};
use paddock_ring::{
    AttachError as RingAttachError, ByteReader, ByteWriter, DataRegion, Idle, LayoutError, Notify,
    PeerError, Queue, Receiver, Sender,
};
use paddock_runtime::{sel4, Component};

const PAGE: u64 = 4096;

/// The other end of a ring: the cap that signals its notification.
#[derive(Clone, Copy, Debug)]
pub struct Peer {
    cap: sel4::CPtr,
}

impl Peer {
    /// Signals the peer if the ring says it asked to be woken.
    pub fn notify(&self, notify: Notify) {
        if notify.is_needed() {
            sel4::syscall::signal(self.cap);
        }
    }
}

/// One end of a ring: the handle, the peer to signal, and the badge bit
/// the peer's signals set in this component's notification.
pub struct End<T> {
    /// The byte writer or reader.
    pub io: T,
    /// Whom to signal.
    pub peer: Peer,
    /// This end's badge bit, as a mask.
    pub bit: u64,
}

/// A ring end of a byte stream, as a producer.
pub type Writer = End<ByteWriter<'static>>;
/// A ring end of a byte stream, as a consumer.
pub type Reader = End<ByteReader<'static>>;

impl Writer {
    /// Publishes what was written and signals the reader if it sleeps.
    pub fn flush(&mut self) -> Result<(), PeerError> {
        let notify = self.io.flush()?;
        self.peer.notify(notify);
        Ok(())
    }

    /// Out of buffers: flushes, then asks the reader for a signal when it
    /// gives some back. `true` means buffers came back meanwhile (write
    /// again); `false` means sleep.
    pub fn wants_more(&mut self) -> Result<bool, PeerError> {
        self.flush()?;
        Ok(self.io.request_signal()? == Idle::MoreWork)
    }
}

impl Reader {
    /// Gives back the buffers read and signals the writer if it waits for
    /// them.
    pub fn publish(&mut self) {
        let notify = self.io.publish();
        self.peer.notify(notify);
    }

    /// Nothing left to read: publishes, then asks the writer for a signal
    /// when it sends. `true` means bytes arrived meanwhile (read again);
    /// `false` means sleep.
    pub fn wants_more(&mut self) -> Result<bool, PeerError> {
        self.publish();
        Ok(self.io.request_signal()? == Idle::MoreWork)
    }
}

/// Why a ring could not be attached: a configuration error.
#[derive(Clone, Copy, Debug)]
pub enum AttachError<'n> {
    /// The plan gives this component no such symbol.
    Missing {
        /// The ring.
        ring: &'n str,
        /// Which symbol.
        what: &'static str,
    },
    /// The queue region does not have the size `slots` slots need.
    SlotMismatch {
        /// The ring.
        ring: &'n str,
        /// The slot count this program expects.
        slots: u32,
        /// The size of the planned queue region.
        size: u64,
    },
    /// The memory does not have the agreed shape.
    Layout {
        /// The ring.
        ring: &'n str,
        /// What the ring crate found.
        error: LayoutError,
    },
    /// The indices already in shared memory are inconsistent.
    Peer {
        /// The ring.
        ring: &'n str,
        /// What the ring crate found.
        error: PeerError,
    },
}

impl fmt::Display for AttachError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { ring, what } => {
                write!(f, "ring `{ring}`: the plan gives this component no {what}")
            }
            Self::SlotMismatch { ring, slots, size } => write!(
                f,
                "ring `{ring}`: this program expects {slots} slots, but the queue region has \
                 {size} bytes: declare `slots = {slots}` in the image"
            ),
            Self::Layout { ring, error } => write!(f, "ring `{ring}`: {error}"),
            Self::Peer { ring, error } => write!(f, "ring `{ring}`: {error}"),
        }
    }
}

/// Buffer size and count of a ring's data region: one buffer per slot, as
/// large as the region allows (a multiple of [`DATA_ALIGN`]); fewer
/// buffers of [`DATA_ALIGN`] bytes if the region is too small for that.
pub fn geometry(data_bytes: u64, slots: u32) -> (u32, u32) {
    let align = DATA_ALIGN as u64;
    let per_slot = data_bytes / u64::from(slots.max(1));
    let buf_size = (per_slot / align * align).clamp(align, u64::from(u32::MAX) / align * align);
    let buffers = (data_bytes / buf_size).min(u64::from(slots));
    // Both fit: buf_size is clamped, buffers is at most `slots`.
    (buf_size as u32, buffers as u32)
}

/// Whether the plan gives this component ring `name`.
pub fn present(c: &Component, name: &str) -> bool {
    let mut n = Name::new();
    n.ring(name, ".queues");
    c.region(n.as_str()).is_ok()
}

/// Attaches to ring `name` (declared with `slots` slots) as its producer,
/// for whole buffers. After a restart the ring is not fresh: the sender
/// then takes back only the buffers the consumer returns
/// (`Sender::reattach`).
pub fn sender<'n>(
    c: &Component,
    name: &'n str,
    slots: u32,
) -> Result<End<Sender<'static>>, AttachError<'n>> {
    let parts = attach(c, name, slots)?;
    let sender = if c.generation() == 0 {
        Sender::new(parts.active, parts.free, parts.data)
    } else {
        Sender::reattach(parts.active, parts.free, parts.data)
    }
    .map_err(|e| ring_error(name, e))?;
    Ok(End {
        io: sender,
        peer: parts.peer,
        bit: parts.bit,
    })
}

/// Attaches to ring `name` (declared with `slots` slots) as its consumer,
/// for whole buffers.
pub fn receiver<'n>(
    c: &Component,
    name: &'n str,
    slots: u32,
) -> Result<End<Receiver<'static>>, AttachError<'n>> {
    let parts = attach(c, name, slots)?;
    let receiver =
        Receiver::new(parts.active, parts.free, parts.data).map_err(|e| ring_error(name, e))?;
    Ok(End {
        io: receiver,
        peer: parts.peer,
        bit: parts.bit,
    })
}

/// Attaches to ring `name` (declared with `slots` slots) as its producer
/// of a byte stream (see [`sender`]).
pub fn writer<'n>(c: &Component, name: &'n str, slots: u32) -> Result<Writer, AttachError<'n>> {
    let End { io, peer, bit } = sender(c, name, slots)?;
    Ok(End {
        io: ByteWriter::new(io),
        peer,
        bit,
    })
}

/// Attaches to ring `name` (declared with `slots` slots) as its consumer
/// of a byte stream.
pub fn reader<'n>(c: &Component, name: &'n str, slots: u32) -> Result<Reader, AttachError<'n>> {
    let End { io, peer, bit } = receiver(c, name, slots)?;
    Ok(End {
        io: ByteReader::new(io),
        peer,
        bit,
    })
}

fn ring_error(ring: &str, e: RingAttachError) -> AttachError<'_> {
    match e {
        RingAttachError::Layout(error) => AttachError::Layout { ring, error },
        RingAttachError::Peer(error) => AttachError::Peer { ring, error },
    }
}

struct Parts {
    active: Queue<'static>,
    free: Queue<'static>,
    data: DataRegion<'static>,
    peer: Peer,
    bit: u64,
}

fn attach<'n>(c: &Component, ring: &'n str, slots: u32) -> Result<Parts, AttachError<'n>> {
    let missing = |what| AttachError::Missing { ring, what };
    let layout = |error| AttachError::Layout { ring, error };
    let mut n = Name::new();
    n.ring(ring, "");
    let cap = c.slot(n.as_str()).map_err(|_| missing("signal cap"))?;
    let bit = c.badge_bit(n.as_str()).map_err(|_| missing("badge bit"))?;
    n.ring(ring, ".queues");
    let queues = c.region(n.as_str()).map_err(|_| missing("queue region"))?;
    n.ring(ring, ".data");
    let data = c.region(n.as_str()).map_err(|_| missing("data region"))?;

    let queue = queue_bytes(slots).ok_or(layout(LayoutError::BadSlotCount {
        slots: slots as usize,
    }))?;
    if (2 * queue as u64).div_ceil(PAGE) * PAGE != queues.size {
        return Err(AttachError::SlotMismatch {
            ring,
            slots,
            size: queues.size,
        });
    }
    let (buf_size, buffers) = geometry(data.size, slots);
    let base = queues.vaddr as *mut u8;
    // SAFETY: the root task maps `queues` read-write for this component's
    // whole life and never unmaps it; both queues lie inside it (checked
    // above), and this program touches it only through the ring handles,
    // whose accesses are all atomic.
    let active = unsafe { Queue::from_raw(base, queue, slots) }.map_err(layout)?;
    // SAFETY: as above; the free queue starts `queue` bytes in.
    let free = unsafe { Queue::from_raw(base.add(queue), queue, slots) }.map_err(layout)?;
    // SAFETY: the data region stays mapped for the component's life and is
    // accessed only through the ring handles, atomically. The consumer's
    // mapping is read-only: a `Receiver` only loads from the data region
    // (it writes nothing but the queues), so that is enough for it.
    let data = unsafe {
        DataRegion::from_raw(data.vaddr as *mut u8, data.size as usize, buf_size, buffers)
    }
    .map_err(layout)?;
    Ok(Parts {
        active,
        free,
        data,
        peer: Peer { cap },
        bit,
    })
}

/// A symbol name built without an allocator.
struct Name {
    buf: [u8; 128],
    len: usize,
}

impl Name {
    fn new() -> Self {
        Self {
            buf: [0; 128],
            len: 0,
        }
    }

    /// Becomes `ring.<name><suffix>` (truncated if absurdly long, which
    /// then names no symbol).
    fn ring(&mut self, name: &str, suffix: &str) {
        self.len = 0;
        let _ = write!(self, "ring.{name}{suffix}");
    }

    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl Write for Name {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
