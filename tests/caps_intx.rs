//! Shared IOAPIC lines in the plan and the audit: a pin every claimant
//! declares `shared = true` gets a planned holder that alone holds the IRQ
//! handler; each sharer gets a channel to it instead, whose send cap can
//! only set the sharer's own bit in the holder's notification; the audit
//! passes and lists the line as a finding with its holder and sharers.

use paddock_caps::audit::audit;
use paddock_caps::intx::{ACK_BOUND_TSC, MUX_PROGRAM};
use paddock_caps::plan::{plan, CapKind, IrqSource, Plan, SymbolKind};
use paddock_caps::{report, Description};
use std::path::Path;

const SHARED: &str = r#"
[system]
name = "intx"
kernel = "debug"
qemu_machine = "q35"

[[component]]
name = "first"
program = "edu-intx"
priority = 120

[[component.irq]]
name = "intx"
ioapic_pin = 16
trigger = "level"
polarity = "low"
shared = true

[[component]]
name = "second"
program = "edu-intx"
priority = 100

[[component.irq]]
name = "intx"
ioapic_pin = 16
trigger = "level"
polarity = "low"
shared = true

[[component]]
name = "alone"
program = "uart"

[[component.irq]]
name = "uart"
ioapic_pin = 4
"#;

fn inline(text: &str) -> (Description, Plan) {
    let v = paddock_caps::parse(Path::new("inline.toml"), text).unwrap_or_else(|e| panic!("{e}"));
    let p = plan(&v);
    (v.description, p)
}

fn index(p: &Plan, name: &str) -> usize {
    p.components
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no component `{name}`"))
}

#[test]
fn a_shared_pin_has_one_holder_and_each_sharer_a_channel_to_it() {
    let (_, p) = inline(SHARED);
    let holder = index(&p, "intx-16");
    assert_eq!(p.components[holder].program, MUX_PROGRAM);
    // The lowest sharer's priority.
    assert_eq!(p.components[holder].priority, 100);
    let pin16: Vec<_> = p
        .irqs
        .iter()
        .filter(|b| matches!(b.source, IrqSource::IoApic { pin: 16, .. }))
        .collect();
    assert_eq!(pin16.len(), 1, "{pin16:?}");
    assert_eq!(pin16[0].component, holder);
    assert!(matches!(
        pin16[0].source,
        IrqSource::IoApic {
            level: true,
            active_low: true,
            ..
        }
    ));
    // The unshared pin stays with its driver.
    let alone = index(&p, "alone");
    assert!(p.irqs.iter().any(|b| b.component == alone));

    let bit = |c: usize, name: &str| {
        p.symbols
            .iter()
            .find(|s| s.component == c && s.kind == SymbolKind::BadgeBit && s.name == name)
            .map(|s| s.value)
            .unwrap_or_else(|| panic!("no bit `{name}` in {}", p.components[c].name))
    };
    let mut holder_bits = vec![];
    for sharer in ["first", "second"] {
        let s = index(&p, sharer);
        assert!(
            !p.irqs.iter().any(|b| b.component == s),
            "{sharer} holds an IRQ"
        );
        let channel = format!("channel.{sharer}-intx");
        // The sharer's answer: a send cap to the holder's notification,
        // badged with the bit the holder knows as this sharer's.
        let answer: Vec<_> = p
            .caps
            .iter()
            .filter(|c| c.component == s && c.kind == CapKind::NotificationSend)
            .collect();
        assert_eq!(answer.len(), 1, "{answer:?}");
        assert_eq!(answer[0].object, Some(p.components[holder].notification));
        let on_holder = bit(holder, &channel);
        assert_eq!(answer[0].badge, 1 << on_holder);
        holder_bits.push(on_holder);
        // The holder's signal to the sharer lands on the sharer's bit.
        let signal = p
            .caps
            .iter()
            .find(|c| c.component == holder && c.name == channel)
            .unwrap_or_else(|| panic!("the holder has no `{channel}`"));
        assert_eq!(signal.object, Some(p.components[s].notification));
        assert_eq!(signal.badge, 1 << bit(s, &channel));
    }
    assert_ne!(
        holder_bits[0], holder_bits[1],
        "two sharers answer on one bit"
    );
    let bound = p
        .symbols
        .iter()
        .find(|s| s.component == holder && s.kind == SymbolKind::Param && s.name == "ack_bound_tsc")
        .map(|s| s.value);
    assert_eq!(bound, Some(ACK_BOUND_TSC));
}

/// The holder's bound as planned: its `ack_bound_tsc` parameter.
fn holder_bound(p: &Plan) -> Option<u64> {
    let holder = index(p, "intx-16");
    p.symbols
        .iter()
        .find(|s| s.component == holder && s.kind == SymbolKind::Param && s.name == "ack_bound_tsc")
        .map(|s| s.value)
}

#[test]
fn the_line_waits_no_longer_than_the_smallest_bound_a_sharer_states() {
    // `first` tolerates 3,000,000 ticks, `second` 750,000: the line waits
    // for neither beyond 750,000.
    let text = SHARED
        .replacen("shared = true", "shared = true\nack_bound_tsc = 3000000", 1)
        .replacen(
            "polarity = \"low\"\nshared = true\n\n",
            "polarity = \"low\"\nshared = true\nack_bound_tsc = 750000\n\n",
            1,
        );
    assert_eq!(text.matches("ack_bound_tsc").count(), 2, "{text}");
    let (d, p) = inline(&text);
    assert_eq!(holder_bound(&p), Some(750_000));
    let a = audit(&d, &p);
    let report = report::text(&d, &p, &a);
    assert!(
        report.contains("by up to 750000 TSC ticks per interrupt"),
        "{report}"
    );
    // One sharer stating a bound is enough; none stating one gives the
    // default.
    let one = SHARED.replacen("shared = true", "shared = true\nack_bound_tsc = 40000", 1);
    assert_eq!(holder_bound(&inline(&one).1), Some(40_000));
    assert_eq!(holder_bound(&inline(SHARED).1), Some(ACK_BOUND_TSC));
}

#[test]
fn the_audit_passes_and_lists_the_shared_line_as_a_finding() {
    let (d, p) = inline(SHARED);
    let a = audit(&d, &p);
    let text = report::text(&d, &p, &a);
    assert!(text.ends_with("\naudit passed\n"), "{text}");
    let line = "  note shared-intx            IOAPIC pin 16 held by intx-16, shared by `first`, `second`: every sharer is signalled on every interrupt of the line";
    assert!(text.contains(line), "{text}");
    assert!(
        text.contains(&format!("by up to {ACK_BOUND_TSC} TSC ticks per interrupt, after which intx-16 acknowledges it and the root task names the late sharer")),
        "{text}"
    );
    let json = report::json(&d, &p, &a);
    let found = json["findings"].as_array().expect("findings in JSON");
    assert_eq!(found.len(), 1, "{json:#}");
    assert_eq!(found[0]["id"], "shared-intx");
    assert_eq!(
        found[0]["item"],
        "IOAPIC pin 16 held by intx-16, shared by `first`, `second`"
    );
}

#[test]
fn a_pin_with_one_shared_claim_keeps_its_single_owner() {
    let text = SHARED.replacen("ioapic_pin = 4", "ioapic_pin = 4\nshared = true", 1);
    let (d, p) = inline(&text);
    let holders: Vec<_> = p
        .components
        .iter()
        .filter(|c| c.program == MUX_PROGRAM)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(holders, ["intx-16"]);
    let alone = index(&p, "alone");
    assert!(p
        .irqs
        .iter()
        .any(|b| b.component == alone && matches!(b.source, IrqSource::IoApic { pin: 4, .. })));
    let a = audit(&d, &p);
    let json = report::json(&d, &p, &a);
    assert_eq!(json["findings"].as_array().map(Vec::len), Some(1));
}

#[test]
fn an_intx_device_is_linked_to_its_declared_line_and_the_spec_carries_the_link() {
    // Both images the QEMU tests boot: a line of the driver's own, and a
    // shared line whose holder stands in for each sharer.
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (image, holders) in [
        ("intx-own", vec![("first", "first")]),
        (
            "intx-shared",
            vec![("first", "intx-20"), ("second", "intx-20")],
        ),
    ] {
        let (_, p) = paddock_caps::load_planned(&ws.join(format!("images/{image}.toml")))
            .unwrap_or_else(|e| panic!("{e}"));
        for (driver, holder) in holders {
            let dev = p
                .pci
                .iter()
                .find(|d| p.components[d.owner].name == driver)
                .unwrap();
            let line = &p.irqs[dev.intx.expect("an INTx device names its line")];
            assert_eq!(p.components[line.component].name, holder, "{image}");
            assert!(
                matches!(line.source, IrqSource::IoApic { pin: 20, .. }),
                "{image}"
            );
        }
        // The spec carries it, and the plan read back from the spec has
        // the same links.
        let spec = paddock_caps::encode::encode(&p);
        let decoded = paddock_spec::Spec::decode(&spec).unwrap();
        for (record, dev) in decoded.pci.iter().zip(&p.pci) {
            assert_eq!(
                record.flags & paddock_spec::PCI_INTX != 0,
                dev.intx.is_some()
            );
            assert_eq!(
                record.intx_irq.get(),
                dev.intx.map_or(paddock_spec::NONE, |i| i as u32)
            );
        }
    }
    // A device with MSI never signals through INTx, whatever lines its
    // driver has.
    let (_, p) = paddock_caps::load_planned(&ws.join("images/dma.toml")).unwrap();
    assert!(p.pci.iter().all(|d| d.intx.is_none()));
}

#[test]
fn a_spec_whose_intx_link_is_missing_or_out_of_range_is_refused() {
    use paddock_spec::{DecodeError, Spec, Table};
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (_, p) = paddock_caps::load_planned(&ws.join("images/intx-own.toml")).unwrap();
    let spec = paddock_caps::encode::encode(&p);
    let decoded = Spec::decode(&spec).unwrap();
    let table = decoded.header.tables[Table::Pci as usize].offset.get() as usize;
    let field = table + std::mem::offset_of!(paddock_spec::PciRecord, intx_irq);
    for value in [paddock_spec::NONE, 7] {
        let mut bad = spec.clone();
        bad[field..field + 4].copy_from_slice(&value.to_le_bytes());
        assert!(
            matches!(
                Spec::decode(&bad),
                Err(DecodeError::BadField {
                    table: Table::Pci,
                    field: "intx_irq",
                    ..
                })
            ),
            "{value}"
        );
    }
}
