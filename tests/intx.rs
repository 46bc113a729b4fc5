//! A shared IOAPIC line at run time: the planned holder boots with the
//! line's IRQ handler and one channel per sharer, and each sharer has its
//! channel to the holder in place of an IRQ handler, as the root task's
//! dump of the kernel's caps shows. No device raises the line here.

use paddock::image;
use paddock::qemu::{self, BatchOptions, Verdict};
use paddock_tests::workspace;
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
