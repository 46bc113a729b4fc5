//! Containment, shown in QEMU: a deliberately rogue component
//! (`images/containment.toml`) tries to reach beyond its capabilities. Every
//! verdict here is read from what the system printed.

use paddock::qemu::Verdict;
use paddock_tests::boot_until;
use std::time::Duration;

const STOPPED: &str = "paddock: stopped `rogue`: its restart limit is reached";
const WITNESS: &str = "[witness] signalled: badge bits";
const SEEN_GENERATION: &str = "[witness]   `rogue` is at generation 2";

fn containment_log() -> String {
    let outcome = boot_until(
        "containment",
        Duration::from_secs(90),
        &[STOPPED, WITNESS, SEEN_GENERATION],
    )
    .unwrap_or_else(|e| panic!("building containment: {e:#}"));
    assert!(
        matches!(outcome.verdict, Verdict::Success(_)),
        "containment ended with {:?}; console:\n{}",
        outcome.verdict,
        outcome.log
    );
    outcome.log
}

fn refused(log: &str, check: &str, error: &str) {
    let line = log
        .lines()
        .find(|l| l.contains(&format!("[rogue] check {check}:")))
        .unwrap_or_else(|| panic!("no check `{check}` in:\n{log}"));
    assert!(
        line.contains(&format!("refused ({error}")),
        "`{check}` was not refused with {error}: {line}"
    );
}

#[test]
fn a_rogue_component_is_contained_and_the_system_keeps_running() {
    let log = containment_log();
    assert!(!log.contains("ALLOWED"), "something was allowed:\n{log}");
    assert!(!log.contains("containment failed"), "{log}");

    // Port IO outside its range: refused, and reported by the kernel.
    refused(&log, "port 0x3f8 outside its range", "IllegalOperation");
    refused(
        &log,
        "port read 0x3fd outside its range",
        "IllegalOperation",
    );
    assert!(
        log.contains("Ports 1016--1016 fall outside permitted range 744--751"),
        "the kernel did not report the attempt:\n{log}"
    );
    // Its own range works.
    assert!(log.contains("[rogue] own port 0x2ef reads"), "{log}");

    // Every slot the plan leaves empty: invocations fail, nothing is there.
    let empty = log
        .lines()
        .find_map(|l| l.split("[rogue] check empty slots: ").nth(1))
        .unwrap_or_else(|| panic!("no empty-slot check in:\n{log}"));
    let words: Vec<&str> = empty.split_whitespace().collect();
    // "<refused> of <total> refused, <found> non-empty outside the plan"
    let (refused_n, total, found): (u32, u32, u32) = (
        words[0].parse().unwrap(),
        words[2].parse().unwrap(),
        words[4].parse().unwrap(),
    );
    assert!(total > 20, "only {total} empty slots checked");
    assert_eq!(refused_n, total, "{empty}");
    assert_eq!(found, 0, "{empty}");

    // IRQ operations without the IRQ handler cap.
    refused(
        &log,
        "IRQ ack through a non-handler cap",
        "InvalidCapability",
    );
    refused(
        &log,
        "IRQ rebind through a non-handler cap",
        "InvalidCapability",
    );
    refused(&log, "IRQControl through slot 4", "IllegalOperation");
    assert!(log.contains("[rogue] own IRQ handler acks"), "{log}");

    // Faults: reported with kind, address and ip; restarted twice, then
    // stopped by its policy (restart = 2).
    for (generation, what) in [
        (0, "VMFault: read (not mapped) at address 0x40000000, ip 0x"),
        (
            1,
            "VMFault: write (not mapped) at address 0x40000000, ip 0x",
        ),
        (2, "UserException: CPU exception 6"),
    ] {
        let expected =
            format!("paddock: fault: component `rogue` (generation {generation}): {what}");
        assert!(log.contains(&expected), "missing `{expected}` in:\n{log}");
    }
    assert!(
        log.contains("paddock: restarted `rogue` (generation 1)"),
        "{log}"
    );
    assert!(
        log.contains("paddock: restarted `rogue` (generation 2)"),
        "{log}"
    );
    assert!(
        !log.contains("paddock: restarted `rogue` (generation 3)"),
        "{log}"
    );
    assert!(log.contains(STOPPED), "{log}");

    // Peers can read a component's restart generation.
    assert!(
        log.contains(SEEN_GENERATION),
        "the witness did not see the rogue's generation:\n{log}"
    );
    // The witness ran before, and still runs after the rogue's faults.
    let restarted_at = log
        .find("paddock: restarted `rogue` (generation 2)")
        .unwrap();
    let witness_at = log.find(WITNESS).unwrap();
    assert!(
        witness_at > restarted_at,
        "witness not signalled after the restarts:\n{log}"
    );
}
