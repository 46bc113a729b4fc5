//! `serial-16550`: the driver of the 16550 UART on COM2.
//!
//! Holds the IOPort cap `io.com2` (0x2F8..=0x2FF), the IRQ handler
//! `irq.uart` (IOAPIC pin 3), and two rings to its client: it produces
//! `serial-rx` (bytes received) and consumes `serial-tx` (bytes to send),
//! both declared with 64 slots. The line runs at 115200 baud, 8N1, FIFOs
//! on (a description has no field for line settings yet).
//!
//! One event loop: wait on the notification, then by badge bit
//! * IRQ: service the UART (received bytes into `serial-rx`, a free
//!   transmitter filled from `serial-tx`), then ack the IRQ;
//! * `serial-rx`: the client gave buffers back, resume receiving;
//! * `serial-tx`: the client sent bytes, start transmitting.
//!
//! Back-pressure instead of loss: when `serial-rx` has no buffer left, the
//! byte in hand is kept and the receive interrupt masked, so later bytes
//! wait in the UART's FIFO (and QEMU's stops taking input from its
//! backend) until the client makes room.
#![no_std]
#![no_main]

mod ports;

use core::cell::Cell;

use paddock_component_support::rings::{self, Reader, Writer};
use paddock_ring::{ByteReader, ByteWriter, PeerError};
use paddock_runtime::sel4::{self, CPtr};
use paddock_runtime::{entry, log, Component};
use paddock_serial_16550::{Config, Error, Uart};
use ports::{Com2, BASE};

entry!(main);

/// Received bytes, to the client.
const RX_RING: &str = "serial-rx";
/// Bytes to send, from the client.
const TX_RING: &str = "serial-tx";
/// Slots each ring is declared with.
const SLOTS: u32 = 64;

fn main(c: Component) -> ! {
    let io = c.slot("io.com2").unwrap_or_else(|e| panic!("{e}"));
    let irq = c.slot("irq.uart").unwrap_or_else(|e| panic!("{e}"));
    let irq_bit = c.badge_bit("irq.uart").unwrap_or_else(|e| panic!("{e}"));
    let rx = rings::writer(&c, RX_RING, SLOTS).unwrap_or_else(|e| panic!("{e}"));
    let tx = rings::reader(&c, TX_RING, SLOTS).unwrap_or_else(|e| panic!("{e}"));

    let mut uart = Uart::new(Com2::new(io));
    let config = Config::default();
    if let Err(e) = uart.init(&config) {
        panic!("COM2 at {BASE:#x}: {e}");
    }
    log!(
        "COM2 at {BASE:#x}: {} baud, {}N{}, FIFOs on, IOAPIC pin 3",
        config.baud,
        config.data_bits,
        config.stop_bits
    );

    let mut driver = Driver {
        uart,
        rx,
        tx,
        irq,
        irq_bit,
        reported: Reported::default(),
    };
    // Whatever the UART raised before this point is serviced below; the
    // ack lets the line through from now on.
    ack(irq);
    // Look at both rings once: the client may have written before we ran.
    let mut bits = irq_bit | driver.rx.bit | driver.tx.bit;
    loop {
        let again = match driver.service(bits) {
            Ok(again) => again,
            Err(e) => panic!("the client broke the ring protocol: {e}"),
        };
        bits = if again != 0 {
            again
        } else {
            c.wait().unwrap_or_else(|e| panic!("{e}"))
        };
    }
}

fn ack(irq: CPtr) {
    if let Err(e) = sel4::irq::ack(irq) {
        panic!("acking the UART's IRQ: {e}");
    }
}

/// Statistics already logged.
#[derive(Default)]
struct Reported {
    pauses: u32,
    overruns: u32,
}

struct Driver {
    uart: Uart<Com2>,
    rx: Writer,
    tx: Reader,
    irq: CPtr,
    irq_bit: u64,
    reported: Reported,
}

impl Driver {
    /// Handles the events in `bits`; returns the bits to handle again at
    /// once (work that arrived while asking for a signal), or 0 to sleep.
    fn service(&mut self, bits: u64) -> Result<u64, PeerError> {
        let Self { uart, rx, tx, .. } = self;
        let rx_error = Cell::new(None);
        let tx_error = Cell::new(None);

        if bits & self.irq_bit != 0 {
            checked(uart.handle_interrupt(
                &mut put(&mut rx.io, &rx_error),
                &mut take(&mut tx.io, &tx_error),
            ));
            ack(self.irq);
        }
        if bits & rx.bit != 0 {
            checked(uart.resume_rx(&mut put(&mut rx.io, &rx_error)));
        }
        if bits & tx.bit != 0 {
            checked(uart.transmit(&mut take(&mut tx.io, &tx_error)));
        }

        let mut again = 0;
        if uart.rx_paused() {
            // Out of buffers: sleep until the client returns some, unless
            // it already has.
            if rx.wants_more()? {
                again |= rx.bit;
            }
        } else {
            rx.flush()?;
        }
        // Ask for a signal when more bytes to send arrive. If some already
        // have, start them now: afterwards the transmitter is busy, and its
        // THR-empty interrupt brings us back. Two rounds at most, because a
        // round that sent nothing may have consumed only empty buffers.
        for _ in 0..2 {
            if !tx.wants_more()?
                || checked(uart.transmit(&mut take(&mut tx.io, &tx_error))).unwrap_or(0) > 0
            {
                break;
            }
        }
        tx.publish();

        if let Some(e) = rx_error.get().or(tx_error.get()) {
            return Err(e);
        }
        self.report();
        Ok(again)
    }

    /// Logs back-pressure (at the 1st, 2nd, 4th, ... pause, so a long burst
    /// does not flood the console) and every overrun.
    fn report(&mut self) {
        let s = self.uart.stats();
        if s.rx_pauses != self.reported.pauses {
            self.reported.pauses = s.rx_pauses;
            if s.rx_pauses.is_power_of_two() {
                log!(
                    "receive paused: client has no room, bytes wait in the UART (pause {})",
                    s.rx_pauses
                );
            }
        }
        if s.overruns != self.reported.overruns {
            self.reported.overruns = s.overruns;
            log!(
                "overrun: the UART lost received bytes ({} so far)",
                s.overruns
            );
        }
    }
}

/// The receive consumer: one byte into the ring, `false` when it has no
/// room (or the client broke the protocol, noted in `error`).
fn put<'a>(
    rx: &'a mut ByteWriter<'static>,
    error: &'a Cell<Option<PeerError>>,
) -> impl FnMut(u8) -> bool + 'a {
    move |byte| match rx.write(&[byte]) {
        Ok(n) => n == 1,
        Err(e) => {
            error.set(Some(e));
            false
        }
    }
}

/// The transmit producer: the next byte from the ring, if any.
fn take<'a>(
    tx: &'a mut ByteReader<'static>,
    error: &'a Cell<Option<PeerError>>,
) -> impl FnMut() -> Option<u8> + 'a {
    move || {
        let mut byte = [0];
        match tx.read(&mut byte) {
            Ok(1) => Some(byte[0]),
            Ok(_) => None,
            Err(e) => {
                error.set(Some(e));
                None
            }
        }
    }
}

/// A port that cannot be reached is fatal (the root task restarts us); a
/// misbehaving UART is reported and serviced again at its next interrupt.
fn checked<T>(result: Result<T, Error<sel4::Error>>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(Error::Io(e)) => panic!("COM2 port access failed: {e}"),
        Err(e) => {
            log!("{e}");
            None
        }
    }
}
