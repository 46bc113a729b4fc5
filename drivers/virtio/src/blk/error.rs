//! virtio-blk's error values: requests refused before submission, the
//! device breaking the protocol, and the outcome of a completed request.

use core::fmt;

use crate::error::{DeviceError, LayoutError, SubmitError, TransportError};

/// The driver refused a request, or the device broke the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlkError {
    /// Setting up or talking to the device failed.
    Transport(TransportError),
    /// Memory handed over does not fit.
    Layout(LayoutError),
    /// The chain could not be added to the queue.
    Submit(SubmitError),
    /// The device wrote something the queue protocol forbids.
    Device(DeviceError),
    /// The device configuration holds a value the driver cannot use.
    BadConfig {
        /// Which field.
        field: &'static str,
        /// Its value.
        value: u64,
    },
    /// A read or write without data.
    NoData,
    /// Data not a whole number of 512-byte sectors.
    NotSectorMultiple {
        /// Bytes of data.
        bytes: u64,
    },
    /// Sectors past the end of the disk (or an end that overflows).
    OutOfRange {
        /// First sector.
        sector: u64,
        /// Sectors.
        sectors: u64,
        /// Capacity in sectors.
        capacity: u64,
    },
    /// More data segments than the device's `seg_max`.
    TooManySegments {
        /// Segments given.
        segments: usize,
        /// The device's limit.
        seg_max: u32,
    },
    /// A write to a read-only device.
    ReadOnly,
    /// A flush to a device that did not offer VIRTIO_BLK_F_FLUSH.
    FlushNotSupported,
    /// A GET_ID buffer shorter than the 20 bytes the device writes.
    IdBufferTooShort {
        /// Its length.
        len: u32,
    },
    /// A completion for a head the driver has no request for. The queue's
    /// checks make this impossible; it is reported rather than trusted.
    UntrackedCompletion {
        /// The head.
        head: u16,
    },
}

crate::error::wraps_transport_errors!(BlkError);

impl fmt::Display for BlkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Transport(e) => e.fmt(f),
            Self::Layout(e) => e.fmt(f),
            Self::Submit(e) => e.fmt(f),
            Self::Device(e) => e.fmt(f),
            Self::BadConfig { field, value } => {
                write!(f, "device configuration {field} = {value} is not usable")
            }
            Self::NoData => f.write_str("a read or write needs at least one data segment"),
            Self::NotSectorMultiple { bytes } => {
                write!(
                    f,
                    "{bytes} bytes of data is not a whole number of 512-byte sectors"
                )
            }
            Self::OutOfRange {
                sector,
                sectors,
                capacity,
            } => write!(
                f,
                "{sectors} sectors from sector {sector} reach past the disk's {capacity}"
            ),
            Self::TooManySegments { segments, seg_max } => {
                write!(
                    f,
                    "{segments} data segments, the device takes at most {seg_max}"
                )
            }
            Self::ReadOnly => f.write_str("the device is read-only"),
            Self::FlushNotSupported => f.write_str("the device does not support flush"),
            Self::IdBufferTooShort { len } => {
                write!(f, "an id buffer of {len} bytes, the device writes 20")
            }
            Self::UntrackedCompletion { head } => {
                write!(
                    f,
                    "completion for descriptor {head}, which carries no request"
                )
            }
        }
    }
}

/// How a request the device completed ended, from its status byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// VIRTIO_BLK_S_IOERR.
    Io,
    /// VIRTIO_BLK_S_UNSUPP.
    Unsupported,
    /// Any other value; 0xff means the device never wrote the byte.
    BadStatus(u8),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Io => f.write_str("the device reports an I/O error"),
            Self::Unsupported => f.write_str("the device does not support the request"),
            Self::BadStatus(super::request::status::NOT_WRITTEN) => {
                f.write_str("the device completed the request without writing its status")
            }
            Self::BadStatus(s) => write!(f, "the device wrote status {s:#x}, which means nothing"),
        }
    }
}
