//! The serial driver in QEMU (`images/serial-echo.toml`): bytes written
//! into COM2 reach the client through the driver's receive ring and come
//! back out of COM2, prefixed, through the transmit ring. Verdicts come
//! from what the system sent on COM2 and printed on COM1.

use paddock::qemu::{Attach, Session, Verdict};
use paddock_tests::start;
use std::io::Write;
use std::time::{Duration, Instant};

const READY: [&str; 2] = ["[serial] COM2 at 0x2f8", "[console] ready"];

fn serial_echo() -> Session {
    boot_serial("serial-echo")
}

fn boot_serial(image: &str) -> Session {
    let attach = Attach {
        com2: true,
        monitor: false,
    };
    start(image, attach, &READY, Duration::from_secs(90))
        .unwrap_or_else(|e| panic!("booting {image}: {e:#}"))
}

#[test]
fn a_line_sent_into_com2_comes_back_echoed() {
    let mut s = serial_echo();
    let com2 = s.com2().expect("COM2 attached");
    com2.write_all(b"hello paddock\n").unwrap();
    // COM1 (the client's log) and COM2 (the echo) are separate streams:
    // wait for both lines, in whichever order they arrive.
    let verdict = s.wait_for(
        &[
            "[com2] echo: hello paddock",
            "[console] echoed line 1: hello paddock",
        ],
        Instant::now() + Duration::from_secs(30),
        false,
        None,
    );
    let log = s.stop();
    assert!(
        matches!(verdict, Verdict::Success(_)),
        "no echo ({verdict:?}); console:\n{log}"
    );
    // The client saw the line, and nothing else came back.
    assert!(
        log.contains("[console] echoed line 1: hello paddock"),
        "{log}"
    );
    let com2: Vec<&str> = log.lines().filter(|l| l.starts_with("[com2]")).collect();
    assert_eq!(com2, ["[com2] echo: hello paddock"], "{log}");
}

/// Far more than the rings hold (two data regions of 16 KiB, the client's
/// 2 KiB outbox and the UART's FIFOs), sent as fast as QEMU takes it.
const BURST_LINES: usize = 3000;

fn burst_line(i: usize) -> String {
    format!("burst {i:05} abcdefghijklmnopqrstuvwxyz0123456789")
}

#[test]
fn a_burst_larger_than_the_rings_is_echoed_without_loss_or_reordering() {
    // The client of this image stalls after the first line until the
    // receive ring is full, so the driver's back-pressure is exercised on
    // every run, not only when the client happens to fall behind.
    let mut s = boot_serial("serial-backpressure");
    let input: String = (0..BURST_LINES).map(|i| burst_line(i) + "\n").collect();
    assert!(input.len() > 100 << 10, "the burst must dwarf the rings");
    let mut writer = s.com2_writer().unwrap();
    // QEMU takes input only as fast as the guest drains the UART, so this
    // write blocks while the driver holds the line back.
    let sender = std::thread::spawn(move || writer.write_all(input.as_bytes()));

    let last = format!("[com2] echo: {}", burst_line(BURST_LINES - 1));
    let mut echoed = Vec::new();
    let mut collect = |line: &str| {
        if let Some(rest) = line.strip_prefix("[com2] ") {
            echoed.push(rest.to_string());
        }
    };
    // Without the tag: the driver (higher priority) may print a line of
    // its own inside the client's, both writing COM1 a character at a time.
    let counted = format!("echoed {BURST_LINES} lines");
    let verdict = s.wait_for(
        &[&last, &counted],
        Instant::now() + Duration::from_secs(240),
        false,
        Some(&mut collect),
    );
    sender.join().unwrap().expect("writing the burst into COM2");
    let log = s.stop();
    assert!(
        matches!(verdict, Verdict::Success(_)),
        "the burst did not come back ({verdict:?}); {} lines echoed; console:\n{}",
        echoed.len(),
        log.lines()
            .filter(|l| !l.starts_with("[com2]"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let expected: Vec<String> = (0..BURST_LINES)
        .map(|i| format!("echo: {}", burst_line(i)))
        .collect();
    if let Some(i) = (0..expected.len()).find(|&i| echoed.get(i) != Some(&expected[i])) {
        panic!(
            "line {i} differs: expected {:?}, got {:?}",
            expected[i],
            echoed.get(i)
        );
    }
    assert_eq!(echoed.len(), expected.len(), "extra lines echoed");
    // The driver held the line back rather than dropping bytes, and the
    // UART never overran.
    // The driver (higher priority) may print its line in the middle of one
    // of the client's: read the client's lines with the driver's taken out.
    assert!(
        without_lines_of(&log, "[serial] ").contains("[console] receive ring full: reading again"),
        "the client never saw its ring full:\n{log}"
    );
    assert!(
        log.contains("[serial] receive paused"),
        "no back-pressure:\n{log}"
    );
    assert!(!log.contains("overrun"), "{log}");
}

/// `log` with every line that starts with `tag` cut out, wherever it
/// starts: a component of higher priority can print a whole line of its
/// own in the middle of a lower one's (both write COM1 a character at a
/// time), never the other way round.
fn without_lines_of(log: &str, tag: &str) -> String {
    let mut rest = log;
    let mut out = String::with_capacity(log.len());
    while let Some(at) = rest.find(tag) {
        out.push_str(&rest[..at]);
        rest = rest[at..].split_once('\n').map_or("", |(_, after)| after);
    }
    out.push_str(rest);
    out
}

#[test]
fn a_line_printed_inside_another_is_cut_out() {
    let log = "[[serial] receive paused (pause 1)\nconsole] receive ring full\n[serial] x\n";
    assert_eq!(
        without_lines_of(log, "[serial] "),
        "[console] receive ring full\n"
    );
}

/// A release kernel has no console for components: the benchmark client,
/// which holds an `io.log` cap on QEMU's debug console port, logs there
/// and its lines join COM1's log; the driver beside it, without one, is
/// silent. The loopback transfer still checks every byte.
#[test]
fn on_a_release_kernel_a_component_logs_through_its_log_port() {
    for (image, figures) in [
        (
            "serial-bench-release",
            "[bench] isolated: 65536 bytes, 0 wrong, ",
        ),
        (
            "serial-bench-direct-release",
            "[bench] direct: 65536 bytes, 0 wrong, ",
        ),
    ] {
        let outcome = paddock_tests::boot_until(image, Duration::from_secs(120), &["[bench] done"])
            .unwrap_or_else(|e| panic!("booting {image}: {e:#}"));
        let log = &outcome.log;
        assert!(matches!(outcome.verdict, Verdict::Success(_)), "{log}");
        assert!(log.contains("console COM1 through the IOPort cap"), "{log}");
        assert!(log.contains(figures), "{log}");
        assert!(!log.contains("[serial]"), "{log}");
    }
}
