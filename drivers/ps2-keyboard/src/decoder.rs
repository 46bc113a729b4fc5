//! Turns the byte stream from the keyboard into key events.

use crate::ascii::ascii;
use crate::event::{Decoded, KeyEvent, Modifiers, Reply};
use crate::keycode::KeyCode;
use crate::scancode::{is_fake_shift, lookup, ScancodeSet};

/// Where the decoder is inside a multi-byte scancode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Idle,
    /// After 0xE0.
    Extended,
    /// Set 2, after 0xF0.
    Break,
    /// Set 2, after 0xE0 0xF0.
    ExtendedBreak,
    /// After 0xE1: the Pause key's sequence (E1 1D 45 / E1 9D C5 in set 1,
    /// E1 14 77 / E1 F0 14 F0 77 in set 2). `got` bytes of its two codes
    /// are collected in `codes`; `released` is the break form.
    Pause {
        got: u8,
        codes: [u8; 2],
        released: bool,
    },
}

/// Held keys that change what other keys type.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
struct Held {
    left_shift: bool,
    right_shift: bool,
    left_ctrl: bool,
    right_ctrl: bool,
    left_alt: bool,
    right_alt: bool,
    left_gui: bool,
    right_gui: bool,
    /// Lock keys currently down, so that typematic repeat of a held lock
    /// key does not toggle it again.
    caps_down: bool,
    num_down: bool,
    scroll_down: bool,
}

/// A scancode decoder for one keyboard.
///
/// Feed it every byte read from the data port, in order; it never panics
/// and recovers from any byte sequence at the next complete scancode.
#[derive(Clone, Debug)]
pub struct Decoder {
    set: ScancodeSet,
    state: State,
    held: Held,
    caps_lock: bool,
    num_lock: bool,
    scroll_lock: bool,
}

impl Decoder {
    /// A decoder for `set`, all keys up and all locks off.
    pub fn new(set: ScancodeSet) -> Self {
        Self {
            set,
            state: State::Idle,
            held: Held::default(),
            caps_lock: false,
            num_lock: false,
            scroll_lock: false,
        }
    }

    /// The scancode set being decoded.
    pub fn set(&self) -> ScancodeSet {
        self.set
    }

    /// Current modifiers and locks.
    pub fn modifiers(&self) -> Modifiers {
        let h = &self.held;
        Modifiers::default()
            .with_if(Modifiers::SHIFT, h.left_shift || h.right_shift)
            .with_if(Modifiers::CTRL, h.left_ctrl || h.right_ctrl)
            .with_if(Modifiers::ALT, h.left_alt || h.right_alt)
            .with_if(Modifiers::GUI, h.left_gui || h.right_gui)
            .with_if(Modifiers::CAPS_LOCK, self.caps_lock)
            .with_if(Modifiers::NUM_LOCK, self.num_lock)
    }

    /// Keyboard LED bits for the "set LEDs" command (0xED): Scroll Lock
    /// bit 0, Num Lock bit 1, Caps Lock bit 2.
    pub fn leds(&self) -> u8 {
        u8::from(self.scroll_lock) | u8::from(self.num_lock) << 1 | u8::from(self.caps_lock) << 2
    }

    /// Consume one byte; `None` while inside a multi-byte sequence or for
    /// bytes that carry nothing (fake shifts).
    pub fn feed(&mut self, byte: u8) -> Option<Decoded> {
        match self.set {
            ScancodeSet::Set1 => self.feed_set1(byte),
            ScancodeSet::Set2 => self.feed_set2(byte),
        }
    }

    fn feed_set1(&mut self, byte: u8) -> Option<Decoded> {
        match self.state {
            State::Idle => match byte {
                0xE0 => self.enter(State::Extended),
                0xE1 => self.enter(State::Pause {
                    got: 0,
                    codes: [0; 2],
                    released: false,
                }),
                // In set 1 0xAA is Left Shift's release, so only these
                // bytes are unambiguous replies.
                0xFA | 0xFE | 0xEE | 0xFC | 0xFD | 0x00 | 0xFF => reply(byte),
                _ => self.key(false, byte & 0x7F, byte & 0x80 != 0),
            },
            State::Extended => {
                self.state = State::Idle;
                let code = byte & 0x7F;
                if is_fake_shift(self.set, code) {
                    return None;
                }
                self.key(true, code, byte & 0x80 != 0)
            }
            State::Pause { got, mut codes, .. } => {
                codes[usize::from(got)] = byte;
                if got == 0 {
                    self.state = State::Pause {
                        got: 1,
                        codes,
                        released: false,
                    };
                    return None;
                }
                self.state = State::Idle;
                let released = codes[0] & 0x80 != 0;
                self.pause([codes[0] & 0x7F, codes[1] & 0x7F], [0x1D, 0x45], released)
            }
            // Set 2 states cannot occur in set 1.
            State::Break | State::ExtendedBreak => {
                self.state = State::Idle;
                self.feed_set1(byte)
            }
        }
    }

    fn feed_set2(&mut self, byte: u8) -> Option<Decoded> {
        // No set 2 scancode continues with these, so they are replies
        // wherever they appear; a sequence they interrupt is abandoned.
        if matches!(byte, 0xFA | 0xFE | 0xEE | 0xAA | 0xFC | 0xFD | 0x00 | 0xFF) {
            self.state = State::Idle;
            return reply(byte);
        }
        match self.state {
            State::Idle => match byte {
                0xE0 => self.enter(State::Extended),
                0xF0 => self.enter(State::Break),
                0xE1 => self.enter(State::Pause {
                    got: 0,
                    codes: [0; 2],
                    released: false,
                }),
                _ => self.key(false, byte, false),
            },
            State::Extended => match byte {
                0xF0 => self.enter(State::ExtendedBreak),
                _ => {
                    self.state = State::Idle;
                    if is_fake_shift(self.set, byte) {
                        return None;
                    }
                    self.key(true, byte, false)
                }
            },
            State::Break => {
                self.state = State::Idle;
                self.prefix_in_wrong_place(byte)
                    .or_else(|| self.key(false, byte, true))
            }
            State::ExtendedBreak => {
                self.state = State::Idle;
                if is_fake_shift(self.set, byte) {
                    return None;
                }
                self.prefix_in_wrong_place(byte)
                    .or_else(|| self.key(true, byte, true))
            }
            State::Pause {
                got,
                mut codes,
                released,
            } => {
                if byte == 0xF0 {
                    self.state = State::Pause {
                        got,
                        codes,
                        released: true,
                    };
                    return None;
                }
                codes[usize::from(got)] = byte;
                if got == 0 {
                    self.state = State::Pause {
                        got: 1,
                        codes,
                        released,
                    };
                    return None;
                }
                self.state = State::Idle;
                self.pause(codes, [0x14, 0x77], released)
            }
        }
    }

    /// A prefix byte where a code was due: report it and resynchronise.
    fn prefix_in_wrong_place(&self, byte: u8) -> Option<Decoded> {
        matches!(byte, 0xE0 | 0xE1 | 0xF0).then_some(Decoded::Unknown {
            extended: false,
            code: byte,
            released: true,
        })
    }

    fn enter(&mut self, state: State) -> Option<Decoded> {
        self.state = state;
        None
    }

    fn pause(&mut self, codes: [u8; 2], expected: [u8; 2], released: bool) -> Option<Decoded> {
        if codes != expected {
            return Some(Decoded::Unknown {
                extended: true,
                code: codes[0],
                released,
            });
        }
        Some(Decoded::Key(self.event(KeyCode::Pause, !released)))
    }

    fn key(&mut self, extended: bool, code: u8, released: bool) -> Option<Decoded> {
        match lookup(self.set, extended, code) {
            Some(key) => {
                self.track(key, !released);
                Some(Decoded::Key(self.event(key, !released)))
            }
            None => Some(Decoded::Unknown {
                extended,
                code,
                released,
            }),
        }
    }

    fn event(&self, code: KeyCode, pressed: bool) -> KeyEvent {
        let modifiers = self.modifiers();
        let ascii = if pressed {
            ascii(code, modifiers)
        } else {
            None
        };
        KeyEvent {
            code,
            pressed,
            ascii,
            modifiers,
        }
    }

    /// Update held modifiers and toggle locks on their first press.
    fn track(&mut self, key: KeyCode, down: bool) {
        let h = &mut self.held;
        let toggle = |flag: &mut bool, lock: &mut bool| {
            if down && !*flag {
                *lock = !*lock;
            }
            *flag = down;
        };
        match key {
            KeyCode::LeftShift => h.left_shift = down,
            KeyCode::RightShift => h.right_shift = down,
            KeyCode::LeftCtrl => h.left_ctrl = down,
            KeyCode::RightCtrl => h.right_ctrl = down,
            KeyCode::LeftAlt => h.left_alt = down,
            KeyCode::RightAlt => h.right_alt = down,
            KeyCode::LeftGui => h.left_gui = down,
            KeyCode::RightGui => h.right_gui = down,
            KeyCode::CapsLock => toggle(&mut h.caps_down, &mut self.caps_lock),
            KeyCode::NumLock => toggle(&mut h.num_down, &mut self.num_lock),
            KeyCode::ScrollLock => toggle(&mut h.scroll_down, &mut self.scroll_lock),
            _ => {}
        }
    }
}

fn reply(byte: u8) -> Option<Decoded> {
    Some(Decoded::Reply(match byte {
        0xFA => Reply::Ack,
        0xFE => Reply::Resend,
        0xEE => Reply::Echo,
        0xAA => Reply::SelfTestPassed,
        0xFC | 0xFD => Reply::SelfTestFailed(byte),
        _ => Reply::Overrun(byte),
    }))
}
