//! The records the protocol carries, defined once: requests, responses and
//! the storage-information page.
//!
//! Every field is little-endian (zerocopy's byte-order types, alignment 1),
//! so the layout is the same on any host and has no padding; the derives
//! make the compiler check that any bytes are a valid record, which is what
//! a record read from a peer is. Values with meaning ([`Op`], [`Status`])
//! are carried as plain `u32`s and decoded with `from_wire`, which refuses
//! unknown values instead of trusting them.
//!
//! The byte tables are in the crate documentation.

use core::fmt;

use zerocopy::little_endian::{U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// What a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Op {
    /// Device blocks into the client's window.
    Read = 1,
    /// The client's window onto device blocks.
    Write = 2,
    /// Make completed writes durable. Block, count and offset are ignored.
    Flush = 3,
}

impl Op {
    /// The op named by a wire value; `None` for anything else (zero
    /// included, so an all-zero record is never a valid request).
    pub fn from_wire(value: u32) -> Option<Self> {
        match value {
            1 => Some(Self::Read),
            2 => Some(Self::Write),
            3 => Some(Self::Flush),
            _ => None,
        }
    }

    /// Whether the op moves data (and so has a block range and a window
    /// range).
    pub fn moves_data(self) -> bool {
        matches!(self, Self::Read | Self::Write)
    }
}

/// The outcome of a request, as the driver reports it.
///
/// `Ok`, `IoError` and `Unsupported` answer requests the driver accepted;
/// the others are refusals: the request was never given to the device and
/// its id was not taken (except [`IdInFlight`](Self::IdInFlight), whose id
/// stays taken by the earlier request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Status {
    /// Done: every block was transferred.
    Ok = 0,
    /// The device reported an error.
    IoError = 1,
    /// The device cannot do this (a flush on a device without a cache
    /// flush).
    Unsupported = 2,
    /// Refused: a write or flush on a read-only device.
    ReadOnly = 3,
    /// Refused: the id is not below the queue depth.
    UnknownId = 4,
    /// Refused: a request with this id is still in flight (the id was
    /// submitted twice); the earlier request is unaffected.
    IdInFlight = 5,
    /// Refused: the bytes the request names are not all inside the
    /// client's data window.
    OffsetOutsideWindow = 6,
    /// Refused: a read or write of zero blocks.
    ZeroCount = 7,
    /// Refused: more blocks than the per-request maximum.
    TooLarge = 8,
    /// Refused: blocks past the device's capacity.
    OutOfRange = 9,
    /// Refused: the op is not one of [`Op`].
    BadOp = 10,
}

impl Status {
    /// The status named by a wire value; `None` for anything else.
    pub fn from_wire(value: u32) -> Option<Self> {
        Some(match value {
            0 => Self::Ok,
            1 => Self::IoError,
            2 => Self::Unsupported,
            3 => Self::ReadOnly,
            4 => Self::UnknownId,
            5 => Self::IdInFlight,
            6 => Self::OffsetOutsideWindow,
            7 => Self::ZeroCount,
            8 => Self::TooLarge,
            9 => Self::OutOfRange,
            10 => Self::BadOp,
            _ => return None,
        })
    }

    /// Whether the driver refused the request without giving it to the
    /// device.
    pub fn is_refusal(self) -> bool {
        !matches!(self, Self::Ok | Self::IoError | Self::Unsupported)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ok => "ok",
            Self::IoError => "device error",
            Self::Unsupported => "not supported by the device",
            Self::ReadOnly => "refused: the device is read-only",
            Self::UnknownId => "refused: id not below the queue depth",
            Self::IdInFlight => "refused: id already in flight (submitted twice)",
            Self::OffsetOutsideWindow => "refused: bytes outside the client's data window",
            Self::ZeroCount => "refused: zero blocks",
            Self::TooLarge => "refused: more blocks than the per-request maximum",
            Self::OutOfRange => "refused: blocks past the device's capacity",
            Self::BadOp => "refused: unknown operation",
        })
    }
}

/// A request, client to driver (32 bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct Request {
    /// An [`Op`] as its wire value.
    pub op: U32,
    /// The client's name for the request, below the queue depth; echoed in
    /// the response.
    pub id: U32,
    /// First device block.
    pub block: U64,
    /// Blocks to transfer, `1..=max_blocks_per_request`.
    pub count: U32,
    /// Zero; ignored.
    pub reserved: U32,
    /// Byte offset of the data in the client's data window.
    pub offset: U64,
}

impl Request {
    /// A read of `count` blocks from `block` into the window at `offset`.
    pub fn read(id: u32, block: u64, count: u32, offset: u64) -> Self {
        Self::new(Op::Read, id, block, count, offset)
    }

    /// A write of `count` blocks at `block` from the window at `offset`.
    pub fn write(id: u32, block: u64, count: u32, offset: u64) -> Self {
        Self::new(Op::Write, id, block, count, offset)
    }

    /// A flush.
    pub fn flush(id: u32) -> Self {
        Self::new(Op::Flush, id, 0, 0, 0)
    }

    fn new(op: Op, id: u32, block: u64, count: u32, offset: u64) -> Self {
        Self {
            op: U32::new(op as u32),
            id: U32::new(id),
            block: U64::new(block),
            count: U32::new(count),
            reserved: U32::ZERO,
            offset: U64::new(offset),
        }
    }
}

/// A response, driver to client (16 bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct Response {
    /// The id of the request answered.
    pub id: U32,
    /// A [`Status`] as its wire value.
    pub status: U32,
    /// Blocks transferred: the request's count on `Ok`, at most that on
    /// `IoError`, zero for refusals.
    pub blocks_done: U32,
    /// Zero; ignored.
    pub reserved: U32,
}

impl Response {
    /// A response to request `id`.
    pub fn new(id: u32, status: Status, blocks_done: u32) -> Self {
        Self {
            id: U32::new(id),
            status: U32::new(status as u32),
            blocks_done: U32::new(blocks_done),
            reserved: U32::ZERO,
        }
    }

    /// A refusal of request `id`: nothing was done.
    pub fn refusal(id: u32, status: Status) -> Self {
        Self::new(id, status, 0)
    }
}

/// `magic` of a storage-information page: the bytes `PBLK`.
pub const INFO_MAGIC: u32 = u32::from_le_bytes(*b"PBLK");
/// `version` of the layout this crate reads and writes.
pub const INFO_VERSION: u32 = 1;

/// The storage-information page, written by the driver and read by the
/// client (64 bytes at the start of the control region).
///
/// The driver fills every field with `ready` zero, then sets `ready` with a
/// Release store ([`InfoPage::publish`](crate::InfoPage::publish)); a client
/// reads `ready` with Acquire before anything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct StorageInfo {
    /// [`INFO_MAGIC`]: a page of anything else is garbage.
    pub magic: U32,
    /// [`INFO_VERSION`].
    pub version: U32,
    /// 1 once the other fields are valid, 0 before (and while the driver
    /// re-initialises).
    pub ready: U32,
    /// 1 if the device refuses writes and flushes, 0 if not.
    pub read_only: U32,
    /// Blocks on the device.
    pub capacity_blocks: U64,
    /// Bytes per block: a power of two, at least 512.
    pub block_size: U32,
    /// Requests a client may have in flight; ids are `0..queue_depth`.
    pub queue_depth: U32,
    /// Most blocks one request may name.
    pub max_blocks_per_request: U32,
    /// Zero.
    pub reserved: [u8; 28],
}

/// Bytes of [`Request`].
pub const REQUEST_BYTES: usize = 32;
/// Bytes of [`Response`].
pub const RESPONSE_BYTES: usize = 16;
/// Bytes of [`StorageInfo`].
pub const INFO_BYTES: usize = 64;

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<Request>() == REQUEST_BYTES);
    assert!(offset_of!(Request, op) == 0);
    assert!(offset_of!(Request, id) == 4);
    assert!(offset_of!(Request, block) == 8);
    assert!(offset_of!(Request, count) == 16);
    assert!(offset_of!(Request, offset) == 24);
    assert!(size_of::<Response>() == RESPONSE_BYTES);
    assert!(offset_of!(Response, id) == 0);
    assert!(offset_of!(Response, status) == 4);
    assert!(offset_of!(Response, blocks_done) == 8);
    assert!(size_of::<StorageInfo>() == INFO_BYTES);
    assert!(offset_of!(StorageInfo, ready) == 8);
    assert!(offset_of!(StorageInfo, read_only) == 12);
    assert!(offset_of!(StorageInfo, capacity_blocks) == 16);
    assert!(offset_of!(StorageInfo, block_size) == 24);
    assert!(offset_of!(StorageInfo, queue_depth) == 28);
    assert!(offset_of!(StorageInfo, max_blocks_per_request) == 32);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_round_trip() {
        for op in [Op::Read, Op::Write, Op::Flush] {
            assert_eq!(Op::from_wire(op as u32), Some(op));
        }
        assert_eq!(Op::from_wire(0), None);
        assert_eq!(Op::from_wire(4), None);
        for v in 0..=10 {
            assert_eq!(Status::from_wire(v).map(|s| s as u32), Some(v));
        }
        assert_eq!(Status::from_wire(11), None);
        assert_eq!(Status::from_wire(u32::MAX), None);
    }

    #[test]
    fn records_are_little_endian() {
        let r = Request::write(0x0102_0304, 0x1122_3344_5566_7788, 9, 0x200);
        let b = r.as_bytes();
        assert_eq!(&b[0..4], &[2, 0, 0, 0]);
        assert_eq!(&b[4..8], &[4, 3, 2, 1]);
        assert_eq!(&b[8..16], &[0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
        assert_eq!(&b[16..20], &[9, 0, 0, 0]);
        assert_eq!(&b[24..32], &[0, 2, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&INFO_MAGIC.to_le_bytes(), b"PBLK");
    }
}
