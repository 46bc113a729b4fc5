//! DMA aimed at the MSI address window, in QEMU 7.2 (q35, `intel-iommu`)
//! on seL4 5.0.0 with VT-d on (`images/msi-window.toml`).
//!
//! The attacker driver's device writes one word holding `0x30 + V` (the
//! MSI data of the victim's kernel vector V) by DMA, first to an ordinary
//! bus address outside its window (control), then to 0xFEE00000.
//!
//! What the system does, as observed and asserted here:
//! * control: VT-d blocks the write and the kernel reports the DMA fault;
//!   the victim receives nothing;
//! * 0xFEE00000: no DMA fault at all. VT-d does not translate the
//!   interrupt address range, and seL4 5.0 enables no interrupt remapping,
//!   so the write goes through as a compatibility-format MSI: the kernel
//!   delivers it on vector V, to the victim's notification, and the victim
//!   counts one interrupt its own device did not raise (its interrupt
//!   status register reads 0).
//!
//! The verdicts come from the victim (an honest witness that judges each
//! interrupt by its own device's status register) and from the kernel's
//! fault reports, never from the attacker, whose lines only say what it
//! tried. The attacker's checkpoint signals carry no data: they only
//! decide when the victim prints its counts.

use paddock::qemu::Verdict;
use paddock_caps::plan::{IrqSource, SymbolKind};
use paddock_tests::{boot_until, workspace};
use std::time::Duration;

/// The kernel's report of a DMA write VT-d blocked, from the attacker's
/// device (00:05.0, bus/dev/fun 0x28).
fn fault(address: &str) -> String {
    format!("IOMMU: DMA write page fault from bus/dev/fun 0x28 on address 0x0:{address}")
}

/// Where `needle` first appears in `log`, or a failure with the log.
fn at(log: &str, needle: &str) -> usize {
    log.find(needle)
        .unwrap_or_else(|| panic!("missing `{needle}` in:\n{log}"))
}

#[test]
fn the_plan_gives_the_attacker_the_victims_vector() {
    let path = workspace().join("images/msi-window.toml");
    let (_, plan) = paddock_caps::load_planned(&path).unwrap_or_else(|e| panic!("{e}"));
    let component = |name: &str| {
        plan.components
            .iter()
            .position(|c| c.name == name)
            .unwrap_or_else(|| panic!("no component `{name}`"))
    };
    let victim = component("victim");
    let msi = plan
        .irqs
        .iter()
        .find(|q| q.component == victim && matches!(q.source, IrqSource::Msi { .. }))
        .expect("the victim's MSI");
    let param = plan
        .symbols_of(component("attacker"))
        .find(|s| s.kind == SymbolKind::Param && s.name == "victim_vector")
        .expect("the attacker's `victim_vector`");
    assert_eq!(
        param.value,
        u64::from(msi.vector),
        "images/msi-window.toml: `victim_vector` must be the vector the plan gives the victim's MSI"
    );
}

#[test]
fn dma_to_the_msi_window_raises_an_interrupt_on_the_victims_vector() {
    let outcome = boot_until(
        "msi-window",
        Duration::from_secs(120),
        &["[victim] checkpoint 2:"],
    )
    .unwrap_or_else(|e| panic!("building msi-window: {e:#}"));
    let log = outcome.log;
    assert!(
        matches!(outcome.verdict, Verdict::Success(_)),
        "msi-window ended with {:?}; console:\n{log}",
        outcome.verdict
    );
    assert!(log.contains("IO page-table levels 3"), "{log}");

    // The witness's interrupt path works, and it tells its device's own
    // interrupt apart.
    let own = at(
        &log,
        "[victim] interrupt raised by its device (interrupt status 0x1)",
    );

    // Control: the same word to an ordinary address is blocked by VT-d and
    // reported by the kernel; the victim saw nothing.
    let control = at(&log, &fault("300000"));
    let first = at(
        &log,
        "[victim] checkpoint 1: 1 interrupts raised by its device, 0 not raised by it",
    );
    assert!(own < control && control < first, "out of order:\n{log}");

    // The MSI window: no DMA fault; the victim counts one interrupt its
    // device did not raise, between the two checkpoints.
    assert!(!log.contains(&fault("fee00000")), "{log}");
    let foreign = at(
        &log,
        "[victim] interrupt on its vector with its device's interrupt status 0: not raised by its device (1 so far)",
    );
    let second = at(
        &log,
        "[victim] checkpoint 2: 1 interrupts raised by its device, 1 not raised by it",
    );
    assert!(first < foreign && foreign < second, "out of order:\n{log}");
}
