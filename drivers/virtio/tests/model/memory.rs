//! The tests' DMA memory: leaked, zeroed, 16-byte aligned blocks, and the
//! IOVA table through which the modelled device reaches them. The driver
//! gets the same memory as typed views (and IOVAs); the data window is
//! registered here only, as in paddock, where only the client maps it.

use std::sync::atomic::{AtomicU8, Ordering};

use paddock_virtio::blk::request::{RequestSlot, SLOT_BYTES, STATUS_OFFSET};
use paddock_virtio::queue::layout::{
    avail_ring_bytes, used_ring_bytes, AvailRing, Descriptor, UsedRing,
};
use paddock_virtio::{Iova, QueueIovas, QueueMemory};
use zerocopy::{FromBytes, IntoBytes};

/// Where the tests put things in the device's IOSpace. Nothing here is a
/// host address: a driver that told the device a host address would make
/// the model fault.
pub const QUEUE_IOVA: u64 = 0x10_0000;
/// A second queue (virtio-net's transmit queue).
pub const QUEUE2_IOVA: u64 = 0x14_0000;
pub const REQUESTS_IOVA: u64 = 0x20_0000;
pub const DATA_IOVA: u64 = 0x8000_0000;
pub const DATA_BYTES: usize = 64 * 1024;

/// `bytes` of zeroed memory that lives for the rest of the test process.
pub fn leak(bytes: usize) -> &'static mut [u8] {
    vec![0u128; bytes.div_ceil(16)].leak().as_mut_bytes()
}

#[derive(Clone, Copy)]
pub enum View {
    Descriptors(&'static [Descriptor]),
    Avail(&'static AvailRing),
    Used(&'static UsedRing),
    Requests(&'static [RequestSlot]),
    Data(&'static [AtomicU8]),
}

struct Region {
    iova: u64,
    len: u64,
    view: View,
}

/// The device's IOSpace: which IOVA reaches which memory.
#[derive(Default)]
pub struct Dma {
    regions: Vec<Region>,
}

/// A queue's memory, as the driver gets it and as the test sees it.
#[derive(Clone, Copy)]
pub struct QueueParts {
    pub descriptors: &'static [Descriptor],
    pub avail: &'static AvailRing,
    pub used: &'static UsedRing,
    pub memory: QueueMemory<'static>,
}

impl Dma {
    fn map(&mut self, iova: u64, len: usize, view: View) {
        self.regions.push(Region {
            iova,
            len: len as u64,
            view,
        });
    }

    /// A queue of `size` entries at [`QUEUE_IOVA`], mapped for the device.
    pub fn queue(&mut self, size: u16) -> QueueParts {
        self.queue_at(size, QUEUE_IOVA)
    }

    /// A queue of `size` entries whose parts start at `iova`, 64 KiB apart.
    pub fn queue_at(&mut self, size: u16, iova: u64) -> QueueParts {
        let iovas = QueueIovas {
            descriptors: Iova(iova),
            available: Iova(iova + 0x10_000),
            used: Iova(iova + 0x20_000),
        };
        let descriptors = Descriptor::table_from_bytes(leak(16 * usize::from(size)), size).unwrap();
        let avail = AvailRing::from_bytes(leak(avail_ring_bytes(size)), size).unwrap();
        let used = UsedRing::from_bytes(leak(used_ring_bytes(size)), size).unwrap();
        self.map(
            iovas.descriptors.0,
            16 * usize::from(size),
            View::Descriptors(descriptors),
        );
        self.map(
            iovas.available.0,
            avail_ring_bytes(size),
            View::Avail(avail),
        );
        self.map(iovas.used.0, used_ring_bytes(size), View::Used(used));
        let memory = QueueMemory::new(descriptors, avail, used, iovas).unwrap();
        QueueParts {
            descriptors,
            avail,
            used,
            memory,
        }
    }

    /// `count` request slots at [`REQUESTS_IOVA`].
    pub fn requests(&mut self, count: usize) -> &'static [RequestSlot] {
        let slots = RequestSlot::slots_from_bytes(leak(count * SLOT_BYTES), count).unwrap();
        self.map(REQUESTS_IOVA, count * SLOT_BYTES, View::Requests(slots));
        slots
    }

    /// The client's data window at [`DATA_IOVA`]: only the device (and the
    /// test, playing the client) reach it.
    pub fn data(&mut self) -> &'static [AtomicU8] {
        let data = <[AtomicU8]>::mut_from_bytes(leak(DATA_BYTES)).unwrap();
        self.map(DATA_IOVA, DATA_BYTES, View::Data(data));
        data
    }

    fn find(&self, iova: u64, len: u64) -> Result<(&Region, u64), String> {
        self.regions
            .iter()
            .find(|r| {
                iova >= r.iova
                    && iova
                        .checked_add(len)
                        .is_some_and(|end| end <= r.iova + r.len)
            })
            .map(|r| (r, iova - r.iova))
            .ok_or_else(|| format!("DMA fault: {len} bytes at IOVA {iova:#x} are not mapped"))
    }

    pub fn descriptors(&self, iova: u64, size: u16) -> Result<&'static [Descriptor], String> {
        match self.find(iova, 16 * u64::from(size))? {
            (
                Region {
                    view: View::Descriptors(d),
                    ..
                },
                0,
            ) => Ok(&d[..usize::from(size)]),
            _ => Err(format!("IOVA {iova:#x} is not a descriptor table")),
        }
    }

    pub fn avail(&self, iova: u64, size: u16) -> Result<&'static AvailRing, String> {
        match self.find(iova, avail_ring_bytes(size) as u64)? {
            (
                Region {
                    view: View::Avail(a),
                    ..
                },
                0,
            ) => Ok(a),
            _ => Err(format!("IOVA {iova:#x} is not an available ring")),
        }
    }

    pub fn used(&self, iova: u64, size: u16) -> Result<&'static UsedRing, String> {
        match self.find(iova, used_ring_bytes(size) as u64)? {
            (
                Region {
                    view: View::Used(u),
                    ..
                },
                0,
            ) => Ok(u),
            _ => Err(format!("IOVA {iova:#x} is not a used ring")),
        }
    }

    /// The request slot whose header starts at `iova`.
    pub fn header(&self, iova: u64) -> Result<&'static RequestSlot, String> {
        match self.find(iova, 16)? {
            (
                Region {
                    view: View::Requests(s),
                    ..
                },
                at,
            ) if at % SLOT_BYTES as u64 == 0 => Ok(&s[(at / SLOT_BYTES as u64) as usize]),
            _ => Err(format!("IOVA {iova:#x} is not a request header")),
        }
    }

    /// The status byte at `iova`.
    pub fn status(&self, iova: u64) -> Result<&'static AtomicU8, String> {
        match self.find(iova, 1)? {
            (
                Region {
                    view: View::Requests(s),
                    ..
                },
                at,
            ) if at % SLOT_BYTES as u64 == STATUS_OFFSET => {
                Ok(&s[(at / SLOT_BYTES as u64) as usize].status)
            }
            _ => Err(format!("IOVA {iova:#x} is not a status byte")),
        }
    }

    /// Data bytes at `iova`: only the client's window.
    pub fn bytes(&self, iova: u64, len: u32) -> Result<&'static [AtomicU8], String> {
        match self.find(iova, len.into())? {
            (
                Region {
                    view: View::Data(d),
                    ..
                },
                at,
            ) => Ok(&d[at as usize..at as usize + len as usize]),
            _ => Err(format!("IOVA {iova:#x} is not in the data window")),
        }
    }
}

/// Writes `bytes` into the data window at `iova` (the client filling a
/// buffer).
pub fn fill(window: &[AtomicU8], iova: u64, bytes: &[u8]) {
    let at = (iova - DATA_IOVA) as usize;
    for (cell, &b) in window[at..at + bytes.len()].iter().zip(bytes) {
        cell.store(b, Ordering::Relaxed);
    }
}

/// Reads `len` bytes of the data window at `iova` (the client reading).
pub fn read(window: &[AtomicU8], iova: u64, len: usize) -> Vec<u8> {
    let at = (iova - DATA_IOVA) as usize;
    window[at..at + len]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .collect()
}
