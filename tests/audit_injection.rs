//! The runtime audit can fail: a root task built with the test-only
//! switch (`paddock build --inject-audit-faults`) mis-badges a
//! notification-send cap, narrows one IO port range, widens another and
//! maps one party of a ring onto a stray frame, and the audit of its dump
//! names each of the four, with the component and the cap or mapping. The
//! same image built normally passes, and a dump is refused against the
//! plan of another image by its spec digest.

use paddock::image::BuildOptions;
use paddock::qemu::{BatchOptions, Outcome};
use paddock::runtime_audit;
use paddock_caps::plan::Plan;
use paddock_tests::{boot_succeeding, workspace};
use std::time::Duration;

const INJECTION_BANNER: &str = "paddock: AUDIT FAULT INJECTION IS ON";

fn plan(name: &str) -> Plan {
    let path = workspace().join("images").join(format!("{name}.toml"));
    paddock_caps::load_planned(&path)
        .unwrap_or_else(|d| panic!("{d}"))
        .1
}

fn boot_default(options: BuildOptions) -> Outcome {
    boot_succeeding(
        &workspace().join("images/default.toml"),
        options,
        BatchOptions {
            timeout: Duration::from_secs(120),
            echo: false,
            ..BatchOptions::default()
        },
    )
}

fn assert_named(differences: &[String], expected: &[&str]) {
    assert!(
        differences
            .iter()
            .any(|d| expected.iter().all(|e| d.contains(e))),
        "no difference names all of {expected:?}: {differences:#?}"
    );
}

#[test]
fn the_runtime_audit_names_every_injected_fault() {
    let plan = plan("default");
    let injected = boot_default(BuildOptions {
        inject_audit_faults: true,
        ..BuildOptions::default()
    });
    assert!(injected.log.contains(INJECTION_BANNER), "{}", injected.log);
    let dump = runtime_audit::parse(&injected.log).unwrap_or_else(|e| panic!("{e}"));
    let result = runtime_audit::compare(&plan, &dump);
    let differences = &result.differences;
    // The serial driver's first notification-send cap, mis-badged.
    assert_named(
        differences,
        &[
            "`serial` slot 5 (`ring.serial-rx`",
            "a signal through it arrives with badge 0x4000001 (observed), the plan has 0x1",
        ],
    );
    // COM2's range, one port short.
    assert_named(
        differences,
        &[
            "`serial` slot 4 (`io.com2`",
            "the kernel refuses port 0x2ff through it (observed)",
            "narrower than planned",
        ],
    );
    // The keyboard's data port, one port wider.
    assert_named(
        differences,
        &[
            "`keyboard` slot 4 (`io.data`",
            "the kernel accepts port 0x61 through it (observed)",
            "wider than planned",
        ],
    );
    // The console's half of the serial receive ring's queues.
    assert_named(
        differences,
        &[
            "`console` maps `ring.serial-rx.queues` at 0x",
            "its first page is the frame at",
            "(observed), the object's first frame is at",
        ],
    );
    assert_eq!(differences.len(), 4, "{differences:#?}");
    for d in differences {
        eprintln!("injected: {d}");
    }
}

#[test]
fn the_same_image_without_the_switch_passes_and_names_its_spec() {
    let plan = plan("default");
    let normal = boot_default(BuildOptions::default());
    assert!(!normal.log.contains(INJECTION_BANNER), "{}", normal.log);
    let dump = runtime_audit::parse(&normal.log).unwrap_or_else(|e| panic!("{e}"));
    let result = runtime_audit::compare(&plan, &dump);
    assert!(result.matches(), "{:#?}", result.differences);
    assert!(result.observed_total() > 0);
    eprintln!("default: {}", runtime_audit::facts_summary(&result));
    // The dump names the spec it came from: against the plan of another
    // image it is refused, and nothing else is compared.
    let other = runtime_audit::compare(&self::plan("hello"), &dump);
    assert!(other.other_spec);
    assert_eq!(other.differences.len(), 1, "{:#?}", other.differences);
    assert_named(
        &other.differences,
        &[
            "the dump is of another spec",
            "(system `default`)",
            "(system `hello`)",
        ],
    );
}
