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
