//! Parameters from a description reach the program: the serial driver
//! programs the line settings of `[component.params]`, and says so.

use paddock::image;
use paddock::qemu::{self, BatchOptions, Verdict};
use paddock_tests::workspace;
use std::time::Duration;

#[test]
fn the_serial_driver_programs_the_described_line_settings() {
    let ws = workspace();
    let description = ws.join("tests/fixtures/system/serial-params.toml");
    let image = image::build(&ws, &description).unwrap_or_else(|e| panic!("{e:#}"));
    let expected = "[serial] COM2 at 0x2f8: 57600 baud, 8E2, FIFOs on";
    let outcome = qemu::run_batch(
        &image,
        BatchOptions {
            timeout: Duration::from_secs(90),
            echo: false,
            until: vec![expected.into()],
            ..BatchOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        matches!(outcome.verdict, Verdict::Success(_)),
        "{:?}\n{}",
        outcome.verdict,
        outcome.log
    );
    assert!(outcome.log.contains(expected), "{}", outcome.log);
}

#[test]
fn a_parity_the_driver_cannot_program_stops_it_by_name_without_a_fault() {
    let ws = workspace();
    let text = std::fs::read_to_string(ws.join("tests/fixtures/system/serial-params.toml"))
        .expect("the fixture")
        .replacen("parity = 2", "parity = 7", 1)
        .replacen(
            "name = \"serial-params\"",
            "name = \"serial-params-bad\"",
            1,
        );
    let dir = ws.join("target/serial-params");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("serial-params-bad.toml");
    std::fs::write(&path, text).unwrap();
    let stopped = "[serial] stopped: parameter parity = 7: use 0 (none), 1 (odd) or 2 (even)";
    let image = image::build(&ws, &path).unwrap_or_else(|e| panic!("{e:#}"));
    let outcome = qemu::run_batch(
        &image,
        BatchOptions {
            timeout: Duration::from_secs(90),
            echo: false,
            until: vec![stopped.into()],
            ..BatchOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        matches!(outcome.verdict, Verdict::Success(_)),
        "{:?}\n{}",
        outcome.verdict,
        outcome.log
    );
    // Said once, by the driver, and no fault for the root task to restart.
    assert!(
        !outcome
            .record
            .contains("paddock: fault: component `serial`"),
        "{}",
        outcome.record
    );
}
