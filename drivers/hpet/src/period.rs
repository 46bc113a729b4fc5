//! Conversions between nanoseconds and counter ticks.

use crate::error::Error;
use crate::regs::{FS_PER_NS, MAX_PERIOD_FS};

/// A checked counter period: 1..=100,000,000 femtoseconds.
///
/// Conversions go through a 128-bit intermediate, so they are exact up to
/// rounding and report values that do not fit in 64 bits instead of
/// wrapping.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Period(u32);

impl Period {
    /// QEMU's HPET period: 10 ns (100 MHz).
    pub const QEMU: Self = Self(10_000_000);

    /// Accept a COUNTER_CLK_PERIOD value the specification allows.
    pub const fn new(period_fs: u32) -> Result<Self, Error> {
        if period_fs == 0 || period_fs > MAX_PERIOD_FS {
            Err(Error::BadPeriod { period_fs })
        } else {
            Ok(Self(period_fs))
        }
    }

    /// Femtoseconds per tick.
    pub const fn femtoseconds(self) -> u32 {
        self.0
    }

    /// Ticks that cover at least `ns` nanoseconds (rounded up, so a
    /// deadline is never early).
    pub const fn ns_to_ticks_ceil(self, ns: u64) -> Result<u64, Error> {
        let fs = ns as u128 * FS_PER_NS as u128;
        let ticks = fs.div_ceil(self.0 as u128);
        narrow(ticks)
    }

    /// Whole ticks in `ns` nanoseconds (rounded down).
    pub const fn ns_to_ticks_floor(self, ns: u64) -> Result<u64, Error> {
        let fs = ns as u128 * FS_PER_NS as u128;
        narrow(fs / self.0 as u128)
    }

    /// Nanoseconds `ticks` ticks take (rounded down, so the time reported
    /// is never later than the counter's).
    pub const fn ticks_to_ns(self, ticks: u64) -> Result<u64, Error> {
        let fs = ticks as u128 * self.0 as u128;
        narrow(fs / FS_PER_NS as u128)
    }

    /// Frequency in hertz, rounded down.
    pub const fn hz(self) -> u64 {
        (1_000_000_000_000_000u64) / self.0 as u64
    }
}

const fn narrow(v: u128) -> Result<u64, Error> {
    if v > u64::MAX as u128 {
        Err(Error::TimeOutOfRange)
    } else {
        Ok(v as u64)
    }
}
