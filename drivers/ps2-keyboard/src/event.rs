//! What the decoder produces.

use crate::keycode::KeyCode;

/// Modifier and lock state at the time of an event, after the event itself
/// has been applied (a Shift press reports `SHIFT`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Modifiers(pub u8);

impl Modifiers {
    /// Either Shift held.
    pub const SHIFT: Self = Self(1 << 0);
    /// Either Ctrl held.
    pub const CTRL: Self = Self(1 << 1);
    /// Either Alt held.
    pub const ALT: Self = Self(1 << 2);
    /// Either GUI ("Windows") key held.
    pub const GUI: Self = Self(1 << 3);
    /// Caps Lock on.
    pub const CAPS_LOCK: Self = Self(1 << 4);
    /// Num Lock on.
    pub const NUM_LOCK: Self = Self(1 << 5);
    /// Every defined bit.
    pub const ALL: Self = Self(0b11_1111);

    /// The raw bits.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// `self` with `other`'s bits set when `on`.
    pub const fn with_if(self, other: Self, on: bool) -> Self {
        if on {
            Self(self.0 | other.0)
        } else {
            self
        }
    }
}

/// A key went down (or repeated) or up.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KeyEvent {
    /// Which key.
    pub code: KeyCode,
    /// `true` for press and typematic repeat, `false` for release.
    pub pressed: bool,
    /// The character a US layout types for this press, if any. Always
    /// `None` on release.
    pub ascii: Option<u8>,
    /// Modifiers and locks after this event.
    pub modifiers: Modifiers,
}

/// A byte from the keyboard that is a reply to a command, not a key.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reply {
    /// 0xFA: command accepted.
    Ack,
    /// 0xFE: resend the last command.
    Resend,
    /// 0xEE: answer to the echo command.
    Echo,
    /// 0xAA (set 2 only: in set 1 it is Left Shift's release): the
    /// keyboard finished its power-on self-test, e.g. after being plugged
    /// in again.
    SelfTestPassed,
    /// 0xFC or 0xFD: the keyboard's self-test failed.
    SelfTestFailed(u8),
    /// 0x00 or 0xFF: key detection error or the keyboard's buffer overran;
    /// key presses were lost.
    Overrun(u8),
}

/// One decoded item.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Decoded {
    /// A key event.
    Key(KeyEvent),
    /// A keyboard reply.
    Reply(Reply),
    /// A complete scancode that no table knows: reported, then ignored.
    Unknown {
        /// Followed the 0xE0 (or 0xE1) prefix.
        extended: bool,
        /// The make code (set 1 with the release bit stripped).
        code: u8,
        /// It was a release.
        released: bool,
    },
}
