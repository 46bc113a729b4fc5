//! The audit: every example image passes every rule, each rule fails on a
//! deliberately corrupted plan, and the reports render (DOT through the
//! real `dot`).

use paddock_caps::audit::{audit, Audit};
use paddock_caps::plan::{plan, Cap, CapKind, CapRights, MapPurpose, Owner, Plan};
use paddock_caps::{load, report, Description};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn images() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../images");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

fn image(name: &str) -> (Description, Plan) {
    let d = load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../images")
            .join(name),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let p = plan(&d);
    (d.description, p)
}

fn failed(a: &Audit) -> Vec<(&'static str, String)> {
    a.violations().map(|(r, v)| (r, v.item.clone())).collect()
}

/// Asserts that exactly `rule` fails, and on `item`.
fn assert_fails(d: &Description, p: &Plan, rule: &str, item: &str) {
    let a = audit(d, p);
    let f = failed(&a);
    assert!(!a.passed(), "{rule} did not fail");
    assert!(
        f.iter().all(|(r, _)| *r == rule),
        "other rules failed too: {f:?}"
    );
    assert!(
        f.iter().any(|(_, i)| i.contains(item)),
        "{rule} named {f:?}, not {item}"
    );
    let text = report::text(d, p, &a);
    assert!(text.contains(&format!("FAIL {rule}")), "{text}");
}

#[test]
fn every_image_passes_every_rule() {
    for path in images() {
        let v = load(&path).unwrap_or_else(|e| panic!("{e}"));
        let (d, p) = (&v.description, plan(&v));
        let a = audit(d, &p);
        assert!(a.passed(), "{}: {:?}", path.display(), failed(&a));
        let text = report::text(d, &p, &a);
        assert!(text.ends_with("audit passed\n"));
    }
}

fn extra_cap(p: &mut Plan, component: usize, kind: CapKind, object: Option<usize>, badge: u64) {
    p.caps.push(Cap {
        component,
        slot: 200,
        kind,
        object,
        rights: CapRights::ALL,
        badge,
        name: "smuggled".into(),
    });
}

#[test]
fn authority_caps_fail() {
    for kind in [
        CapKind::Untyped,
        CapKind::IrqControl,
        CapKind::AsidControl,
        CapKind::IoPortControl,
        CapKind::IoSpace,
    ] {
        let (d, mut p) = image("serial-keyboard.toml");
        extra_cap(&mut p, 0, kind, None, 0);
        assert_fails(&d, &p, "no-authority-caps", "smuggled");
    }
}

#[test]
fn another_components_structures_fail() {
    let (d, p0) = image("serial-keyboard.toml");
    for kind in [CapKind::Tcb, CapKind::CNode, CapKind::VSpace] {
        let mut p = p0.clone();
        let other = &p.components[1];
        let obj = match kind {
            CapKind::Tcb => other.tcb,
            CapKind::CNode => other.cnode,
            _ => other.vspace,
        };
        extra_cap(&mut p, 0, kind, Some(obj), 0);
        assert_fails(&d, &p, "no-foreign-structures", "smuggled");
    }
    // Waiting on another component's notification.
    let mut p = p0.clone();
    let theirs = p.components[2].notification;
    extra_cap(&mut p, 0, CapKind::Notification, Some(theirs), 0);
    assert_fails(&d, &p, "no-foreign-structures", "smuggled");
    // Mapping another component's stack.
    let mut p = p0;
    let mut m = p
        .mappings
        .iter()
        .find(|m| m.component == 1 && m.purpose == MapPurpose::Stack)
        .unwrap()
        .clone();
    m.component = 0;
    m.name = "their-stack".into();
    p.mappings.push(m);
    assert_fails(&d, &p, "no-foreign-structures", "their-stack");
}

#[test]
fn undeclared_device_resources_fail() {
    let (d, p0) = image("serial-keyboard.toml");
    // The keyboard's ports given to the serial driver.
    let mut p = p0.clone();
    extra_cap(&mut p, 0, CapKind::IoPort, None, 0x60 << 16 | 0x64);
    assert_fails(&d, &p, "declared-devices", "smuggled");
    // The keyboard's IRQ handler given to the serial driver.
    let mut p = p0;
    let kbd_irq = p.irqs.iter().position(|q| q.name == "kbd").unwrap();
    extra_cap(&mut p, 0, CapKind::IrqHandler, Some(kbd_irq), 0);
    assert_fails(&d, &p, "declared-devices", "smuggled");
    // The edu BAR mapped into the client.
    let (d, mut p) = image("dma.toml");
    let mut m = p
        .mappings
        .iter()
        .find(|m| m.purpose == MapPurpose::DeviceBar)
        .unwrap()
        .clone();
    m.component = 1;
    m.name = "stolen-bar".into();
    p.mappings.push(m);
    assert_fails(&d, &p, "declared-devices", "stolen-bar");
}

#[test]
fn undeclared_sharing_fails() {
    let (d, p0) = image("serial-keyboard.toml");
    // The keyboard maps the serial transmit data.
    let mut p = p0.clone();
    let mut m = p
        .mappings
        .iter()
        .find(|m| m.name == "ring.serial-tx.data")
        .unwrap()
        .clone();
    m.component = 1;
    p.mappings.push(m);
    assert_fails(&d, &p, "declared-sharing", "ring.serial-tx.data");
    // The consumer writes the data region.
    let mut p = p0.clone();
    let m = p
        .mappings
        .iter_mut()
        .find(|m| m.name == "ring.serial-tx.data" && m.component == 0)
        .unwrap();
    m.rights.write = true;
    assert_fails(&d, &p, "declared-sharing", "ring.serial-tx.data");
    // A read-only shared region mapped writable.
    let mut p = p0.clone();
    let m = p
        .mappings
        .iter_mut()
        .find(|m| m.name == "shared.banner" && m.component == 0)
        .unwrap();
    m.rights.write = true;
    assert_fails(&d, &p, "declared-sharing", "shared.banner");
    // A signal cap to a component no ring or channel joins.
    let mut p = p0;
    let ntfn = p.components[1].notification;
    extra_cap(&mut p, 0, CapKind::NotificationSend, Some(ntfn), 1);
    assert_fails(&d, &p, "declared-sharing", "smuggled");
    // The driver maps the client's DMA data buffer.
    let (d, mut p) = image("dma.toml");
    let mut m = p
        .mappings
        .iter()
        .find(|m| m.name == "dma.edu.data")
        .unwrap()
        .clone();
    m.component = 0;
    p.mappings.push(m);
    assert_fails(&d, &p, "declared-sharing", "dma.edu.data");
}

#[test]
fn endpoint_caps_off_their_channel_fail() {
    let (d, p0) = image("latency.toml");
    let call = |p: &Plan| {
        p.caps
            .iter()
            .position(|k| k.kind == CapKind::CallEndpoint)
            .unwrap()
    };
    // The caller could take calls meant for the server.
    let mut p = p0.clone();
    let k = call(&p);
    p.caps[k].rights.read = true;
    assert_fails(&d, &p, "declared-sharing", "endpoint.ipc");
    // The caller holds the receive side.
    let mut p = p0.clone();
    let k = call(&p);
    p.caps[k].kind = CapKind::ServeEndpoint;
    assert_fails(&d, &p, "declared-sharing", "endpoint.ipc");
    // The call cap reaches another endpoint (the root task's).
    let mut p = p0.clone();
    let k = call(&p);
    p.caps[k].object = Some(p.fault_endpoint);
    assert_fails(&d, &p, "declared-sharing", "endpoint.ipc");
    // An endpoint cap of a channel that has no server.
    let (d, mut p) = image("hello.toml");
    let slot = p.caps_of(0).map(|k| k.slot).max().unwrap() + 1;
    p.caps.push(Cap {
        component: 0,
        slot,
        kind: CapKind::CallEndpoint,
        object: Some(p.fault_endpoint),
        rights: CapRights::CALL,
        badge: 1,
        name: "endpoint.ping".into(),
    });
    assert_fails(&d, &p, "declared-sharing", "endpoint.ping");
}

#[test]
fn dma_outside_its_window_fails() {
    let (d, p0) = image("dma.toml");
    let mut p = p0.clone();
    p.io_mappings[0].iova += 0x10_0000;
    assert_fails(&d, &p, "dma-confined", "IOVA");
    // A ring's frames mapped into the device's IOSpace.
    let mut p = p0;
    let ring = p
        .objects
        .iter()
        .position(|o| matches!(o.owner, Owner::Ring(_)))
        .unwrap();
    p.io_mappings[0].object = ring;
    assert_fails(&d, &p, "dma-confined", "IOVA");
}

#[test]
fn writable_and_executable_mappings_fail() {
    let (d, mut p) = image("serial-keyboard.toml");
    let m = p
        .mappings
        .iter_mut()
        .find(|m| m.purpose == MapPurpose::Heap)
        .unwrap();
    m.rights.execute = true;
    assert_fails(&d, &p, "w-xor-x", "heap");
}

#[test]
fn irqs_bound_twice_fail() {
    let (d, mut p) = image("serial-keyboard.toml");
    let mut q = p.irqs[0].clone();
    q.name = "again".into();
    p.irqs.push(q);
    assert_fails(&d, &p, "exclusive-irqs", "again");
}

#[test]
fn json_report_follows_the_schema() {
    let (d, p) = image("dma.toml");
    let a = audit(&d, &p);
    let v = report::json(&d, &p, &a);
    assert_eq!(v["schema"], 1);
    assert_eq!(v["passed"], true);
    assert_eq!(v["system"]["iommu"], true);
    assert_eq!(v["components"][0]["name"], "edu");
    assert!(v["components"][0]["caps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["kind"] == "IrqHandler"));
    assert_eq!(
        v["rules"].as_array().unwrap().len(),
        paddock_caps::audit::RULES.len()
    );
    assert!(v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["resource"].as_str().unwrap().contains("1234:11e8")));
}

#[test]
fn reports_are_deterministic() {
    for path in images() {
        let v = load(&path).unwrap();
        let (p1, p2) = (plan(&v), plan(&v));
        let d = &v.description;
        let (a1, a2) = (audit(d, &p1), audit(d, &p2));
        assert_eq!(report::text(d, &p1, &a1), report::text(d, &p2, &a2));
        assert_eq!(
            report::json(d, &p1, &a1).to_string(),
            report::json(d, &p2, &a2).to_string()
        );
        assert_eq!(report::dot(d, &p1), report::dot(d, &p2));
    }
}

#[test]
fn every_images_dot_renders() {
    for path in images() {
        let v = load(&path).unwrap();
        let graph = report::dot(&v.description, &plan(&v));
        let mut child = Command::new("dot")
            .arg("-Tsvg")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("graphviz `dot` must be installed to check the DOT output");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(graph.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}\n{graph}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let svg = String::from_utf8_lossy(&out.stdout);
        assert!(svg.contains("<svg"), "{}", path.display());
    }
}

fn inline(text: &str) -> (Description, Plan) {
    let v = paddock_caps::parse(Path::new("inline.toml"), text).unwrap_or_else(|e| panic!("{e}"));
    let p = plan(&v);
    (v.description, p)
}

const NO_IOMMU_DEVICE: &str = r#"
[system]
name = "busmaster"
kernel = "debug"

[[component]]
name = "drv"
program = "drv-prog"

[[component.pci]]
name = "nic"
id = "8086:100e"
"#;

#[test]
fn bus_mastering_without_declared_dma_fails() {
    let (d, mut p) = inline(NO_IOMMU_DEVICE);
    assert!(!p.pci[0].bus_master, "no DMA declared, no bus mastering");
    assert!(audit(&d, &p).passed());
    p.pci[0].bus_master = true;
    assert_fails(&d, &p, "confined-bus-masters", "PCI device 8086:100e `nic`");
}

#[test]
fn unconfined_dma_fails_unless_the_system_accepts_it() {
    let text = NO_IOMMU_DEVICE.replace(
        "id = \"8086:100e\"",
        "id = \"8086:100e\"\nunconfined_dma = true",
    );
    let (d, p) = inline(&text);
    assert!(p.pci[0].bus_master);
    assert_fails(&d, &p, "confined-bus-masters", "PCI device 8086:100e `nic`");
    let accepted = text.replace(
        "kernel = \"debug\"",
        "kernel = \"debug\"\naccept_unconfined_dma = true",
    );
    let (d, p) = inline(&accepted);
    assert!(p.pci[0].bus_master);
    let a = audit(&d, &p);
    assert!(a.passed(), "{:?}", failed(&a));
}

#[test]
fn only_devices_with_dma_windows_master_the_bus_behind_the_iommu() {
    let (_, p) = image("dma.toml");
    assert!(p.pci[0].bus_master, "edu has DMA windows");
    let text = NO_IOMMU_DEVICE.replace(
        "kernel = \"debug\"",
        "kernel = \"debug\"\niommu = true\nqemu_machine = \"q35\"\nqemu_devices = [\"intel-iommu\"]",
    );
    let (d, p) = inline(&text);
    assert!(!p.pci[0].bus_master, "no DMA window, no bus mastering");
    assert!(audit(&d, &p).passed());
}

/// Byte offset of field `field_offset` of record `i` of table `t`.
fn spec_field(bytes: &[u8], t: paddock_spec::Table, i: usize, size: usize, offset: usize) -> usize {
    let spec = paddock_spec::Spec::decode(bytes).unwrap();
    spec.header.tables[t as usize].offset.get() as usize + i * size + offset
}

#[test]
fn the_build_check_names_the_rule_and_the_cap_a_buggy_planner_broke() {
    use paddock_caps::spec_check::{check, SpecCheckError};
    let (d, p0) = image("serial-keyboard.toml");
    // The planner gives the serial driver the keyboard's ports.
    let mut p = p0.clone();
    extra_cap(&mut p, 0, CapKind::IoPort, None, 0x60 << 16 | 0x64);
    p.caps.sort_by_key(|c| c.component);
    let bytes = paddock_caps::encode::encode(&p);
    let e = check(&d, &p, &bytes).unwrap_err();
    let SpecCheckError::Rules { violations, .. } = &e else {
        panic!("{e}");
    };
    assert!(violations
        .iter()
        .any(|(rule, v)| *rule == "declared-devices" && v.item.contains("smuggled")));
    let text = e.to_string();
    assert!(
        text.contains("isolation rule `declared-devices`")
            && text.contains("slot 200 `smuggled` (IoPort)"),
        "{text}"
    );
    // The same plan, right this time, but its bytes made writable and
    // executable where the heap is mapped: the check reads the bytes.
    use paddock_spec::{MappingRecord, Table, MAP_EXECUTE};
    use std::mem::{offset_of, size_of};
    let mut bytes = paddock_caps::encode::encode(&p0);
    let heap = p0
        .mappings
        .iter()
        .position(|m| m.purpose == MapPurpose::Heap)
        .unwrap();
    let at = spec_field(
        &bytes,
        Table::Mappings,
        heap,
        size_of::<MappingRecord>(),
        offset_of!(MappingRecord, rights),
    );
    bytes[at] |= MAP_EXECUTE;
    let e = check(&d, &p0, &bytes).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("isolation rule `w-xor-x`")
            && text.contains("`heap`: writable and executable"),
        "{text}"
    );
    assert!(text.contains("differs from the plan: mappings["), "{text}");
    assert!(check(&d, &p0, &paddock_caps::encode::encode(&p0)).is_ok());
}

#[test]
fn device_memory_elsewhere_or_in_another_component_fails() {
    let (d, p0) = image("timer.toml");
    let hpet = p0
        .mappings
        .iter()
        .position(|m| m.purpose == MapPurpose::DeviceMemory)
        .unwrap();
    // The HPET's page mapped into a client too.
    let mut p = p0.clone();
    let mut m = p.mappings[hpet].clone();
    m.component = 1;
    m.name = "stolen-hpet".into();
    p.mappings.push(m);
    assert_fails(&d, &p, "declared-devices", "stolen-hpet");
    // The plan takes another physical page than the description declares.
    let mut p = p0;
    let o = p.mappings[hpet].object;
    p.objects[o].base = 0xFED0_1000;
    assert_fails(&d, &p, "declared-devices", "mmio.hpet");
}
