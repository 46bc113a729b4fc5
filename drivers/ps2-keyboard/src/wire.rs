//! A fixed four-byte form of [`KeyEvent`] for byte rings between
//! components.
//!
//! | byte | field |
//! | --- | --- |
//! | 0 | `code`: the [`KeyCode`] (HID usage ID) |
//! | 1 | `flags`: bit 0 pressed, bit 1 `ascii` valid, bits 2-7 [`Modifiers`] bits 0-5 |
//! | 2 | `ascii`: the character, 0 unless bit 1 of `flags` |
//! | 3 | reserved, 0 |
//!
//! The receiver is another component and may be handed anything, so
//! [`WireKeyEvent::decode`] checks every field.

use crate::event::{KeyEvent, Modifiers};
use crate::keycode::KeyCode;

/// Size of the wire form in bytes.
pub const WIRE_SIZE: usize = 4;

const PRESSED: u8 = 1 << 0;
const HAS_ASCII: u8 = 1 << 1;
const MODIFIER_SHIFT: u32 = 2;

/// The wire form; `#[repr(C)]`, four `u8`s, no padding, any alignment.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct WireKeyEvent {
    /// [`KeyCode`] value.
    pub code: u8,
    /// Pressed, ascii-valid and modifier bits.
    pub flags: u8,
    /// Character, or 0.
    pub ascii: u8,
    /// Must be 0.
    pub reserved: u8,
}

/// Why bytes are not a valid [`WireKeyEvent`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WireError {
    /// Fewer than [`WIRE_SIZE`] bytes.
    Short {
        /// Bytes available.
        len: usize,
    },
    /// `code` names no [`KeyCode`].
    UnknownCode(u8),
    /// The reserved byte is not zero.
    Reserved(u8),
    /// `ascii` is non-zero without the ascii-valid flag, or not 7-bit.
    Ascii(u8),
}

impl WireKeyEvent {
    /// The wire form of `event`.
    pub fn encode(event: &KeyEvent) -> Self {
        let mut flags = event.modifiers.bits() << MODIFIER_SHIFT;
        if event.pressed {
            flags |= PRESSED;
        }
        if event.ascii.is_some() {
            flags |= HAS_ASCII;
        }
        Self {
            code: event.code as u8,
            flags,
            ascii: event.ascii.unwrap_or(0),
            reserved: 0,
        }
    }

    /// The event, if every field is valid.
    pub fn decode(&self) -> Result<KeyEvent, WireError> {
        let code = KeyCode::from_u8(self.code).ok_or(WireError::UnknownCode(self.code))?;
        if self.reserved != 0 {
            return Err(WireError::Reserved(self.reserved));
        }
        let ascii = if self.flags & HAS_ASCII != 0 {
            if !self.ascii.is_ascii() {
                return Err(WireError::Ascii(self.ascii));
            }
            Some(self.ascii)
        } else if self.ascii != 0 {
            return Err(WireError::Ascii(self.ascii));
        } else {
            None
        };
        // Six modifier bits fill the byte above bit 1: nothing to reject.
        let modifiers = Modifiers(self.flags >> MODIFIER_SHIFT);
        Ok(KeyEvent {
            code,
            pressed: self.flags & PRESSED != 0,
            ascii,
            modifiers,
        })
    }

    /// The four bytes, in wire order.
    pub fn to_bytes(self) -> [u8; WIRE_SIZE] {
        [self.code, self.flags, self.ascii, self.reserved]
    }

    /// Read the first four bytes of `bytes` (no validation: see
    /// [`decode`](Self::decode)).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, WireError> {
        match *bytes {
            [code, flags, ascii, reserved, ..] => Ok(Self {
                code,
                flags,
                ascii,
                reserved,
            }),
            _ => Err(WireError::Short { len: bytes.len() }),
        }
    }
}

impl KeyEvent {
    /// Encode to the four wire bytes.
    pub fn to_wire(&self) -> [u8; WIRE_SIZE] {
        WireKeyEvent::encode(self).to_bytes()
    }

    /// Decode and validate the four wire bytes at the start of `bytes`.
    pub fn from_wire(bytes: &[u8]) -> Result<Self, WireError> {
        WireKeyEvent::from_bytes(bytes)?.decode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_is_four_bytes_without_padding() {
        assert_eq!(core::mem::size_of::<WireKeyEvent>(), WIRE_SIZE);
        assert_eq!(core::mem::align_of::<WireKeyEvent>(), 1);
    }

    #[test]
    fn every_key_and_flag_combination_round_trips() {
        for &code in KeyCode::ALL {
            for m in 0..=Modifiers::ALL.bits() {
                for pressed in [false, true] {
                    for ascii in [None, Some(0), Some(b'a'), Some(0x7F)] {
                        let e = KeyEvent {
                            code,
                            pressed,
                            ascii,
                            modifiers: Modifiers(m),
                        };
                        assert_eq!(KeyEvent::from_wire(&e.to_wire()), Ok(e));
                    }
                }
            }
        }
    }

    #[test]
    fn invalid_bytes_are_rejected() {
        assert_eq!(
            KeyEvent::from_wire(&[0x04, 0, 0]),
            Err(WireError::Short { len: 3 })
        );
        assert_eq!(
            KeyEvent::from_wire(&[0x00, 0, 0, 0]),
            Err(WireError::UnknownCode(0))
        );
        assert_eq!(
            KeyEvent::from_wire(&[0x04, 0, 0, 1]),
            Err(WireError::Reserved(1))
        );
        assert_eq!(
            KeyEvent::from_wire(&[0x04, 0, b'a', 0]),
            Err(WireError::Ascii(b'a'))
        );
        assert_eq!(
            KeyEvent::from_wire(&[0x04, HAS_ASCII, 0x80, 0]),
            Err(WireError::Ascii(0x80))
        );
    }

    #[test]
    fn any_four_bytes_decode_or_fail_without_panicking() {
        for code in 0..=255u8 {
            for flags in 0..=255u8 {
                let _ = KeyEvent::from_wire(&[code, flags, flags.wrapping_mul(7), code & 1]);
            }
        }
    }
}
