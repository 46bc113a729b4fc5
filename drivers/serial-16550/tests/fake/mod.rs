//! A model of a 16550A's register block, precise enough to check the
//! driver's register protocol: DLAB banking, 16-byte FIFOs, LSR bits that
//! clear on read, IIR priorities and their clearing rules, overrun when
//! the receive FIFO is full, and loopback.
//!
//! Simplification: the character-timeout interrupt is pending whenever the
//! receive FIFO holds fewer bytes than the trigger level (a real UART waits
//! four character times first).

use std::collections::VecDeque;

use paddock_serial_16550::regs::{offset, Fcr, Ier, InterruptId, Lsr, Mcr, Msr, FIFO_DEPTH};
use paddock_serial_16550::PortIo;

/// Why a port access failed in the model (an injected fault).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fault {
    pub offset: u8,
    pub write: bool,
}

/// One register access as the driver made it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Access {
    Read(u8, u8),
    Write(u8, u8),
}

#[derive(Clone, Copy, Default)]
pub struct RxByte {
    pub byte: u8,
    /// LSR error bits that describe this byte (PE, FE, BI); reported
    /// while it is at the head of the FIFO until LSR is read.
    pub errors: u8,
}

pub struct Fake16550 {
    pub dll: u8,
    pub dlm: u8,
    pub ier: u8,
    pub lcr: u8,
    pub mcr: u8,
    pub scr: u8,
    pub fifo_enabled: bool,
    /// Receive trigger level in bytes.
    pub trigger: usize,
    pub rx: VecDeque<RxByte>,
    pub tx: VecDeque<u8>,
    /// Bytes the transmitter has put on the wire.
    pub wire: Vec<u8>,
    /// Bytes that made it into the receive FIFO (not lost to overrun).
    pub accepted: Vec<u8>,
    pub overrun: bool,
    /// THR-empty interrupt latched; cleared by an IIR read reporting it or
    /// a THR write.
    pub thre_pending: bool,
    pub msr_delta: u8,
    /// Bytes written while the transmit FIFO was full (lost: a driver bug).
    pub tx_overflows: usize,
    /// Every access in order.
    pub log: Vec<Access>,
    /// No UART here: reads float to 0xFF, writes go nowhere.
    pub absent: bool,
    /// Scratch register not implemented (reads 0): an 8250 or a non-UART.
    pub no_scratch: bool,
    /// Loopback not wired (MSR always reads 0).
    pub no_loopback: bool,
    /// FIFOs that never enable (a 16450).
    pub no_fifo: bool,
    /// Fail the n-th access from now (0-based) matching `fail_filter`.
    pub fail_after: Option<usize>,
    pub fail_filter: Option<(u8, bool)>,
    /// IIR returns this value forever instead of the modelled one.
    pub stuck_iir: Option<u8>,
    /// Bytes written to THR go on the wire at once and THR-empty is raised
    /// again, as QEMU's 16550 does.
    pub instant_tx: bool,
}

impl Default for Fake16550 {
    fn default() -> Self {
        Self {
            dll: 0x0c,
            dlm: 0,
            ier: 0,
            lcr: 0,
            mcr: 0,
            scr: 0,
            fifo_enabled: false,
            trigger: 1,
            rx: VecDeque::new(),
            tx: VecDeque::new(),
            wire: Vec::new(),
            accepted: Vec::new(),
            overrun: false,
            thre_pending: false,
            msr_delta: 0,
            tx_overflows: 0,
            log: Vec::new(),
            absent: false,
            no_scratch: false,
            no_loopback: false,
            no_fifo: false,
            fail_after: None,
            fail_filter: None,
            stuck_iir: None,
            instant_tx: false,
        }
    }
}

impl Fake16550 {
    fn depth(&self) -> usize {
        if self.fifo_enabled {
            FIFO_DEPTH as usize
        } else {
            1
        }
    }

    fn dlab(&self) -> bool {
        self.lcr & 0x80 != 0
    }

    /// A byte arrives on the line.
    pub fn receive(&mut self, byte: u8) {
        self.receive_with(byte, 0);
    }

    /// A byte arrives with receive errors (LSR PE/FE/BI bits).
    pub fn receive_with(&mut self, byte: u8, errors: u8) {
        if self.rx.len() >= self.depth() {
            self.overrun = true;
            return;
        }
        self.rx.push_back(RxByte { byte, errors });
        self.accepted.push(byte);
    }

    /// A break condition: a NUL with BI.
    pub fn receive_break(&mut self) {
        self.receive_with(0, Lsr::BREAK.bits());
    }

    pub fn rx_len(&self) -> usize {
        self.rx.len()
    }

    pub fn tx_len(&self) -> usize {
        self.tx.len()
    }

    /// The transmitter sends up to `n` bytes from its FIFO.
    pub fn shift_out(&mut self, n: usize) {
        for _ in 0..n {
            match self.tx.pop_front() {
                Some(b) => self.wire.push(b),
                None => break,
            }
        }
        if self.tx.is_empty() && n > 0 {
            self.thre_pending = true;
        }
    }

    fn lsr(&self) -> u8 {
        let mut lsr = 0;
        if let Some(head) = self.rx.front() {
            lsr |= Lsr::DATA_READY.bits() | head.errors;
        }
        if self.overrun {
            lsr |= Lsr::OVERRUN.bits();
        }
        if self.tx.is_empty() {
            lsr |= Lsr::THR_EMPTY.bits() | Lsr::TX_IDLE.bits();
        }
        if self.rx.iter().any(|b| b.errors != 0) {
            lsr |= Lsr::FIFO_ERROR.bits();
        }
        lsr
    }

    /// The highest-priority pending, enabled interrupt.
    pub fn pending(&self) -> Option<InterruptId> {
        let ier = Ier(self.ier);
        let lsr = Lsr(self.lsr());
        if ier.contains(Ier::LINE_STATUS) && lsr.intersects(Lsr::ERRORS) {
            return Some(InterruptId::LineStatus);
        }
        if ier.contains(Ier::RX_DATA) && !self.rx.is_empty() {
            return Some(if self.rx.len() >= self.trigger {
                InterruptId::RxData
            } else {
                InterruptId::RxTimeout
            });
        }
        if ier.contains(Ier::THR_EMPTY) && self.thre_pending {
            return Some(InterruptId::ThrEmpty);
        }
        if ier.contains(Ier::MODEM_STATUS) && self.msr_delta != 0 {
            return Some(InterruptId::ModemStatus);
        }
        None
    }

    /// The IRQ line: asserted (with OUT2, as on a PC) while anything is
    /// pending.
    pub fn irq(&self) -> bool {
        self.mcr & Mcr::OUT2.bits() != 0 && self.pending().is_some()
    }

    /// Register writes to `off`, in order.
    pub fn writes_to(&self, off: u8) -> Vec<u8> {
        self.log
            .iter()
            .filter_map(|a| match *a {
                Access::Write(o, v) if o == off => Some(v),
                _ => None,
            })
            .collect()
    }

    fn inject(&mut self, off: u8, write: bool) -> Result<(), Fault> {
        if let Some((o, w)) = self.fail_filter {
            if o != off || w != write {
                return Ok(());
            }
        }
        match self.fail_after {
            Some(0) => {
                self.fail_after = None;
                Err(Fault { offset: off, write })
            }
            Some(n) => {
                self.fail_after = Some(n - 1);
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn read_reg(&mut self, off: u8) -> u8 {
        if self.absent {
            return 0xFF;
        }
        match off {
            0 if self.dlab() => self.dll,
            0 => match self.rx.pop_front() {
                Some(b) => b.byte,
                None => 0,
            },
            1 if self.dlab() => self.dlm,
            1 => self.ier,
            2 => {
                if let Some(v) = self.stuck_iir {
                    return v;
                }
                let fifo_bits = if self.fifo_enabled { 0xC0 } else { 0 };
                match self.pending() {
                    Some(id) => {
                        if id == InterruptId::ThrEmpty {
                            self.thre_pending = false;
                        }
                        (id.iir_bits() & 0x0F) | fifo_bits
                    }
                    None => 0x01 | fifo_bits,
                }
            }
            3 => self.lcr,
            4 => self.mcr,
            5 => {
                let lsr = self.lsr();
                // Reading LSR clears the overrun and the head byte's error
                // bits.
                self.overrun = false;
                if let Some(head) = self.rx.front_mut() {
                    head.errors = 0;
                }
                lsr
            }
            6 => {
                let msr = if self.mcr & Mcr::LOOP.bits() != 0 && !self.no_loopback {
                    let m = Mcr(self.mcr);
                    let mut v = 0;
                    if m.contains(Mcr::RTS) {
                        v |= Msr::CTS.bits();
                    }
                    if m.contains(Mcr::DTR) {
                        v |= Msr::DSR.bits();
                    }
                    if m.contains(Mcr::OUT1) {
                        v |= Msr::RI.bits();
                    }
                    if m.contains(Mcr::OUT2) {
                        v |= Msr::DCD.bits();
                    }
                    v
                } else {
                    0
                };
                let v = msr | self.msr_delta;
                self.msr_delta = 0;
                v
            }
            7 if self.no_scratch => 0,
            7 => self.scr,
            _ => 0xFF,
        }
    }

    fn write_reg(&mut self, off: u8, value: u8) {
        if self.absent {
            return;
        }
        match off {
            0 if self.dlab() => self.dll = value,
            0 => {
                if self.mcr & Mcr::LOOP.bits() != 0 {
                    self.receive(value);
                } else if self.tx.len() >= self.depth() {
                    self.tx_overflows += 1;
                } else {
                    self.tx.push_back(value);
                }
                self.thre_pending = false;
                if self.instant_tx {
                    self.shift_out(1);
                }
            }
            1 if self.dlab() => self.dlm = value,
            1 => {
                // Enabling THRE interrupts with THR empty raises one, as
                // on a real 16550A.
                let was = Ier(self.ier);
                self.ier = value & 0x0F;
                if !was.contains(Ier::THR_EMPTY)
                    && Ier(self.ier).contains(Ier::THR_EMPTY)
                    && self.tx.is_empty()
                {
                    self.thre_pending = true;
                }
            }
            2 => {
                self.fifo_enabled = value & Fcr::ENABLE != 0 && !self.no_fifo;
                if value & Fcr::CLEAR_RX != 0 {
                    self.rx.clear();
                }
                if value & Fcr::CLEAR_TX != 0 {
                    self.tx.clear();
                }
                self.trigger = [1, 4, 8, 14][usize::from(value >> 6)];
            }
            3 => self.lcr = value,
            4 => self.mcr = value & 0x1F,
            7 => self.scr = value,
            _ => {}
        }
    }
}

impl PortIo for Fake16550 {
    type Error = Fault;

    fn read8(&mut self, offset: u8) -> Result<u8, Fault> {
        assert!(
            offset < offset::SPAN,
            "driver read outside the UART: +{offset}"
        );
        self.inject(offset, false)?;
        let v = self.read_reg(offset);
        self.log.push(Access::Read(offset, v));
        Ok(v)
    }

    fn write8(&mut self, offset: u8, value: u8) -> Result<(), Fault> {
        assert!(
            offset < offset::SPAN,
            "driver wrote outside the UART: +{offset}"
        );
        self.inject(offset, true)?;
        self.write_reg(offset, value);
        self.log.push(Access::Write(offset, value));
        Ok(())
    }
}
