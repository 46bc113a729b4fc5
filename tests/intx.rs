//! A shared IOAPIC line at run time: the planned holder boots with the
//! line's IRQ handler and one channel per sharer, and each sharer has its
//! channel to the holder in place of an IRQ handler, as the root task's
//! dump of the kernel's caps shows. Then two edu devices on one INTx line
//! (`images/intx-shared.toml`): each driver receives every interrupt of
//! its device; and with a sharer that never answers
//! (`images/intx-rogue.toml`), the honest driver's interrupts are each
//! delayed by at most the holder's bound, and the root task names the rogue.

use paddock::image;
use paddock::qemu::{self, BatchOptions, Extra, Verdict};
use paddock_caps::intx::ACK_BOUND_TSC;
use paddock_tests::boot_succeeding;
use paddock_tests::{build_description, workspace};
use std::path::Path;
use std::time::Duration;

#[test]
fn the_holder_of_a_shared_line_boots_with_a_channel_per_sharer() {
    let ws = workspace();
    let description = ws.join("tests/fixtures/system/intx-hello.toml");
    let image = image::build(&ws, &description).unwrap_or_else(|e| panic!("{e:#}"));
    let holder =
        "[intx-16] holds IOAPIC pin 16 for 2 sharers; acknowledgement bound 2000000 TSC ticks";
    let outcome = qemu::run_batch(
        &image,
        BatchOptions {
            timeout: Duration::from_secs(90),
            echo: false,
            until: vec![holder.into()],
            ..BatchOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    let log = &outcome.log;
    assert!(
        matches!(outcome.verdict, Verdict::Success(_)),
        "{:?}\n{log}",
        outcome.verdict
    );
    assert!(log.contains(holder), "{log}");
    // The root task's dump, which reads the caps back from the kernel: the
    // holder alone has an IRQ handler; each sharer has one send cap to the
    // holder's notification, with a bit of its own.
    for line in [
        "paddock-dump: cap intx-16 3 irq-handler type=irq-handler@observed",
        "paddock-dump: cap alpha 3 notification-send type=notification-send@observed rights=-w-@recorded badge=0x2@observed",
        "paddock-dump: cap beta 3 notification-send type=notification-send@observed rights=-w-@recorded badge=0x4@observed",
        "paddock-dump: slots alpha planned=3 unplanned=0@observed",
        "paddock-dump: slots beta planned=3 unplanned=0@observed",
        "paddock-dump: end caps=11 frames=0 mismatches=0",
    ] {
        assert!(log.contains(line), "missing `{line}`:\n{log}");
    }
    let handlers = log
        .lines()
        .filter(|l| l.starts_with("paddock-dump: cap ") && l.contains(" irq-handler "))
        .count();
    assert_eq!(handlers, 1, "{log}");
}

/// Boots `description` under `-icount` (the TSC counts guest
/// instructions) until every text in `until` has appeared.
fn run_icount(description: &Path, until: &[&str]) -> String {
    run_icount_outcome(description, until).log
}

/// As [`run_icount`], with the root task's record.
fn run_icount_outcome(description: &Path, until: &[&str]) -> qemu::Outcome {
    let image =
        build_description(description, Default::default()).unwrap_or_else(|e| panic!("{e:#}"));
    let outcome = qemu::run_batch(
        &image,
        BatchOptions {
            timeout: Duration::from_secs(120),
            echo: false,
            until: until.iter().map(|u| u.to_string()).collect(),
            extra: Extra {
                icount: true,
                ..Extra::default()
            },
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
    outcome
}

/// The line the root task prints for an edu device (INTA) that ACPI's
/// `_PRT` routes to IOAPIC pin `pin`.
fn routed(at: &str, pin: u32) -> String {
    format!(
        "paddock: PCI `edu` at {at}: INTx pin INTA routes to GSI {pin} (IOAPIC 0 pin {pin}, level, active-high) by ACPI _PRT"
    )
}

/// A driver's closing report: (own interrupts received, max and mean
/// raise-to-arrival delay in TSC ticks).
fn report(log: &str, driver: &str, raises: u64) -> (u64, u64, u64) {
    let prefix = format!("[{driver}] raised {raises}, received ");
    let line = log
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no report of `{driver}`:\n{log}"));
    let number_after = |key: &str| -> u64 {
        let at = line
            .find(key)
            .unwrap_or_else(|| panic!("no `{key}` in {line}"))
            + key.len();
        line[at..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no number after `{key}` in {line}"))
    };
    (
        number_after(", received "),
        number_after("max "),
        number_after("mean "),
    )
}

#[test]
fn two_devices_on_one_line_each_driver_receives_every_interrupt_of_its_device() {
    let ws = workspace();
    let log = run_icount(
        &ws.join("images/intx-shared.toml"),
        &["[first] raised 16, ", "[second] raised 16, "],
    );
    // Both drivers declared pin 20 shared: one holder, one handler.
    assert!(
        log.contains("[intx-20] holds IOAPIC pin 20 for 2 sharers"),
        "{log}"
    );
    // The root task read each device's interrupt pin and routed it by the
    // machine's ACPI tables: both reach the pin both drivers declared.
    for at in ["00:04.0", "00:08.0"] {
        let line = routed(at, 20);
        assert!(log.contains(&line), "missing `{line}`:\n{log}");
    }
    for driver in ["first", "second"] {
        let (own, _, _) = report(&log, driver, 16);
        assert_eq!(own, 16, "{driver} missed interrupts of its device:\n{log}");
    }
    assert!(!log.contains("did not acknowledge"), "{log}");
}

/// The bound the plan gives the holder of IOAPIC pin 20 in `description`.
fn planned_bound(description: &Path) -> u64 {
    let text = std::fs::read_to_string(description).unwrap();
    let v = paddock_caps::parse(description, &text).unwrap_or_else(|e| panic!("{e}"));
    let p = paddock_caps::plan::plan(&v);
    let holder = p
        .components
        .iter()
        .position(|c| c.name == "intx-20")
        .expect("a holder of pin 20");
    p.symbols
        .iter()
        .find(|s| {
            s.component == holder
                && s.kind == paddock_caps::plan::SymbolKind::Param
                && s.name == "ack_bound_tsc"
        })
        .map(|s| s.value)
        .expect("the holder's bound")
}

#[test]
fn a_rogue_sharer_delays_the_other_by_at_most_the_bound_and_the_root_task_names_it() {
    let ws = workspace();
    // The same line with an honest but idle second sharer: the shared
    // path's own cost, to compare with.
    let honest = ws.join("target/intx-shared-idle.toml");
    let text = std::fs::read_to_string(ws.join("images/intx-shared.toml")).unwrap();
    let second = text.find("name = \"second\"").unwrap();
    let idle = format!(
        "{}{}",
        &text[..second],
        text[second..].replacen("raises = 16", "raises = 0", 1)
    )
    .replacen("name = \"intx-shared\"", "name = \"intx-shared-idle\"", 1);
    std::fs::write(&honest, idle).unwrap();
    let log = run_icount(&honest, &["[first] raised 16, "]);
    let (own, honest_max, _) = report(&log, "first", 16);
    assert_eq!(own, 16, "{log}");

    // `first` states a bound below the default; the plan gives it to the
    // holder.
    let rogue = ws.join("images/intx-rogue.toml");
    let bound = planned_bound(&rogue);
    assert_eq!(bound, 1_000_000);
    assert!(bound < ACK_BOUND_TSC);
    let outcome = run_icount_outcome(&rogue, &["[first] raised 16, ", "(16 times late)"]);
    let (log, record) = (&outcome.log, &outcome.record);
    // The honest driver still receives every interrupt of its device...
    let (own, max, _) = report(log, "first", 16);
    assert_eq!(own, 16, "{log}");
    // ...each later than without the rogue by at most the bound...
    assert!(
        max <= bound + honest_max,
        "max delay {max} exceeds the bound {bound} + the shared path's {honest_max}:\n{log}"
    );
    // ...and the root task names the rogue, from the holder's report and
    // the plan: every one of the 16 interrupts was acknowledged without it.
    let named = format!("paddock: shared line: `rogue` did not answer interrupt 16 of IOAPIC pin 20 within {bound} TSC ticks (16 times late); `intx-20` acknowledged the line without it");
    assert!(record.contains(&named), "missing `{named}`:\n{record}");
    // The rogue's own report, blaming every bit, is not the holder's: the
    // root task ignores it and never blames the honest driver (its record,
    // which no component can write).
    assert!(
        record.contains(
            "paddock: `rogue` sent a shared-line report, but it holds no shared line; ignored"
        ),
        "{record}"
    );
    assert!(!record.contains("`first` did not answer"), "{record}");
}

#[test]
fn the_routing_is_read_from_acpi_wherever_qemu_places_the_devices() {
    // Slots 5 and 7 route INTA elsewhere than the images' slots 4 and 8:
    // each driver declares the pin ACPI gives its slot and receives every
    // interrupt of its device there.
    let ws = workspace();
    let outcome = boot_succeeding(
        &ws.join("tests/fixtures/system/intx-slots.toml"),
        Default::default(),
        BatchOptions {
            timeout: Duration::from_secs(120),
            echo: false,
            until: vec!["[fifth] raised 16, ".into(), "[seventh] raised 16, ".into()],
            ..BatchOptions::default()
        },
    );
    let log = &outcome.log;
    for (at, pin) in [("00:05.0", 21), ("00:07.0", 23)] {
        let line = routed(at, pin);
        assert!(log.contains(&line), "missing `{line}`:\n{log}");
    }
    for driver in ["fifth", "seventh"] {
        let (own, _, _) = report(log, driver, 16);
        assert_eq!(own, 16, "{driver} missed interrupts of its device:\n{log}");
    }
}

#[test]
fn a_description_declaring_the_wrong_ioapic_pin_for_an_intx_device_is_refused_at_boot() {
    // The edu device in slot 4 raises INTA, which ACPI routes to pin 20;
    // the description declares pin 21. The root task refuses to boot,
    // naming the device, its driver and both pins; the driver never runs.
    let ws = workspace();
    let image = build_description(
        &ws.join("tests/fixtures/system/intx-wrong-pin.toml"),
        Default::default(),
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    let outcome = qemu::run_batch(
        &image,
        BatchOptions {
            timeout: Duration::from_secs(90),
            echo: false,
            ..BatchOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    let log = &outcome.log;
    assert!(
        matches!(outcome.verdict, Verdict::Failure),
        "{:?}\n{log}",
        outcome.verdict
    );
    let refusal = "rootserver: PCI device `edu` of component `first` at 00:04.0: the description declares its INTx on IOAPIC pin 21 (the line of `first`, level, active-high), but ACPI _PRT routes its INTx pin INTA to GSI 20 (IOAPIC 0 pin 20, level, active-high): refusing to boot";
    let record = &outcome.record;
    assert!(
        record.contains(refusal),
        "missing `{refusal}` in the record:\n{record}"
    );
    assert!(!log.contains("[first]"), "the driver ran:\n{log}");
    assert!(!log.contains("all components started"), "{log}");
}
