//! MSI-X delivery to a driver whose address space lacks the table page
//! (tests/fixtures/system/msix.toml): QEMU's modern virtio-blk device, its
//! configuration-change event bound to MSI-X entry 0. The root task
//! programs the entry and enables MSI-X; the driver maps only the BAR of
//! its virtio structures. The test grows the drive from the QEMU monitor
//! (`block_resize`): the driver must be woken on its MSI-X badge bit and
//! print the capacity QEMU now reports, a number only QEMU could have
//! changed. The runtime audit then checks the root task's observed fact
//! that no mapping holds a table or PBA page.

use paddock::qemu::{self, Attach, Verdict};
use paddock::runtime_audit;
use paddock_tests::workspace;
use std::time::{Duration, Instant};

/// 1 MiB, then 3 MiB: 2048, then 6144 sectors of 512 bytes.
const SIZE: u64 = 1 << 20;
const GROWN: u64 = 3 << 20;

#[test]
fn an_msix_interrupt_reaches_a_driver_without_the_table_page() {
    let ws = workspace();
    let description = ws.join("tests/fixtures/system/msix.toml");
    let image = paddock_tests::build_description(&description, Default::default())
        .unwrap_or_else(|e| panic!("{e:#}"));
    let (_, plan) = paddock_caps::load_planned(&description).unwrap();
    let dir = ws.join("target/msix-test");
    std::fs::create_dir_all(&dir).unwrap();
    let drive = dir.join("blk.raw");
    std::fs::write(&drive, vec![0u8; SIZE as usize]).unwrap();
    let extra = drive_args(&drive);
    let attach = Attach {
        com2: false,
        monitor: true,
    };
    let mut s = qemu::Session::start(&image, &extra, attach).unwrap_or_else(|e| panic!("{e:#}"));
    let ready = "[blk] ready: configuration changes on MSI-X entry 0";
    let verdict = s.wait_for(&[ready], s.started() + Duration::from_secs(90), false, None);
    assert!(
        matches!(verdict, Verdict::Success(_)),
        "the driver never got ready ({verdict:?}):\n{}",
        s.log()
    );
    assert!(s.log().contains("capacity 2048 sectors"), "{}", s.log());
    s.monitor()
        .expect("monitor attached")
        // The monitor reads a bare number as MiB.
        .command(&format!("block_resize d0 {}M", GROWN >> 20))
        .unwrap();
    let changed = format!(
        "configuration change on MSI-X entry 0 (badge bit {}): capacity {} sectors",
        badge_bit(&plan),
        GROWN / 512
    );
    let verdict = s.wait_for(
        &[&changed],
        Instant::now() + Duration::from_secs(60),
        false,
        None,
    );
    let log = s.stop();
    assert!(
        matches!(verdict, Verdict::Success(_)),
        "no interrupt with the new capacity ({verdict:?}):\n{log}"
    );
    // The root task programmed the entry with the driver's vector.
    let vector = plan
        .irqs
        .iter()
        .find(|q| q.name == "config")
        .map(|q| q.vector)
        .unwrap();
    let programmed = format!(
        "entry 0 -> vector {vector} (data {:#x};",
        0x30 + u32::from(vector)
    );
    assert!(
        log.lines()
            .any(|l| l.starts_with("paddock: MSI-X `blk` at ") && l.contains(&programmed)),
        "no MSI-X programming line `{programmed}`:\n{log}"
    );
    // The driver found its structures in the BAR it maps, not the table's.
    assert!(log.contains("[blk] common configuration in BAR 4"), "{log}");
    // The runtime audit: the dump matches the plan, and the kernel says no
    // mapping holds the table or PBA page.
    let dump = runtime_audit::parse(&log).unwrap_or_else(|e| panic!("{e}\n{log}"));
    let result = runtime_audit::compare(&plan, &dump);
    assert!(result.matches(), "{:#?}\n{log}", result.differences);
    let fact = &dump.msix[&("blk".to_string(), "blk".to_string())];
    assert_eq!(fact.mapped.value, "0", "{log}");
    assert_eq!(fact.mapped.source, runtime_audit::Source::Observed);
    assert_eq!(result.observed["msix-table-unmapped"], 1);
}

/// The badge bit the plan gives IRQ `config`.
fn badge_bit(plan: &paddock_caps::plan::Plan) -> u32 {
    plan.irqs
        .iter()
        .find(|q| q.name == "config")
        .map(|q| q.badge_bit)
        .unwrap()
}

/// The same system with the table's BAR (BAR 1 on QEMU 7.2) also mapped
/// into the driver: the root task refuses to start the driver, naming the
/// BAR, and programs nothing.
#[test]
fn a_driver_that_would_map_the_table_page_is_refused() {
    let outcome = boot_variant(
        "msix-table-mapped",
        "[[component.pci.bar]]\nindex = 4",
        "[[component.pci.bar]]\nindex = 1\nsize = 0x1000\n\n[[component.pci.bar]]\nindex = 4",
    );
    assert_refused(
        &outcome,
        "the plan maps 0x1000 bytes of BAR 1, which hold the MSI-X table or pending-bit array: map another BAR or a smaller part of it",
    );
}

/// The same system binding an entry past the device's table (QEMU's
/// virtio-blk has 2 entries): refused by name, nothing programmed.
#[test]
fn an_entry_past_the_table_is_refused() {
    let outcome = boot_variant("msix-entry-past", "entry = 0", "entry = 5");
    assert_refused(&outcome, "the plan binds entry 5, the table has 2 entries");
}

/// Boots the fixture with `from` replaced by `to`, as system `name` (its
/// own image folder), with the device and a drive.
fn boot_variant(name: &str, from: &str, to: &str) -> qemu::Outcome {
    let ws = workspace();
    let text = std::fs::read_to_string(ws.join("tests/fixtures/system/msix.toml")).unwrap();
    assert!(text.contains(from));
    let text = text
        .replace(from, to)
        .replace("name = \"msix\"", &format!("name = \"{name}\""));
    let dir = ws.join("target/msix-test");
    std::fs::create_dir_all(&dir).unwrap();
    let description = dir.join(format!("{name}.toml"));
    std::fs::write(&description, text).unwrap();
    let image = paddock_tests::build_description(&description, Default::default())
        .unwrap_or_else(|e| panic!("{e:#}"));
    let drive = dir.join(format!("{name}.raw"));
    std::fs::write(&drive, vec![0u8; SIZE as usize]).unwrap();
    let outcome = qemu::run_batch(
        &image,
        qemu::BatchOptions {
            timeout: Duration::from_secs(90),
            extra: drive_args(&drive),
            ..qemu::BatchOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        matches!(outcome.verdict, Verdict::Success(_)),
        "{}",
        outcome.log
    );
    outcome
}

/// The root task's refusal line with `reason` and no MSI-X programming
/// line, in its record; the dump's `refused` (printed before any component
/// runs); no driver line.
fn assert_refused(outcome: &qemu::Outcome, reason: &str) {
    let (log, record) = (&outcome.log, &outcome.record);
    let refused = format!("refusing to start its driver: {reason}");
    assert!(
        record
            .lines()
            .any(|l| l.starts_with("paddock: MSI-X: `blk` on `blk` at ") && l.ends_with(&refused)),
        "no `{refused}` in the record:\n{record}"
    );
    assert!(log.contains("paddock-dump: refused blk"), "{log}");
    assert!(!record.contains("paddock: MSI-X `blk` at"), "{record}");
    assert!(!log.contains("[blk]"), "{log}");
}

/// The virtio-blk device and its drive, as extra QEMU arguments.
fn drive_args(drive: &std::path::Path) -> qemu::Extra {
    qemu::Extra {
        args: vec![
            "-drive".into(),
            format!("if=none,id=d0,format=raw,file={}", drive.display()),
            "-device".into(),
            "virtio-blk-pci,drive=d0,disable-legacy=on,iommu_platform=on".into(),
        ],
        ..qemu::Extra::default()
    }
}
