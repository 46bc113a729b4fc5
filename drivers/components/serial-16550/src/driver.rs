//! The event loop; see the crate documentation.

use core::cell::Cell;

use paddock_component_support::rings::{self, Reader, Writer};
use paddock_ring::{ByteReader, ByteWriter, PeerError};
use paddock_runtime::sel4::{self, CPtr};
use paddock_runtime::{log, witness, Component};
use paddock_serial_16550::regs::{offset, Mcr};
use paddock_serial_16550::{Config, Error, Parity, PortIo, Uart};

use crate::ports::{Com2, BASE};

/// Received bytes, to the client.
const RX_RING: &str = "serial-rx";
/// Bytes to send, from the client.
const TX_RING: &str = "serial-tx";
/// Slots each ring is declared with.
const SLOTS: u32 = 64;

/// Where transmitted bytes go.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Line {
    /// Out of the UART's serial port, as normal.
    Port,
    /// Back into the UART's own receiver (its loopback mode), so a
    /// measurement runs without anything outside the guest.
    Loopback,
}

/// The line settings from the description's `params` (`baud`,
/// `data_bits`, `parity`: 0 none, 1 odd, 2 even, `stop_bits`); each one
/// missing keeps its default (115200 8N1). Values that do not fit are
/// handed to `Uart::init` as they are, which refuses them with a reason.
fn line_settings(c: &Component) -> Config {
    let default = Config::default();
    let narrow = |name: &str, fallback: u32| -> u32 {
        c.param(name)
            .map_or(fallback, |v| u32::try_from(v).unwrap_or(u32::MAX))
    };
    Config {
        baud: narrow("baud", default.baud),
        data_bits: narrow("data_bits", default.data_bits.into()).min(255) as u8,
        parity: match c.param("parity") {
            None | Some(0) => Parity::None,
            Some(1) => Parity::Odd,
            Some(2) => Parity::Even,
            Some(other) => stop(
                c,
                format_args!("parameter parity = {other}: use 0 (none), 1 (odd) or 2 (even)"),
            ),
        },
        stop_bits: narrow("stop_bits", default.stop_bits.into()).min(255) as u8,
    }
}

/// Logs why the driver cannot serve and parks it for good.
fn stop(c: &Component, why: impl core::fmt::Display) -> ! {
    log!("stopped: {why}");
    c.park()
}

/// Runs the driver on the component's caps and rings; never returns.
pub fn run(c: Component, line: Line) -> ! {
    // What the plan must give, and rings a client may have broken before
    // a restart: a clear line and a stop, not a fault to be restarted into.
    let io = c.slot("io.com2").unwrap_or_else(|e| stop(&c, e));
    let irq = c.slot("irq.uart").unwrap_or_else(|e| stop(&c, e));
    let irq_bit = c.badge_bit("irq.uart").unwrap_or_else(|e| stop(&c, e));
    let rx = rings::writer(&c, RX_RING, SLOTS).unwrap_or_else(|e| stop(&c, e));
    let tx = rings::reader(&c, TX_RING, SLOTS).unwrap_or_else(|e| stop(&c, e));

    let mut uart = Uart::new(Com2::new(io));
    let config = line_settings(&c);
    if let Err(e) = uart.init(&config) {
        stop(&c, format_args!("COM2 at {BASE:#x}: {e}"));
    }
    if line == Line::Loopback {
        loopback(&mut uart);
    }
    log!(
        "COM2 at {BASE:#x}: {} baud, {}{}{}, FIFOs on, IOAPIC pin 3{}",
        config.baud,
        config.data_bits,
        match config.parity {
            Parity::None => 'N',
            Parity::Odd => 'O',
            Parity::Even => 'E',
        },
        config.stop_bits,
        if line == Line::Loopback {
            ", loopback"
        } else {
            ""
        }
    );

    let mut driver = Driver {
        uart,
        rx,
        tx,
        irq,
        irq_bit,
        line,
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
            Err(e) => {
                // Its only client broke the rings: nothing of them can be
                // trusted any more. Say so where the client cannot write,
                // and stop serving rather than fault and be restarted into
                // the same rings.
                log!("stopped serving the client: it broke the ring protocol ({e})");
                witness!("client broke ring");
                c.park();
            }
        };
        bits = if again != 0 {
            again
        } else {
            c.wait().unwrap_or_else(|e| panic!("{e}"))
        };
    }
}

/// Turns the UART's loopback on after `init`: transmitted bytes come back
/// as received ones. QEMU's UART keeps raising its interrupts in this
/// mode.
pub fn loopback(uart: &mut Uart<Com2>) {
    let mcr = Mcr::LOOP.bits() | Mcr::OUT2.bits() | Mcr::RTS.bits() | Mcr::DTR.bits();
    if let Err(e) = uart.io_mut().write8(offset::MCR, mcr) {
        panic!("COM2 loopback: {e}");
    }
}

pub fn ack(irq: CPtr) {
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
    line: Line,
    reported: Reported,
}

impl Driver {
    /// Handles the events in `bits`; returns the bits to handle again at
    /// once (work that arrived while asking for a signal), or 0 to sleep.
    fn service(&mut self, bits: u64) -> Result<u64, PeerError> {
        let Self { uart, rx, tx, .. } = self;
        let line = self.line;
        let rx_error = Cell::new(None);
        let tx_error = Cell::new(None);

        if bits & self.irq_bit != 0 {
            // Ack first, then drain. The line is edge-triggered and the
            // kernel masks the pin until the ack: a cause the UART raised
            // after the drain's last IIR read but before a later ack would
            // be an edge on a masked pin, lost, with the line then held
            // high and no edge ever again (seen as a burst stalling for
            // good under host load). Unmasked first, every later cause is
            // either drained below or raises a new edge.
            ack(self.irq);
            checked(uart.handle_interrupt(
                &mut put(&mut rx.io, &rx_error),
                &mut take(&mut tx.io, &tx_error),
            ));
        }
        if bits & rx.bit != 0 {
            checked(uart.resume_rx(&mut put(&mut rx.io, &rx_error)));
        }
        if bits & tx.bit != 0 {
            kick(uart, line, &mut rx.io, &mut tx.io, &rx_error, &tx_error);
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
                || kick(uart, line, &mut rx.io, &mut tx.io, &rx_error, &tx_error).unwrap_or(0) > 0
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

/// Starts transmitting if the transmitter is idle; returns the bytes
/// sent. In loopback the UART's receiver is serviced first: the bytes sent
/// land in its receive FIFO, which must have room for them.
fn kick(
    uart: &mut Uart<Com2>,
    line: Line,
    rx: &mut ByteWriter<'static>,
    tx: &mut ByteReader<'static>,
    rx_error: &Cell<Option<PeerError>>,
    tx_error: &Cell<Option<PeerError>>,
) -> Option<usize> {
    if line == Line::Loopback {
        checked(uart.handle_interrupt(&mut put(rx, rx_error), &mut take(tx, tx_error)));
    }
    checked(uart.transmit(&mut take(tx, tx_error)))
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
