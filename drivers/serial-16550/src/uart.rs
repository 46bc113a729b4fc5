//! The driver proper: initialisation, interrupt service, and the flow
//! control between the UART's FIFOs and the component's rings.

use crate::config::Config;
use crate::error::{Absence, Error};
use crate::io::PortIo;
use crate::regs::{offset, Fcr, Ier, Iir, InterruptId, Lcr, Lsr, Mcr, Msr, RxTrigger, FIFO_DEPTH};
use crate::stats::{Events, Stats};

/// Interrupt causes serviced without moving a byte, per
/// [`Uart::handle_interrupt`], before the device is declared misbehaving.
/// A healthy UART has five causes and clears each as it is serviced; the
/// margin covers bytes that keep arriving while the handler runs. Rounds
/// that move bytes do not count: a transmitter that empties as fast as it
/// is filled (QEMU's sends at once) reports THR empty again right after
/// every fill, for as long as there are bytes to send, and receiving is
/// bounded by the consumer's room.
const MAX_INTERRUPT_ROUNDS: usize = 32;

/// Bytes read per receive drain. Bounds the work when a device reports
/// "data ready" forever (floating ports read as 0xFF, which sets DR).
const MAX_RX_DRAIN: usize = 4 * FIFO_DEPTH as usize;

/// Patterns for the scratch-register probe: complementary, and neither is
/// what an undecoded port floats to (0xFF) or a common reset value (0x00).
const SCRATCH_PATTERNS: [u8; 2] = [0x55, 0xAA];

/// Interrupts enabled in normal operation. Line status is included so that
/// overruns are counted even while receiving is paused.
const IER_RUNNING: Ier = Ier(Ier::RX_DATA.0 | Ier::THR_EMPTY.0 | Ier::LINE_STATUS.0);

/// Modem control in normal operation: DTR and RTS asserted for peers that
/// use hardware flow control, OUT2 to route the IRQ on PCs.
const MCR_RUNNING: Mcr = Mcr(Mcr::DTR.0 | Mcr::RTS.0 | Mcr::OUT2.0);

/// One 16550 UART, reached through `P`.
///
/// Receiving hands bytes to a consumer closure that may refuse them
/// (`false`: no room). The byte refused is kept in the driver and offered
/// first when receiving resumes; later bytes stay in the UART's FIFO with
/// the receive interrupt masked. So under back-pressure nothing read from
/// the UART is dropped and the order is kept; what the UART itself cannot
/// hold while paused is lost *in the UART* and counted as an overrun.
pub struct Uart<P> {
    io: P,
    /// IER as last written (the register reads back the same, but keeping
    /// a copy saves a port access on every pause and resume).
    ier: Ier,
    /// Bytes that fit into the transmitter when it reports empty: the FIFO
    /// depth, or 1 on a UART without working FIFOs.
    tx_burst: u8,
    /// A byte read from the UART that the consumer refused.
    held: Option<u8>,
    rx_paused: bool,
    stats: Stats,
}

impl<P: PortIo> Uart<P> {
    /// Wrap the ports; nothing is accessed until [`init`](Self::init).
    pub fn new(io: P) -> Self {
        Self {
            io,
            ier: Ier::EMPTY,
            tx_burst: 1,
            held: None,
            rx_paused: false,
            stats: Stats::default(),
        }
    }

    /// Check `config`, check that a UART is there, and program it:
    /// divisor and frame format, FIFOs enabled and emptied with a 14-byte
    /// receive trigger, OUT2 set, and the receive, transmit-empty and
    /// line-status interrupts enabled.
    ///
    /// An invalid `config` is reported before any port is touched. On
    /// success the statistics are reset and receiving is not paused.
    pub fn init(&mut self, config: &Config) -> Result<(), Error<P::Error>> {
        let line = config.validate()?;
        self.check_scratch()?;

        // Whoever had the UART before may have left DLAB set, which would
        // turn the IER write below into a DLM write.
        self.write(offset::LCR, Lcr::default().bits())?;
        self.write(offset::IER, Ier::EMPTY.bits())?;
        self.ier = Ier::EMPTY;
        self.check_loopback()?;

        let [low, high] = line.divisor.to_le_bytes();
        self.write(offset::LCR, line.lcr.with_dlab().bits())?;
        self.write(offset::DLL, low)?;
        self.write(offset::DLM, high)?;
        self.write(offset::LCR, line.lcr.bits())?;

        self.write(
            offset::FCR,
            Fcr::enable_and_reset(RxTrigger::Bytes14).bits(),
        )?;
        // A 16450, or a 16550 with the broken FIFO, leaves IIR's FIFO bits
        // clear: then the transmitter takes one byte at a time.
        let iir = Iir(self.read(offset::IIR)?);
        self.tx_burst = if iir.fifos_enabled() { FIFO_DEPTH } else { 1 };

        // Throw away whatever arrived before this driver owned the port
        // (without FIFOs the clear above does not empty RBR), and clear
        // stale line and modem status.
        for _ in 0..FIFO_DEPTH {
            if !Lsr(self.read(offset::LSR)?).contains(Lsr::DATA_READY) {
                break;
            }
            self.read(offset::RBR)?;
        }
        self.read(offset::MSR)?;

        self.write(offset::MCR, MCR_RUNNING.bits())?;
        self.set_ier(IER_RUNNING)?;
        self.held = None;
        self.rx_paused = false;
        self.stats = Stats::default();
        Ok(())
    }

    /// Service the UART after its IRQ fired. The caller acks the IRQ
    /// first: on an edge-triggered line, a cause raised while the pin is
    /// still masked would otherwise be lost.
    ///
    /// Reads IIR until it reports nothing pending, which an edge-triggered
    /// IRQ line needs: a cause left pending would never raise a new edge.
    /// Received bytes go to `rx` until it returns `false` (no room); then
    /// receiving pauses (see [`resume_rx`](Self::resume_rx)). When the
    /// transmitter is empty, up to a FIFO's worth of bytes is taken from
    /// `tx`, which returns `None` when it has nothing to send.
    pub fn handle_interrupt(
        &mut self,
        rx: &mut impl FnMut(u8) -> bool,
        tx: &mut impl FnMut() -> Option<u8>,
    ) -> Result<Events, Error<P::Error>> {
        let mut events = Events::default();
        let mut last = Iir::default();
        let mut idle_rounds = 0;
        while idle_rounds < MAX_INTERRUPT_ROUNDS {
            let moved = events.received + events.sent;
            last = Iir(self.read(offset::IIR)?);
            let id = match last.pending() {
                Ok(Some(id)) => id,
                Ok(None) => {
                    events.rx_paused = self.rx_paused;
                    return Ok(events);
                }
                Err(iir) => return Err(Error::BadInterruptId { iir }),
            };
            events.interrupts += 1;
            match id {
                InterruptId::LineStatus => {
                    // Reading LSR clears the cause; data is drained under
                    // its own RX interrupt. The NUL that stands for a break
                    // must go now: once BI has been read, nothing would
                    // tell it from a received zero byte. It is not data,
                    // so discarding it while paused reorders nothing.
                    let lsr = self.read_lsr()?;
                    events.line_errors |= lsr.intersects(Lsr::ERRORS);
                    if lsr.contains(Lsr::BREAK | Lsr::DATA_READY) {
                        self.read(offset::RBR)?;
                    }
                }
                InterruptId::RxData | InterruptId::RxTimeout => {
                    // While paused the RX interrupt is masked; a cause
                    // reported anyway is left alone (the bytes stay queued
                    // behind the held one), and if the UART keeps reporting
                    // it the round limit turns it into an error.
                    if !self.rx_paused {
                        self.drain_rx(rx, &mut events)?;
                    }
                }
                // IIR reporting THR empty guarantees the whole transmit FIFO
                // is free, and reading IIR already cleared the cause.
                InterruptId::ThrEmpty => self.fill_tx(tx, &mut events)?,
                InterruptId::ModemStatus => {
                    self.read(offset::MSR)?;
                    self.stats.modem_changes = self.stats.modem_changes.wrapping_add(1);
                }
            }
            if events.received + events.sent == moved {
                idle_rounds += 1;
            }
        }
        Err(Error::InterruptStorm { iir: last.bits() })
    }

    /// Start or continue transmitting bytes from `tx`: called when the
    /// component has new bytes to send (its transmit ring was signalled).
    ///
    /// Writes only if the transmitter is empty; otherwise its pending
    /// THR-empty interrupt will take the bytes, so no wake-up is lost.
    pub fn transmit(
        &mut self,
        tx: &mut impl FnMut() -> Option<u8>,
    ) -> Result<usize, Error<P::Error>> {
        let mut events = Events::default();
        if self.read_lsr()?.contains(Lsr::THR_EMPTY) {
            self.fill_tx(tx, &mut events)?;
        }
        Ok(events.sent)
    }

    /// Offer the held byte, then the bytes waiting in the UART, to `rx`;
    /// if it takes them all, unmask the receive interrupt. Called when the
    /// consumer has made room. Does nothing if receiving is not paused.
    pub fn resume_rx(
        &mut self,
        rx: &mut impl FnMut(u8) -> bool,
    ) -> Result<Events, Error<P::Error>> {
        let mut events = Events::default();
        if self.rx_paused {
            self.drain_rx(rx, &mut events)?;
            if self.held.is_none() {
                self.rx_paused = false;
                self.set_ier(self.ier.with(Ier::RX_DATA))?;
            }
        }
        events.rx_paused = self.rx_paused;
        Ok(events)
    }

    /// Whether receiving is paused waiting for the consumer.
    pub fn rx_paused(&self) -> bool {
        self.rx_paused
    }

    /// Totals since [`init`](Self::init).
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The port accessor.
    pub fn io(&self) -> &P {
        &self.io
    }

    /// The port accessor, mutably (for tests that drive a device model).
    pub fn io_mut(&mut self) -> &mut P {
        &mut self.io
    }

    /// Give the port accessor back.
    pub fn into_inner(self) -> P {
        self.io
    }

    /// Move bytes to `rx`, the held one first, until the UART has none or
    /// `rx` refuses one; a refusal keeps that byte and pauses receiving.
    fn drain_rx(
        &mut self,
        rx: &mut impl FnMut(u8) -> bool,
        events: &mut Events,
    ) -> Result<(), Error<P::Error>> {
        if let Some(byte) = self.held {
            if !rx(byte) {
                return Ok(());
            }
            self.held = None;
            self.delivered(events);
        }
        for _ in 0..MAX_RX_DRAIN {
            let lsr = self.read_lsr()?;
            events.line_errors |= lsr.intersects(Lsr::ERRORS);
            if !lsr.contains(Lsr::DATA_READY) {
                return Ok(());
            }
            let byte = self.read(offset::RBR)?;
            // A break arrives as a NUL with BI set: a line condition, not
            // data.
            if lsr.contains(Lsr::BREAK) {
                continue;
            }
            if !rx(byte) {
                self.held = Some(byte);
                self.pause_rx()?;
                return Ok(());
            }
            self.delivered(events);
        }
        Ok(())
    }

    fn delivered(&mut self, events: &mut Events) {
        events.received += 1;
        self.stats.rx_bytes = self.stats.rx_bytes.wrapping_add(1);
    }

    fn pause_rx(&mut self) -> Result<(), Error<P::Error>> {
        if self.rx_paused {
            return Ok(());
        }
        self.rx_paused = true;
        self.stats.rx_pauses = self.stats.rx_pauses.wrapping_add(1);
        self.set_ier(self.ier.without(Ier::RX_DATA))
    }

    /// Write up to one transmitter's worth of bytes; the caller has
    /// established that the transmitter is empty.
    fn fill_tx(
        &mut self,
        tx: &mut impl FnMut() -> Option<u8>,
        events: &mut Events,
    ) -> Result<(), Error<P::Error>> {
        for _ in 0..self.tx_burst {
            let Some(byte) = tx() else { break };
            self.write(offset::THR, byte)?;
            events.sent += 1;
            self.stats.tx_bytes = self.stats.tx_bytes.wrapping_add(1);
        }
        Ok(())
    }

    /// Read LSR and count the errors it reports (reading clears them, so
    /// every read must count).
    fn read_lsr(&mut self) -> Result<Lsr, Error<P::Error>> {
        let lsr = Lsr(self.read(offset::LSR)?);
        let s = &mut self.stats;
        if lsr.contains(Lsr::OVERRUN) {
            s.overruns = s.overruns.wrapping_add(1);
        }
        // Parity, framing and break describe the byte at the head of the
        // FIFO, so they only mean something alongside DR.
        if lsr.contains(Lsr::DATA_READY) {
            if lsr.contains(Lsr::BREAK) {
                s.breaks = s.breaks.wrapping_add(1);
            } else {
                if lsr.contains(Lsr::PARITY) {
                    s.parity_errors = s.parity_errors.wrapping_add(1);
                }
                if lsr.contains(Lsr::FRAMING) {
                    s.framing_errors = s.framing_errors.wrapping_add(1);
                }
            }
        }
        Ok(lsr)
    }

    /// Scratch-register probe: an undecoded port reads 0xFF whatever was
    /// written, and most other devices do not echo both patterns.
    fn check_scratch(&mut self) -> Result<(), Error<P::Error>> {
        for wrote in SCRATCH_PATTERNS {
            self.write(offset::SCR, wrote)?;
            let read = self.read(offset::SCR)?;
            if read != wrote {
                return Err(Error::NoUart(Absence::Scratch { wrote, read }));
            }
        }
        Ok(())
    }

    /// Loopback probe: in loop mode a UART routes RTS to CTS and OUT2 to
    /// DCD (and DTR to DSR, OUT1 to RI), which a plain RAM-like register
    /// block does not imitate.
    fn check_loopback(&mut self) -> Result<(), Error<P::Error>> {
        self.write(offset::MCR, (Mcr::LOOP | Mcr::RTS | Mcr::OUT2).bits())?;
        let read = self.read(offset::MSR)?;
        self.write(offset::MCR, Mcr::EMPTY.bits())?;
        let expected = (Msr::CTS | Msr::DCD).bits();
        if read & 0xF0 != expected {
            return Err(Error::NoUart(Absence::Loopback { expected, read }));
        }
        Ok(())
    }

    fn set_ier(&mut self, ier: Ier) -> Result<(), Error<P::Error>> {
        self.write(offset::IER, ier.bits())?;
        self.ier = ier;
        Ok(())
    }

    fn read(&mut self, offset: u8) -> Result<u8, Error<P::Error>> {
        self.io.read8(offset).map_err(Error::Io)
    }

    fn write(&mut self, offset: u8, value: u8) -> Result<(), Error<P::Error>> {
        self.io.write8(offset, value).map_err(Error::Io)
    }
}
