//! `serial-16550`: the COM2 driver component (see the library).
#![no_std]
#![no_main]

use paddock_runtime::{entry, Component};
use paddock_serial_driver::driver::{self, Line};

entry!(main);

fn main(c: Component) -> ! {
    driver::run(c, Line::Port)
}
