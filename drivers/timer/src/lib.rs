//! The timer protocol: how the HPET timer component (`hpet-timer`) and its
//! clients share time without IPC endpoints.
//!
//! For client `<c>` the description declares a 4 KiB `[[shared]]` region
//! `<c>-clock`, mapped read-write by both, and a `[[channel]]` `<c>-timer`
//! (rings, channels and shared regions share one namespace).
//! The page ([`page`]) holds:
//!
//! * the **clock** the timer publishes, like Linux's vDSO: a TSC value, the
//!   HPET time in nanoseconds at that TSC value, and the nanoseconds per
//!   TSC tick in 32.32 fixed point ([`Params`]), under a sequence lock. A
//!   client turns `rdtsc` into HPET nanoseconds without a call;
//! * the **deadline** the client writes (absolute HPET nanoseconds,
//!   [`NO_DEADLINE`] for none) with a request number it bumps, then
//!   signals the channel;
//! * the timer's **answer**: the request number it last completed (expired
//!   or refused) and counters of refusals and expiries, written before it
//!   signals the client back.
//!
//! Each side treats the page as hostile: the client bounds its retries
//! and checks every value it reads ([`ClockError`]), the timer accepts any
//! deadline word ([`server::classify`]) and does bounded work per wake-up
//! ([`server::Server::poll`]).
//!
//! [`client::ClientCore`] is the client's logic over two small traits (the
//! TSC and the channel), host-tested; with the `runtime` feature,
//! [`TimerClient`] attaches it to a component by name and implements
//! `paddock_hpet::Clock`, so `paddock_hpet::Delay` gives `embedded-hal`'s
//! `DelayNs`.
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod client;
mod clock;
pub mod page;
pub mod server;
pub mod tsc;

// Not in host unit tests: the runtime brings the component's panic
// handler, which std's would clash with. (So this crate has unit tests
// only: an integration test would link both.)
#[cfg(all(feature = "runtime", not(test)))]
pub mod runtime;

pub use clock::{ClockError, Params, MAX_MULT, MIN_MULT};
pub use page::{ClockPage, NO_DEADLINE};
#[cfg(all(feature = "runtime", not(test)))]
pub use runtime::{Channel, TimerClient};

#[cfg(test)]
mod tests;
