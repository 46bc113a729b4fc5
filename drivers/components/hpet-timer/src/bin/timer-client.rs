//! `timer-client`: sleeps through `embedded-hal`'s `DelayNs` over the HPET
//! timer, and tries the timer with deadlines it must refuse or expire at
//! once.
//!
//! Parameters: `first_ms`, `step_ms`, `count` (sleeps of `first_ms`,
//! `first_ms + step_ms`, ...), `absurd` (1: then send a deadline hours
//! beyond what the timer accepts, and one in the past).
//!
//! Each sleep prints the deadline, the wake-up time and the elapsed time
//! by the clock page (HPET nanoseconds), and the TSC ticks it measured
//! itself, which the system test converts with the TSC rate the root task
//! reports, a party this client cannot speak for.
#![no_std]
#![no_main]

use embedded_hal::delay::DelayNs;
use paddock_hpet::Delay;
use paddock_hpet_timer::stop;
use paddock_runtime::{entry, log, witness, Component};
use paddock_timer::{tsc, TimerClient};

entry!(main);

/// Signals to wait for the timer's answer before giving up.
const ANSWER_WAITS: usize = 16;

fn main(c: Component) -> ! {
    let first = c.param("first_ms").unwrap_or(10);
    let step = c.param("step_ms").unwrap_or(10);
    let count = c.param("count").unwrap_or(3);
    let absurd = c.param("absurd").unwrap_or(0) != 0;
    let mut client = TimerClient::attach(&c).unwrap_or_else(|e| stop(&c, &e));
    // The timer signals every client once its clock is published.
    let mut waits = 0;
    while let Err(e) = client.try_now_ns() {
        waits += 1;
        if waits > ANSWER_WAITS {
            stop(&c, &e);
        }
        client.wait();
    }
    log!("clock: {:?}", client.params());
    let mut delay = Delay::new(client);
    let mut max_late_ns = 0u64;
    for i in 0..count {
        let ms = first.saturating_add(step.saturating_mul(i));
        let ms = u32::try_from(ms).unwrap_or(u32::MAX);
        let (t0, c0) = (delay.clock().now_ns(), tsc::read());
        delay.delay_ms(ms);
        let (t1, c1) = (delay.clock().now_ns(), tsc::read());
        max_late_ns = max_late_ns.max((t1 - t0).saturating_sub(u64::from(ms) * 1_000_000));
        log!(
            "slept {ms} ms: deadline={} woke={t1} elapsed_ns={} tsc={}",
            delay.clock().deadline(),
            t1 - t0,
            c1.wrapping_sub(c0)
        );
    }
    // The most any sleep overran, for the root task's record (the clock
    // is the timer's, which a peer flooding the timer cannot write).
    witness!("max late {} us of {count}", max_late_ns / 1000);
    let mut client = delay.into_inner();
    if absurd {
        // Hostile deadlines, written raw past the client-side check.
        let refused_before = client.page().refused();
        for raw in [u64::MAX - 1, 1 << 63] {
            let t0 = client.now_ns();
            answer(&mut client, raw);
            log!(
                "absurd deadline {raw:#x}: refused={} answered after {} ns",
                client.page().refused() - refused_before,
                client.now_ns() - t0
            );
        }
        let t0 = client.now_ns();
        answer(&mut client, t0.saturating_sub(1_000_000));
        log!(
            "past deadline: expired={} answered after {} ns",
            client.page().expired(),
            client.now_ns() - t0
        );
        // And the timer still serves.
        let mut delay = Delay::new(client);
        let t0 = delay.clock().now_ns();
        delay.delay_ms(5);
        let t1 = delay.clock().now_ns();
        log!(
            "slept 5 ms after: deadline={} woke={t1} elapsed_ns={}",
            delay.clock().deadline(),
            t1 - t0
        );
    }
    log!("done");
    c.park()
}

/// Send `raw` and wait (boundedly) for the timer to answer it.
fn answer(client: &mut TimerClient, raw: u64) {
    client.send_raw(raw);
    for _ in 0..ANSWER_WAITS {
        if client.answered() {
            return;
        }
        client.wait();
    }
    log!("deadline {raw:#x}: no answer from the timer");
}
