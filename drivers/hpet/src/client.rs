//! What a client of the timer sees: the time, a deadline, and a way to
//! wait for it; and an `embedded-hal` delay built on them.

use crate::error::Error;

/// A client's view of a timer service.
///
/// The component side implements it over IPC to the timer driver (`now_ns`
/// a call, `set_deadline` a call, `wait` a wait on the notification the
/// driver signals on expiry); tests implement it over a model.
pub trait Clock {
    /// Nanoseconds on the timer's clock.
    fn now_ns(&mut self) -> u64;
    /// Ask to be woken at or after `deadline_ns`, replacing any earlier
    /// request. A deadline already passed wakes at once.
    fn set_deadline(&mut self, deadline_ns: u64) -> Result<(), Error>;
    /// Block until woken. Wake-ups may be spurious: callers check the time.
    fn wait(&mut self);
}

impl<C: Clock + ?Sized> Clock for &mut C {
    fn now_ns(&mut self) -> u64 {
        (**self).now_ns()
    }
    fn set_deadline(&mut self, deadline_ns: u64) -> Result<(), Error> {
        (**self).set_deadline(deadline_ns)
    }
    fn wait(&mut self) {
        (**self).wait()
    }
}

/// Blocking delays on a [`Clock`], as `embedded-hal` 1.0's
/// [`DelayNs`](embedded_hal::delay::DelayNs).
///
/// Each delay is one deadline, not a loop of short ones. If the deadline
/// cannot be set the delay polls the clock instead, so it still never
/// returns early.
pub struct Delay<C> {
    clock: C,
}

impl<C: Clock> Delay<C> {
    /// Delays on `clock`.
    pub fn new(clock: C) -> Self {
        Self { clock }
    }

    /// The clock.
    pub fn clock(&mut self) -> &mut C {
        &mut self.clock
    }

    /// The clock back.
    pub fn into_inner(self) -> C {
        self.clock
    }

    /// Wait until at least `ns` nanoseconds have passed.
    pub fn delay_for_ns(&mut self, ns: u64) {
        // u64::MAX means "never" to the service; 584 years is long enough.
        let deadline = self.clock.now_ns().saturating_add(ns).min(u64::MAX - 1);
        let armed = self.clock.set_deadline(deadline).is_ok();
        while self.clock.now_ns() < deadline {
            if armed {
                self.clock.wait();
            } else {
                core::hint::spin_loop();
            }
        }
    }
}

impl<C: Clock> embedded_hal::delay::DelayNs for Delay<C> {
    fn delay_ns(&mut self, ns: u32) {
        self.delay_for_ns(ns.into());
    }

    fn delay_us(&mut self, us: u32) {
        self.delay_for_ns(u64::from(us) * 1_000);
    }

    fn delay_ms(&mut self, ms: u32) {
        self.delay_for_ns(u64::from(ms) * 1_000_000);
    }
}
