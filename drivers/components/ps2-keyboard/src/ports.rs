//! The i8042's two ports through the component's two IOPort capabilities.

use paddock_ps2_keyboard::{Port, PortIo};
use paddock_runtime::sel4::{self, CPtr};

/// Port IO on 0x60 (`io.data`) and 0x64 (`io.status`), one cap each.
pub struct I8042 {
    data: CPtr,
    control: CPtr,
}

impl I8042 {
    pub fn new(data: CPtr, control: CPtr) -> Self {
        Self { data, control }
    }

    fn cap(&self, port: Port) -> CPtr {
        match port {
            Port::Data => self.data,
            Port::Control => self.control,
        }
    }
}

impl PortIo for I8042 {
    type Error = sel4::Error;

    fn read8(&mut self, port: Port) -> Result<u8, sel4::Error> {
        sel4::ioport::in8(self.cap(port), port.address())
    }

    fn write8(&mut self, port: Port, value: u8) -> Result<(), sel4::Error> {
        sel4::ioport::out8(self.cap(port), port.address(), value)
    }
}
