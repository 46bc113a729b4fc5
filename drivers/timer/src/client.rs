//! The client's side: the time from the clock page, a deadline through
//! the deadline word and the channel, and waiting for the timer.

use crate::clock::Params;
use crate::page::{ClockPage, NO_DEADLINE};
use crate::server::MAX_AHEAD_NS;
use crate::ClockError;

/// The client's end of its channel to the timer.
pub trait Link {
    /// Signal the timer.
    fn signal(&mut self);
    /// Block on the component's notification; the badge bits that fired.
    fn wait(&mut self) -> u64;
    /// The badge bit (as a mask) the timer's signal sets.
    fn badge_bit(&self) -> u64;
}

/// A client of the timer over its page and channel.
///
/// Time is monotonic for the client: [`ClientCore::now_ns`] never returns
/// less than it returned before, whatever the page says. A page that
/// cannot be read (torn beyond the retry bound, never published, a slope
/// no TSC has) is reported by [`ClientCore::try_now_ns`]; `now_ns` then
/// goes on with the last clock it read, or stands still if it never read
/// one.
pub struct ClientCore<'a, L> {
    page: ClockPage<'a>,
    link: L,
    tsc: fn() -> u64,
    params: Option<Params>,
    last_ns: u64,
    request: u64,
    deadline: u64,
    other_bits: u64,
}

impl<'a, L: Link> ClientCore<'a, L> {
    /// A client over `page` and `link`, reading the TSC with `tsc`.
    pub fn new(page: ClockPage<'a>, link: L, tsc: fn() -> u64) -> Self {
        Self {
            page,
            link,
            tsc,
            params: None,
            last_ns: 0,
            request: 0,
            deadline: NO_DEADLINE,
            other_bits: 0,
        }
    }

    /// The page, for its counters.
    pub fn page(&self) -> ClockPage<'a> {
        self.page
    }

    /// The badge bit (as a mask) of the timer's wake-ups.
    pub fn badge_bit(&self) -> u64 {
        self.link.badge_bit()
    }

    fn monotonic(&mut self, ns: u64) -> u64 {
        self.last_ns = self.last_ns.max(ns);
        self.last_ns
    }

    /// HPET nanoseconds from the clock page, or why the page is unusable.
    pub fn try_now_ns(&mut self) -> Result<u64, ClockError> {
        let p = self.page.read()?;
        self.params = Some(p);
        let ns = p.ns_at((self.tsc)());
        Ok(self.monotonic(ns))
    }

    /// HPET nanoseconds: from the page, else from the last clock read.
    pub fn now_ns(&mut self) -> u64 {
        match self.try_now_ns() {
            Ok(ns) => ns,
            Err(_) => match self.params {
                Some(p) => {
                    let ns = p.ns_at((self.tsc)());
                    self.monotonic(ns)
                }
                None => self.last_ns,
            },
        }
    }

    /// The clock last read from the page.
    pub fn params(&self) -> Option<Params> {
        self.params
    }

    /// Ask to be woken at `deadline_ns` (HPET time), replacing any earlier
    /// deadline; [`NO_DEADLINE`] cancels. A deadline further than the
    /// timer accepts is refused here, before the timer sees it.
    pub fn set_deadline(&mut self, deadline_ns: u64) -> Result<u64, ClockError> {
        if deadline_ns != NO_DEADLINE && deadline_ns > self.now_ns().saturating_add(MAX_AHEAD_NS) {
            return Err(ClockError::TooFar);
        }
        Ok(self.send_raw(deadline_ns))
    }

    /// Write `raw` as the deadline word, unchecked, and signal: what a
    /// careless or hostile client does. Returns the request number.
    pub fn send_raw(&mut self, raw: u64) -> u64 {
        self.request = self.request.wrapping_add(1).max(1);
        self.deadline = raw;
        self.page.request(raw, self.request);
        self.link.signal();
        self.request
    }

    /// The deadline last set.
    pub fn deadline(&self) -> u64 {
        self.deadline
    }

    /// Whether the timer has completed (expired or refused) the last
    /// request.
    pub fn answered(&self) -> bool {
        self.page.answered() == self.request
    }

    /// Block until the timer answers the last request, or until any other
    /// signal (kept for [`ClientCore::take_other_bits`]). Returns at once
    /// when the request is answered already: the caller's clock may lag
    /// the HPET by the calibration's error, and must then poll.
    pub fn wait(&mut self) {
        if self.answered() {
            return;
        }
        let bits = self.link.wait();
        self.other_bits |= bits & !self.link.badge_bit();
    }

    /// Badge bits other than the timer's that woke [`ClientCore::wait`].
    pub fn take_other_bits(&mut self) -> u64 {
        core::mem::take(&mut self.other_bits)
    }
}

impl<L: Link> paddock_hpet::Clock for ClientCore<'_, L> {
    fn now_ns(&mut self) -> u64 {
        ClientCore::now_ns(self)
    }
    fn set_deadline(&mut self, deadline_ns: u64) -> Result<(), paddock_hpet::Error> {
        ClientCore::set_deadline(self, deadline_ns)
            .map(|_| ())
            .map_err(|_| paddock_hpet::Error::InvalidDeadline { ns: deadline_ns })
    }
    fn wait(&mut self) {
        ClientCore::wait(self)
    }
}
