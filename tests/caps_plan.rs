//! The plan and its binary spec over every example image: each validates,
//! plans deterministically, encodes, and decodes back to the same content;
//! corrupted specs are refused with the right error.

use paddock_caps::{encode::encode, load, plan::plan, plan::Plan};
use paddock_spec::{DecodeError, Spec, SymbolKind, Table, NONE, VERSION};
use std::path::{Path, PathBuf};

fn images() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../images");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    assert!(v.len() >= 5, "expected the example images, found {v:?}");
    v
}

fn image_plan(name: &str) -> Plan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../images")
        .join(name);
    plan(&load(&path).unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn every_image_plans_deterministically() {
    for path in images() {
        let d1 = load(&path).unwrap_or_else(|e| panic!("{e}"));
        let d2 = load(&path).unwrap();
        let (p1, p2) = (plan(&d1), plan(&d2));
        assert_eq!(p1, p2, "{}", path.display());
        assert_eq!(encode(&p1), encode(&p2), "{}", path.display());
    }
}

#[test]
fn every_image_round_trips_through_the_spec() {
    for path in images() {
        let p = plan(&load(&path).unwrap());
        let bytes = encode(&p);
        let spec = Spec::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(spec.system_name(), p.name);
        assert_eq!(spec.iommu(), p.kernel.iommu);
        assert_eq!(spec.components.len(), p.components.len());
        assert_eq!(spec.objects.len(), p.objects.len());
        assert_eq!(spec.caps.len(), p.caps.len());
        assert_eq!(spec.mappings.len(), p.mappings.len());
        assert_eq!(spec.io_mappings.len(), p.io_mappings.len());
        assert_eq!(spec.irqs.len(), p.irqs.len());
        assert_eq!(spec.pci.len(), p.pci.len());
        for (i, c) in p.components.iter().enumerate() {
            let r = &spec.components[i];
            assert_eq!(spec.str(r.name), c.name);
            assert_eq!(spec.str(r.program), c.program);
            assert_eq!(r.badge.get(), c.badge);
            assert_eq!(r.priority, c.priority);
            assert_eq!(r.stack_top.get(), c.stack_top);
            let caps: Vec<_> = p.caps_of(i).collect();
            let rcaps = spec.caps_of(r);
            assert_eq!(rcaps.len(), caps.len());
            for (k, rk) in caps.iter().zip(rcaps) {
                assert_eq!(rk.slot.get(), k.slot);
                assert_eq!(rk.kind, k.kind as u8);
                assert_eq!(rk.badge.get(), k.badge);
                assert_eq!(rk.rights, k.rights.bits());
                assert_eq!(spec.str(rk.name), k.name);
                assert_eq!(rk.object.get(), k.object.map_or(NONE, |o| o as u32));
            }
            let maps: Vec<_> = p.mappings_of(i).collect();
            let rmaps = spec.mappings_of(r);
            assert_eq!(rmaps.len(), maps.len());
            for (m, rm) in maps.iter().zip(rmaps) {
                assert_eq!(rm.vaddr.get(), m.vaddr);
                assert_eq!(rm.pages.get(), m.pages);
                assert_eq!(rm.object.get() as usize, m.object);
                assert_eq!(rm.rights, m.rights.bits());
                assert_eq!(rm.cached != 0, m.cached);
            }
            for s in p.symbols_of(i) {
                let rs = spec.symbol(r, s.kind, &s.name).expect("symbol present");
                assert_eq!(
                    (rs.kind, rs.value.get(), rs.size.get()),
                    (s.kind as u8, s.value, s.size)
                );
            }
        }
        for (o, ro) in p.objects.iter().zip(spec.objects) {
            assert_eq!(ro.kind, o.kind as u8);
            assert_eq!(ro.count.get(), o.count);
            assert_eq!(spec.str(ro.name), o.name);
        }
        for (q, rq) in p.irqs.iter().zip(spec.irqs) {
            assert_eq!(rq.vector.get(), u32::from(q.vector));
            assert_eq!(rq.badge.get(), 1 << q.badge_bit);
            assert_eq!(rq.slot.get(), q.slot);
        }
        for (m, rm) in p.io_mappings.iter().zip(spec.io_mappings) {
            assert_eq!((rm.iova.get(), rm.pages.get()), (m.iova, m.pages));
        }
    }
}

#[test]
fn the_serial_keyboard_plan_has_the_expected_device_caps() {
    let p = image_plan("serial-keyboard.toml");
    let serial = p
        .components
        .iter()
        .position(|c| c.name == "serial")
        .unwrap();
    let ports: Vec<u64> = p
        .caps_of(serial)
        .filter(|k| k.kind == paddock_spec::CapKind::IoPort)
        .map(|k| k.badge)
        .collect();
    assert_eq!(ports, [0x2F8 << 16 | 0x2FF]);
    let irq = p.irqs.iter().find(|q| q.component == serial).unwrap();
    assert_eq!(
        irq.source,
        paddock_caps::plan::IrqSource::IoApic {
            pin: 3,
            level: false,
            active_low: false
        }
    );
    assert_eq!(irq.vector, 3);
    // What the component finds by name on its info page.
    let symbol = |name: &str, kind: SymbolKind| {
        p.symbols_of(serial)
            .find(|s| s.name == name && s.kind == kind)
            .map(|s| s.value)
    };
    assert_eq!(symbol("io.com2", SymbolKind::Slot), Some(4));
    assert_eq!(symbol("irq.uart", SymbolKind::BadgeBit), Some(0));
}

#[test]
fn the_edu_client_maps_the_data_window_and_the_driver_does_not() {
    let p = image_plan("dma.toml");
    let names = |c: &str| -> Vec<String> {
        let i = p.components.iter().position(|x| x.name == c).unwrap();
        p.mappings_of(i).map(|m| m.name.clone()).collect()
    };
    assert!(names("edu-client").contains(&"dma.edu.data".to_string()));
    assert!(!names("edu").contains(&"dma.edu.data".to_string()));
    assert!(p
        .io_mappings
        .iter()
        .all(|m| m.iova + u64::from(m.pages) * 4096 <= 0x1000_0000));
    let edu = p.components.iter().position(|x| x.name == "edu").unwrap();
    assert!(p
        .symbols_of(edu)
        .any(|s| s.name == "dma.edu.data" && s.kind == SymbolKind::Iova && s.value == 0x100000));
}

fn sample() -> Vec<u8> {
    encode(&image_plan("serial-keyboard.toml"))
}

#[test]
fn bad_magic_is_refused() {
    let mut b = sample();
    b[0] = b'X';
    assert_eq!(Spec::decode(&b).unwrap_err(), DecodeError::BadMagic);
    assert_eq!(
        Spec::decode(b"nothing of the sort").unwrap_err(),
        DecodeError::BadMagic
    );
}

#[test]
fn another_version_is_refused() {
    let mut b = sample();
    b[8..12].copy_from_slice(&(VERSION + 1).to_le_bytes());
    let e = Spec::decode(&b).unwrap_err();
    assert_eq!(
        e,
        DecodeError::Version {
            found: VERSION + 1,
            expected: VERSION
        }
    );
    assert!(e.to_string().contains("rebuild the image"));
}

#[test]
fn truncated_and_padded_input_is_refused() {
    let b = sample();
    for cut in [0, 4, 20, b.len() / 2, b.len() - 1] {
        let e = Spec::decode(&b[..cut]).unwrap_err();
        assert!(
            matches!(e, DecodeError::Truncated { .. } | DecodeError::BadMagic),
            "cut {cut}: {e:?}"
        );
    }
    let mut longer = b.clone();
    longer.push(0);
    assert!(matches!(
        Spec::decode(&longer).unwrap_err(),
        DecodeError::TrailingBytes { .. }
    ));
}

/// Byte offset of record `i`'s field at `field_offset` in table `t`.
fn field(b: &[u8], t: Table, i: usize, record: usize, field_offset: usize) -> usize {
    let spec = Spec::decode(b).unwrap();
    spec.header.tables[t as usize].offset.get() as usize + i * record + field_offset
}

#[test]
fn out_of_range_indices_and_enums_are_refused() {
    use paddock_spec::*;
    use std::mem::{offset_of, size_of};
    // A cap pointing past the object table.
    let mut b = sample();
    let at = field(
        &b,
        Table::Caps,
        0,
        size_of::<CapRecord>(),
        offset_of!(CapRecord, object),
    );
    b[at..at + 4].copy_from_slice(&0xFFFF_0000u32.to_le_bytes());
    assert!(matches!(
        Spec::decode(&b).unwrap_err(),
        DecodeError::BadField {
            table: Table::Caps,
            field: "object",
            ..
        }
    ));
    // An unknown object kind.
    let mut b = sample();
    let at = field(
        &b,
        Table::Objects,
        1,
        size_of::<ObjectRecord>(),
        offset_of!(ObjectRecord, kind),
    );
    b[at] = 200;
    assert!(matches!(
        Spec::decode(&b).unwrap_err(),
        DecodeError::BadField {
            table: Table::Objects,
            field: "kind",
            ..
        }
    ));
    // A string running off the string table.
    let mut b = sample();
    let at = field(
        &b,
        Table::Components,
        0,
        size_of::<ComponentRecord>(),
        offset_of!(ComponentRecord, name) + 4,
    );
    b[at..at + 4].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    assert!(matches!(
        Spec::decode(&b).unwrap_err(),
        DecodeError::BadString {
            table: Table::Components,
            ..
        }
    ));
    // A table that claims more records than there are bytes.
    let mut b = sample();
    let at = offset_of!(Header, tables) + Table::Mappings as usize * size_of::<TableRef>() + 4;
    b[at..at + 4].copy_from_slice(&1_000_000u32.to_le_bytes());
    assert_eq!(
        Spec::decode(&b).unwrap_err(),
        DecodeError::TableOutOfBounds {
            table: Table::Mappings
        }
    );
    // An unaligned mapping address.
    let mut b = sample();
    let at = field(
        &b,
        Table::Mappings,
        0,
        size_of::<MappingRecord>(),
        offset_of!(MappingRecord, vaddr),
    );
    b[at] = 0x10;
    assert!(matches!(
        Spec::decode(&b).unwrap_err(),
        DecodeError::BadField {
            table: Table::Mappings,
            field: "vaddr",
            ..
        }
    ));
    // An IRQ vector beyond the kernel's.
    let mut b = sample();
    let at = field(
        &b,
        Table::Irqs,
        0,
        size_of::<IrqRecord>(),
        offset_of!(IrqRecord, vector),
    );
    b[at..at + 4].copy_from_slice(&108u32.to_le_bytes());
    assert!(matches!(
        Spec::decode(&b).unwrap_err(),
        DecodeError::BadField {
            table: Table::Irqs,
            field: "vector",
            ..
        }
    ));
    // A component whose cap run leaves the caps table.
    let mut b = sample();
    let at = field(
        &b,
        Table::Components,
        0,
        size_of::<ComponentRecord>(),
        offset_of!(ComponentRecord, caps) + 4,
    );
    b[at..at + 4].copy_from_slice(&10_000u32.to_le_bytes());
    assert!(matches!(
        Spec::decode(&b).unwrap_err(),
        DecodeError::BadField {
            table: Table::Components,
            field: "caps",
            ..
        }
    ));
}

#[test]
fn every_single_byte_corruption_is_refused_or_harmless() {
    // Decoding must never panic, whatever a byte says.
    let b = sample();
    for i in 0..b.len() {
        for v in [0u8, 0xFF, 0x80] {
            let mut c = b.clone();
            c[i] = v;
            let _ = Spec::decode(&c);
        }
    }
}

fn parse_plan(text: &str) -> Plan {
    let v = paddock_caps::parse(Path::new("inline.toml"), text).unwrap_or_else(|e| panic!("{e}"));
    plan(&v)
}

const TWO_DEVICES: &str = r#"
[system]
name = "msi"
kernel = "debug"

[[component]]
name = "drv"
program = "drv-prog"

[[component.pci]]
name = "first"
address = "00:03.0"

[[component.pci]]
name = "second"
address = "00:04.0"

[[component.irq]]
name = "line"
ioapic_pin = 5

[[component.irq]]
name = "rx"
msi = "second"

[[component.irq]]
name = "tx"
msi = "second"

[[component.irq]]
name = "err"
msi = "second"

[[component.irq]]
name = "only"
msi = "first"
"#;

#[test]
fn a_devices_msis_are_its_messages_in_order_in_one_aligned_block() {
    use paddock_caps::plan::{IrqSource, MsiBlock};
    let p = parse_plan(TWO_DEVICES);
    let msi = |name: &str| {
        let q = p.irqs.iter().find(|q| q.name == name).unwrap();
        match q.source {
            IrqSource::Msi { pci, handle } => (pci, handle, q.vector),
            other => panic!("{name}: {other:?}"),
        }
    };
    // Messages are numbered per device, whatever comes before them.
    let (rx, tx, err, only) = (msi("rx"), msi("tx"), msi("err"), msi("only"));
    assert_eq!((rx.0, rx.1), (1, 0));
    assert_eq!((tx.0, tx.1), (1, 1));
    assert_eq!((err.0, err.1), (1, 2));
    assert_eq!((only.0, only.1), (0, 0));
    // Three messages take a block of four consecutive vectors whose CPU
    // vector (0x30 + first) is a multiple of four, all four reserved.
    let first = rx.2;
    assert_eq!((tx.2, err.2), (first + 1, first + 2));
    assert_eq!((0x30 + u32::from(first)) % 4, 0);
    assert!(!(first..first + 4).contains(&only.2));
    assert_eq!(
        p.pci[1].msi,
        Some(MsiBlock {
            first_vector: first,
            messages: 3
        })
    );
    assert_eq!(
        p.pci[0].msi,
        Some(MsiBlock {
            first_vector: only.2,
            messages: 1
        })
    );
    // The pin keeps its natural vector.
    assert_eq!(p.irqs[0].vector, 5);
}

#[test]
fn every_image_reads_back_from_its_spec_as_planned() {
    for path in images() {
        let (d, p) = paddock_caps::load_planned(&path).unwrap();
        let bytes = encode(&p);
        let back = paddock_caps::spec_check::check(&d, &p, &bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(back, p, "{}", path.display());
    }
}

/// Decodes the encoding of `p`, which must be refused.
fn refused(p: &Plan) -> DecodeError {
    Spec::decode(&encode(p)).expect_err("the spec should be refused")
}

#[test]
fn specs_beyond_the_root_tasks_tables_are_refused() {
    use paddock_spec::limits::*;
    let p = image_plan("dma.toml");
    let mut q = p.clone();
    q.components = vec![p.components[0].clone(); MAX_COMPONENTS + 1];
    assert_eq!(
        refused(&q),
        DecodeError::TooMany {
            table: Table::Components,
            count: MAX_COMPONENTS + 1,
            max: MAX_COMPONENTS
        }
    );
    let mut q = p.clone();
    q.objects.resize(MAX_OBJECTS + 1, p.objects[0].clone());
    assert!(matches!(
        refused(&q),
        DecodeError::TooMany {
            table: Table::Objects,
            ..
        }
    ));
    let mut q = p.clone();
    q.irqs.resize(MAX_IRQS + 1, p.irqs[0].clone());
    assert!(matches!(
        refused(&q),
        DecodeError::TooMany {
            table: Table::Irqs,
            ..
        }
    ));
    let mut q = p.clone();
    q.pci.resize(MAX_PCI_DEVICES + 1, p.pci[0].clone());
    assert!(matches!(
        refused(&q),
        DecodeError::TooMany {
            table: Table::Pci,
            ..
        }
    ));
    // One component's symbols beyond an info page.
    let mut q = p.clone();
    let extra = (0..=MAX_SYMBOLS).map(|i| paddock_caps::plan::Symbol {
        component: 0,
        name: format!("p{i}"),
        kind: SymbolKind::Param,
        value: 0,
        size: 0,
    });
    q.symbols.splice(0..0, extra);
    assert!(matches!(
        refused(&q),
        DecodeError::TooMany { table: Table::Symbols, count, .. } if count > MAX_SYMBOLS
    ));
}

#[test]
fn names_longer_than_their_fields_are_refused() {
    use paddock_spec::limits::*;
    let p = image_plan("serial-keyboard.toml");
    let long = |n: usize| "x".repeat(n + 1);
    let mut q = p.clone();
    q.components[1].name = long(COMPONENT_NAME_LEN);
    assert_eq!(
        refused(&q),
        DecodeError::NameTooLong {
            table: Table::Components,
            index: 1,
            len: COMPONENT_NAME_LEN + 1,
            max: COMPONENT_NAME_LEN
        }
    );
    let mut q = p.clone();
    q.components[0].program = long(PROGRAM_NAME_LEN);
    assert!(matches!(
        refused(&q),
        DecodeError::NameTooLong { table: Table::Components, index: 0, max, .. } if max == PROGRAM_NAME_LEN
    ));
    let mut q = p.clone();
    q.symbols[3].name = long(SYMBOL_NAME_LEN);
    assert!(matches!(
        refused(&q),
        DecodeError::NameTooLong { table: Table::Symbols, index: 3, max, .. } if max == SYMBOL_NAME_LEN
    ));
    let mut q = p.clone();
    q.name = long(SYSTEM_NAME_LEN);
    assert!(matches!(
        refused(&q),
        DecodeError::NameTooLong { index: NONE, max, .. } if max == SYSTEM_NAME_LEN
    ));
    // Each limit is a refusal the root task prints.
    assert!(refused(&q).to_string().contains("where 64 fit"));
}

#[test]
fn msis_outside_their_devices_block_are_refused() {
    let p = parse_plan(TWO_DEVICES);
    assert!(Spec::decode(&encode(&p)).is_ok());
    let bad_field = |q: &Plan, table: Table, field: &str| match refused(q) {
        DecodeError::BadField {
            table: t, field: f, ..
        } => {
            assert_eq!((t, f), (table, field), "{q:?}")
        }
        other => panic!("{other}"),
    };
    // A message's vector that is not its place in the block.
    let mut q = p.clone();
    let tx = q.irqs.iter().position(|x| x.name == "tx").unwrap();
    q.irqs[tx].vector += 1;
    bad_field(&q, Table::Irqs, "vector");
    // A message number past the device's count.
    let mut q = p.clone();
    q.pci[1].msi.as_mut().unwrap().messages = 2;
    bad_field(&q, Table::Irqs, "pin");
    // A message the device's count promises but no IRQ binds.
    let mut q = p.clone();
    q.pci[1].msi.as_mut().unwrap().messages = 4;
    bad_field(&q, Table::Pci, "msi_count");
    // The whole block moved off its alignment.
    let mut q = p.clone();
    q.pci[1].msi.as_mut().unwrap().first_vector += 1;
    for x in q
        .irqs
        .iter_mut()
        .filter(|x| ["rx", "tx", "err"].contains(&x.name.as_str()))
    {
        x.vector += 1;
    }
    bad_field(&q, Table::Pci, "msi_vector");
}

#[test]
fn an_objects_owner_must_be_consistent() {
    use paddock_spec::{ObjectRecord, OwnerKind};
    use std::mem::{offset_of, size_of};
    let mut b = sample();
    // Object 0 is the root task's fault endpoint: call it a component's.
    let at = field(
        &b,
        Table::Objects,
        0,
        size_of::<ObjectRecord>(),
        offset_of!(ObjectRecord, owner_kind),
    );
    b[at] = OwnerKind::Component as u8;
    assert!(matches!(
        Spec::decode(&b).unwrap_err(),
        DecodeError::BadField {
            table: Table::Objects,
            field: "owner_index",
            ..
        }
    ));
    b[at] = 77;
    assert!(matches!(
        Spec::decode(&b).unwrap_err(),
        DecodeError::BadField {
            table: Table::Objects,
            field: "owner_kind",
            ..
        }
    ));
}
