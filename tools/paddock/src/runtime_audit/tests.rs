use super::*;
use paddock_caps::plan::{CapKind, ObjectKind};
use paddock_protocol::DUMP_PREFIX;
use std::path::Path;

fn plan_of(image: &str) -> Plan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../images/{image}.toml"));
    paddock_caps::load_planned(&path).unwrap().1
}

/// A stand-in physical address for an object's first frame (device
/// memory declared by address: that address).
fn paddr_in(plan: &Plan, object: usize) -> String {
    match plan.objects.get(object) {
        Some(o) if o.kind == ObjectKind::PlatformFrames => format!("{:#x}", o.base),
        _ => paddr(object),
    }
}

fn paddr(object: usize) -> String {
    format!("{:#x}", 0x10_0000 * (object + 1))
}

fn frames_facts_in(plan: &Plan, object: usize, pages: u32) -> String {
    format!(
        "pages={pages}@recorded paddr={}@observed digest={object:016x}@observed",
        paddr_in(plan, object)
    )
}

/// A dump as a root task on a debug kernel prints it for a plan, built
/// from the plan.
fn faithful_dump(plan: &Plan) -> String {
    let mut out = format!(
        "{DUMP_PREFIX} begin {} {} spec={}\n",
        plan.name,
        plan.components.len(),
        spec_digest(plan)
    );
    let mut objects = Vec::new();
    for (ci, c) in plan.components.iter().enumerate() {
        for cap in plan.caps_of(ci) {
            let kind = paddock_spec::cap_kind_name(cap.kind as u8);
            let rights =
                String::from_utf8_lossy(&paddock_spec::rights_text(cap.rights.bits())).into_owned();
            let extra = match cap.kind {
                CapKind::NotificationSend => {
                    format!("badge={:#x}@observed write=ok@observed", cap.badge)
                }
                CapKind::Notification => {
                    format!("badge={:#x}@recorded write=refused@observed", cap.badge)
                }
                CapKind::IoPort => {
                    let (first, last) = (cap.badge >> 16, cap.badge & 0xffff);
                    format!(
                        "badge={:#x}@recorded ports={:#x}:refused,{first:#x}:ok,{last:#x}:ok,{:#x}:refused@observed",
                        cap.badge,
                        first - 1,
                        last + 1
                    )
                }
                _ => format!("badge={:#x}@recorded", cap.badge),
            };
            out += &format!(
                "{DUMP_PREFIX} cap {} {} {kind} type={kind}@observed rights={rights}@recorded {extra}\n",
                c.name, cap.slot
            );
        }
        for m in plan.mappings_of(ci).filter(|m| dumped_purpose(m.purpose)) {
            out += &format!(
                "{DUMP_PREFIX} map {} {:#x} {} {}\n",
                c.name,
                m.vaddr,
                plan.objects[m.object].name,
                frames_facts_in(plan, m.object, m.pages)
            );
            objects.push(m.object);
        }
        out += &format!(
            "{DUMP_PREFIX} slots {} planned={} unplanned=0@observed\n",
            c.name,
            plan.caps_of(ci).count()
        );
    }
    objects.extend(plan.io_mappings.iter().map(|m| m.object));
    objects.dedup();
    let mut seen = Vec::new();
    for o in objects {
        if seen.contains(&o) {
            continue;
        }
        seen.push(o);
        out += &format!(
            "{DUMP_PREFIX} frames {o} {} {}\n",
            plan.objects[o].name,
            frames_facts_in(plan, o, plan.objects[o].count)
        );
    }
    for m in &plan.io_mappings {
        out += &format!(
            "{DUMP_PREFIX} iomap {} {} {:#x} {} {}\n",
            plan.components[plan.pci[m.pci].owner].name,
            plan.pci[m.pci].name,
            m.iova,
            plan.objects[m.object].name,
            frames_facts_in(plan, m.object, m.pages)
        );
    }
    let shown = out
        .lines()
        .filter(|l| l.contains(" map ") || l.contains(" iomap "))
        .count();
    out + &format!(
        "{DUMP_PREFIX} end caps={} frames={shown} mismatches=0\n",
        plan.caps.len()
    )
}

fn differences(plan: &Plan, dump: &str) -> Vec<String> {
    compare(plan, &parse(dump).unwrap()).differences
}

fn assert_named(differences: &[String], expected: &str) {
    assert!(
        differences.iter().any(|d| d.contains(expected)),
        "`{expected}` not among {differences:#?}"
    );
}

#[test]
fn a_faithful_dump_matches() {
    for image in ["hello", "default", "serial-keyboard", "dma", "timer"] {
        let plan = plan_of(image);
        let result = compare(&plan, &parse(&faithful_dump(&plan)).unwrap());
        assert!(result.matches(), "{image}: {:#?}", result.differences);
        assert_eq!(result.compared, plan.caps.len());
        assert_eq!(result.kernel_checked, plan.caps.len());
        assert!(result.observed["type"] == plan.caps.len());
        assert!(result.recorded["rights"] == plan.caps.len());
    }
}

#[test]
fn every_kind_of_difference_is_named() {
    let plan = plan_of("default");
    let good = faithful_dump(&plan);
    let cases = [
        (
            "badge=0x1@observed write=ok@observed",
            "badge=0x4000001@observed write=ok@observed",
            "`serial` slot 5 (`ring.serial-rx`, line 6): a signal through it arrives with badge 0x4000001 (observed), the plan has 0x1",
        ),
        (
            "badge=0x1@observed write=ok@observed",
            "badge=none@observed write=refused@observed",
            "never arrives (observed), the plan has badge 0x1",
        ),
        (
            "write=refused@observed",
            "write=ok@observed",
            "a signal through it arrives (observed), the plan gives it no write right",
        ),
        (
            "0x300:refused",
            "0x300:ok",
            "`serial` slot 4 (`io.com2`, line 5): the kernel accepts port 0x300 through it (observed), outside the planned range 0x2f8..=0x2ff: the cap is wider than planned",
        ),
        (
            "0x2ff:ok",
            "0x2ff:refused",
            "the kernel refuses port 0x2ff through it (observed), inside the planned range 0x2f8..=0x2ff: the cap is narrower than planned",
        ),
        (",0x300:refused", "", "port 0x300 was not probed"),
        ("type=io-port@observed", "type=other@observed", "the kernel holds a cap of another type there (observed)"),
        ("type=io-port@observed", "type=empty@observed", "the kernel finds the slot empty"),
        ("rights=r--@recorded", "rights=rw-@recorded", "planned rights r--, recorded rw-"),
        ("unplanned=0@observed", "unplanned=2@observed", "2 occupied slots outside the plan"),
        ("mismatches=0", "mismatches=1", "1 kernel-side mismatches"),
    ];
    for (from, to, expected) in cases {
        let bad = good.replacen(from, to, 1);
        assert_ne!(bad, good, "case `{from}` did not apply");
        assert_named(&differences(&plan, &bad), expected);
    }
    // One party of a ring on another frame: the consumer's mapping of the
    // first ring's queues.
    let queues = plan
        .objects
        .iter()
        .position(|o| o.name == "ring.serial-rx.queues")
        .unwrap();
    let consumer = good
        .lines()
        .find(|l| l.contains(" map console ") && l.contains("ring.serial-rx.queues"))
        .unwrap();
    let stray = consumer.replace(&paddr(queues), "0x7777000");
    let result = differences(&plan, &good.replace(consumer, &stray));
    assert_named(&result, "`console` maps `ring.serial-rx.queues` at 0x");
    assert_named(
        &result,
        "its first page is the frame at 0x7777000 (observed)",
    );
    let digest = consumer.replace(&format!("digest={queues:016x}"), "digest=00000000deadbeef");
    assert_named(
        &differences(&plan, &good.replace(consumer, &digest)),
        "its pages are not the object's frames",
    );
    // A refused component.
    let refused = good.replacen(
        &format!("{DUMP_PREFIX} end"),
        &format!("{DUMP_PREFIX} refused keyboard\n{DUMP_PREFIX} end"),
        1,
    );
    assert_named(
        &differences(&plan, &refused),
        "`keyboard` was refused at boot",
    );
    // A missing cap line and an extra one.
    let first_cap = good.lines().find(|l| l.contains(" cap ")).unwrap();
    let missing = good.replacen(&format!("{first_cap}\n"), "", 1);
    assert_named(&differences(&plan, &missing), "the root task made nothing");
    let extra = good.replacen(
        &format!("{DUMP_PREFIX} end caps={}", plan.caps.len()),
        &format!(
            "{DUMP_PREFIX} cap console 9 io-port type=io-port@observed rights=rwg@recorded badge=0x0@recorded ports=0x0:ok@observed\n{DUMP_PREFIX} end caps={}",
            plan.caps.len() + 1
        ),
        1,
    );
    assert_named(&differences(&plan, &extra), "a cap the plan does not have");
}

#[test]
fn a_dump_of_another_spec_is_refused() {
    let hello = plan_of("hello");
    let default = plan_of("default");
    let result = compare(&default, &parse(&faithful_dump(&hello)).unwrap());
    assert!(result.other_spec);
    assert_eq!(result.differences.len(), 1, "{:#?}", result.differences);
    assert_named(&result.differences, "the dump is of another spec");
    // The same system name with other bytes is refused as well.
    let forged = faithful_dump(&default).replacen(&spec_digest(&default), &"0".repeat(64), 1);
    assert!(compare(&default, &parse(&forged).unwrap()).other_spec);
}

#[test]
fn facts_are_counted_by_source() {
    let plan = plan_of("default");
    let result = compare(&plan, &parse(&faithful_dump(&plan)).unwrap());
    let sends = plan
        .caps
        .iter()
        .filter(|c| c.kind == CapKind::NotificationSend)
        .count();
    assert_eq!(result.observed["badge"], sends);
    assert_eq!(result.recorded["badge"], plan.caps.len() - sends);
    assert_eq!(result.observed["ports"], 3);
    assert!(facts_summary(&result).contains("facts observed through the kernel"));
}

#[test]
fn malformed_dumps_are_errors_naming_the_line() {
    assert!(parse("paddock: system ready\n")
        .unwrap_err()
        .contains("no runtime dump"));
    let begin = format!("{DUMP_PREFIX} begin hello 2 spec={}\n", "a".repeat(64));
    assert!(parse(&begin).unwrap_err().contains("cut short"));
    let cases = [
        (format!("{DUMP_PREFIX} cap alpha\n"), "line 2: malformed dump line"),
        (
            format!("{DUMP_PREFIX} cap alpha 1 fault-endpoint type=x@observed rights=-wg badge=0x1@recorded\n"),
            "does not say @observed or @recorded",
        ),
        (
            format!("{DUMP_PREFIX} cap alpha 1 fault-endpoint type=x@seen rights=-wg@recorded badge=0x1@recorded\n"),
            "unknown source",
        ),
        (
            format!("{DUMP_PREFIX} cap alpha 1 fault-endpoint type=x@observed rights=-wg@recorded\n"),
            "no `badge`",
        ),
        (
            format!("{DUMP_PREFIX} cap alpha 1 fault-endpoint type=x@observed rights=-wg@recorded badge=0x1@recorded colour=red@observed\n"),
            "unknown field `colour`",
        ),
        (format!("{DUMP_PREFIX} wobble\n"), "unknown line `wobble`"),
        (
            format!("{DUMP_PREFIX} map alpha 4096 x pages=1@recorded paddr=0x1@observed digest=0@observed\n"),
            "not a 0x-prefixed hex address",
        ),
        (begin.clone(), "a second runtime dump"),
    ];
    for (line, expected) in cases {
        let log = format!("{begin}{line}{DUMP_PREFIX} end caps=0 frames=0 mismatches=0\n");
        let error = parse(&log).unwrap_err();
        assert!(error.contains(expected), "`{expected}` not in `{error}`");
        assert!(error.starts_with("line 2"), "{error}");
    }
    let early = format!("{DUMP_PREFIX} end caps=0 frames=0 mismatches=0\n{begin}");
    assert!(parse(&early).unwrap_err().contains("outside `begin`"));
    let short = format!("{DUMP_PREFIX} begin hello 2 spec=abc\n");
    assert!(parse(&short).unwrap_err().contains("not a SHA-256"));
}

#[test]
fn a_mapped_msix_table_page_or_a_missing_msix_fact_is_a_difference() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/system/msix.toml");
    let plan = paddock_caps::load_planned(&path).unwrap().1;
    let good = faithful_dump(&plan);
    let end = format!("{DUMP_PREFIX} end");
    let with = |fact: &str| {
        good.replace(
            &end,
            &format!("{DUMP_PREFIX} msix blk blk table=0xfebd1000 pba=0xfebd1800 {fact}\n{end}"),
        )
    };
    let clean = compare(&plan, &parse(&with("mapped=0@observed")).unwrap());
    assert!(clean.matches(), "{:#?}", clean.differences);
    assert_eq!(clean.observed["msix-table-unmapped"], 1);
    assert_named(
        &differences(&plan, &with("mapped=1@observed")),
        "1 mapped pages are `blk`'s `blk` MSI-X table (0xfebd1000) or PBA (0xfebd1800) pages",
    );
    assert_named(
        &differences(&plan, &with("mapped=0@recorded")),
        "MSI-X table",
    );
    assert_named(&differences(&plan, &good), "says nothing of its table");
}

#[test]
fn device_memory_on_another_frame_than_declared_is_a_difference() {
    let plan = plan_of("timer");
    let good = faithful_dump(&plan);
    let result = compare(&plan, &parse(&good).unwrap());
    assert!(result.matches(), "{:#?}", result.differences);
    assert_eq!(result.observed["device addresses"], 1);
    // The mapping and the object moved together: only the declared
    // address tells.
    let bad = good.replace("paddr=0xfed00000@", "paddr=0xfed01000@");
    assert_named(
        &differences(&plan, &bad),
        "device memory `mmio.hpet` is the frame at 0xfed01000 (observed), declared at 0xfed00000",
    );
}
