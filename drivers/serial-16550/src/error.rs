//! Everything the driver can report instead of panicking.

use crate::config::ConfigError;

/// Which presence check found no working UART.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Absence {
    /// A pattern written to the scratch register did not read back: the
    /// ports are not decoded by anything (reads float to 0xFF) or belong
    /// to some other device.
    Scratch {
        /// Pattern written.
        wrote: u8,
        /// Value read back.
        read: u8,
    },
    /// In loopback mode the modem inputs did not follow the modem outputs.
    Loopback {
        /// Modem status expected in its upper nibble.
        expected: u8,
        /// Modem status read.
        read: u8,
    },
}

/// A driver error; `E` is the [`PortIo`](crate::PortIo) error.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error<E> {
    /// A port access failed.
    Io(E),
    /// The requested line settings are impossible.
    Config(ConfigError),
    /// No UART answers at this port.
    NoUart(Absence),
    /// IIR kept reporting a pending interrupt after the driver had serviced
    /// as many as a healthy UART can raise: the device is misbehaving.
    /// `iir` is the last value read.
    InterruptStorm {
        /// The last IIR value.
        iir: u8,
    },
    /// IIR returned an identification no 16550 produces.
    BadInterruptId {
        /// The raw IIR value.
        iir: u8,
    },
}

impl<E> From<ConfigError> for Error<E> {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl<E: core::fmt::Debug> core::fmt::Display for Error<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "port access failed: {e:?}"),
            Self::Config(e) => write!(f, "bad line settings: {e}"),
            Self::NoUart(Absence::Scratch { wrote, read }) => write!(
                f,
                "no UART at this port: scratch register wrote {wrote:#04x}, read {read:#04x}"
            ),
            Self::NoUart(Absence::Loopback { expected, read }) => write!(
                f,
                "no UART at this port: loopback modem status {read:#04x}, expected {expected:#04x}"
            ),
            Self::InterruptStorm { iir } => {
                write!(f, "UART keeps reporting interrupts (IIR {iir:#04x})")
            }
            Self::BadInterruptId { iir } => write!(f, "UART returned invalid IIR {iir:#04x}"),
        }
    }
}
