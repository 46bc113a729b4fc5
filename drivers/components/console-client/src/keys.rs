//! Key events from the keyboard driver: logged, and typed lines collected.

use paddock_component_support::rings::Reader;
use paddock_ps2_keyboard::{KeyEvent, WIRE_SIZE};
use paddock_ring::PeerError;
use paddock_runtime::log;

use crate::outbox::Outbox;

/// Outbox room a typed line needs: prefix, line, CR LF.
const LINE_ROOM: usize = 16 + LINE + 2;
const LINE: usize = 64;

pub struct Keys {
    rx: Reader,
    /// A partly received event (only a misbehaving driver splits one).
    partial: [u8; WIRE_SIZE],
    got: usize,
    line: [u8; LINE],
    line_len: usize,
}

impl Keys {
    pub fn new(rx: Reader) -> Self {
        Self {
            rx,
            partial: [0; WIRE_SIZE],
            got: 0,
            line: [0; LINE],
            line_len: 0,
        }
    }

    /// Handles every event waiting; typed lines also go to `serial` if
    /// there is one (events wait while it has no room for a line).
    pub fn pump(&mut self, mut serial: Option<&mut Outbox>) -> Result<(), PeerError> {
        loop {
            if serial.as_ref().is_some_and(|o| o.free() < LINE_ROOM) {
                break;
            }
            let n = self.rx.io.read(&mut self.partial[self.got..])?;
            if n == 0 {
                break;
            }
            self.got += n;
            if self.got < WIRE_SIZE {
                continue;
            }
            self.got = 0;
            match KeyEvent::from_wire(&self.partial) {
                Ok(event) => self.event(&event, serial.as_deref_mut()),
                Err(e) => log!("invalid key event {:02x?}: {e:?}", self.partial),
            }
        }
        self.rx.publish();
        Ok(())
    }

    /// Before sleeping: asks for a signal when events arrive, unless
    /// waiting for room in `serial`; `true` if events arrived meanwhile.
    pub fn wants_more(&mut self, serial: Option<&Outbox>) -> Result<bool, PeerError> {
        if serial.is_some_and(|o| o.free() < LINE_ROOM) {
            return Ok(false);
        }
        self.rx.wants_more()
    }

    fn event(&mut self, e: &KeyEvent, serial: Option<&mut Outbox>) {
        let state = if e.pressed { "down" } else { "up" };
        match e.ascii {
            Some(c) if c.is_ascii_graphic() || c == b' ' => log!(
                "key {:?} {state} '{}' modifiers {:#04x}",
                e.code,
                c as char,
                e.modifiers.bits()
            ),
            _ => log!(
                "key {:?} {state} modifiers {:#04x}",
                e.code,
                e.modifiers.bits()
            ),
        }
        if !e.pressed {
            return;
        }
        match e.ascii {
            Some(b'\n' | b'\r') => {
                let text = core::str::from_utf8(&self.line[..self.line_len]).unwrap_or("");
                log!("typed: {text}");
                if let Some(out) = serial {
                    out.push(b"keyboard: ");
                    out.push(&self.line[..self.line_len]);
                    out.push(b"\r\n");
                }
                self.line_len = 0;
            }
            Some(8) => self.line_len = self.line_len.saturating_sub(1),
            Some(c) if c.is_ascii_graphic() || c == b' ' => {
                if let Some(slot) = self.line.get_mut(self.line_len) {
                    *slot = c;
                    self.line_len += 1;
                }
            }
            _ => {}
        }
    }
}
