//! One comparator of one HPET, driven as a one-shot deadline timer.

use crate::error::Error;
use crate::mmio::HpetRegs;
use crate::period::Period;
use crate::regs::{self, GeneralCaps, TimerCaps};

/// How far ahead a 32-bit comparator is programmed at once, in ticks.
///
/// A 32-bit comparator matches the low 32 bits of the counter, so a
/// deadline further away than this is reached in steps: each interrupt
/// before the deadline programs the next step. Half the 32-bit range
/// leaves room for the time spent programming (21 s at QEMU's 10 ns).
pub const WINDOW_32: u64 = 1 << 31;

/// How many times [`Timer`] re-reads the counter while programming before
/// deciding it is not counting sanely.
const PROGRAM_ATTEMPTS: usize = 4;

/// The interrupt's trigger mode at the IOAPIC, which the HPET must match.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Trigger {
    /// Edge-triggered: the status bit is not used.
    Edge,
    /// Level-triggered: the line stays asserted until the status bit is
    /// cleared, which [`Timer::handle_interrupt`] does.
    Level,
}

/// Which comparator to drive, and where its interrupt goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Config {
    /// Comparator number (0 is present on every HPET).
    pub timer: u8,
    /// IOAPIC input; must be set in the comparator's INT_ROUTE_CAP.
    pub ioapic_pin: u8,
    /// Trigger mode.
    pub trigger: Trigger,
}

/// The outcome of programming a deadline.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Armed {
    /// The comparator is programmed; an interrupt will follow.
    Pending,
    /// The deadline had already passed (possibly while programming it):
    /// nothing is armed, and the caller should treat it as expired now.
    Expired,
}

/// What [`Timer::handle_interrupt`] found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Interrupt {
    /// The comparator's status bit was set and has been cleared
    /// (level-triggered mode only; always `false` for edge).
    pub acknowledged: bool,
    /// The armed deadline has passed; nothing is armed any more.
    pub expired: bool,
}

/// One HPET comparator as a one-shot deadline timer, over the main counter.
///
/// Times are nanoseconds since the main counter read zero. The driver
/// never writes the main counter; it starts it if it was halted.
pub struct Timer<R> {
    regs: R,
    period: Period,
    caps: GeneralCaps,
    timer_caps: TimerCaps,
    config: Config,
    /// The configuration word written, without INT_ENB.
    cfg: u64,
    /// Whether the comparator and the counter are both 64 bits wide.
    wide: bool,
    /// Last counter value, extended to 64 bits for a 32-bit counter.
    last: u64,
    /// The armed deadline, in ticks.
    deadline: Option<u64>,
}

impl<R: HpetRegs> Timer<R> {
    /// Check the block's capabilities, route comparator `config.timer` to
    /// `config.ioapic_pin` in one-shot mode with its interrupt disabled,
    /// turn legacy replacement routing off, and start the main counter.
    ///
    /// Refuses, without writing anything, a period outside the
    /// specification's range (which includes an absent device reading all
    /// ones), a comparator that does not exist, and a pin the comparator's
    /// INT_ROUTE_CAP does not allow.
    pub fn new(mut regs: R, config: Config) -> Result<Self, Error> {
        let caps = GeneralCaps::decode(regs.read(regs::GENERAL_CAPS));
        let period = Period::new(caps.period_fs)?;
        if config.timer >= caps.timers {
            return Err(Error::NoSuchTimer {
                timer: config.timer,
                timers: caps.timers,
            });
        }
        let raw = regs.read(regs::timer_config(config.timer));
        let timer_caps = TimerCaps::decode(raw);
        if !timer_caps.allows_pin(config.ioapic_pin) {
            return Err(Error::RouteNotAllowed {
                pin: config.ioapic_pin,
                allowed: timer_caps.route_cap,
            });
        }

        use regs::timer as t;
        let mut cfg = raw
            & !(t::INT_TYPE_LEVEL
                | t::INT_ENB
                | t::TYPE_PERIODIC
                | t::VAL_SET
                | t::MODE32
                | (t::INT_ROUTE_MASK << t::INT_ROUTE_SHIFT)
                | t::FSB_EN);
        cfg |= (config.ioapic_pin as u64) << t::INT_ROUTE_SHIFT;
        if config.trigger == Trigger::Level {
            cfg |= t::INT_TYPE_LEVEL;
        }
        regs.write(regs::timer_config(config.timer), cfg);
        let check = t::INT_TYPE_LEVEL | t::INT_ENB | (t::INT_ROUTE_MASK << t::INT_ROUTE_SHIFT);
        let read = regs.read(regs::timer_config(config.timer));
        if read & check != cfg & check {
            return Err(Error::ConfigNotAccepted { wrote: cfg, read });
        }

        let general = regs.read(regs::GENERAL_CONFIG);
        regs.write(
            regs::GENERAL_CONFIG,
            (general & !regs::config::LEG_RT) | regs::config::ENABLE,
        );
        regs.write(regs::GENERAL_INT_STATUS, 1 << config.timer);

        let mut timer = Self {
            regs,
            period,
            caps,
            timer_caps,
            config,
            cfg,
            wide: caps.counter_64 && timer_caps.comparator_64,
            last: 0,
            deadline: None,
        };
        timer.now_ticks();
        Ok(timer)
    }

    /// The counter period.
    pub fn period(&self) -> Period {
        self.period
    }

    /// The general capabilities as read.
    pub fn caps(&self) -> GeneralCaps {
        self.caps
    }

    /// The driven comparator's capabilities as read.
    pub fn timer_caps(&self) -> TimerCaps {
        self.timer_caps
    }

    /// The configuration asked for.
    pub fn config(&self) -> Config {
        self.config
    }

    /// The register access, for inspection.
    pub fn regs(&self) -> &R {
        &self.regs
    }

    /// The register access, mutably (tests advance their model through it).
    pub fn regs_mut(&mut self) -> &mut R {
        &mut self.regs
    }

    /// The main counter, in ticks.
    ///
    /// A 32-bit counter is extended in software: it must be read at least
    /// once per wrap (43 s at 10 ns). An armed deadline guarantees that,
    /// since a 32-bit comparator is never programmed more than
    /// [`WINDOW_32`] ahead.
    pub fn now_ticks(&mut self) -> u64 {
        let raw = self.regs.read(regs::MAIN_COUNTER);
        if self.caps.counter_64 {
            self.last = raw;
        } else {
            let low = raw & 0xFFFF_FFFF;
            let mut high = self.last & !0xFFFF_FFFF;
            if low < self.last & 0xFFFF_FFFF {
                high = high.wrapping_add(1 << 32);
            }
            self.last = high | low;
        }
        self.last
    }

    /// Nanoseconds since the counter read zero, rounded down; saturates at
    /// `u64::MAX` (584 years, or a counter that reads garbage).
    pub fn now_ns(&mut self) -> u64 {
        let ticks = self.now_ticks();
        self.period.ticks_to_ns(ticks).unwrap_or(u64::MAX)
    }

    /// The armed deadline in nanoseconds (rounded down), if any.
    pub fn deadline_ns(&self) -> Option<u64> {
        self.deadline
            .map(|t| self.period.ticks_to_ns(t).unwrap_or(u64::MAX))
    }

    /// Arm a one-shot interrupt for when the counter reaches `deadline_ns`
    /// (rounded up to a whole tick), replacing any armed deadline.
    pub fn arm_at_ns(&mut self, deadline_ns: u64) -> Result<Armed, Error> {
        let ticks = self.period.ns_to_ticks_ceil(deadline_ns)?;
        self.arm_at_ticks(ticks)
    }

    /// Arm a one-shot interrupt `delay_ns` from now.
    pub fn arm_after_ns(&mut self, delay_ns: u64) -> Result<Armed, Error> {
        let deadline = self
            .now_ns()
            .checked_add(delay_ns)
            .ok_or(Error::TimeOutOfRange)?;
        self.arm_at_ns(deadline)
    }

    /// Arm a one-shot interrupt for counter value `deadline`.
    pub fn arm_at_ticks(&mut self, deadline: u64) -> Result<Armed, Error> {
        self.deadline = Some(deadline);
        self.program()
    }

    /// Disarm: no interrupt until the next deadline is armed.
    pub fn disarm(&mut self) {
        self.deadline = None;
        self.set_enabled(false);
        self.acknowledge();
    }

    /// Service the comparator's interrupt: clear its status bit (level
    /// mode), and report whether the armed deadline has passed. A deadline
    /// still ahead (a step of a 32-bit comparator, or a spurious interrupt)
    /// is programmed again.
    pub fn handle_interrupt(&mut self) -> Result<Interrupt, Error> {
        let acknowledged = self.acknowledge();
        let expired = match self.deadline {
            None => false,
            Some(_) => self.program()? == Armed::Expired,
        };
        Ok(Interrupt {
            acknowledged,
            expired,
        })
    }

    /// Program the comparator for the armed deadline, or the next step
    /// towards it, until the counter is seen to be short of it.
    fn program(&mut self) -> Result<Armed, Error> {
        let Some(deadline) = self.deadline else {
            return Ok(Armed::Expired);
        };
        for _ in 0..PROGRAM_ATTEMPTS {
            let now = self.now_ticks();
            if now >= deadline {
                self.deadline = None;
                self.set_enabled(false);
                self.acknowledge();
                return Ok(Armed::Expired);
            }
            let (target, value) = if self.wide {
                (deadline, deadline)
            } else {
                let target = deadline.min(now.saturating_add(WINDOW_32));
                (target, target & 0xFFFF_FFFF)
            };
            self.regs
                .write(regs::timer_comparator(self.config.timer), value);
            self.set_enabled(true);
            if self.now_ticks() < target {
                return Ok(Armed::Pending);
            }
            // The counter passed the value while it was written: the
            // comparator may never match. Look again.
        }
        self.deadline = None;
        self.set_enabled(false);
        Err(Error::CounterUnstable)
    }

    fn set_enabled(&mut self, on: bool) {
        let value = if on {
            self.cfg | regs::timer::INT_ENB
        } else {
            self.cfg
        };
        self.regs
            .write(regs::timer_config(self.config.timer), value);
    }

    /// Clear the comparator's status bit if set (level mode only).
    fn acknowledge(&mut self) -> bool {
        if self.config.trigger != Trigger::Level {
            return false;
        }
        let bit = 1u64 << self.config.timer;
        if self.regs.read(regs::GENERAL_INT_STATUS) & bit == 0 {
            return false;
        }
        self.regs.write(regs::GENERAL_INT_STATUS, bit);
        true
    }
}
