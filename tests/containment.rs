//! Containment, shown in QEMU: a deliberately rogue component
//! (`images/containment.toml`) tries to reach beyond its capabilities.
//! Verdicts come from the kernel's messages on the console and from the
//! root task's record, which no component can write
//! (`paddock_protocol::record`); the rogue's own lines only show what it
//! tried.

use paddock::qemu::{Outcome, Verdict};
use paddock_tests::boot_until;
use std::time::Duration;

const STOPPED: &str = "paddock: stopped `rogue`: its restart limit is reached";
const WITNESS: &str = "[witness] signalled: badge bits";
const SEEN_GENERATION: &str = "[witness]   `rogue` is at generation 3";
/// The witness's report of the same, in the root task's record.
const WITNESSED: &str = "paddock: witness `witness`: rogue at generation 3";

fn containment() -> Outcome {
    let outcome = boot_until(
        "containment",
        Duration::from_secs(90),
        &[STOPPED, WITNESS, SEEN_GENERATION, WITNESSED],
    )
    .unwrap_or_else(|e| panic!("building containment: {e:#}"));
    assert!(
        matches!(outcome.verdict, Verdict::Success(_)),
        "containment ended with {:?}; console:\n{}",
        outcome.verdict,
        outcome.log
    );
    outcome
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

/// The number of kernel reports of a port outside the rogue's range
/// (COM4, 0x2E8..=0x2EF, is 744--751).
fn kernel_refusals(log: &str, port: u16) -> usize {
    let text = format!("IOPort: Ports {port}--{port} fall outside permitted range 744--751");
    log.lines().filter(|l| l.contains(&text)).count()
}

#[test]
fn a_rogue_component_is_contained_and_the_system_keeps_running() {
    let outcome = containment();
    let (log, record) = (&outcome.log, &outcome.record);
    assert!(!log.contains("ALLOWED"), "something was allowed:\n{log}");
    assert!(!log.contains("containment failed"), "{log}");

    // Port IO outside its range: refused, and reported by the kernel.
    refused(log, "port 0x3f8 outside its range", "IllegalOperation");
    refused(log, "port read 0x3fd outside its range", "IllegalOperation");
    // The write of 0x3f8 and the read of 0x3fd, then a read and a write of
    // each in the sweep of reserved ports below.
    assert_eq!(kernel_refusals(log, 0x3f8), 3, "{log}");
    assert_eq!(kernel_refusals(log, 0x3fd), 3, "{log}");
    // Its own range works.
    assert!(log.contains("[rogue] own port 0x2ef reads"), "{log}");

    // Every port the platform keeps: the kernel refused a read and a write
    // of each (the rogue's list, drivers/components/rogue/src/main.rs).
    for port in [
        0x20u16, 0x21, 0x40, 0x43, 0x60, 0x64, 0x70, 0x92, 0xA0, 0xE9, 0x510, 0xCF8, 0xCFC,
    ] {
        assert_eq!(
            kernel_refusals(log, port),
            2,
            "port {port:#x}: the kernel did not refuse both the read and the write:\n{log}"
        );
    }
    // The record's own port: refused, and nothing of the rogue's in it.
    let record_port = paddock_protocol::record::PORT;
    assert_eq!(kernel_refusals(log, record_port), 2, "{log}");
    // (the root task's lines all start `paddock`; it also prints empty
    // lines between sections).
    assert!(
        record
            .lines()
            .all(|l| l.is_empty() || l.starts_with("paddock")),
        "a line in the record that is not the root task's:\n{record}"
    );

    // Lines dressed as the root task's and a witness's reach the console
    // (anyone can print there) but not the record.
    assert!(
        log.contains("paddock: stopped `witness`: FORGED by rogue"),
        "{log}"
    );
    assert!(
        log.contains("paddock: witness `witness`: FORGED by rogue"),
        "{log}"
    );
    assert!(
        !record.contains("FORGED"),
        "a forged line in the record:\n{record}"
    );

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
    // The kernel's word for it: every slot the plan leaves empty was
    // invoked, and the kernel found a null cap there.
    let ws = paddock_tests::workspace();
    let (_, plan) = paddock_caps::load_planned(&ws.join("images/containment.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let rogue = plan
        .components
        .iter()
        .position(|c| c.name == "rogue")
        .expect("the plan has the rogue");
    let planned: Vec<u32> = plan
        .caps
        .iter()
        .filter(|c| c.component == rogue)
        .map(|c| c.slot)
        .collect();
    let slots = 1u32 << plan.components[rogue].cnode_bits;
    let mut unplanned = 0;
    for slot in (0..slots).filter(|s| !planned.contains(s)) {
        unplanned += 1;
        let null = format!("Attempted to invoke a null cap #{slot}.");
        assert!(
            log.contains(&null),
            "no kernel report for slot {slot}:\n{log}"
        );
    }
    assert_eq!(
        unplanned, total,
        "the rogue's count differs from the plan's"
    );
    // After every fault (the first follows the IRQControl sweep through
    // every slot), the root task looked at the rogue's CSpace through the
    // kernel: the planned caps and nothing else.
    let holds = format!(
        "paddock: `rogue` holds {} planned caps and 0 others (the kernel's view of its CSpace)",
        planned.len()
    );
    let looks = record
        .matches("others (the kernel's view of its CSpace)")
        .count();
    assert_eq!(looks, 4, "{record}");
    assert_eq!(
        record.matches(&holds).count(),
        4,
        "`{holds}` x4 in:\n{record}"
    );

    // IRQ operations without the IRQ handler cap.
    refused(
        log,
        "IRQ ack through a non-handler cap",
        "InvalidCapability",
    );
    refused(
        log,
        "IRQ rebind through a non-handler cap",
        "InvalidCapability",
    );
    assert!(log.contains("[rogue] own IRQ handler acks"), "{log}");
    // Every slot invoked as IRQControl: no cap appeared in its CSpace.
    let sweep = log
        .lines()
        .find_map(|l| {
            l.split("[rogue] check IRQControl through every slot but the fault endpoint: ")
                .nth(1)
        })
        .unwrap_or_else(|| panic!("no IRQControl sweep in:\n{log}"));
    let caps: Vec<&str> = sweep.split("; ").nth(1).unwrap_or("").split(' ').collect();
    assert!(
        caps.len() >= 4 && caps[0] == caps[3],
        "caps appeared in the rogue's CSpace: {sweep}"
    );

    // Faults, from the root task's record: reported with kind, address and
    // ip; restarted three times, then stopped by its policy (restart = 3).
    for (generation, what) in [
        (0, "VMFault: read (not mapped) at address 0x40000000, ip 0x"),
        (
            1,
            "VMFault: write (not mapped) at address 0x40000000, ip 0x",
        ),
        (2, "VMFault: write (not mapped) at address 0x"),
        (3, "UserException: CPU exception 6"),
    ] {
        let expected =
            format!("paddock: fault: component `rogue` (generation {generation}): {what}");
        assert!(
            record.contains(&expected),
            "missing `{expected}` in the record:\n{record}"
        );
    }
    // The stack overflow: the root task names the guard page below the
    // stack (the plan's stack is 16 KiB at 0x8000002000).
    let overflow = record
        .lines()
        .find(|l| l.contains("(generation 2): VMFault"))
        .unwrap_or_else(|| panic!("no fault of generation 2 in:\n{record}"));
    assert!(
        overflow.contains("in the guard page at 0x8000001000 below its stack")
            && overflow.ends_with("a stack overflow)"),
        "{overflow}"
    );
    for generation in 1..=3 {
        let line = format!("paddock: restarted `rogue` (generation {generation})");
        assert!(record.contains(&line), "{record}");
    }
    assert!(
        !record.contains("paddock: restarted `rogue` (generation 4)"),
        "{record}"
    );
    assert!(record.contains(STOPPED), "{record}");

    // Peers can read a component's restart generation, and the witness
    // vouches for it in the record.
    assert!(
        log.contains(SEEN_GENERATION),
        "the witness did not see the rogue's generation:\n{log}"
    );
    assert!(record.contains(WITNESSED), "{record}");
    // The witness still runs after the rogue's last restart.
    let restarted_at = record
        .find("paddock: restarted `rogue` (generation 3)")
        .unwrap();
    let witnessed_at = record.find(WITNESSED).unwrap();
    assert!(
        witnessed_at > restarted_at,
        "the witness did not report after the restarts:\n{record}"
    );
}

/// Boots fixture `tests/fixtures/system/<name>.toml` until each of
/// `until` has appeared on the console.
fn boot_fixture(name: &str, until: Vec<String>) -> Outcome {
    let path = paddock_tests::workspace().join(format!("tests/fixtures/system/{name}.toml"));
    paddock_tests::boot_succeeding(
        &path,
        paddock::image::BuildOptions::default(),
        paddock::qemu::BatchOptions {
            timeout: Duration::from_secs(120),
            echo: false,
            until,
            ..Default::default()
        },
    )
}

/// The CPtrs the walk invokes: every bit above the CNode's 5 alone, then
/// four mixed values (drivers/components/rogue/src/main.rs, `far_cptr`).
fn far_cptrs() -> Vec<u64> {
    (5..64)
        .map(|b| 1u64 << b)
        .chain([u64::MAX, 0x8000_0000_0000_0005, 0x1_0000_0003, 0xdead_beef])
        .collect()
}

#[test]
fn a_walk_of_the_cptr_space_beyond_the_cnode_finds_nothing_and_each_probe_is_a_cap_fault() {
    let cptrs = far_cptrs();
    let done = format!("[walker] walk done: {} CPtrs", cptrs.len());
    let outcome = boot_fixture("cptr-walk", vec![done.clone()]);
    let (log, record) = (&outcome.log, &outcome.record);
    assert!(!log.contains("ALLOWED"), "{log}");
    assert!(!log.contains("refused without a fault"), "{log}");
    // The root task's record has one cap fault per CPtr, in order, each
    // naming the CPtr the kernel failed to look up, and a restart after it.
    let faults: Vec<&str> = record
        .lines()
        .filter(|l| l.starts_with("paddock: fault: component `walker`"))
        .collect();
    assert_eq!(faults.len(), cptrs.len(), "{record}");
    for (generation, (line, cptr)) in faults.iter().zip(&cptrs).enumerate() {
        let expected = format!(
            "paddock: fault: component `walker` (generation {generation}): CapFault: cap {cptr:#x}, ip 0x"
        );
        assert!(
            line.starts_with(&expected),
            "expected `{expected}`, got `{line}`"
        );
        let restarted = format!(
            "paddock: restarted `walker` (generation {})",
            generation + 1
        );
        assert!(record.contains(&restarted), "{record}");
    }
}

#[test]
fn on_a_release_kernel_debug_and_unknown_system_calls_are_faults_the_root_task_records() {
    // drivers/components/rogue/src/main.rs, `FOREIGN_SYSCALLS`.
    let numbers: [i64; 8] = [-9, -10, -11, -12, -13, -64, 1, 1000];
    let done = format!("[caller] syscalls done: {}", numbers.len());
    let outcome = boot_fixture("release-syscalls", vec![done]);
    let (log, record) = (&outcome.log, &outcome.record);
    assert!(!log.contains("ALLOWED"), "{log}");
    assert!(
        record.contains("paddock: bootinfo: kernel config release"),
        "not a release kernel:\n{record}"
    );
    let faults: Vec<&str> = record
        .lines()
        .filter(|l| l.starts_with("paddock: fault: component `caller`"))
        .collect();
    assert_eq!(faults.len(), numbers.len(), "{record}");
    for (generation, (line, number)) in faults.iter().zip(numbers).enumerate() {
        // The kernel reports the number as a machine word.
        let expected = format!(
            "paddock: fault: component `caller` (generation {generation}): UnknownSyscall: syscall {}, ip 0x",
            number as u64
        );
        assert!(
            line.starts_with(&expected),
            "expected `{expected}`, got `{line}`"
        );
    }
}

#[test]
fn a_client_that_breaks_the_serial_drivers_ring_is_named_and_the_driver_never_faults() {
    let named = "paddock: witness `serial`: client broke ring";
    let outcome = boot_fixture(
        "serial-rogue",
        vec![named.into(), "[console] wrote tail 1000".into()],
    );
    let (log, record) = (&outcome.log, &outcome.record);
    // The attack happened (the rogue's word) ...
    assert!(
        log.contains("[console] wrote tail 1000 into `serial-tx`"),
        "{log}"
    );
    // ... and the driver's verdict is in the record, which the client
    // cannot write: it named the break and did not fault.
    assert!(record.contains(named), "{record}");
    assert!(
        !record.contains("paddock: fault: component `serial`"),
        "{record}"
    );
    assert!(
        log.contains("[serial] stopped serving the client: it broke the ring protocol (peer tail 1000 outside"),
        "{log}"
    );
}
