//! Layout-independent key identities.

/// Declares [`KeyCode`] with explicit values plus its checked conversion
/// from a byte, so the two can never disagree.
macro_rules! keycodes {
    ($($name:ident = $value:literal,)*) => {
        /// A physical key, independent of scancode set and layout.
        ///
        /// The values are the USB HID keyboard usage IDs (usage page 0x07),
        /// so the byte on the wire has a meaning outside this crate.
        #[allow(missing_docs)]
        #[repr(u8)]
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
        pub enum KeyCode {
            $($name = $value,)*
        }

        impl KeyCode {
            /// Every key, in value order.
            pub const ALL: &'static [KeyCode] = &[$(KeyCode::$name,)*];

            /// The key with HID usage `value`, if this crate knows it.
            pub const fn from_u8(value: u8) -> Option<Self> {
                match value {
                    $($value => Some(Self::$name),)*
                    _ => None,
                }
            }
        }
    };
}

keycodes! {
    A = 0x04, B = 0x05, C = 0x06, D = 0x07, E = 0x08, F = 0x09, G = 0x0A,
    H = 0x0B, I = 0x0C, J = 0x0D, K = 0x0E, L = 0x0F, M = 0x10, N = 0x11,
    O = 0x12, P = 0x13, Q = 0x14, R = 0x15, S = 0x16, T = 0x17, U = 0x18,
    V = 0x19, W = 0x1A, X = 0x1B, Y = 0x1C, Z = 0x1D,
    Digit1 = 0x1E, Digit2 = 0x1F, Digit3 = 0x20, Digit4 = 0x21, Digit5 = 0x22,
    Digit6 = 0x23, Digit7 = 0x24, Digit8 = 0x25, Digit9 = 0x26, Digit0 = 0x27,
    Enter = 0x28, Escape = 0x29, Backspace = 0x2A, Tab = 0x2B, Space = 0x2C,
    Minus = 0x2D, Equal = 0x2E, LeftBracket = 0x2F, RightBracket = 0x30,
    Backslash = 0x31, Semicolon = 0x33, Apostrophe = 0x34, Grave = 0x35,
    Comma = 0x36, Period = 0x37, Slash = 0x38, CapsLock = 0x39,
    F1 = 0x3A, F2 = 0x3B, F3 = 0x3C, F4 = 0x3D, F5 = 0x3E, F6 = 0x3F,
    F7 = 0x40, F8 = 0x41, F9 = 0x42, F10 = 0x43, F11 = 0x44, F12 = 0x45,
    PrintScreen = 0x46, ScrollLock = 0x47, Pause = 0x48, Insert = 0x49,
    Home = 0x4A, PageUp = 0x4B, Delete = 0x4C, End = 0x4D, PageDown = 0x4E,
    Right = 0x4F, Left = 0x50, Down = 0x51, Up = 0x52, NumLock = 0x53,
    KpSlash = 0x54, KpAsterisk = 0x55, KpMinus = 0x56, KpPlus = 0x57,
    KpEnter = 0x58, Kp1 = 0x59, Kp2 = 0x5A, Kp3 = 0x5B, Kp4 = 0x5C,
    Kp5 = 0x5D, Kp6 = 0x5E, Kp7 = 0x5F, Kp8 = 0x60, Kp9 = 0x61, Kp0 = 0x62,
    KpPeriod = 0x63, NonUsBackslash = 0x64, Menu = 0x65,
    LeftCtrl = 0xE0, LeftShift = 0xE1, LeftAlt = 0xE2, LeftGui = 0xE3,
    RightCtrl = 0xE4, RightShift = 0xE5, RightAlt = 0xE6, RightGui = 0xE7,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_u8_inverts_the_discriminant() {
        for &k in KeyCode::ALL {
            assert_eq!(KeyCode::from_u8(k as u8), Some(k));
        }
        assert_eq!(KeyCode::from_u8(0), None);
        assert_eq!(KeyCode::from_u8(0x32), None);
        assert_eq!(KeyCode::ALL.len(), 105);
    }
}
