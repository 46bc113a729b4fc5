//! The timer's side: turning every client's deadline word into the
//! [`TimerService`]'s queue, with bounded work per wake-up.
//!
//! On each wake-up the timer calls [`Server::poll`] once: it reads each
//! client's request word once (a flood of signals from one client sets
//! one badge bit, so it costs one read like any other), takes a new
//! request into the queue, and reports which clients to signal. The work
//! is `O(N)` queue operations per client, whatever the clients write.

use crate::page::{ClockPage, NO_DEADLINE};
use paddock_hpet::{HpetRegs, TimerService};

/// How far ahead a deadline may be: about 9.8 hours. Further is refused
/// (it is more likely garbage than a wish, and a comparator programmed
/// for it would be stepped for hours): the client is answered at once.
pub const MAX_AHEAD_NS: u64 = 1 << 45;

/// What a deadline word asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// No deadline: cancel any.
    Cancel,
    /// Wake at this HPET time (at once if it has passed).
    At(u64),
    /// Further than [`MAX_AHEAD_NS`] from now: refused.
    Refused(u64),
}

/// What `raw`, read at HPET time `now_ns`, asks for. Every value is an
/// acceptable input.
pub fn classify(raw: u64, now_ns: u64) -> Request {
    if raw == NO_DEADLINE {
        Request::Cancel
    } else if raw > now_ns.saturating_add(MAX_AHEAD_NS) {
        Request::Refused(raw)
    } else {
        Request::At(raw)
    }
}

/// The deadline queue the server feeds: [`TimerService`] in the
/// component, anything in tests. Masks have bit `i` for client `i`.
pub trait Deadlines {
    /// The error of the device.
    type Error;
    /// HPET nanoseconds now.
    fn now_ns(&mut self) -> u64;
    /// Set a client's deadline; the clients that expired meanwhile.
    fn set(&mut self, client: usize, ns: u64) -> Result<u64, Self::Error>;
    /// Cancel a client's deadline; the clients that expired meanwhile.
    fn cancel(&mut self, client: usize) -> Result<u64, Self::Error>;
}

impl<R: HpetRegs, const N: usize> Deadlines for TimerService<R, N> {
    type Error = paddock_hpet::Error;
    fn now_ns(&mut self) -> u64 {
        TimerService::now_ns(self)
    }
    fn set(&mut self, client: usize, ns: u64) -> Result<u64, Self::Error> {
        self.set_deadline(client, ns)
    }
    fn cancel(&mut self, client: usize) -> Result<u64, Self::Error> {
        TimerService::cancel(self, client)
    }
}

/// What one poll found: the clients to signal, and why.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Clients whose deadline passed (answered as expired).
    pub expired: u64,
    /// Clients whose new deadline was refused (answered as refused).
    pub refused: u64,
    /// Clients that made a new request this poll.
    pub requested: u64,
}

impl Outcome {
    /// Every client to signal.
    pub fn signal(&self) -> u64 {
        self.expired | self.refused
    }
}

/// The server's memory of each client: the request it last took, and
/// the one it is waiting to expire.
pub struct Server<const N: usize> {
    seen: [u64; N],
    pending: [Option<u64>; N],
}

impl<const N: usize> Default for Server<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Server<N> {
    /// Answer each client of `mask` whose request is pending as expired;
    /// the clients answered.
    fn answer(&mut self, pages: &[ClockPage<'_>], mask: u64) -> u64 {
        let mut answered = 0;
        for (client, page) in pages.iter().enumerate().take(N) {
            if mask & (1 << client) == 0 {
                continue;
            }
            if let Some(request) = self.pending[client].take() {
                page.answer(request, false);
                answered |= 1 << client;
            }
        }
        answered
    }

    const FITS_MASK: () = assert!(N <= 64, "a Server serves at most 64 clients");

    /// A server that has taken no request: request number 0 is "none".
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::FITS_MASK;
        Self {
            seen: [0; N],
            pending: [None; N],
        }
    }

    /// Read every client's request once, feed the new ones to `queue`,
    /// fold in `expired` (clients the queue expired since the last poll,
    /// e.g. on the interrupt), and answer every client whose request
    /// completed in its page. Pages beyond `N` are ignored.
    pub fn poll<D: Deadlines>(
        &mut self,
        queue: &mut D,
        pages: &[ClockPage<'_>],
        expired: u64,
    ) -> Result<Outcome, D::Error> {
        let mut out = Outcome::default();
        // What expired before this poll is answered first: a request taken
        // below replaces the one that expired.
        out.expired |= self.answer(pages, expired);
        let mut fresh = 0;
        for (client, page) in pages.iter().enumerate().take(N) {
            let (request, raw) = page.take_request();
            if request == self.seen[client] {
                continue;
            }
            self.seen[client] = request;
            out.requested |= 1 << client;
            let now = queue.now_ns();
            match classify(raw, now) {
                Request::Cancel => {
                    self.pending[client] = None;
                    fresh |= queue.cancel(client)?;
                }
                Request::Refused(_) => {
                    self.pending[client] = None;
                    fresh |= queue.cancel(client)?;
                    out.refused |= 1 << client;
                    page.answer(request, true);
                }
                Request::At(ns) => {
                    self.pending[client] = Some(request);
                    fresh |= queue.set(client, ns)?;
                }
            }
        }
        out.expired |= self.answer(pages, fresh);
        Ok(out)
    }
}
