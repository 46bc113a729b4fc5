//! `console-client`: a client of the serial and keyboard drivers, using
//! whichever of their rings its image gives it.
//!
//! * With `serial-rx` and `serial-tx` (64 slots each): every line received
//!   on COM2 goes back out prefixed with `echo: `, as it streams in (no
//!   line length limit). When the transmit ring is full it stops reading
//!   the receive ring, so a fast sender is slowed down through the
//!   driver, never dropped. With the parameter `hold_until_full = 1` it
//!   reads nothing after the first line until the receive ring is full
//!   (once; it polls meanwhile), so that a burst always meets the driver's
//!   back-pressure.
//! * With `keys` (32 slots): every key event is logged; the characters
//!   typed are collected and, on Enter, logged as `typed: <line>` and, if
//!   there is a serial driver, sent to COM2 as `keyboard: <line>`.
#![no_std]
#![no_main]

mod echo;
mod keys;
mod outbox;

use paddock_component_support::rings;
use paddock_ring::PeerError;
use paddock_runtime::{entry, log, Component};

use echo::Echo;
use keys::Keys;
use outbox::Outbox;

entry!(main);

const SERIAL_SLOTS: u32 = 64;
const KEY_SLOTS: u32 = 32;

fn main(c: Component) -> ! {
    let mut echo = rings::present(&c, "serial-rx").then(|| {
        let rx = rings::reader(&c, "serial-rx", SERIAL_SLOTS).unwrap_or_else(|e| panic!("{e}"));
        let tx = rings::writer(&c, "serial-tx", SERIAL_SLOTS).unwrap_or_else(|e| panic!("{e}"));
        Echo::new(rx, tx, c.param("hold_until_full") == Some(1))
    });
    let mut keys = rings::present(&c, "keys")
        .then(|| Keys::new(rings::reader(&c, "keys", KEY_SLOTS).unwrap_or_else(|e| panic!("{e}"))));
    log!(
        "ready: {}, {}",
        if echo.is_some() {
            "echoing COM2 lines"
        } else {
            "no serial driver"
        },
        if keys.is_some() {
            "printing key events"
        } else {
            "no keyboard driver"
        }
    );
    let mut outbox = Outbox::new();
    loop {
        match round(&mut echo, &mut keys, &mut outbox) {
            Ok(true) => {}
            Ok(false) => {
                c.wait().unwrap_or_else(|e| panic!("{e}"));
            }
            Err(e) => panic!("a driver broke the ring protocol: {e}"),
        }
    }
}

/// Does all the work at hand; `true` if more arrived while asking for
/// signals (go again), `false` to sleep.
fn round(
    echo: &mut Option<Echo>,
    keys: &mut Option<Keys>,
    outbox: &mut Outbox,
) -> Result<bool, PeerError> {
    if let Some(echo) = echo {
        echo.pump(outbox)?;
    }
    if let Some(keys) = keys {
        let serial = echo.as_mut().map(|_| &mut *outbox);
        keys.pump(serial)?;
    }
    let mut more = false;
    if let Some(echo) = echo {
        echo.pump(outbox)?;
        more |= echo.wants_more(outbox)?;
    }
    if let Some(keys) = keys {
        more |= keys.wants_more(echo.is_some().then_some(&*outbox))?;
    }
    Ok(more)
}
