//! The UART's eight ports through the component's IOPort capability.

use paddock_runtime::sel4::{self, CPtr};
use paddock_serial_16550::{regs::offset, PortIo};

/// COM2's base port; the plan's `io.com2` cap covers `BASE ..= BASE + 7`.
pub const BASE: u16 = 0x2F8;

/// Port IO on the UART at [`BASE`] through one narrowed IOPort cap.
pub struct Com2 {
    cap: CPtr,
}

impl Com2 {
    pub fn new(cap: CPtr) -> Self {
        Self { cap }
    }

    fn port(offset: u8) -> u16 {
        // The driver only passes offsets below SPAN; masking keeps any other
        // value inside the UART's range rather than next to it.
        BASE + u16::from(offset % offset::SPAN)
    }
}

impl PortIo for Com2 {
    type Error = sel4::Error;

    fn read8(&mut self, offset: u8) -> Result<u8, sel4::Error> {
        sel4::ioport::in8(self.cap, Self::port(offset))
    }

    fn write8(&mut self, offset: u8, value: u8) -> Result<(), sel4::Error> {
        sel4::ioport::out8(self.cap, Self::port(offset), value)
    }
}
