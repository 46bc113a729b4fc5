//! QEMU system tests: each boots a real image and judges it only by what
//! the system itself printed.

use paddock::qemu::Verdict;
use paddock_protocol::{BOOTINFO_PREFIX, SUCCESS_SENTINEL};
use paddock_tests::{boot, field};
use std::time::Duration;

const BOOT_TIMEOUT: Duration = Duration::from_secs(90);

fn boot_ok(name: &str) -> String {
    let outcome = boot(name, BOOT_TIMEOUT).unwrap_or_else(|e| panic!("building {name}: {e:#}"));
    assert!(
        matches!(outcome.verdict, Verdict::Success(_)),
        "{name} ended with {:?}; console:\n{}",
        outcome.verdict,
        outcome.log
    );
    assert!(outcome.log.contains(SUCCESS_SENTINEL));
    outcome.log
}

/// The bootinfo summary must carry real numbers, read back from the log.
fn check_summary(name: &str, log: &str) {
    // "paddock: bootinfo: <n> untypeds (...)"
    let untypeds: usize = log
        .lines()
        .find(|l| l.starts_with(BOOTINFO_PREFIX) && l.contains("untypeds"))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name}: no untyped count in:\n{log}"));
    assert!(untypeds > 10, "{name}: only {untypeds} untypeds");
    let ram: u64 = field(log, "RAM ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name}: no RAM figure in:\n{log}"));
    // 512 MiB guests: most of it must reach the root task as untypeds.
    assert!(ram > 400 << 20, "{name}: only {ram} bytes of RAM");
    let tsc: u64 = field(log, "TSC")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name}: no TSC figure in:\n{log}"));
    assert!(tsc > 0, "{name}: TSC frequency 0");
}

#[test]
fn default_image_boots_and_prints_the_bootinfo_summary() {
    let log = boot_ok("default");
    check_summary("default", &log);
    assert!(log.contains("console seL4_DebugPutChar"), "{log}");
    assert_eq!(field(&log, "IO page-table levels"), Some("0"), "{log}");
}

#[test]
fn release_image_prints_through_its_ioport_cap() {
    let log = boot_ok("release");
    check_summary("release", &log);
    assert!(log.contains("console COM1 through the IOPort cap"), "{log}");
    assert!(log.contains("kernel config release"), "{log}");
}

#[test]
fn iommu_image_reports_three_io_page_table_levels() {
    let log = boot_ok("iommu");
    check_summary("iommu", &log);
    assert!(log.contains("kernel config debug-iommu"), "{log}");
    assert_eq!(field(&log, "IO page-table levels"), Some("3"), "{log}");
}

#[test]
fn a_signal_crosses_a_channel_with_the_planned_badge_bit() {
    // Each `hello` signals its peer once through its channel's send cap;
    // each must be woken with the badge bit the plan gave that channel.
    let until = [
        "[alpha]   woken by `channel.ping`",
        "[beta]   woken by `channel.ping`",
    ];
    let outcome = paddock_tests::boot_until("hello", BOOT_TIMEOUT, &until)
        .unwrap_or_else(|e| panic!("building hello: {e:#}"));
    assert!(
        matches!(outcome.verdict, Verdict::Success(_)),
        "hello ended with {:?}; console:\n{}",
        outcome.verdict,
        outcome.log
    );
    for name in ["alpha", "beta"] {
        assert!(
            outcome
                .log
                .contains(&format!("[{name}] signalling `channel.ping`")),
            "{}",
            outcome.log
        );
    }
}
