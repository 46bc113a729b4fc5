//! Bringing up the i8042 and the keyboard behind it, and reading bytes
//! when IRQ 1 fires.

use crate::error::{Error, Step, Wait};
use crate::io::{Port, PortIo};
use crate::regs::{command, keyboard, ConfigByte, Status};
use crate::scancode::ScancodeSet;

/// Reads spent emptying stale bytes; the controller buffers one byte and
/// a keyboard at most a few more.
const FLUSH_LIMIT: usize = 32;

/// Times a keyboard command is sent again after a RESEND answer.
const MAX_RESENDS: usize = 3;

/// Bytes taken per [`Controller::read_available`] call, so a device that
/// reports data forever cannot keep the driver in its handler.
const MAX_READ_BATCH: usize = 16;

/// How the controller is brought up.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Config {
    /// Let the controller translate the keyboard's set 2 into set 1 (what
    /// BIOSes leave on); off, the host decodes set 2 itself.
    pub translate: bool,
    /// Status polls per wait for the controller. Each poll is a port
    /// read (a system call on seL4); QEMU answers at once, real
    /// controllers within a few hundred microseconds.
    pub poll_limit: u32,
    /// Status polls while the keyboard runs its self-test after a reset,
    /// which takes up to about a second on real keyboards.
    pub reset_poll_limit: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            translate: true,
            poll_limit: 100_000,
            reset_poll_limit: 2_000_000,
        }
    }
}

/// Counts of bytes [`Controller::read_available`] threw away.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Stats {
    /// Bytes from the mouse port (which this driver keeps disabled).
    pub aux_bytes: u32,
    /// Bytes received with a parity or timeout error.
    pub error_bytes: u32,
}

/// The i8042 with a keyboard on its first port.
pub struct Controller<P> {
    io: P,
    config: Config,
    stats: Stats,
}

impl<P: PortIo> Controller<P> {
    /// Wrap the ports; nothing is accessed until [`init`](Self::init).
    pub fn new(io: P, config: Config) -> Self {
        Self {
            io,
            config,
            stats: Stats::default(),
        }
    }

    /// Bring up the controller and the keyboard and enable IRQ 1.
    ///
    /// Disables both ports, empties the output buffer, masks both IRQs
    /// and translation while testing, runs the controller self-test and
    /// the keyboard port test, enables the port, resets the keyboard,
    /// selects set 2 on it, enables scanning, and finally writes a
    /// configuration byte with IRQ 1 on, the mouse port off and
    /// translation as configured. Every wait is bounded.
    ///
    /// Returns the scancode set the host will receive, for [`Decoder::new`](crate::Decoder::new).
    pub fn init(&mut self) -> Result<ScancodeSet, Error<P::Error>> {
        self.command(Step::DisablePorts, command::DISABLE_KEYBOARD)?;
        self.command(Step::DisablePorts, command::DISABLE_AUX)?;
        self.flush()?;

        let original = self.query(Step::ReadConfig, command::READ_CONFIG)?;
        let quiet =
            original & !(ConfigByte::KEYBOARD_IRQ | ConfigByte::AUX_IRQ | ConfigByte::TRANSLATE);
        self.write_config(quiet)?;

        let got = self.query(Step::ControllerSelfTest, command::SELF_TEST)?;
        if got != command::SELF_TEST_PASSED {
            return Err(Error::ControllerSelfTest { got });
        }
        // Some controllers reset their configuration during the self-test.
        self.write_config(quiet)?;

        let got = self.query(Step::PortTest, command::TEST_KEYBOARD_PORT)?;
        if got != command::PORT_TEST_PASSED {
            return Err(Error::PortTest { got });
        }
        self.command(Step::EnablePort, command::ENABLE_KEYBOARD)?;

        self.keyboard_command(Step::KeyboardReset, keyboard::RESET)?;
        let got = self.read_data(Step::KeyboardReset, self.config.reset_poll_limit)?;
        if got != keyboard::SELF_TEST_PASSED {
            return Err(Error::KeyboardSelfTest { got });
        }
        // The keyboard always speaks set 2; translation decides what the
        // host sees.
        self.keyboard_command(Step::SetScancodeSet, keyboard::SET_SCANCODE_SET)?;
        self.keyboard_command(Step::SetScancodeSet, 2)?;
        self.keyboard_command(Step::EnableScanning, keyboard::ENABLE_SCANNING)?;

        let mut running = (quiet | ConfigByte::KEYBOARD_IRQ | ConfigByte::AUX_DISABLED)
            & !(ConfigByte::KEYBOARD_DISABLED | ConfigByte::AUX_IRQ);
        if self.config.translate {
            running |= ConfigByte::TRANSLATE;
        }
        self.write_config(running)?;
        Ok(if self.config.translate {
            ScancodeSet::Set1
        } else {
            ScancodeSet::Set2
        })
    }

    /// Hand every waiting keyboard byte to `out`, up to a batch; called
    /// when IRQ 1 fires, before acking it. Mouse bytes and bytes with
    /// transfer errors are dropped and counted. Returns the bytes handed
    /// over.
    pub fn read_available(&mut self, out: &mut impl FnMut(u8)) -> Result<usize, Error<P::Error>> {
        let mut delivered = 0;
        for _ in 0..MAX_READ_BATCH {
            let status = self.status()?;
            if !status.output_full() {
                break;
            }
            let byte = self.read(Port::Data)?;
            if status.aux() {
                self.stats.aux_bytes = self.stats.aux_bytes.wrapping_add(1);
            } else if status.transfer_error() {
                self.stats.error_bytes = self.stats.error_bytes.wrapping_add(1);
            } else {
                out(byte);
                delivered += 1;
            }
        }
        Ok(delivered)
    }

    /// Bytes dropped so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The port accessor.
    pub fn io(&self) -> &P {
        &self.io
    }

    /// The port accessor, mutably (for tests that drive a device model).
    pub fn io_mut(&mut self) -> &mut P {
        &mut self.io
    }

    /// Give the port accessor back.
    pub fn into_inner(self) -> P {
        self.io
    }

    /// Send a controller command that has no answer.
    fn command(&mut self, step: Step, cmd: u8) -> Result<(), Error<P::Error>> {
        self.wait_input_empty(step)?;
        self.write(Port::Control, cmd)
    }

    /// Send a controller command and read its one-byte answer.
    fn query(&mut self, step: Step, cmd: u8) -> Result<u8, Error<P::Error>> {
        self.command(step, cmd)?;
        self.read_data(step, self.config.poll_limit)
    }

    fn write_config(&mut self, value: u8) -> Result<(), Error<P::Error>> {
        self.command(Step::WriteConfig, command::WRITE_CONFIG)?;
        self.wait_input_empty(Step::WriteConfig)?;
        self.write(Port::Data, value)
    }

    /// Send a byte to the keyboard and require an ACK, resending on
    /// request a bounded number of times.
    fn keyboard_command(&mut self, step: Step, byte: u8) -> Result<(), Error<P::Error>> {
        let mut got = keyboard::RESEND;
        for _ in 0..=MAX_RESENDS {
            self.wait_input_empty(step)?;
            self.write(Port::Data, byte)?;
            got = self.read_data(step, self.config.poll_limit)?;
            if got != keyboard::RESEND {
                break;
            }
        }
        if got == keyboard::ACK {
            Ok(())
        } else {
            Err(Error::Keyboard { step, got })
        }
    }

    /// Read and discard whatever is waiting.
    fn flush(&mut self) -> Result<(), Error<P::Error>> {
        for _ in 0..FLUSH_LIMIT {
            if !self.status()?.output_full() {
                return Ok(());
            }
            self.read(Port::Data)?;
        }
        Err(Error::FlushFailed)
    }

    fn wait_input_empty(&mut self, step: Step) -> Result<(), Error<P::Error>> {
        for _ in 0..self.config.poll_limit {
            if !self.status()?.input_full() {
                return Ok(());
            }
        }
        Err(Error::Timeout {
            step,
            wait: Wait::InputEmpty,
        })
    }

    fn read_data(&mut self, step: Step, polls: u32) -> Result<u8, Error<P::Error>> {
        for _ in 0..polls {
            if self.status()?.output_full() {
                return self.read(Port::Data);
            }
        }
        Err(Error::Timeout {
            step,
            wait: Wait::OutputFull,
        })
    }

    fn status(&mut self) -> Result<Status, Error<P::Error>> {
        self.read(Port::Control).map(Status)
    }

    fn read(&mut self, port: Port) -> Result<u8, Error<P::Error>> {
        self.io.read8(port).map_err(Error::Io)
    }

    fn write(&mut self, port: Port, value: u8) -> Result<(), Error<P::Error>> {
        self.io.write8(port, value).map_err(Error::Io)
    }
}
