//! Access to the i8042's two ports, supplied by whoever holds them.

/// The controller's ports. The component holds one IOPort capability for
/// each: exactly 0x60 and 0x64.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Port {
    /// 0x60: bytes from the keyboard or controller (read), bytes to the
    /// keyboard or command arguments (write).
    Data,
    /// 0x64: the status register (read), the command register (write).
    Control,
}

impl Port {
    /// The port's address on a PC.
    pub const fn address(self) -> u16 {
        match self {
            Self::Data => 0x60,
            Self::Control => 0x64,
        }
    }
}

/// Byte access to the i8042's ports.
///
/// On seL4 each access is an IOPort invocation, which can fail; the error
/// is passed back as [`Error::Io`](crate::Error::Io).
pub trait PortIo {
    /// Why an access failed.
    type Error;

    /// Read a byte from `port`.
    fn read8(&mut self, port: Port) -> Result<u8, Self::Error>;

    /// Write `value` to `port`.
    fn write8(&mut self, port: Port, value: u8) -> Result<(), Self::Error>;
}

impl<P: PortIo + ?Sized> PortIo for &mut P {
    type Error = P::Error;

    fn read8(&mut self, port: Port) -> Result<u8, Self::Error> {
        (**self).read8(port)
    }

    fn write8(&mut self, port: Port, value: u8) -> Result<(), Self::Error> {
        (**self).write8(port, value)
    }
}
