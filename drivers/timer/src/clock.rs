//! The clock the timer publishes: a line through one (TSC, HPET ns) point
//! with the slope measured against the HPET.

/// Fixed-point fraction bits of [`Params::mult`].
pub const SHIFT: u32 = 32;
/// Smallest slope accepted: 0.01 ns per tick, a 100 GHz TSC.
pub const MIN_MULT: u64 = (1 << SHIFT) / 100;
/// Largest slope accepted: 1000 ns per tick, a 1 MHz TSC.
pub const MAX_MULT: u64 = 1000 << SHIFT;
/// The shortest calibration accepted, in TSC ticks: below it the slope's
/// rounding error would pass one part in 10^5.
pub const MIN_CALIBRATION_TICKS: u64 = 100_000;

/// Why the clock could not be read or made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockError {
    /// The page does not carry the protocol's magic number: the timer has
    /// not published yet, or the page is garbage.
    NotPublished,
    /// The sequence lock never read the same even value on both sides of
    /// the fields within the retry bound: the writer is stuck mid-update
    /// or the page keeps changing.
    Torn,
    /// The published slope is outside [`MIN_MULT`]..=[`MAX_MULT`].
    BadSlope {
        /// The slope read, ns per tick in 32.32 fixed point.
        mult: u64,
    },
    /// Calibration samples that do not move forward, or too close together.
    BadCalibration,
    /// A deadline further ahead than the timer accepts
    /// ([`crate::server::MAX_AHEAD_NS`]).
    TooFar,
}

impl core::fmt::Display for ClockError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ClockError::NotPublished => f.write_str("the clock page has not been published"),
            ClockError::Torn => f.write_str("the clock page kept changing while read"),
            ClockError::BadSlope { mult } => {
                write!(f, "the clock page's slope {mult:#x} is not a TSC's")
            }
            ClockError::BadCalibration => f.write_str("calibration samples do not move forward"),
            ClockError::TooFar => {
                f.write_str("the deadline is further ahead than the timer accepts")
            }
        }
    }
}

/// The published clock: HPET time `ns_base` at TSC value `tsc_base`, and
/// `mult / 2^32` nanoseconds per TSC tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// TSC value of the reference point.
    pub tsc_base: u64,
    /// HPET nanoseconds at the reference point.
    pub ns_base: u64,
    /// Nanoseconds per TSC tick, 32.32 fixed point.
    pub mult: u64,
}

impl Params {
    /// The slope between two (TSC, HPET ns) samples, anchored at the
    /// second. Refuses samples that do not move forward or are closer than
    /// [`MIN_CALIBRATION_TICKS`], and a slope no TSC has.
    pub fn calibrate(tsc0: u64, ns0: u64, tsc1: u64, ns1: u64) -> Result<Params, ClockError> {
        let ticks = tsc1.checked_sub(tsc0).ok_or(ClockError::BadCalibration)?;
        let ns = ns1.checked_sub(ns0).ok_or(ClockError::BadCalibration)?;
        if ticks < MIN_CALIBRATION_TICKS || ns == 0 {
            return Err(ClockError::BadCalibration);
        }
        let mult = (u128::from(ns) << SHIFT) / u128::from(ticks);
        let mult = u64::try_from(mult).unwrap_or(u64::MAX);
        Params {
            tsc_base: tsc1,
            ns_base: ns1,
            mult,
        }
        .checked()
    }

    /// `self` if its slope is one a TSC can have.
    pub fn checked(self) -> Result<Params, ClockError> {
        if (MIN_MULT..=MAX_MULT).contains(&self.mult) {
            Ok(self)
        } else {
            Err(ClockError::BadSlope { mult: self.mult })
        }
    }

    /// HPET nanoseconds at TSC value `tsc`. A TSC before the reference
    /// point (which a sane page never shows) counts as the reference
    /// point; the result saturates rather than wrapping.
    pub fn ns_at(&self, tsc: u64) -> u64 {
        let ticks = tsc.saturating_sub(self.tsc_base);
        let ns = (u128::from(ticks) * u128::from(self.mult)) >> SHIFT;
        u64::try_from(ns)
            .unwrap_or(u64::MAX)
            .saturating_add(self.ns_base)
    }

    /// TSC ticks in `ns` nanoseconds at this slope, rounded down.
    pub fn ticks_in(&self, ns: u64) -> u64 {
        let ticks = (u128::from(ns) << SHIFT) / u128::from(self.mult.max(1));
        u64::try_from(ticks).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_gives_the_slope_and_anchors_at_the_second_sample() {
        // A 2.5 GHz TSC against 10 ms of HPET time.
        let p = Params::calibrate(1_000, 5_000, 1_000 + 25_000_000, 5_000 + 10_000_000).unwrap();
        assert_eq!(p.tsc_base, 25_001_000);
        assert_eq!(p.ns_base, 10_005_000);
        assert_eq!(p.ns_at(p.tsc_base), p.ns_base);
        // One second later by the TSC: one second later by the clock, to
        // within the fixed point's rounding.
        let later = p.ns_at(p.tsc_base + 2_500_000_000);
        assert!((later - p.ns_base).abs_diff(1_000_000_000) <= 1, "{later}");
        assert_eq!(p.ticks_in(1_000_000), 2_500_000 - 1 + 1);
    }

    #[test]
    fn calibration_refuses_backwards_short_and_impossible_samples() {
        assert_eq!(
            Params::calibrate(10, 0, 5, 100),
            Err(ClockError::BadCalibration)
        );
        assert_eq!(
            Params::calibrate(0, 100, 1_000_000, 50),
            Err(ClockError::BadCalibration)
        );
        assert_eq!(
            Params::calibrate(0, 0, 10, 1_000),
            Err(ClockError::BadCalibration)
        );
        // 1 ms of HPET time over 10^6 TSC ticks is a 1 GHz TSC: fine; the
        // same over 10^12 ticks would be a 10^15 Hz TSC: refused.
        assert!(Params::calibrate(0, 0, 1_000_000, 1_000_000).is_ok());
        assert!(matches!(
            Params::calibrate(0, 0, 1 << 40, 1_000),
            Err(ClockError::BadSlope { .. })
        ));
    }

    #[test]
    fn conversion_saturates_and_never_goes_below_the_base() {
        let p = Params {
            tsc_base: 1_000,
            ns_base: u64::MAX - 10,
            mult: MAX_MULT,
        };
        assert_eq!(p.ns_at(u64::MAX), u64::MAX);
        assert_eq!(p.ns_at(0), u64::MAX - 10);
    }
}
