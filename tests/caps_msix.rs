//! MSI-X IRQs in the plan, the spec and the audit: each table entry is its
//! own IRQ (vector, handler cap, badge bit), the spec carries the entry
//! number and refuses one bound twice, and the audit's `exclusive-irqs`
//! fails a plan that binds an entry twice.

use paddock_caps::audit::audit;
use paddock_caps::plan::{plan, IrqSource, Plan};
use paddock_caps::Description;
use paddock_spec::{DecodeError, Spec, Table};
use std::collections::BTreeSet;
use std::path::Path;

const THREE_ENTRIES: &str = r#"
[system]
name = "msix"
kernel = "debug"

[[component]]
name = "blk"
program = "blk-prog"

[[component.pci]]
name = "blk"
id = "1af4:1042"

[[component.irq]]
name = "config"
msix = "blk"

[[component.irq]]
name = "uart"
ioapic_pin = 3

[[component.irq]]
name = "queue0"
msix = "blk"

[[component.irq]]
name = "queue7"
msix = "blk"
entry = 7
"#;

fn inline(text: &str) -> (Description, Plan) {
    let v = paddock_caps::parse(Path::new("inline.toml"), text).unwrap_or_else(|e| panic!("{e}"));
    let p = plan(&v);
    (v.description, p)
}

/// (name, device, entry) of each MSI-X IRQ.
fn entries(p: &Plan) -> Vec<(String, usize, u16)> {
    p.irqs
        .iter()
        .filter_map(|q| match q.source {
            IrqSource::MsiX { pci, entry } => Some((q.name.clone(), pci, entry)),
            _ => None,
        })
        .collect()
}

#[test]
fn each_entry_is_an_irq_of_its_own() {
    let (d, p) = inline(THREE_ENTRIES);
    // Declaration order among the device's MSI-X IRQs, unless `entry`.
    let want = |n: &str, e| (n.to_string(), 0, e);
    assert_eq!(
        entries(&p),
        [want("config", 0), want("queue0", 1), want("queue7", 7)]
    );
    let vectors: BTreeSet<u8> = p.irqs.iter().map(|q| q.vector).collect();
    let bits: BTreeSet<u32> = p.irqs.iter().map(|q| q.badge_bit).collect();
    let slots: BTreeSet<u32> = p.irqs.iter().map(|q| q.slot).collect();
    for set in [vectors.len(), bits.len(), slots.len()] {
        assert_eq!(set, p.irqs.len(), "{:?}", p.irqs);
    }
    // The IOAPIC pin keeps its natural vector.
    assert!(p.irqs.iter().any(|q| q.name == "uart" && q.vector == 3));
    assert!(audit(&d, &p).passed());
}

#[test]
fn the_spec_carries_each_entry() {
    let (_, p) = inline(THREE_ENTRIES);
    let bytes = paddock_caps::encode::encode(&p);
    let back = Plan::from_spec(&Spec::decode(&bytes).unwrap()).unwrap();
    assert_eq!(entries(&back), entries(&p));
}

#[test]
fn an_entry_bound_twice_is_refused_by_the_spec_and_fails_the_audit() {
    let (d, mut p) = inline(THREE_ENTRIES);
    let i = p.irqs.iter().position(|q| q.name == "queue7").unwrap();
    p.irqs[i].source = IrqSource::MsiX { pci: 0, entry: 1 };
    let bytes = paddock_caps::encode::encode(&p);
    match Spec::decode(&bytes).unwrap_err() {
        DecodeError::BadField { table, field, .. } => {
            assert_eq!((table, field), (Table::Irqs, "pin"))
        }
        e => panic!("{e:?}"),
    }
    let a = audit(&d, &p);
    let v: Vec<_> = a.violations().collect();
    assert!(
        v.iter().any(|(rule, v)| *rule == "exclusive-irqs"
            && v.message.contains("source already bound to `queue0`")),
        "{v:?}"
    );
}
