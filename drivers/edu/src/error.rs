//! Everything the driver can report instead of panicking.

use crate::dma::Direction;

/// A driver error.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    /// The identification register does not have the `edu` magic:
    /// the BAR maps something else, or nothing (all ones).
    NotEdu {
        /// The identification value read.
        id: u32,
    },
    /// The liveness register did not invert what was written.
    NotAlive {
        /// Written.
        wrote: u32,
        /// Read back; should be `!wrote`.
        read: u32,
    },
    /// A transfer of zero bytes.
    EmptyTransfer,
    /// More than the device buffer's 4096 bytes.
    TooLong {
        /// Bytes asked for.
        len: u32,
    },
    /// The range in the device buffer does not fit in it.
    OutsideDeviceBuffer {
        /// Offset asked for.
        offset: u32,
        /// Bytes asked for.
        len: u32,
    },
    /// The bus range wraps around, or reaches past what the device can
    /// address (its DMA mask; 28 bits unless configured otherwise in QEMU).
    BusRange {
        /// First bus address.
        iova: u64,
        /// Bytes.
        len: u32,
    },
    /// The bus range is not inside the DMA window it should be in.
    OutsideWindow {
        /// Offset into the window.
        offset: u64,
        /// Bytes.
        len: u64,
    },
    /// A transfer is still running; the device would ignore new DMA
    /// register values.
    Busy {
        /// Direction of the running transfer, if this driver started it.
        running: Option<Direction>,
    },
    /// A bounded wait ran out.
    Timeout,
    /// A factorial argument above 12: 13! does not fit in 32 bits.
    FactorialOverflow {
        /// The argument.
        n: u32,
    },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::NotEdu { id } => write!(f, "not an edu device: identification {id:#010x}"),
            Self::NotAlive { wrote, read } => {
                write!(
                    f,
                    "edu liveness check failed: wrote {wrote:#010x}, read {read:#010x}"
                )
            }
            Self::EmptyTransfer => write!(f, "DMA of zero bytes"),
            Self::TooLong { len } => write!(f, "DMA of {len} bytes: the device buffer holds 4096"),
            Self::OutsideDeviceBuffer { offset, len } => {
                write!(
                    f,
                    "DMA of {len} bytes at device offset {offset} runs past the 4096-byte buffer"
                )
            }
            Self::BusRange { iova, len } => {
                write!(
                    f,
                    "DMA of {len} bytes at bus address {iova:#x} is beyond the device's DMA mask"
                )
            }
            Self::OutsideWindow { offset, len } => {
                write!(
                    f,
                    "{len} bytes at offset {offset:#x} are outside the DMA window"
                )
            }
            Self::Busy { .. } => write!(f, "a DMA transfer is still running"),
            Self::Timeout => write!(f, "edu did not finish in time"),
            Self::FactorialOverflow { n } => write!(f, "{n}! does not fit in 32 bits"),
        }
    }
}
