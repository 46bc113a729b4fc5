//! A declared PCI device that the machine does not have: the root task
//! refuses to build its driver, naming the device and the driver, builds
//! and starts the rest of the system, and says in its dump what is absent;
//! the runtime audit reports the refusal.

use paddock::image;
use paddock::qemu::{self, BatchOptions, Verdict};
use paddock_protocol::started::Started;
use paddock_tests::workspace;
use std::time::Duration;

#[test]
fn a_missing_pci_device_is_refused_by_name() {
    let ws = workspace();
    let description = ws.join("tests/fixtures/system/missing-edu.toml");
    let image = image::build(&ws, &description).unwrap_or_else(|e| panic!("{e:#}"));
    let (_, plan) = paddock_caps::load_planned(&description).unwrap();
    let outcome = qemu::run_batch(
        &image,
        BatchOptions {
            timeout: Duration::from_secs(90),
            echo: false,
            until: vec!["[edu-client] asking for 4 DMA copies".into()],
            ..BatchOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        matches!(outcome.verdict, Verdict::Success(_)),
        "{}",
        outcome.log
    );
    assert!(
        outcome.log.contains(
            "PCI device `edu` of component `edu` (1234:11e8) is not present: refusing to start its driver"
        ),
        "{}",
        outcome.log
    );
    let log = &outcome.log;
    assert!(log.contains("paddock-dump: refused edu"), "{log}");
    // The client's caps to the driver's notification are not made.
    assert!(
        log.contains(
            "paddock-dump: cap edu-client 3 notification-send type=absent@recorded rights=-w-@recorded badge=0x2@recorded"
        ),
        "{log}"
    );
    let started = match Started::find(log) {
        Some(Ok(started)) => started,
        other => panic!("no readable started line ({other:?}):\n{log}"),
    };
    assert_eq!((started.components, started.refused), (1, 1), "{log}");
    // The runtime audit names the refusal.
    let dump = paddock::runtime_audit::parse(log).unwrap();
    let result = paddock::runtime_audit::compare(&plan, &dump);
    assert!(
        result
            .differences
            .iter()
            .any(|d| d.contains("`edu` was refused at boot")),
        "{:?}",
        result.differences
    );
}
