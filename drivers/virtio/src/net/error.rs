//! virtio-net's error values: buffers refused before they reach the
//! device, and the device breaking the protocol.

use core::fmt;

use crate::error::{DeviceError, LayoutError, SubmitError, TransportError};

/// The driver refused a buffer, or the device broke the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetError {
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
    /// A frame to send shorter than an Ethernet header or longer than
    /// 1514 bytes.
    FrameLength {
        /// Its length.
        len: u32,
    },
    /// A receive buffer too small for the largest frame.
    ReceiveBufferTooSmall {
        /// Its length.
        len: u32,
    },
    /// A completion for a head the driver has no buffer for. The queue's
    /// checks make this impossible; it is reported rather than trusted.
    UntrackedCompletion {
        /// The head.
        head: u16,
    },
    /// A received chain shorter than the header the device must write.
    ShortReceive {
        /// Bytes the device says it wrote.
        written: u32,
    },
    /// The device needs exactly two queues, receive and transmit; it has
    /// fewer.
    TooFewQueues {
        /// Queues the device has.
        queues: u16,
    },
}

crate::error::wraps_transport_errors!(NetError);

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Transport(e) => e.fmt(f),
            Self::Layout(e) => e.fmt(f),
            Self::Submit(e) => e.fmt(f),
            Self::Device(e) => e.fmt(f),
            Self::BadConfig { field, value } => {
                write!(f, "device configuration {field} = {value:#x} is not usable")
            }
            Self::FrameLength { len } => write!(
                f,
                "a frame of {len} bytes: Ethernet frames are 14 to 1514 bytes"
            ),
            Self::ReceiveBufferTooSmall { len } => write!(
                f,
                "a receive buffer of {len} bytes cannot hold a 1514-byte frame"
            ),
            Self::UntrackedCompletion { head } => write!(
                f,
                "completion for descriptor {head}, which carries no buffer"
            ),
            Self::ShortReceive { written } => write!(
                f,
                "the device completed a receive of {written} bytes, shorter than the 12-byte header"
            ),
            Self::TooFewQueues { queues } => write!(
                f,
                "the device has {queues} queues; receive and transmit need 2"
            ),
        }
    }
}
