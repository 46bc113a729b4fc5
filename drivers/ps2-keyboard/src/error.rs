//! Everything the controller code can report instead of panicking.

/// The initialisation step that failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Step {
    /// Disabling both ports so nothing interferes with setup.
    DisablePorts,
    /// Emptying the output buffer of stale bytes.
    Flush,
    /// Reading the configuration byte.
    ReadConfig,
    /// Writing the configuration byte.
    WriteConfig,
    /// The controller's self-test.
    ControllerSelfTest,
    /// The keyboard port test.
    PortTest,
    /// Enabling the keyboard port.
    EnablePort,
    /// Resetting the keyboard.
    KeyboardReset,
    /// Selecting scancode set 2.
    SetScancodeSet,
    /// Enabling scanning.
    EnableScanning,
}

/// What a bounded wait was waiting for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Wait {
    /// The controller to take the last byte written (IBF clear).
    InputEmpty,
    /// A byte from the controller or keyboard (OBF set).
    OutputFull,
}

/// A controller error; `E` is the [`PortIo`](crate::PortIo) error.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error<E> {
    /// A port access failed.
    Io(E),
    /// A wait ran out of polls. Waiting for input-empty in the first step
    /// usually means there is no controller (a floating bus reads 0xFF,
    /// which has IBF set); waiting for output in the keyboard steps, that
    /// no keyboard is plugged in.
    Timeout {
        /// Where.
        step: Step,
        /// For what.
        wait: Wait,
    },
    /// The output buffer stayed full after many reads.
    FlushFailed,
    /// The controller's self-test answered something other than 0x55.
    ControllerSelfTest {
        /// The answer.
        got: u8,
    },
    /// The keyboard port test answered a fault code (1: clock stuck low,
    /// 2: clock stuck high, 3: data stuck low, 4: data stuck high).
    PortTest {
        /// The answer.
        got: u8,
    },
    /// The keyboard answered a command with something other than ACK, or
    /// asked for it to be resent too many times.
    Keyboard {
        /// Where.
        step: Step,
        /// The answer.
        got: u8,
    },
    /// The keyboard's self-test after reset failed or answered nonsense.
    KeyboardSelfTest {
        /// The answer.
        got: u8,
    },
}

impl<E: core::fmt::Debug> core::fmt::Display for Error<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "port access failed: {e:?}"),
            Self::Timeout { step, wait } => {
                write!(f, "i8042: timed out in {step:?} waiting for {wait:?}")
            }
            Self::FlushFailed => write!(f, "i8042: output buffer never emptied"),
            Self::ControllerSelfTest { got } => {
                write!(
                    f,
                    "i8042: controller self-test answered {got:#04x}, expected 0x55"
                )
            }
            Self::PortTest { got } => {
                write!(f, "i8042: keyboard port test failed with code {got:#04x}")
            }
            Self::Keyboard { step, got } => {
                write!(f, "keyboard answered {got:#04x} in {step:?}, expected ACK")
            }
            Self::KeyboardSelfTest { got } => {
                write!(f, "keyboard self-test answered {got:#04x}, expected 0xaa")
            }
        }
    }
}
