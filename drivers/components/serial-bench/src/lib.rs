//! What both halves of the serial measurement share: the bytes sent, the
//! check of the bytes received, and the report.
//!
//! Both halves move [`BYTES`] bytes through COM2's UART in loopback mode
//! (nothing leaves the guest, so no wait on the host is counted) with the
//! same device logic (`paddock-serial-16550`) and count time-stamp-counter
//! ticks from the first byte sent to the last byte received. Under QEMU's
//! `-icount shift=0,sleep=off` a tick is one guest instruction.
//!
//! * `serial-bench` is a client of the isolated driver
//!   (`serial-16550-loopback`): bytes go client -> `serial-tx` ring ->
//!   driver -> UART -> driver -> `serial-rx` ring -> client, with
//!   notifications between the two address spaces.
//! * `serial-bench-direct` holds the UART's caps itself and calls the
//!   same driver logic directly: no rings, no second component.
#![no_std]

use paddock_runtime::log;

/// Bytes moved per run: a multiple of the UART's 16-byte FIFO, so the
/// receive interrupt always fires on its trigger level, never on its
/// timeout (a timer wait would count idle time).
pub const BYTES: u64 = 64 * 1024;

/// The `i`th byte of the stream: not a plain counter, so a lost or
/// repeated byte shows at once.
pub fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(7) ^ (i >> 8)) as u8
}

/// Checks received bytes against the stream.
#[derive(Default)]
pub struct Check {
    pub received: u64,
    pub wrong: u64,
}

impl Check {
    pub fn byte(&mut self, b: u8) {
        if b != pattern(self.received) {
            self.wrong += 1;
        }
        self.received += 1;
    }

    pub fn done(&self) -> bool {
        self.received >= BYTES
    }
}

/// Logs the figures: `<what>: <bytes> bytes, <ticks> TSC ticks, <x.y>
/// per byte`.
pub fn report(what: &str, check: &Check, ticks: u64) {
    let tenths = ticks * 10 / check.received.max(1);
    log!(
        "{what}: {} bytes, {} wrong, {ticks} TSC ticks, {}.{} per byte",
        check.received,
        check.wrong,
        tenths / 10,
        tenths % 10
    );
}
