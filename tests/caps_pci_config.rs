//! Configuration-space caps in the plan, the spec and the audit: only a
//! device's own driver holds one, with the access it declared, and each
//! deliberately wrong plan fails the `own-config-space` rule.

use paddock_caps::audit::audit;
use paddock_caps::plan::{plan, CapKind, CapRights, Plan};
use paddock_caps::Description;
use paddock_spec::pci_config;
use std::path::Path;

const TWO_DRIVERS: &str = r#"
[system]
name = "config"
kernel = "debug"
qemu_devices = ["edu", "e1000"]

[[component]]
name = "a"
program = "a-prog"

[[component.pci]]
name = "edu"
id = "1234:11e8"
config = "read-write"

[[component]]
name = "b"
program = "b-prog"

[[component.pci]]
name = "nic"
id = "8086:100e"
config = "read"

[[component]]
name = "c"
program = "c-prog"

[[component.pci]]
name = "other"
id = "8086:10d3"
"#;

fn inline(text: &str) -> (Description, Plan) {
    let v = paddock_caps::parse(Path::new("inline.toml"), text).unwrap_or_else(|e| panic!("{e}"));
    let p = plan(&v);
    (v.description, p)
}

fn config_caps(p: &Plan) -> Vec<(usize, u64)> {
    p.caps
        .iter()
        .filter(|c| c.kind == CapKind::PciConfig)
        .map(|c| (c.component, c.badge))
        .collect()
}

fn fails_own_config_space(d: &Description, p: &Plan, message: &str) {
    let a = audit(d, p);
    let v: Vec<_> = a.violations().collect();
    assert!(
        v.iter()
            .all(|(rule, v)| *rule == "own-config-space" && v.message.contains(message)),
        "{v:?}"
    );
    assert!(!v.is_empty(), "the audit passed");
}

#[test]
fn each_declaring_driver_gets_one_cap_for_its_own_device() {
    let (d, p) = inline(TWO_DRIVERS);
    assert_eq!(
        config_caps(&p),
        [
            (0, pci_config::badge(0, true)),
            (1, pci_config::badge(1, false))
        ]
    );
    for cap in p.caps.iter().filter(|c| c.kind == CapKind::PciConfig) {
        assert_eq!(cap.object, Some(p.fault_endpoint));
        // Send and grant: seL4 5.0 replies to a Call only through grant.
        assert_eq!(cap.rights, CapRights::FAULT);
        assert!(cap.name.starts_with("pci."));
    }
    assert!(p
        .symbols
        .iter()
        .any(|s| s.component == 0 && s.name == "pci.edu"));
    assert!(audit(&d, &p).passed());
}

#[test]
fn the_spec_carries_the_caps() {
    let (_, p) = inline(TWO_DRIVERS);
    let bytes = paddock_caps::encode::encode(&p);
    let spec = paddock_spec::Spec::decode(&bytes).unwrap();
    let back = Plan::from_spec(&spec).unwrap();
    assert_eq!(config_caps(&back), config_caps(&p));
}

#[test]
fn a_cap_for_another_drivers_device_fails() {
    let (d, mut p) = inline(TWO_DRIVERS);
    let i = p
        .caps
        .iter()
        .position(|c| c.kind == CapKind::PciConfig && c.component == 1)
        .unwrap();
    p.caps[i].badge = pci_config::badge(0, false);
    fails_own_config_space(&d, &p, "a device of `a`");
}

#[test]
fn more_access_than_declared_fails() {
    let (d, mut p) = inline(TWO_DRIVERS);
    let i = p
        .caps
        .iter()
        .position(|c| c.kind == CapKind::PciConfig && c.component == 1)
        .unwrap();
    p.caps[i].badge = pci_config::badge(1, true);
    fails_own_config_space(&d, &p, "grants `read-write` access");
}

#[test]
fn a_cap_to_another_endpoint_or_an_undeclared_device_fails() {
    let (d, mut p) = inline(TWO_DRIVERS);
    let i = p
        .caps
        .iter()
        .position(|c| c.kind == CapKind::PciConfig)
        .unwrap();
    p.caps[i].object = Some(p.components[0].notification);
    fails_own_config_space(&d, &p, "not a cap to the root task's endpoint");

    let (d, mut p) = inline(TWO_DRIVERS);
    let mut cap = p.caps[i].clone();
    cap.component = 2;
    cap.badge = pci_config::badge(2, false);
    p.caps.push(cap);
    fails_own_config_space(&d, &p, "declared `none`");
}
