//! DMA through QEMU's edu device behind VT-d, in QEMU: copies of several
//! sizes arrive intact, and a rogue driver's writes outside its windows are
//! blocked and reported. Verdicts come from the system's own output.

use paddock::qemu::{Outcome, Verdict};
use paddock_tests::boot_until;
use std::time::Duration;

fn run(image: &str, until: &[&str]) -> String {
    boot(image, until).log
}

fn boot(image: &str, until: &[&str]) -> Outcome {
    let outcome = boot_until(image, Duration::from_secs(120), until)
        .unwrap_or_else(|e| panic!("building {image}: {e:#}"));
    assert!(
        matches!(outcome.verdict, Verdict::Success(_)),
        "{image} ended with {:?}; console:\n{}",
        outcome.verdict,
        outcome.log
    );
    outcome
}

#[test]
fn dma_copies_of_several_sizes_arrive_intact() {
    let log = run("dma", &["DMA copies intact"]);
    // The root task found the device and programmed its IOSpace.
    assert!(log.contains("paddock: PCI `edu`: 1234:11e8 at "), "{log}");
    assert!(log.contains("IO page-table levels 3"), "{log}");
    for (len, offset) in [
        (1, "0x0"),
        (1000, "0x123"),
        (64, "0x1000"),
        (4095, "0x2000"),
    ] {
        let line = format!("[edu-client] DMA copy of {len} bytes at {offset}: intact");
        assert!(log.contains(&line), "missing `{line}` in:\n{log}");
    }
    assert!(
        log.contains(
            "[edu-client] 4 of 4 DMA copies intact, 0 refused, 0 malformed completions ignored; source buffer unchanged"
        ),
        "{log}"
    );
    assert!(
        !log.contains("IOMMU: DMA"),
        "an honest driver caused a DMA fault:\n{log}"
    );
}

#[test]
fn dma_outside_the_declared_windows_is_blocked_by_vt_d() {
    let witnessed = "paddock: witness `edu-client`: ok 0 no 4 bad 8 src ok";
    let outcome = boot(
        "dma-containment",
        &["DMA copies intact", "attacks done", witnessed],
    );
    let (log, record) = (&outcome.log, &outcome.record);
    for target in ["0x110000", "0x0"] {
        assert!(
            log.contains(&format!("bus address {target}, outside its windows")),
            "the rogue did not attempt {target}:\n{log}"
        );
        // The kernel's VT-d fault report names the device and the address.
        let fault = format!(
            "IOMMU: DMA write page fault from bus/dev/fun 0x18 on address 0x0:{}",
            &target[2..]
        );
        assert!(log.contains(&fault), "no VT-d fault for {target}:\n{log}");
    }
    // The client's memory: its data is as it wrote it, and no copy landed.
    // It ignored the rogue's 8 malformed completions (one naming no
    // request, one repeating a request, for each of the 4) and carried on.
    assert!(
        log.contains(
            "[edu-client] 0 of 4 DMA copies intact, 4 refused, 8 malformed completions ignored; source buffer unchanged"
        ),
        "{log}"
    );
    assert!(!log.contains("CHANGED"), "{log}");
    assert!(!log.contains("CORRUPT"), "{log}");
    // The same, from the client itself through the root task's record,
    // which the rogue cannot write; and the client never faulted.
    assert!(record.contains(witnessed), "{record}");
    assert!(
        !record.contains("paddock: fault: component `edu-client`"),
        "{record}"
    );
}
