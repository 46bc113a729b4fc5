//! virtio-blk over the modern PCI transport: one request queue, requests
//! whose header and status the driver owns and whose data it never maps.
//!
//! Every request is checked before it reaches the device: data a whole
//! number of sectors, `sector + count` within the capacity (without
//! overflow), no more data segments than `seg_max`, no writes to a
//! read-only device, no flush without VIRTIO_BLK_F_FLUSH. Completion turns
//! the status byte into a [`RequestError`] or success; the driver presets
//! it to 0xff, so a device that completes without writing it is caught.
//!
//! Requests are added with [`read`](BlkDevice::read),
//! [`write`](BlkDevice::write), [`flush`](BlkDevice::flush) and
//! [`get_id`](BlkDevice::get_id) and offered to the device together by
//! [`kick`](BlkDevice::kick); [`complete`](BlkDevice::complete) takes one
//! completion at a time (call it until `Ok(None)` on each queue interrupt).

pub mod config;
mod error;
pub mod request;

pub use config::{BlkInfo, KNOWN_FEATURES, REQUIRED_FEATURES, SECTOR_BYTES};
pub use error::{BlkError, RequestError};
pub use request::{RequestMemory, RequestSlot};

use core::sync::atomic::Ordering;

use crate::mmio::Mmio;
use crate::queue::layout::QueueMemory;
use crate::queue::{Notify, Segment, Virtqueue};
use crate::transport::{Notifier, Transport};
use request::{kind, status};

/// Which MSI-X table entries (as the root task programmed them) the device
/// should use; `None` for no interrupt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Interrupts {
    /// Configuration changes (capacity).
    pub config: Option<u16>,
    /// Completions on the request queue.
    pub queue: Option<u16>,
}

/// Identifies a request until it completes: its chain's head descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(pub u16);

/// What a request was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// Read sectors into client memory.
    Read,
    /// Write sectors from client memory.
    Write,
    /// Make written data durable.
    Flush,
    /// Read the device's id string into client memory.
    GetId,
}

/// A request the device has finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The request.
    pub id: RequestId,
    /// What it was.
    pub kind: RequestKind,
    /// How it ended.
    pub result: Result<(), RequestError>,
    /// Bytes the device says it wrote (data and status), checked not to
    /// exceed what the request let it write.
    pub written: u32,
}

/// A virtio-blk device brought to DRIVER_OK, with one request queue of up
/// to `N` entries.
pub struct BlkDevice<'a, M: Mmio, const N: usize> {
    transport: Transport<M>,
    queue: Virtqueue<'a, N>,
    notifier: Notifier,
    requests: RequestMemory<'a>,
    pending: [Option<RequestKind>; N],
    info: BlkInfo,
}

impl<'a, M: Mmio, const N: usize> BlkDevice<'a, M, N> {
    /// Runs the whole handshake: features (VERSION_1 and ACCESS_PLATFORM
    /// required, only [`KNOWN_FEATURES`] accepted), the configuration,
    /// queue 0 over `queue` with `interrupts.queue`, configuration changes
    /// on `interrupts.config`, DRIVER_OK. `requests` needs a slot per
    /// queue entry. On error the device is left FAILED.
    pub fn new(
        mut transport: Transport<M>,
        queue: QueueMemory<'a>,
        requests: RequestMemory<'a>,
        interrupts: Interrupts,
    ) -> Result<Self, BlkError> {
        let features = transport.negotiate(KNOWN_FEATURES, REQUIRED_FEATURES)?;
        let info = match config::read_info(&transport, features) {
            Ok(info) => info,
            Err(e) => {
                transport.fail();
                return Err(e);
            }
        };
        let (queue, notifier) = transport.setup_queue::<N>(0, queue, interrupts.queue)?;
        if requests.len() < usize::from(queue.size()) {
            transport.fail();
            return Err(BlkError::Layout(crate::LayoutError::TooFewRequestSlots {
                slots: requests.len(),
                queue_size: queue.size(),
            }));
        }
        transport.set_config_vector(interrupts.config)?;
        transport.driver_ok()?;
        Ok(Self {
            transport,
            queue,
            notifier,
            requests,
            pending: [None; N],
            info,
        })
    }

    /// What the device said about the disk.
    pub fn info(&self) -> &BlkInfo {
        &self.info
    }

    /// The transport, for the ISR byte and the status.
    pub fn transport(&self) -> &Transport<M> {
        &self.transport
    }

    /// Requests offered to the device and not completed.
    pub fn in_flight(&self) -> u16 {
        self.queue.in_flight()
    }

    /// Queues a read of `data`'s bytes from `sector` into `data` (IOVAs the
    /// driver need not map).
    pub fn read(&mut self, sector: u64, data: &[Segment]) -> Result<RequestId, BlkError> {
        self.check_transfer(sector, data)?;
        self.submit(RequestKind::Read, kind::IN, sector, data)
    }

    /// Queues a write of `data` to the disk from `sector`.
    pub fn write(&mut self, sector: u64, data: &[Segment]) -> Result<RequestId, BlkError> {
        if self.info.read_only {
            return Err(BlkError::ReadOnly);
        }
        self.check_transfer(sector, data)?;
        self.submit(RequestKind::Write, kind::OUT, sector, data)
    }

    /// Queues a flush.
    pub fn flush(&mut self) -> Result<RequestId, BlkError> {
        if !self.info.flush {
            return Err(BlkError::FlushNotSupported);
        }
        self.submit(RequestKind::Flush, kind::FLUSH, 0, &[])
    }

    /// Queues a request for the device's id string (up to 20 bytes) into
    /// `id`.
    pub fn get_id(&mut self, id: Segment) -> Result<RequestId, BlkError> {
        if id.len < request::ID_BYTES {
            return Err(BlkError::IdBufferTooShort { len: id.len });
        }
        self.submit(
            RequestKind::GetId,
            kind::GET_ID,
            0,
            core::slice::from_ref(&id),
        )
    }

    /// Offers every queued request to the device, notifying it unless it
    /// asked not to be. Returns whether it was notified.
    pub fn kick(&mut self) -> bool {
        match self.queue.publish() {
            Notify::Yes => {
                self.transport.notify(self.notifier);
                true
            }
            Notify::No => false,
        }
    }

    /// The next completed request, if any. A [`BlkError::Device`] means the
    /// device broke the queue protocol: nothing was consumed, and the
    /// device should be reset.
    pub fn complete(&mut self) -> Result<Option<Completion>, BlkError> {
        let Some(used) = self.queue.pop_used()? else {
            return Ok(None);
        };
        let head = used.head;
        let kind = self
            .pending
            .get_mut(usize::from(head))
            .and_then(Option::take)
            .ok_or(BlkError::UntrackedCompletion { head })?;
        let slot = self
            .requests
            .slot(head)
            .ok_or(BlkError::UntrackedCompletion { head })?;
        // Relaxed: ordered after the device's write by the queue's
        // Q-ACQ-USED load of the used index.
        let result = match slot.status.load(Ordering::Relaxed) {
            status::OK => Ok(()),
            status::IOERR => Err(RequestError::Io),
            status::UNSUPP => Err(RequestError::Unsupported),
            other => Err(RequestError::BadStatus(other)),
        };
        Ok(Some(Completion {
            id: RequestId(head),
            kind,
            result,
            written: used.len,
        }))
    }

    /// Re-reads the capacity (after a configuration-change interrupt) and
    /// returns it; later requests are checked against it.
    pub fn refresh_capacity(&mut self) -> Result<u64, BlkError> {
        self.info.capacity = config::read_capacity(&self.transport)?;
        Ok(self.info.capacity)
    }

    fn check_transfer(&self, sector: u64, data: &[Segment]) -> Result<(), BlkError> {
        if data.is_empty() {
            return Err(BlkError::NoData);
        }
        if let Some(seg_max) = self.info.seg_max {
            if data.len() > seg_max as usize {
                return Err(BlkError::TooManySegments {
                    segments: data.len(),
                    seg_max,
                });
            }
        }
        let bytes: u64 = data.iter().map(|s| u64::from(s.len)).sum();
        if !bytes.is_multiple_of(SECTOR_BYTES) {
            return Err(BlkError::NotSectorMultiple { bytes });
        }
        let sectors = bytes / SECTOR_BYTES;
        let capacity = self.info.capacity;
        match sector.checked_add(sectors) {
            Some(end) if end <= capacity => Ok(()),
            _ => Err(BlkError::OutOfRange {
                sector,
                sectors,
                capacity,
            }),
        }
    }

    /// Writes the header into the slot of the head the chain will get and
    /// pushes header, data and status.
    fn submit(
        &mut self,
        request: RequestKind,
        type_code: u32,
        sector: u64,
        data: &[Segment],
    ) -> Result<RequestId, BlkError> {
        let free = self.queue.free_descriptors();
        let no_room = BlkError::Submit(crate::SubmitError::NoFreeDescriptors {
            needed: data.len() + 2,
            free,
        });
        let head = self.queue.next_head().ok_or(no_room)?;
        let slot = self.requests.slot(head).ok_or(no_room)?;
        // Relaxed: published by the queue's Q-REL-AVAIL store.
        slot.kind.store(type_code.to_le(), Ordering::Relaxed);
        slot.reserved.store(0, Ordering::Relaxed);
        slot.sector.store(sector.to_le(), Ordering::Relaxed);
        slot.status.store(status::NOT_WRITTEN, Ordering::Relaxed);
        let header_iova = self.requests.header_iova(head);
        let header = [Segment {
            iova: header_iova,
            len: request::HEADER_BYTES,
        }];
        let status_byte = [Segment {
            iova: crate::Iova(header_iova.0 + request::STATUS_OFFSET),
            len: 1,
        }];
        let pushed = match request {
            RequestKind::Read | RequestKind::GetId => {
                self.queue.push(&[&header], &[data, &status_byte])?
            }
            RequestKind::Write | RequestKind::Flush => {
                self.queue.push(&[&header, data], &[&status_byte])?
            }
        };
        // `next_head` is the head `push` takes: both are the free list's
        // front, and nothing ran between them.
        debug_assert_eq!(pushed, head);
        if let Some(p) = self.pending.get_mut(usize::from(pushed)) {
            *p = Some(request);
        }
        Ok(RequestId(pushed))
    }
}
