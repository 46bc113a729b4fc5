//! Acknowledgement logic of one shared, level-triggered interrupt line.
//!
//! The line's holder (the multiplexer component) owns the kernel's IRQ
//! handler; each sharer is told of every interrupt and answers on its own
//! notification bit, which only it can set (its cap is badged with that
//! bit). [`Line`] decides when the holder acknowledges the line to the
//! kernel: once every sharer has answered, or once `bound` ticks have
//! passed since the interrupt, whichever is first. In the second case it
//! names the sharers that had not answered, so the holder can report them.
//!
//! Sharer `i` is bit `i` of every mask here. The holder maps its
//! notification badge to such a mask; anything outside the sharers' bits
//! is ignored, so no badge can stand for a sharer that does not exist.
//!
//! Time is whatever monotonic counter the holder reads (the TSC on x86);
//! differences are taken with wrapping arithmetic, so a counter that wraps
//! once between two readings still measures the right interval.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// At most this many sharers on one line: one bit each in a `u64` mask.
pub const MAX_SHARERS: usize = 64;

/// A line cannot have zero sharers or more than [`MAX_SHARERS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadSharerCount(pub usize);

impl core::fmt::Display for BadSharerCount {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "a shared line has 1..={MAX_SHARERS} sharers, not {}",
            self.0
        )
    }
}

/// What the holder does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing: the line is idle.
    Idle,
    /// The line is pending: keep polling for answers (and the clock)
    /// until this many more ticks have passed.
    Wait {
        /// Ticks left before the bound.
        left: u64,
    },
    /// Every sharer answered: acknowledge the line to the kernel.
    Acknowledge,
    /// The bound passed: acknowledge the line, and report the sharers in
    /// `late` (a mask) as not having answered in time.
    Late {
        /// The sharers that had not answered.
        late: u64,
    },
}

/// One shared line's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    all: u64,
    bound: u64,
    /// The sharers that still have to answer the current interrupt.
    waiting: u64,
    /// When the current interrupt arrived.
    since: u64,
    /// Whether an interrupt is being answered.
    pending: bool,
}

impl Line {
    /// A line with `sharers` sharers whose answers are awaited for at most
    /// `bound` ticks.
    pub fn new(sharers: usize, bound: u64) -> Result<Line, BadSharerCount> {
        if sharers == 0 || sharers > MAX_SHARERS {
            return Err(BadSharerCount(sharers));
        }
        let all = if sharers == MAX_SHARERS {
            u64::MAX
        } else {
            (1u64 << sharers) - 1
        };
        Ok(Line {
            all,
            bound,
            waiting: 0,
            since: 0,
            pending: false,
        })
    }

    /// The mask of every sharer: whom to signal on an interrupt.
    pub fn sharers(&self) -> u64 {
        self.all
    }

    /// Whether an interrupt is being answered.
    pub fn pending(&self) -> bool {
        self.pending
    }

    /// The kernel delivered the line at `now`: every sharer must answer
    /// anew. Returns whom to signal (every sharer). An interrupt while one
    /// is pending cannot come from the kernel (the line is masked until
    /// acknowledged); it restarts nothing and signals no one.
    pub fn raised(&mut self, now: u64) -> u64 {
        if self.pending {
            return 0;
        }
        self.pending = true;
        self.waiting = self.all;
        self.since = now;
        self.all
    }

    /// Answers `acks` (a mask; bits of no sharer are ignored) arrived; the
    /// clock reads `now`. Answers while the line is idle are stale and
    /// change nothing.
    pub fn answered(&mut self, acks: u64, now: u64) -> Step {
        if self.pending {
            self.waiting &= !(acks & self.all);
        }
        self.step(now)
    }

    /// What to do at `now`, with no new answers. After [`Step::Acknowledge`]
    /// or [`Step::Late`] the line is idle again.
    pub fn step(&mut self, now: u64) -> Step {
        if !self.pending {
            return Step::Idle;
        }
        if self.waiting == 0 {
            self.pending = false;
            return Step::Acknowledge;
        }
        let elapsed = now.wrapping_sub(self.since);
        if elapsed >= self.bound {
            let late = self.waiting;
            self.pending = false;
            self.waiting = 0;
            return Step::Late { late };
        }
        Step::Wait {
            left: self.bound - elapsed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_acknowledged_when_every_sharer_has_answered() {
        let mut l = Line::new(2, 100).unwrap();
        assert_eq!(l.step(0), Step::Idle);
        assert_eq!(l.raised(10), 0b11);
        assert_eq!(l.answered(0b01, 20), Step::Wait { left: 90 });
        assert_eq!(l.answered(0b10, 30), Step::Acknowledge);
        assert_eq!(l.step(40), Step::Idle);
    }

    #[test]
    fn answers_in_one_badge_count_together() {
        let mut l = Line::new(3, 100).unwrap();
        l.raised(0);
        assert_eq!(l.answered(0b111, 1), Step::Acknowledge);
    }

    #[test]
    fn a_silent_sharer_delays_the_line_by_the_bound_and_is_named() {
        let mut l = Line::new(2, 100).unwrap();
        l.raised(1_000);
        assert_eq!(l.answered(0b01, 1_050), Step::Wait { left: 50 });
        assert_eq!(l.step(1_099), Step::Wait { left: 1 });
        assert_eq!(l.step(1_100), Step::Late { late: 0b10 });
        // The line is idle again: the next interrupt starts a new round.
        assert_eq!(l.step(5_000), Step::Idle);
        assert_eq!(l.raised(5_000), 0b11);
        assert_eq!(l.answered(0b11, 5_001), Step::Acknowledge);
    }

    #[test]
    fn no_badge_answers_for_a_sharer_that_does_not_exist() {
        let mut l = Line::new(2, 100).unwrap();
        l.raised(0);
        // Bits past the sharers are ignored: the line still waits for
        // sharer 1.
        assert_eq!(l.answered(!0b10, 1), Step::Wait { left: 99 });
        assert_eq!(l.step(100), Step::Late { late: 0b10 });
    }

    #[test]
    fn stale_answers_while_idle_do_not_count_for_the_next_interrupt() {
        let mut l = Line::new(2, 100).unwrap();
        assert_eq!(l.answered(0b11, 0), Step::Idle);
        l.raised(1);
        assert_eq!(l.step(2), Step::Wait { left: 99 });
    }

    #[test]
    fn a_second_delivery_while_pending_signals_no_one() {
        let mut l = Line::new(2, 100).unwrap();
        l.raised(0);
        assert_eq!(l.raised(50), 0);
        // The bound still runs from the first delivery.
        assert_eq!(l.step(100), Step::Late { late: 0b11 });
    }

    #[test]
    fn the_clock_may_wrap_once() {
        let mut l = Line::new(1, 100).unwrap();
        l.raised(u64::MAX - 10);
        assert_eq!(l.step(5), Step::Wait { left: 84 });
        assert_eq!(l.step(89), Step::Late { late: 1 });
    }

    #[test]
    fn a_zero_bound_acknowledges_at_once() {
        let mut l = Line::new(1, 0).unwrap();
        l.raised(7);
        assert_eq!(l.step(7), Step::Late { late: 1 });
    }

    #[test]
    fn sharer_counts_are_bounded() {
        assert_eq!(Line::new(0, 1), Err(BadSharerCount(0)));
        assert_eq!(Line::new(65, 1), Err(BadSharerCount(65)));
        assert_eq!(Line::new(64, 1).unwrap().sharers(), u64::MAX);
        assert_eq!(
            BadSharerCount(0).to_string(),
            "a shared line has 1..=64 sharers, not 0"
        );
    }
}
