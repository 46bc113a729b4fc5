//! The latency benchmark: what its two programs agree on.
//!
//! `latency-client` measures, `latency-driver` answers. They share a
//! channel `ipc` whose server is the driver (so both hold
//! `endpoint.ipc`, and each can signal the other through `channel.ipc`),
//! a ring `requests` (client to driver) and a ring `responses` (driver to
//! client). The driver also owns an `edu` device on an IOAPIC pin of its
//! own.
//!
//! The client steers the driver with calls on the endpoint; the label
//! says what to do, message register 0 how many times:
//!
//! | label | the driver |
//! | --- | --- |
//! | [`label::PING`] | replies at once: the call/reply round trip itself |
//! | [`label::SIGNALS`] | replies, then answers that many signals on the channel, one each |
//! | [`label::RING`] | replies, then answers that many ring requests with a response each |
//! | [`label::IRQ`] | raises that many edu interrupts one at a time (after `mr1` of warm-up), then replies with the total ticks from raise to wake-up (`mr0`) and of the whole loop (`mr1`) |
//!
//! A reply labelled [`REFUSED`] means the driver cannot do what was asked.
#![no_std]

/// What a call on the endpoint asks for (its message label).
pub mod label {
    /// Reply at once.
    pub const PING: u64 = 1;
    /// Reply, then answer `mr0` signals.
    pub const SIGNALS: u64 = 2;
    /// Reply, then answer `mr0` ring requests.
    pub const RING: u64 = 3;
    /// Raise `mr1` interrupts of warm-up and `mr0` measured ones, then
    /// reply with the totals.
    pub const IRQ: u64 = 4;
}

/// The label of a reply to a request the driver cannot serve.
pub const REFUSED: u64 = 0xbad;

/// The channel endpoint the client calls the driver through.
pub const ENDPOINT: &str = "endpoint.ipc";
/// The channel's signal caps and badge bits, one each way.
pub const CHANNEL: &str = "channel.ipc";
/// Requests, client to driver.
pub const REQUESTS: &str = "requests";
/// Responses, driver to client.
pub const RESPONSES: &str = "responses";
/// Slots of each ring, as `images/latency.toml` declares them (the ring
/// attachment checks the planned queue region against it).
pub const RING_SLOTS: u32 = 16;

/// The mean of `total` over `n`, rounded to nearest; 0 for no samples.
pub fn mean(total: u64, n: u64) -> u64 {
    total.saturating_add(n / 2).checked_div(n).unwrap_or(0)
}

/// `part / whole` in hundredths, for ratios printed as `1.23x`.
pub fn hundredths(part: u64, whole: u64) -> u64 {
    let h = (u128::from(part) * 100 + u128::from(whole) / 2)
        .checked_div(u128::from(whole))
        .unwrap_or(0);
    u64::try_from(h).unwrap_or(u64::MAX)
}
