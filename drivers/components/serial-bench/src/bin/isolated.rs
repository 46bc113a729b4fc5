//! `serial-bench`: a client of the isolated serial driver running in
//! loopback: the measurement with isolation (see the library).
#![no_std]
#![no_main]

use paddock_component_support::{rings, tsc};
use paddock_runtime::{entry, log, Component};
use paddock_serial_bench::{pattern, report, Check, BYTES};

entry!(main);

const SLOTS: u32 = 64;
/// Bytes handed to the ring at a time: the UART's FIFO depth, so the
/// driver always finds whole FIFO loads (see `BYTES`).
const CHUNK: usize = 16;
/// Bytes sent but not yet received, at most. In loopback the receive side
/// is fed by the transmit side: sending more than the receive ring can
/// hold would overrun the UART's receive FIFO while the driver holds
/// receiving back. The driver publishes a buffer per interrupt, about a
/// FIFO load each, so 64 buffers hold at least 64 such loads.
const WINDOW: u64 = 512;

fn main(c: Component) -> ! {
    let mut rx = rings::reader(&c, "serial-rx", SLOTS).unwrap_or_else(|e| panic!("{e}"));
    let mut tx = rings::writer(&c, "serial-tx", SLOTS).unwrap_or_else(|e| panic!("{e}"));
    log!("isolated: {BYTES} bytes through the serial driver in loopback, rings both ways");

    let mut check = Check::default();
    let mut sent = 0;
    let start = tsc::read();
    let mut run = || -> Result<(), paddock_ring::PeerError> {
        while !check.done() {
            while sent < BYTES && sent - check.received < WINDOW {
                let chunk: [u8; CHUNK] = core::array::from_fn(|i| pattern(sent + i as u64));
                if tx.io.write(&chunk)? < CHUNK {
                    break;
                }
                sent += CHUNK as u64;
            }
            tx.flush()?;
            let mut buf = [0u8; 256];
            loop {
                let n = rx.io.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                buf[..n].iter().for_each(|&b| check.byte(b));
            }
            if check.done() {
                break;
            }
            let mut more = rx.wants_more()?;
            if sent < BYTES && sent - check.received < WINDOW {
                more |= tx.wants_more()?;
            }
            if !more {
                c.wait().unwrap_or_else(|e| panic!("{e}"));
            }
        }
        rx.publish();
        Ok(())
    };
    if let Err(e) = run() {
        panic!("the driver broke the ring protocol: {e}");
    }
    let ticks = tsc::read() - start;
    report("isolated", &check, ticks);
    log!("done");
    loop {
        let _ = c.wait();
    }
}
