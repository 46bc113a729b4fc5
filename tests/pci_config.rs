//! A driver's own configuration space, in QEMU: it reads the edu device's
//! identity and capability list through the root task; an offset beyond
//! its function is refused; its writes to the BARs, the command register's
//! decode and bus-master bits and the MSI capability are refused by the
//! root task (the verdicts checked here are the root task's report lines,
//! which the driver cannot forge); a device-specific write succeeds.

use paddock::qemu::Verdict;
use paddock_tests::boot_until;
use std::time::Duration;

#[test]
fn a_driver_reaches_its_own_configuration_space_through_the_policy() {
    let outcome = boot_until(
        "pci-config",
        Duration::from_secs(120),
        &["configuration checks done"],
    )
    .unwrap_or_else(|e| panic!("building pci-config: {e:#}"));
    let log = &outcome.log;
    assert!(
        matches!(outcome.verdict, Verdict::Success(_)),
        "ended with {:?}:\n{log}",
        outcome.verdict
    );
    let has = |line: &str| assert!(log.contains(line), "missing `{line}` in:\n{log}");
    // The root task's verdicts, from its record, which the driver cannot
    // write.
    let record = &outcome.record;
    let root_said = |line: &str| {
        assert!(
            record.contains(line),
            "missing `{line}` in the record:\n{record}"
        )
    };
    // Reads: identity and the capability list (edu's MSI at 0x40).
    has("[edu-config] identity: 1234:11e8 class 00ff00");
    has("[edu-config] capability 0x05 at 0x40");
    // No address in a request: the only way out of the function is past
    // its end, and that is refused.
    let root = "paddock: PCI config: `edu-config` on `edu`:";
    root_said(&format!(
        "{root} read of 4 bytes at 0x100 refused: beyond the function's 256 bytes"
    ));
    root_said(&format!(
        "{root} write of 4 bytes at 0x10 (value 0xffffffff) refused by policy row 4 (BAR; owner: root task)"
    ));
    for line in [
        "write of 2 bytes at 0x4",
        "write of 4 bytes at 0x44 (value 0x0) refused by policy row 10 (MSI capability; owner: root task)",
        "write of 2 bytes at 0x42",
        "write of 4 bytes at 0x30 (value 0xfffe0001) refused by policy row 5 (expansion ROM; owner: root task)",
        "write of 1 bytes at 0x34 (value 0x80) refused by policy row 6 (capabilities pointer; owner: root task)",
        "write of 1 bytes at 0x3c (value 0xb) refused by policy row 7 (interrupt line/pin; owner: root task)",
        "write of 1 bytes at 0xf (value 0x40) refused by policy row 3 (header; owner: root task)",
    ] {
        root_said(&format!("{root} {line}"));
    }
    let command_refusals = record
        .matches(&format!("{root} write of 2 bytes at 0x4 (value "))
        .count();
    assert_eq!(command_refusals, 2, "{record}");
    assert_eq!(
        record
            .matches(
                "refused by policy row 1 (command decode/bus-master/SERR/INTx bits; owner: split)"
            )
            .count(),
        2,
        "{record}"
    );
    // The driver sees the same refusals as error values.
    has("[edu-config] write to BAR0: refused by the root task: BAR");
    has("[edu-config] write disabling MSI: refused by the root task: MSI capability");
    // The allowed write lands, and nothing the root task owns moved.
    has("[edu-config] allowed write at 0x80: read back 0x5a5aa5a5");
    has("[edu-config] BAR0 and command unchanged");
    assert!(!log.contains("ALLOWED"), "{log}");
    assert!(!record.contains("refused by policy row 15"), "{record}");
}
