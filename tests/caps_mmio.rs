//! Device memory named by physical address (`[[component.mmio]]`) in the
//! plan and its spec.

use paddock_caps::encode::encode;
use paddock_caps::plan::{plan, MapPurpose, ObjectKind, Owner, Plan, SymbolKind};
use paddock_spec::Spec;
use std::path::Path;

fn parse_plan(text: &str) -> Plan {
    let v = paddock_caps::parse(Path::new("inline.toml"), text).unwrap_or_else(|e| panic!("{e}"));
    plan(&v)
}

#[test]
fn device_memory_is_planned_at_its_physical_address_uncached_and_reads_back() {
    let p = parse_plan(
        r#"
[system]
name = "mmio"
kernel = "debug"

[[component]]
name = "drv"
program = "drv-prog"

[[component.mmio]]
name = "regs"
paddr = 0xFED00000
size = 0x2000
"#,
    );
    let (o, frames) = p
        .objects
        .iter()
        .enumerate()
        .find(|(_, o)| o.kind == ObjectKind::PlatformFrames)
        .expect("platform frames");
    assert_eq!(
        (frames.base, frames.count, frames.owner),
        (0xFED0_0000, 2, Owner::Component(0))
    );
    let m = p.mappings.iter().find(|m| m.object == o).expect("mapped");
    assert!(!m.cached && m.rights.write && !m.rights.execute);
    assert_eq!(m.purpose, MapPurpose::DeviceMemory);
    let s = p
        .symbols_of(0)
        .find(|s| s.name == "mmio.regs")
        .expect("symbol");
    assert_eq!(
        (s.kind, s.value, s.size),
        (SymbolKind::Vaddr, m.vaddr, 0x2000)
    );
    assert_eq!(p.memory_bytes(), parse_plan_without_mmio().memory_bytes());
    assert!(p.components[0].is_driver);
    let back = Plan::from_spec(&Spec::decode(&encode(&p)).unwrap()).unwrap();
    assert_eq!(back, p);
}

fn parse_plan_without_mmio() -> Plan {
    parse_plan(
        r#"
[system]
name = "mmio"
kernel = "debug"

[[component]]
name = "drv"
program = "drv-prog"
"#,
    )
}
