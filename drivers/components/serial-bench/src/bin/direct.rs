//! `serial-bench-direct`: the UART driven by the program that uses the
//! bytes, with the driver logic linked in: the measurement without
//! isolation (see the library).
#![no_std]
#![no_main]

use paddock_component_support::tsc;
use paddock_runtime::{entry, log, Component};
use paddock_serial_16550::{Config, Uart};
use paddock_serial_bench::{pattern, report, Check, BYTES};
use paddock_serial_driver::driver::{ack, loopback};
use paddock_serial_driver::ports::Com2;

entry!(main);

fn main(c: Component) -> ! {
    let io = c.slot("io.com2").unwrap_or_else(|e| panic!("{e}"));
    let irq = c.slot("irq.uart").unwrap_or_else(|e| panic!("{e}"));
    let mut uart = Uart::new(Com2::new(io));
    if let Err(e) = uart.init(&Config::default()) {
        panic!("COM2: {e}");
    }
    loopback(&mut uart);
    log!("direct: {BYTES} bytes through COM2 in loopback, driver logic linked in");

    let mut check = Check::default();
    let mut sent = 0;
    let start = tsc::read();
    let mut next = || {
        (sent < BYTES).then(|| {
            sent += 1;
            pattern(sent - 1)
        })
    };
    // Service first, wait after: the THR-empty interrupt `init` raised
    // starts the transmission.
    loop {
        // As the isolated driver does: unmask the edge-triggered pin
        // before draining, so no cause raised meanwhile is lost.
        ack(irq);
        let result = uart.handle_interrupt(
            &mut |b| {
                check.byte(b);
                true
            },
            &mut next,
        );
        if let Err(e) = result {
            panic!("COM2: {e}");
        }
        if check.done() {
            break;
        }
        c.wait().unwrap_or_else(|e| panic!("{e}"));
    }
    let ticks = tsc::read() - start;
    report("direct", &check, ticks);
    log!("done");
    loop {
        let _ = c.wait();
    }
}
