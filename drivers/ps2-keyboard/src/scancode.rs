//! Scancode-to-key tables for sets 1 and 2, from the IBM PC/AT and
//! Microsoft keyboard scan code specifications.
//!
//! Each set has a table for single-byte codes and one for codes after the
//! 0xE0 prefix. Set 1 indexes by the make code (the release bit 0x80
//! stripped); set 2 by the byte after any 0xF0 break prefix.

use crate::keycode::KeyCode;
use KeyCode::*;

/// Which scancode set the host receives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ScancodeSet {
    /// XT codes: what the host sees with the i8042's translation on.
    Set1,
    /// AT codes: what the keyboard sends, seen with translation off.
    Set2,
}

type Table = [Option<KeyCode>; 256];

const fn table(pairs: &[(u8, KeyCode)]) -> Table {
    let mut t = [None; 256];
    let mut i = 0;
    while i < pairs.len() {
        t[pairs[i].0 as usize] = Some(pairs[i].1);
        i += 1;
    }
    t
}

#[rustfmt::skip]
static SET1: Table = table(&[
    (0x01, Escape), (0x02, Digit1), (0x03, Digit2), (0x04, Digit3), (0x05, Digit4),
    (0x06, Digit5), (0x07, Digit6), (0x08, Digit7), (0x09, Digit8), (0x0A, Digit9),
    (0x0B, Digit0), (0x0C, Minus), (0x0D, Equal), (0x0E, Backspace), (0x0F, Tab),
    (0x10, Q), (0x11, W), (0x12, E), (0x13, R), (0x14, T), (0x15, Y), (0x16, U),
    (0x17, I), (0x18, O), (0x19, P), (0x1A, LeftBracket), (0x1B, RightBracket),
    (0x1C, Enter), (0x1D, LeftCtrl), (0x1E, A), (0x1F, S), (0x20, D), (0x21, F),
    (0x22, G), (0x23, H), (0x24, J), (0x25, K), (0x26, L), (0x27, Semicolon),
    (0x28, Apostrophe), (0x29, Grave), (0x2A, LeftShift), (0x2B, Backslash),
    (0x2C, Z), (0x2D, X), (0x2E, C), (0x2F, V), (0x30, B), (0x31, N), (0x32, M),
    (0x33, Comma), (0x34, Period), (0x35, Slash), (0x36, RightShift),
    (0x37, KpAsterisk), (0x38, LeftAlt), (0x39, Space), (0x3A, CapsLock),
    (0x3B, F1), (0x3C, F2), (0x3D, F3), (0x3E, F4), (0x3F, F5), (0x40, F6),
    (0x41, F7), (0x42, F8), (0x43, F9), (0x44, F10), (0x45, NumLock),
    (0x46, ScrollLock), (0x47, Kp7), (0x48, Kp8), (0x49, Kp9), (0x4A, KpMinus),
    (0x4B, Kp4), (0x4C, Kp5), (0x4D, Kp6), (0x4E, KpPlus), (0x4F, Kp1),
    (0x50, Kp2), (0x51, Kp3), (0x52, Kp0), (0x53, KpPeriod), (0x56, NonUsBackslash),
    (0x57, F11), (0x58, F12),
]);

#[rustfmt::skip]
static SET1_E0: Table = table(&[
    (0x1C, KpEnter), (0x1D, RightCtrl), (0x35, KpSlash), (0x37, PrintScreen),
    (0x38, RightAlt), (0x46, Pause), (0x47, Home), (0x48, Up), (0x49, PageUp),
    (0x4B, Left), (0x4D, Right), (0x4F, End), (0x50, Down), (0x51, PageDown),
    (0x52, Insert), (0x53, Delete), (0x5B, LeftGui), (0x5C, RightGui), (0x5D, Menu),
]);

#[rustfmt::skip]
static SET2: Table = table(&[
    (0x76, Escape), (0x16, Digit1), (0x1E, Digit2), (0x26, Digit3), (0x25, Digit4),
    (0x2E, Digit5), (0x36, Digit6), (0x3D, Digit7), (0x3E, Digit8), (0x46, Digit9),
    (0x45, Digit0), (0x4E, Minus), (0x55, Equal), (0x66, Backspace), (0x0D, Tab),
    (0x15, Q), (0x1D, W), (0x24, E), (0x2D, R), (0x2C, T), (0x35, Y), (0x3C, U),
    (0x43, I), (0x44, O), (0x4D, P), (0x54, LeftBracket), (0x5B, RightBracket),
    (0x5A, Enter), (0x14, LeftCtrl), (0x1C, A), (0x1B, S), (0x23, D), (0x2B, F),
    (0x34, G), (0x33, H), (0x3B, J), (0x42, K), (0x4B, L), (0x4C, Semicolon),
    (0x52, Apostrophe), (0x0E, Grave), (0x12, LeftShift), (0x5D, Backslash),
    (0x1A, Z), (0x22, X), (0x21, C), (0x2A, V), (0x32, B), (0x31, N), (0x3A, M),
    (0x41, Comma), (0x49, Period), (0x4A, Slash), (0x59, RightShift),
    (0x7C, KpAsterisk), (0x11, LeftAlt), (0x29, Space), (0x58, CapsLock),
    (0x05, F1), (0x06, F2), (0x04, F3), (0x0C, F4), (0x03, F5), (0x0B, F6),
    (0x83, F7), (0x0A, F8), (0x01, F9), (0x09, F10), (0x77, NumLock),
    (0x7E, ScrollLock), (0x6C, Kp7), (0x75, Kp8), (0x7D, Kp9), (0x7B, KpMinus),
    (0x6B, Kp4), (0x73, Kp5), (0x74, Kp6), (0x79, KpPlus), (0x69, Kp1),
    (0x72, Kp2), (0x7A, Kp3), (0x70, Kp0), (0x71, KpPeriod), (0x61, NonUsBackslash),
    (0x78, F11), (0x07, F12),
]);

#[rustfmt::skip]
static SET2_E0: Table = table(&[
    (0x5A, KpEnter), (0x14, RightCtrl), (0x4A, KpSlash), (0x7C, PrintScreen),
    (0x11, RightAlt), (0x7E, Pause), (0x6C, Home), (0x75, Up), (0x7D, PageUp),
    (0x6B, Left), (0x74, Right), (0x69, End), (0x72, Down), (0x7A, PageDown),
    (0x70, Insert), (0x71, Delete), (0x1F, LeftGui), (0x27, RightGui), (0x2F, Menu),
]);

/// The key for `code` in `set`, `extended` if it followed 0xE0. For set 1,
/// `code` is the make code (release bit already stripped).
pub fn lookup(set: ScancodeSet, extended: bool, code: u8) -> Option<KeyCode> {
    let table = match (set, extended) {
        (ScancodeSet::Set1, false) => &SET1,
        (ScancodeSet::Set1, true) => &SET1_E0,
        (ScancodeSet::Set2, false) => &SET2,
        (ScancodeSet::Set2, true) => &SET2_E0,
    };
    table[usize::from(code)]
}

/// Codes after 0xE0 that some keyboards send around navigation keys and
/// Print Screen to cancel or fake a Shift for the host ("fake shifts").
/// They are not key presses and must not change the Shift state.
pub fn is_fake_shift(set: ScancodeSet, code: u8) -> bool {
    match set {
        ScancodeSet::Set1 => matches!(code, 0x2A | 0x36),
        ScancodeSet::Set2 => matches!(code, 0x12 | 0x59),
    }
}
