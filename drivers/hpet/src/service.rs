//! A timer shared by several clients: a [`Timer`] programmed with the
//! earliest deadline of a [`DeadlineQueue`].

use crate::error::Error;
use crate::mmio::HpetRegs;
use crate::queue::DeadlineQueue;
use crate::timer::{Armed, Timer};

/// One comparator serving up to `N` clients, each with one deadline.
///
/// Every call that can expire deadlines returns the expired clients as a
/// bitmask (bit `i` is client `i`); the component notifies each of them.
pub struct TimerService<R, const N: usize> {
    timer: Timer<R>,
    queue: DeadlineQueue<N>,
}

impl<R: HpetRegs, const N: usize> TimerService<R, N> {
    /// Serve clients from `timer`, which should have nothing armed.
    pub fn new(mut timer: Timer<R>) -> Self {
        timer.disarm();
        Self {
            timer,
            queue: DeadlineQueue::new(),
        }
    }

    /// The timer, for the time and inspection.
    pub fn timer(&mut self) -> &mut Timer<R> {
        &mut self.timer
    }

    /// The queue of deadlines.
    pub fn queue(&self) -> &DeadlineQueue<N> {
        &self.queue
    }

    /// Nanoseconds since the counter read zero.
    pub fn now_ns(&mut self) -> u64 {
        self.timer.now_ns()
    }

    /// Set `client`'s deadline and reprogram. A deadline already passed
    /// expires at once: it is in the returned mask, with any others that
    /// passed meanwhile.
    pub fn set_deadline(&mut self, client: usize, deadline_ns: u64) -> Result<u64, Error> {
        self.queue.set(client, deadline_ns)?;
        self.reprogram()
    }

    /// Remove `client`'s deadline and reprogram.
    pub fn cancel(&mut self, client: usize) -> Result<u64, Error> {
        self.queue.cancel(client)?;
        self.reprogram()
    }

    /// Service the comparator's interrupt: acknowledge it, expire every
    /// deadline that has passed and program the next one.
    pub fn handle_interrupt(&mut self) -> Result<u64, Error> {
        self.timer.handle_interrupt()?;
        self.reprogram()
    }

    /// Expire what has passed and program the earliest deadline left,
    /// until one is armed in the future or none is left.
    fn reprogram(&mut self) -> Result<u64, Error> {
        let mut mask = self.queue.expire(self.timer.now_ns());
        // Each round that finds the earliest deadline passed removes it, so
        // N + 1 rounds suffice for a counter that does not run backwards.
        for _ in 0..=N {
            let Some(earliest) = self.queue.earliest() else {
                self.timer.disarm();
                return Ok(mask);
            };
            if self.timer.arm_at_ns(earliest)? == Armed::Pending {
                return Ok(mask);
            }
            mask |= self.queue.expire(self.timer.now_ns());
        }
        Err(Error::CounterUnstable)
    }
}
