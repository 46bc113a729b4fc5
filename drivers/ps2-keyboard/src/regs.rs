//! The i8042 controller's registers and command bytes, and the keyboard's
//! command bytes.

/// Status register (read from port 0x64).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Status(pub u8);

impl Status {
    /// Output buffer full: a byte waits at port 0x60 for the host.
    pub const OUTPUT_FULL: u8 = 1 << 0;
    /// Input buffer full: the controller has not yet taken the last byte
    /// written; writing now would lose it.
    pub const INPUT_FULL: u8 = 1 << 1;
    /// System flag, set once the controller passed its self-test.
    pub const SYSTEM: u8 = 1 << 2;
    /// The last write went to the command register (not data).
    pub const COMMAND: u8 = 1 << 3;
    /// Keyboard inhibited (keylock), on controllers that have one.
    pub const INHIBIT: u8 = 1 << 4;
    /// The byte in the output buffer came from the second (mouse) port.
    pub const AUX_DATA: u8 = 1 << 5;
    /// The device did not answer in time.
    pub const TIMEOUT: u8 = 1 << 6;
    /// The byte arrived with a parity error.
    pub const PARITY: u8 = 1 << 7;

    /// A byte is waiting for the host.
    pub const fn output_full(self) -> bool {
        self.0 & Self::OUTPUT_FULL != 0
    }

    /// The controller is still busy with the last byte written.
    pub const fn input_full(self) -> bool {
        self.0 & Self::INPUT_FULL != 0
    }

    /// The waiting byte is from the mouse port.
    pub const fn aux(self) -> bool {
        self.0 & Self::AUX_DATA != 0
    }

    /// The waiting byte arrived with a timeout or parity error.
    pub const fn transfer_error(self) -> bool {
        self.0 & (Self::TIMEOUT | Self::PARITY) != 0
    }
}

/// The controller configuration byte (commands 0x20/0x60).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ConfigByte(pub u8);

impl ConfigByte {
    /// Raise IRQ 1 when the keyboard port has a byte.
    pub const KEYBOARD_IRQ: u8 = 1 << 0;
    /// Raise IRQ 12 when the mouse port has a byte.
    pub const AUX_IRQ: u8 = 1 << 1;
    /// System flag (mirrors the status bit).
    pub const SYSTEM: u8 = 1 << 2;
    /// Keyboard port clock disabled.
    pub const KEYBOARD_DISABLED: u8 = 1 << 4;
    /// Mouse port clock disabled.
    pub const AUX_DISABLED: u8 = 1 << 5;
    /// Translate set 2 from the keyboard to set 1 for the host.
    pub const TRANSLATE: u8 = 1 << 6;
}

/// Commands written to port 0x64.
pub mod command {
    /// Read the configuration byte (answer at 0x60).
    pub const READ_CONFIG: u8 = 0x20;
    /// Write the configuration byte (argument at 0x60).
    pub const WRITE_CONFIG: u8 = 0x60;
    /// Disable the mouse port.
    pub const DISABLE_AUX: u8 = 0xA7;
    /// Controller self-test; answers [`SELF_TEST_PASSED`].
    pub const SELF_TEST: u8 = 0xAA;
    /// Test the keyboard port; answers [`PORT_TEST_PASSED`] or a fault code.
    pub const TEST_KEYBOARD_PORT: u8 = 0xAB;
    /// Disable the keyboard port.
    pub const DISABLE_KEYBOARD: u8 = 0xAD;
    /// Enable the keyboard port.
    pub const ENABLE_KEYBOARD: u8 = 0xAE;
    /// Answer to [`SELF_TEST`] from a working controller.
    pub const SELF_TEST_PASSED: u8 = 0x55;
    /// Answer to [`TEST_KEYBOARD_PORT`] when clock and data lines work.
    pub const PORT_TEST_PASSED: u8 = 0x00;
}

/// Commands written to port 0x60 for the keyboard, and its answers.
pub mod keyboard {
    /// Set the LEDs (argument: Scroll bit 0, Num bit 1, Caps bit 2).
    pub const SET_LEDS: u8 = 0xED;
    /// Answer with [`ECHO`].
    pub const ECHO_COMMAND: u8 = 0xEE;
    /// Select the scancode set (argument 1, 2 or 3).
    pub const SET_SCANCODE_SET: u8 = 0xF0;
    /// Start sending scancodes.
    pub const ENABLE_SCANNING: u8 = 0xF4;
    /// Stop sending scancodes.
    pub const DISABLE_SCANNING: u8 = 0xF5;
    /// Reset and run the power-on self-test; answers [`ACK`] then
    /// [`SELF_TEST_PASSED`].
    pub const RESET: u8 = 0xFF;
    /// Command accepted.
    pub const ACK: u8 = 0xFA;
    /// Send the last byte again.
    pub const RESEND: u8 = 0xFE;
    /// Answer to [`ECHO_COMMAND`].
    pub const ECHO: u8 = 0xEE;
    /// Self-test passed.
    pub const SELF_TEST_PASSED: u8 = 0xAA;
    /// Self-test failed (either value).
    pub const SELF_TEST_FAILED: [u8; 2] = [0xFC, 0xFD];
}
