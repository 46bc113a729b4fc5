//! `serial-16550-loopback`: the COM2 driver with the UART looped back, so
//! whatever its client sends comes back to it without leaving the guest
//! (the isolated half of the serial measurement).
#![no_std]
#![no_main]

use paddock_runtime::{entry, Component};
use paddock_serial_driver::driver::{self, Line};

entry!(main);

fn main(c: Component) -> ! {
    driver::run(c, Line::Loopback)
}
