//! Lines from COM2 back to COM2, prefixed.

use paddock_component_support::rings::{Reader, Writer};
use paddock_ring::PeerError;
use paddock_runtime::log;

use crate::outbox::Outbox;

const PREFIX: &[u8] = b"echo: ";
/// Bytes read from the receive ring at a time.
const CHUNK: usize = 64;
/// Outbox room a chunk needs at worst: every byte an empty line.
const CHUNK_ROOM: usize = CHUNK * (PREFIX.len() + 2);
/// Lines logged one by one before only counts are logged.
const LOGGED_LINES: u64 = 8;
/// After that, a count every this many lines.
const COUNT_EVERY: u64 = 1000;

/// The `hold_until_full` parameter: after the first line, read nothing
/// until the receive ring is full, once. With a sender that keeps sending,
/// the driver then must hold input back (its back-pressure), whatever the
/// relative speeds of the sender, QEMU and this client: the system tests
/// rely on it to exercise that path on every run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hold {
    Off,
    /// Waiting for the first line to end.
    Armed,
    /// Reading nothing until the ring is full.
    Holding,
    Done,
}

pub struct Echo {
    hold: Hold,
    rx: Reader,
    tx: Writer,
    at_line_start: bool,
    /// The last byte was a CR, so an LF right after it ends no line.
    after_cr: bool,
    lines: u64,
    /// The start of the current line, for the log.
    line: [u8; 48],
    line_len: usize,
}

impl Echo {
    pub fn new(rx: Reader, tx: Writer, hold_until_full: bool) -> Self {
        Self {
            hold: if hold_until_full {
                Hold::Armed
            } else {
                Hold::Off
            },
            rx,
            tx,
            at_line_start: true,
            after_cr: false,
            lines: 0,
            line: [0; 48],
            line_len: 0,
        }
    }

    /// Sends what waits in the outbox, then echoes received bytes while
    /// the outbox has room for them.
    pub fn pump(&mut self, outbox: &mut Outbox) -> Result<(), PeerError> {
        outbox.drain_into(&mut self.tx)?;
        if self.hold == Hold::Holding && self.rx.io.is_full()? {
            self.hold = Hold::Done;
            log!("receive ring full: reading again");
        }
        while outbox.free() >= CHUNK_ROOM && self.hold != Hold::Holding {
            let mut chunk = [0u8; CHUNK];
            let n = self.rx.io.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            for &b in &chunk[..n] {
                self.byte(b, outbox);
            }
            outbox.drain_into(&mut self.tx)?;
        }
        self.tx.flush()?;
        self.rx.publish();
        Ok(())
    }

    /// Before sleeping: asks for the signals that bring more work; `true`
    /// if work arrived meanwhile.
    pub fn wants_more(&mut self, outbox: &Outbox) -> Result<bool, PeerError> {
        let mut more = false;
        if !outbox.is_empty() {
            // Blocked on the transmit ring: wait for buffers to come back.
            more |= self.tx.wants_more()?;
        }
        if outbox.free() >= CHUNK_ROOM {
            more |= self.rx.wants_more()?;
        }
        Ok(more)
    }

    fn byte(&mut self, b: u8, outbox: &mut Outbox) {
        let after_cr = core::mem::replace(&mut self.after_cr, b == b'\r');
        if b == b'\n' && after_cr {
            return;
        }
        if self.at_line_start {
            outbox.push(PREFIX);
            self.at_line_start = false;
            self.line_len = 0;
        }
        if b == b'\r' || b == b'\n' {
            outbox.push(b"\r\n");
            self.at_line_start = true;
            self.end_line();
        } else {
            outbox.push(&[b]);
            if let Some(slot) = self.line.get_mut(self.line_len) {
                *slot = b;
                self.line_len += 1;
            }
        }
    }

    fn end_line(&mut self) {
        self.lines += 1;
        if self.hold == Hold::Armed {
            self.hold = Hold::Holding;
            log!("holding: reading nothing until the receive ring is full");
        }
        if self.lines <= LOGGED_LINES {
            let text = core::str::from_utf8(&self.line[..self.line_len]).unwrap_or("(not UTF-8)");
            log!("echoed line {}: {text}", self.lines);
        } else if self.lines.is_multiple_of(COUNT_EVERY) {
            log!("echoed {} lines", self.lines);
        }
    }
}
