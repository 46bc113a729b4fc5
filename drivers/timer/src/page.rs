//! The shared page between the timer and one client: its layout and the
//! two sides' accesses.
//!
//! Words (64-bit, little-endian, at `8 * index`):
//!
//! | word | name | written by | meaning |
//! | --- | --- | --- | --- |
//! | 0 | `SEQ` | timer | sequence lock: odd while words 1..=4 change |
//! | 1 | `MAGIC` | timer | [`MAGIC`] once published |
//! | 2 | `TSC_BASE` | timer | [`Params::tsc_base`] |
//! | 3 | `NS_BASE` | timer | [`Params::ns_base`] |
//! | 4 | `MULT` | timer | [`Params::mult`] |
//! | 5 | `REFUSED` | timer | deadlines refused so far |
//! | 6 | `EXPIRED` | timer | deadlines expired (client signalled) so far |
//! | 7 | `ANSWER` | timer | number of the last request completed |
//! | 8 | `DEADLINE` | client | absolute HPET ns, [`NO_DEADLINE`] for none |
//! | 9 | `REQUEST` | client | request number, bumped after each deadline |
//!
//! The client's words start a cache line of their own. Orderings, each
//! pair named:
//! * (S) the timer's Release store of the even `SEQ` after the fields
//!   pairs with the client's Acquire fence after reading them; the
//!   timer's Release fence after the odd `SEQ` with the client's Acquire
//!   load of `SEQ` first (the standard seqlock).
//! * (R) the client's Release store of `REQUEST` after `DEADLINE` pairs
//!   with the timer's Acquire load of `REQUEST` before `DEADLINE`.
//! * (A) the timer's Release store of `ANSWER` after the counters pairs
//!   with the client's Acquire load of `ANSWER`.

use crate::clock::{ClockError, Params};
use core::sync::atomic::{fence, AtomicU64, Ordering};

/// Word indices.
pub const SEQ: usize = 0;
#[allow(missing_docs)]
pub const MAGIC_WORD: usize = 1;
#[allow(missing_docs)]
pub const TSC_BASE: usize = 2;
#[allow(missing_docs)]
pub const NS_BASE: usize = 3;
#[allow(missing_docs)]
pub const MULT: usize = 4;
#[allow(missing_docs)]
pub const REFUSED: usize = 5;
#[allow(missing_docs)]
pub const EXPIRED: usize = 6;
#[allow(missing_docs)]
pub const ANSWER: usize = 7;
#[allow(missing_docs)]
pub const DEADLINE: usize = 8;
#[allow(missing_docs)]
pub const REQUEST: usize = 9;
/// Words the protocol uses; the region must hold at least these.
pub const WORDS: usize = 16;
/// Bytes the protocol uses.
pub const BYTES: usize = WORDS * 8;

/// "PDKTIME1": the protocol and its version.
pub const MAGIC: u64 = u64::from_le_bytes(*b"PDKTIME1");
/// The deadline word's "no deadline".
pub const NO_DEADLINE: u64 = u64::MAX;
/// How many times a reader retries a torn clock before giving up. The
/// writer holds the lock for a few stores; a reader that sees it held
/// this many times is looking at a stuck or hostile writer.
pub const READ_RETRIES: usize = 1000;

/// One client's page, over the shared mapping's words.
#[derive(Clone, Copy)]
pub struct ClockPage<'a> {
    words: &'a [AtomicU64; WORDS],
}

impl<'a> ClockPage<'a> {
    /// The page over `words`, which must hold at least [`WORDS`].
    pub fn new(words: &'a [AtomicU64]) -> Option<Self> {
        let words = words.get(..WORDS)?.try_into().ok()?;
        Some(Self { words })
    }

    fn load(&self, i: usize, o: Ordering) -> u64 {
        self.words[i].load(o)
    }

    fn store(&self, i: usize, v: u64, o: Ordering) {
        self.words[i].store(v, o)
    }

    // --- the timer's side ---

    /// Publish `p` under the sequence lock (timer only).
    pub fn publish(&self, p: Params) {
        // The timer is the only writer of SEQ, so its own count is kept in
        // the page: a client scribbling on it only makes its own reads fail.
        let seq = self.load(SEQ, Ordering::Relaxed) | 1;
        self.store(SEQ, seq, Ordering::Relaxed);
        // (S): no field store moves before the odd SEQ.
        fence(Ordering::Release);
        self.store(MAGIC_WORD, MAGIC, Ordering::Relaxed);
        self.store(TSC_BASE, p.tsc_base, Ordering::Relaxed);
        self.store(NS_BASE, p.ns_base, Ordering::Relaxed);
        self.store(MULT, p.mult, Ordering::Relaxed);
        // (S): the fields are visible before the even SEQ.
        self.store(SEQ, seq.wrapping_add(1), Ordering::Release);
    }

    /// The client's request: its number and deadline word (timer only).
    pub fn take_request(&self) -> (u64, u64) {
        // (R)
        let request = self.load(REQUEST, Ordering::Acquire);
        (request, self.load(DEADLINE, Ordering::Relaxed))
    }

    /// Record that request `request` completed, counting it as refused or
    /// expired (timer only); the client is signalled after this.
    pub fn answer(&self, request: u64, refused: bool) {
        let counter = if refused { REFUSED } else { EXPIRED };
        let n = self.load(counter, Ordering::Relaxed).wrapping_add(1);
        self.store(counter, n, Ordering::Relaxed);
        // (A)
        self.store(ANSWER, request, Ordering::Release);
    }

    // --- the client's side ---

    /// The published clock, retrying a torn read at most
    /// [`READ_RETRIES`] times; every value is checked.
    pub fn read(&self) -> Result<Params, ClockError> {
        for _ in 0..READ_RETRIES {
            // (S)
            let before = self.load(SEQ, Ordering::Acquire);
            if before & 1 == 1 {
                core::hint::spin_loop();
                continue;
            }
            let magic = self.load(MAGIC_WORD, Ordering::Relaxed);
            let p = Params {
                tsc_base: self.load(TSC_BASE, Ordering::Relaxed),
                ns_base: self.load(NS_BASE, Ordering::Relaxed),
                mult: self.load(MULT, Ordering::Relaxed),
            };
            // (S)
            fence(Ordering::Acquire);
            if self.load(SEQ, Ordering::Relaxed) != before {
                continue;
            }
            if magic != MAGIC {
                return Err(ClockError::NotPublished);
            }
            return p.checked();
        }
        Err(ClockError::Torn)
    }

    /// Ask to be woken at `deadline_ns` ([`NO_DEADLINE`]: never), as
    /// request number `request` (client only).
    pub fn request(&self, deadline_ns: u64, request: u64) {
        self.store(DEADLINE, deadline_ns, Ordering::Relaxed);
        // (R)
        self.store(REQUEST, request, Ordering::Release);
    }

    /// The number of the last request the timer completed (client only).
    pub fn answered(&self) -> u64 {
        // (A)
        self.load(ANSWER, Ordering::Acquire)
    }

    /// Deadlines the timer refused so far.
    pub fn refused(&self) -> u64 {
        self.load(REFUSED, Ordering::Relaxed)
    }

    /// Deadlines the timer expired so far.
    pub fn expired(&self) -> u64 {
        self.load(EXPIRED, Ordering::Relaxed)
    }

    /// Write raw word `index` (for tests that play a hostile peer).
    pub fn poke(&self, index: usize, value: u64) {
        if let Some(w) = self.words.get(index) {
            w.store(value, Ordering::Relaxed);
        }
    }
}
