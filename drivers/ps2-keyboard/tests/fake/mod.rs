//! A model of an i8042 with a keyboard on its first port: a one-byte-wide
//! output path with OBF, an input buffer that stays busy (IBF) for a few
//! status reads after each write, the configuration byte, the controller
//! tests, and a keyboard that ACKs its commands.

use std::collections::VecDeque;

use paddock_ps2_keyboard::regs::{command, keyboard, Status};
use paddock_ps2_keyboard::{Port, PortIo};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fault;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pending {
    None,
    ConfigByte,
    ScancodeSet,
}

pub struct FakeI8042 {
    pub config: u8,
    /// Bytes for the host, with their status error/aux bits.
    pub output: VecDeque<(u8, u8)>,
    /// Status reads left with IBF set.
    pub busy: u32,
    /// Status reads IBF stays set after each write.
    pub ibf_delay: u32,
    pub pending: Pending,
    pub keyboard_port_enabled: bool,
    pub scanning: bool,
    pub scancode_set: u8,
    pub self_test_reply: u8,
    pub port_test_reply: u8,
    pub bat_reply: u8,
    pub keyboard_present: bool,
    /// Answer RESEND to this many keyboard bytes first.
    pub resends: usize,
    pub ibf_stuck: bool,
    pub absent: bool,
    /// Writes made while IBF was set (lost on real hardware).
    pub writes_while_busy: usize,
    pub keyboard_bytes: Vec<u8>,
    pub commands: Vec<u8>,
    /// Fail the n-th access from now.
    pub fail_after: Option<usize>,
    pub accesses: usize,
}

impl Default for FakeI8042 {
    fn default() -> Self {
        Self {
            // What firmware typically leaves: IRQs on, system flag,
            // translation on.
            config: 0x47,
            output: VecDeque::new(),
            busy: 0,
            ibf_delay: 2,
            pending: Pending::None,
            keyboard_port_enabled: true,
            scanning: true,
            scancode_set: 2,
            self_test_reply: command::SELF_TEST_PASSED,
            port_test_reply: command::PORT_TEST_PASSED,
            bat_reply: keyboard::SELF_TEST_PASSED,
            keyboard_present: true,
            resends: 0,
            ibf_stuck: false,
            absent: false,
            writes_while_busy: 0,
            keyboard_bytes: Vec::new(),
            commands: Vec::new(),
            fail_after: None,
            accesses: 0,
        }
    }
}

impl FakeI8042 {
    /// The keyboard sends scancodes (raw; translation is not modelled).
    pub fn type_bytes(&mut self, bytes: &[u8]) {
        self.output.extend(bytes.iter().map(|&b| (b, 0)));
    }

    fn reply(&mut self, b: u8) {
        self.output.push_back((b, 0));
    }

    fn status(&mut self) -> u8 {
        let mut s = Status::SYSTEM;
        if let Some(&(_, bits)) = self.output.front() {
            s |= Status::OUTPUT_FULL | bits;
        }
        if self.ibf_stuck || self.busy > 0 {
            s |= Status::INPUT_FULL;
            self.busy = self.busy.saturating_sub(1);
        }
        s
    }

    fn controller_command(&mut self, cmd: u8) {
        self.commands.push(cmd);
        match cmd {
            command::READ_CONFIG => self.reply(self.config),
            command::WRITE_CONFIG => self.pending = Pending::ConfigByte,
            command::SELF_TEST => self.reply(self.self_test_reply),
            command::TEST_KEYBOARD_PORT => self.reply(self.port_test_reply),
            command::DISABLE_KEYBOARD => self.keyboard_port_enabled = false,
            command::ENABLE_KEYBOARD => self.keyboard_port_enabled = true,
            _ => {}
        }
    }

    fn keyboard_byte(&mut self, b: u8) {
        self.keyboard_bytes.push(b);
        if !self.keyboard_present || !self.keyboard_port_enabled {
            return;
        }
        if self.resends > 0 {
            self.resends -= 1;
            self.reply(keyboard::RESEND);
            return;
        }
        if self.pending == Pending::ScancodeSet {
            self.pending = Pending::None;
            self.scancode_set = b;
            self.reply(keyboard::ACK);
            return;
        }
        match b {
            keyboard::RESET => {
                self.reply(keyboard::ACK);
                self.reply(self.bat_reply);
                self.scanning = true;
            }
            keyboard::SET_SCANCODE_SET => {
                self.pending = Pending::ScancodeSet;
                self.reply(keyboard::ACK);
            }
            keyboard::ENABLE_SCANNING => {
                self.scanning = true;
                self.reply(keyboard::ACK);
            }
            keyboard::DISABLE_SCANNING => {
                self.scanning = false;
                self.reply(keyboard::ACK);
            }
            _ => self.reply(keyboard::RESEND),
        }
    }

    fn count(&mut self) -> Result<(), Fault> {
        self.accesses += 1;
        match self.fail_after {
            Some(0) => {
                self.fail_after = None;
                Err(Fault)
            }
            Some(n) => {
                self.fail_after = Some(n - 1);
                Ok(())
            }
            None => Ok(()),
        }
    }
}

impl PortIo for FakeI8042 {
    type Error = Fault;

    fn read8(&mut self, port: Port) -> Result<u8, Fault> {
        self.count()?;
        if self.absent {
            return Ok(0xFF);
        }
        Ok(match port {
            Port::Control => self.status(),
            Port::Data => self.output.pop_front().map_or(0, |(b, _)| b),
        })
    }

    fn write8(&mut self, port: Port, value: u8) -> Result<(), Fault> {
        self.count()?;
        if self.absent {
            return Ok(());
        }
        if self.busy > 0 || self.ibf_stuck {
            self.writes_while_busy += 1;
            return Ok(());
        }
        self.busy = self.ibf_delay;
        match port {
            Port::Control => {
                self.pending = Pending::None;
                self.controller_command(value);
            }
            Port::Data if self.pending == Pending::ConfigByte => {
                self.pending = Pending::None;
                self.config = value;
            }
            Port::Data => self.keyboard_byte(value),
        }
        Ok(())
    }
}
