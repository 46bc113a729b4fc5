//! A model of an HPET block: the register semantics of the IA-PC HPET
//! specification 1.0a (read-only capabilities, writable configuration
//! bits, write-1-to-clear status, 32-bit comparators matching the low half
//! of the counter), with explicit time: [`FakeHpet::advance`] moves the
//! main counter and raises what matched on the way.

#![allow(dead_code)]

use paddock_hpet::regs::{self, GeneralCaps, TimerCaps};
use paddock_hpet::HpetRegs;

pub struct FakeTimer {
    pub caps: TimerCaps,
    /// The writable configuration bits.
    pub cfg: u64,
    pub comparator: u64,
}

pub struct FakeHpet {
    pub caps: GeneralCaps,
    pub config: u64,
    pub status: u64,
    pub counter: u64,
    pub timers: Vec<FakeTimer>,
    /// Edge interrupts raised, by comparator, not yet taken.
    pub edges: Vec<u8>,
    /// Nothing at the address: reads all ones, ignores writes.
    pub absent: bool,
    /// Route writes are dropped (a comparator that cannot be configured).
    pub stuck_route: bool,
    /// Ticks the counter moves on each read of it, while enabled.
    pub ticks_per_read: u64,
    pub writes: usize,
}

/// Bits of Timer N Configuration software may write.
const WRITABLE: u64 = regs::timer::INT_TYPE_LEVEL
    | regs::timer::INT_ENB
    | regs::timer::TYPE_PERIODIC
    | regs::timer::VAL_SET
    | regs::timer::MODE32
    | (regs::timer::INT_ROUTE_MASK << regs::timer::INT_ROUTE_SHIFT)
    | regs::timer::FSB_EN;

impl FakeHpet {
    /// Like QEMU's q35 HPET: 10 ns, 3 comparators, 64-bit counter and
    /// comparators, routable to inputs 2, 8 and 16..=23.
    pub fn q35() -> Self {
        Self::with(
            GeneralCaps {
                period_fs: 10_000_000,
                vendor_id: 0x8086,
                legacy_route: true,
                counter_64: true,
                timers: 3,
                rev_id: 1,
            },
            TimerCaps {
                route_cap: 0x00ff_0104,
                fsb: false,
                comparator_64: true,
                periodic: true,
            },
        )
    }

    pub fn with(caps: GeneralCaps, timer: TimerCaps) -> Self {
        Self {
            caps,
            config: 0,
            status: 0,
            counter: 0,
            timers: (0..caps.timers)
                .map(|_| FakeTimer {
                    caps: timer,
                    cfg: 0,
                    comparator: u64::MAX,
                })
                .collect(),
            edges: Vec::new(),
            absent: false,
            stuck_route: false,
            ticks_per_read: 0,
            writes: 0,
        }
    }

    fn timer_at(offset: usize) -> Option<(u8, usize)> {
        if !(0x100..0x100 + 0x20 * regs::MAX_TIMERS).contains(&offset) {
            return None;
        }
        Some((((offset - 0x100) / 0x20) as u8, (offset - 0x100) % 0x20))
    }

    fn enabled(&self) -> bool {
        self.config & regs::config::ENABLE != 0
    }

    fn compare_mask(&self, n: usize) -> u64 {
        let t = &self.timers[n];
        if self.caps.counter_64 && t.caps.comparator_64 && t.cfg & regs::timer::MODE32 == 0 {
            u64::MAX
        } else {
            0xFFFF_FFFF
        }
    }

    /// Move the counter on by `ticks`, raising every comparator whose value
    /// the counter reaches on the way.
    pub fn advance(&mut self, ticks: u64) {
        if !self.enabled() || ticks == 0 {
            return;
        }
        let old = self.counter;
        for n in 0..self.timers.len() {
            let mask = self.compare_mask(n);
            let t = &self.timers[n];
            let distance = t.comparator.wrapping_sub(old.wrapping_add(1)) & mask;
            if distance < ticks {
                if t.cfg & regs::timer::INT_TYPE_LEVEL != 0 {
                    self.status |= 1 << n;
                } else if t.cfg & regs::timer::INT_ENB != 0 {
                    self.edges.push(n as u8);
                }
            }
        }
        self.counter = old.wrapping_add(ticks);
    }

    /// Whether comparator `n`'s interrupt line is asserted (level) or an
    /// edge is pending.
    pub fn irq(&self, n: u8) -> bool {
        let t = &self.timers[n as usize];
        if t.cfg & regs::timer::INT_TYPE_LEVEL != 0 {
            t.cfg & regs::timer::INT_ENB != 0 && self.status & (1 << n) != 0
        } else {
            self.edges.contains(&n)
        }
    }

    /// Take the pending edges of comparator `n`.
    pub fn take_edges(&mut self, n: u8) -> usize {
        let before = self.edges.len();
        self.edges.retain(|&e| e != n);
        before - self.edges.len()
    }

    /// Advance one tick at a time until comparator `n` interrupts, at most
    /// `limit` ticks; the ticks taken.
    pub fn run_until_irq(&mut self, n: u8, limit: u64) -> Option<u64> {
        // Jump straight to the match, then step past it.
        let mask = self.compare_mask(n as usize);
        let distance = self.timers[n as usize]
            .comparator
            .wrapping_sub(self.counter)
            & mask;
        if distance == 0 || distance > limit {
            return None;
        }
        self.advance(distance);
        self.irq(n).then_some(distance)
    }

    pub fn route(&self, n: u8) -> u8 {
        ((self.timers[n as usize].cfg >> regs::timer::INT_ROUTE_SHIFT)
            & regs::timer::INT_ROUTE_MASK) as u8
    }

    pub fn cfg(&self, n: u8) -> u64 {
        self.timers[n as usize].cfg
    }
}

impl HpetRegs for FakeHpet {
    fn read(&mut self, offset: usize) -> u64 {
        if self.absent {
            return u64::MAX;
        }
        match offset {
            regs::GENERAL_CAPS => self.caps.encode(),
            regs::GENERAL_CONFIG => self.config,
            regs::GENERAL_INT_STATUS => self.status,
            regs::MAIN_COUNTER => {
                let value = self.counter;
                self.advance(self.ticks_per_read);
                if self.caps.counter_64 {
                    value
                } else {
                    value & 0xFFFF_FFFF
                }
            }
            _ => match Self::timer_at(offset) {
                Some((n, reg)) if (n as usize) < self.timers.len() => {
                    let t = &self.timers[n as usize];
                    match reg {
                        0x00 => t.caps.encode() | t.cfg,
                        0x08 => t.comparator,
                        _ => 0,
                    }
                }
                _ => 0,
            },
        }
    }

    fn write(&mut self, offset: usize, value: u64) {
        self.writes += 1;
        if self.absent {
            return;
        }
        match offset {
            regs::GENERAL_CAPS => {}
            regs::GENERAL_CONFIG => {
                self.config = value & (regs::config::ENABLE | regs::config::LEG_RT)
            }
            regs::GENERAL_INT_STATUS => self.status &= !value,
            regs::MAIN_COUNTER => {
                if !self.enabled() {
                    self.counter = value;
                }
            }
            _ => {
                let Some((n, reg)) = Self::timer_at(offset) else {
                    return;
                };
                let stuck = self.stuck_route;
                let Some(t) = self.timers.get_mut(n as usize) else {
                    return;
                };
                match reg {
                    0x00 => {
                        let route = regs::timer::INT_ROUTE_MASK << regs::timer::INT_ROUTE_SHIFT;
                        let mut v = value & WRITABLE;
                        if stuck {
                            v = (v & !route) | (t.cfg & route);
                        }
                        if !t.caps.comparator_64 {
                            v &= !regs::timer::MODE32;
                        }
                        if !t.caps.fsb {
                            v &= !regs::timer::FSB_EN;
                        }
                        t.cfg = v;
                    }
                    0x08 => {
                        t.comparator = if !t.caps.comparator_64 || t.cfg & regs::timer::MODE32 != 0
                        {
                            value & 0xFFFF_FFFF
                        } else {
                            value
                        };
                    }
                    _ => {}
                }
            }
        }
    }
}
