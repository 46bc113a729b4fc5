//! A declared PCI device that the machine does not have: the root task
//! refuses to boot, naming the device and its driver, and the run ends with
//! the failure sentinel.

use paddock::image;
use paddock::qemu::{self, BatchOptions, Verdict};
use paddock_tests::workspace;
use std::time::Duration;

#[test]
fn a_missing_pci_device_is_refused_by_name() {
    let ws = workspace();
    let description = ws.join("tests/fixtures/system/missing-edu.toml");
    let image = image::build(&ws, &description).unwrap_or_else(|e| panic!("{e:#}"));
    let outcome = qemu::run_batch(
        &image,
        BatchOptions {
            timeout: Duration::from_secs(90),
            echo: false,
            ..BatchOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(outcome.verdict, Verdict::Failure, "{}", outcome.log);
    assert!(
        outcome.log.contains(
            "PCI device `edu` of component `edu` (1234:11e8) is not present: refusing to start its driver"
        ),
        "{}",
        outcome.log
    );
    // Nothing was started.
    assert!(
        !outcome.log.contains("paddock: all components started"),
        "{}",
        outcome.log
    );
}
