//! The characters a US keyboard layout types.

use crate::event::Modifiers;
use crate::keycode::KeyCode::{self, *};

/// The ASCII byte for a press of `code` under `mods`, if it types one.
///
/// Letters follow Shift xor Caps Lock, and with Ctrl become control codes
/// (Ctrl+C is 0x03). Digits and punctuation follow Shift only. Keypad
/// digits and the keypad point type only with Num Lock on. Enter types
/// `\n`.
pub fn ascii(code: KeyCode, mods: Modifiers) -> Option<u8> {
    let shift = mods.contains(Modifiers::SHIFT);
    if let Some(lower) = letter(code) {
        if mods.contains(Modifiers::CTRL) {
            return Some(lower - b'a' + 1);
        }
        let upper = shift != mods.contains(Modifiers::CAPS_LOCK);
        return Some(if upper {
            lower.to_ascii_uppercase()
        } else {
            lower
        });
    }
    if let Some((plain, shifted)) = symbol(code) {
        return Some(if shift { shifted } else { plain });
    }
    if let Some(c) = keypad(code) {
        let needs_num_lock = c.is_ascii_digit() || c == b'.';
        return (!needs_num_lock || mods.contains(Modifiers::NUM_LOCK)).then_some(c);
    }
    match code {
        Enter | KpEnter => Some(b'\n'),
        Space => Some(b' '),
        Tab => Some(b'\t'),
        Backspace => Some(0x08),
        Escape => Some(0x1B),
        Delete => Some(0x7F),
        _ => None,
    }
}

fn letter(code: KeyCode) -> Option<u8> {
    let v = code as u8;
    (A as u8..=Z as u8)
        .contains(&v)
        .then(|| b'a' + (v - A as u8))
}

fn symbol(code: KeyCode) -> Option<(u8, u8)> {
    Some(match code {
        Digit1 => (b'1', b'!'),
        Digit2 => (b'2', b'@'),
        Digit3 => (b'3', b'#'),
        Digit4 => (b'4', b'$'),
        Digit5 => (b'5', b'%'),
        Digit6 => (b'6', b'^'),
        Digit7 => (b'7', b'&'),
        Digit8 => (b'8', b'*'),
        Digit9 => (b'9', b'('),
        Digit0 => (b'0', b')'),
        Minus => (b'-', b'_'),
        Equal => (b'=', b'+'),
        LeftBracket => (b'[', b'{'),
        RightBracket => (b']', b'}'),
        Backslash | NonUsBackslash => (b'\\', b'|'),
        Semicolon => (b';', b':'),
        Apostrophe => (b'\'', b'"'),
        Grave => (b'`', b'~'),
        Comma => (b',', b'<'),
        Period => (b'.', b'>'),
        Slash => (b'/', b'?'),
        _ => return None,
    })
}

fn keypad(code: KeyCode) -> Option<u8> {
    Some(match code {
        KpSlash => b'/',
        KpAsterisk => b'*',
        KpMinus => b'-',
        KpPlus => b'+',
        KpPeriod => b'.',
        Kp0 => b'0',
        Kp1 => b'1',
        Kp2 => b'2',
        Kp3 => b'3',
        Kp4 => b'4',
        Kp5 => b'5',
        Kp6 => b'6',
        Kp7 => b'7',
        Kp8 => b'8',
        Kp9 => b'9',
        _ => return None,
    })
}
