//! The latency benchmark (`images/latency.toml`) under `-icount`: every
//! figure line appears with a plausible instruction count, and the costs
//! are ordered as the paths they measure are nested: a ring round trip
//! is a signal ping-pong plus queue work, so it must cost more; the
//! driver's wake-up lies inside its interrupt round trip.

use paddock::qemu::{BatchOptions, Extra};
use paddock_tests::{boot_succeeding, workspace};
use std::time::Duration;

/// The figures the client prints, in order.
const FIGURES: [&str; 5] = [
    "ipc_call_reply",
    "signal_ping_pong",
    "ring_round_trip",
    "irq_edu_wake",
    "irq_edu_round_trip",
];

/// Fewer guest instructions than this for a round trip through the
/// kernel means the measurement is broken (two syscalls alone, with their
/// entry and exit, take more).
const LEAST: u64 = 100;
/// More than this means something else ran inside the measured loops (a
/// debug kernel's slowest round trip here is a few thousand).
const MOST: u64 = 1_000_000;

/// `(iterations, ticks)` of `[latency] <name>: <n> iterations, <t> ticks each`.
fn figure(log: &str, name: &str) -> (u64, u64) {
    let prefix = format!("[latency] {name}: ");
    let line = log
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no `{name}` figure in:\n{log}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let number = |i: usize, after: &str| -> u64 {
        assert_eq!(words.get(i + 1), Some(&after), "{line}");
        words[i]
            .parse()
            .unwrap_or_else(|_| panic!("not a number in {line}"))
    };
    (number(0, "iterations,"), number(2, "ticks"))
}

#[test]
fn latency_figures_are_sane_and_ordered() {
    let outcome = boot_succeeding(
        &workspace().join("images/latency.toml"),
        Default::default(),
        BatchOptions {
            // Generous: a loaded host slows QEMU, above all under -icount;
            // alone the run takes about 3 s.
            timeout: Duration::from_secs(180),
            echo: false,
            until: vec!["[latency] done".into()],
            extra: Extra {
                icount: true,
                ..Extra::default()
            },
            ..BatchOptions::default()
        },
    );
    let log = &outcome.log;
    let mut ticks = Vec::new();
    for name in FIGURES {
        let (n, t) = figure(log, name);
        assert!(n >= 1000, "{name}: only {n} iterations");
        assert!(
            (LEAST..=MOST).contains(&t),
            "{name}: {t} instructions per iteration is not plausible"
        );
        ticks.push(t);
    }
    let [_ipc, signal, ring, wake, irq_round_trip] = ticks[..] else {
        unreachable!()
    };
    assert!(
        ring > signal,
        "the ring round trip ({ring}) costs no more than the signal ping-pong ({signal}) it contains"
    );
    assert!(
        irq_round_trip > wake,
        "the interrupt round trip ({irq_round_trip}) costs no more than its wake-up ({wake})"
    );
}
