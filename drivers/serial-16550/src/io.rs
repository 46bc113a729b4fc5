//! Access to the UART's eight ports, supplied by whoever holds them.

/// Byte access to the UART's ports, relative to its base.
///
/// `offset` is `0..8` (see [`offset`](crate::regs::offset)); the
/// implementation adds the base. On seL4 each access is an IOPort
/// invocation, which can fail (a capability for the wrong range, say), so
/// both operations return the implementation's error, which the driver
/// passes back as [`Error::Io`](crate::Error::Io) without retrying.
pub trait PortIo {
    /// Why an access failed.
    type Error;

    /// Read the register at `base + offset`.
    fn read8(&mut self, offset: u8) -> Result<u8, Self::Error>;

    /// Write `value` to the register at `base + offset`.
    fn write8(&mut self, offset: u8, value: u8) -> Result<(), Self::Error>;
}

impl<P: PortIo + ?Sized> PortIo for &mut P {
    type Error = P::Error;

    fn read8(&mut self, offset: u8) -> Result<u8, Self::Error> {
        (**self).read8(offset)
    }

    fn write8(&mut self, offset: u8, value: u8) -> Result<(), Self::Error> {
        (**self).write8(offset, value)
    }
}
