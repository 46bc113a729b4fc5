//! The runtime audit: what a booted root task says it built (its
//! `paddock-dump:` lines, see `rootserver/src/dump.rs`) against the plan of
//! the same description. Any difference is named: a cap missing, extra, in
//! another slot, of another kind, with other rights or badge; a slot the
//! kernel found occupied outside the plan; a kernel-side mismatch.

use paddock_caps::plan::Plan;
use paddock_protocol::DUMP_PREFIX;
use std::collections::BTreeMap;

/// One cap line of the dump.
#[derive(Clone, Debug, PartialEq, Eq)]
struct DumpedCap {
    kind: String,
    rights: String,
    badge: u64,
    kernel: String,
}

/// The parsed dump.
#[derive(Debug, Default)]
pub struct Dump {
    system: Option<String>,
    /// (component, slot) -> cap.
    caps: BTreeMap<(String, u32), DumpedCap>,
    /// component -> (unplanned occupied slots, kernel check done).
    slots: BTreeMap<String, (u32, bool)>,
    end: Option<(u32, u32)>,
    /// Components the root task refused to build (a device was missing).
    refused: Vec<String>,
}

/// What the comparison found.
#[derive(Debug, Default)]
pub struct Comparison {
    pub compared: usize,
    pub kernel_checked: usize,
    pub differences: Vec<String>,
}

impl Comparison {
    pub fn matches(&self) -> bool {
        self.differences.is_empty()
    }
}

fn field<'a>(words: &[&'a str], key: &str) -> Option<&'a str> {
    words.iter().find_map(|w| w.strip_prefix(key))
}

/// Reads the dump out of a console log (other lines are ignored; serial
/// noise before a line's prefix is tolerated).
pub fn parse(log: &str) -> Result<Dump, String> {
    let mut dump = Dump::default();
    for (number, line) in log.lines().enumerate() {
        let Some(at) = line.find(DUMP_PREFIX) else {
            continue;
        };
        let words: Vec<&str> = line[at + DUMP_PREFIX.len()..].split_whitespace().collect();
        let bad = || format!("line {}: malformed dump line: {line}", number + 1);
        match words.first().copied() {
            Some("begin") => dump.system = words.get(1).map(|s| s.to_string()),
            Some("cap") => {
                let [_, component, slot, kind, ..] = words[..] else {
                    return Err(bad());
                };
                let slot: u32 = slot.parse().map_err(|_| bad())?;
                let badge = field(&words, "badge=")
                    .and_then(|b| u64::from_str_radix(b.trim_start_matches("0x"), 16).ok())
                    .ok_or_else(bad)?;
                let cap = DumpedCap {
                    kind: kind.to_string(),
                    rights: field(&words, "rights=").ok_or_else(bad)?.to_string(),
                    badge,
                    kernel: field(&words, "kernel=").ok_or_else(bad)?.to_string(),
                };
                if dump
                    .caps
                    .insert((component.to_string(), slot), cap)
                    .is_some()
                {
                    return Err(format!(
                        "line {}: slot {slot} of `{component}` dumped twice",
                        number + 1
                    ));
                }
            }
            Some("slots") => {
                let component = words.get(1).ok_or_else(bad)?;
                let unplanned = field(&words, "unplanned=")
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(bad)?;
                let checked = field(&words, "kernel=") == Some("checked");
                dump.slots
                    .insert(component.to_string(), (unplanned, checked));
            }
            Some("refused") => {
                let component = words.get(1).ok_or_else(bad)?;
                dump.refused.push(component.to_string());
            }
            Some("end") => {
                let caps = field(&words, "caps=").and_then(|n| n.parse().ok());
                let mismatches = field(&words, "mismatches=").and_then(|n| n.parse().ok());
                dump.end = Some((caps.ok_or_else(bad)?, mismatches.ok_or_else(bad)?));
            }
            _ => return Err(bad()),
        }
    }
    if dump.system.is_none() {
        return Err(format!(
            "no runtime dump (`{DUMP_PREFIX} begin ...`) in the log: did the system boot?"
        ));
    }
    if dump.end.is_none() {
        return Err("the runtime dump is cut short (no `end` line)".into());
    }
    Ok(dump)
}

/// Compares a dump with the plan.
pub fn compare(plan: &Plan, dump: &Dump) -> Comparison {
    let mut out = Comparison::default();
    let mut diff = |s: String| out.differences.push(s);
    if dump.system.as_deref() != Some(plan.name.as_str()) {
        diff(format!(
            "the dump is of system `{}`, the plan of `{}`",
            dump.system.as_deref().unwrap_or("?"),
            plan.name
        ));
    }
    for component in &dump.refused {
        diff(format!(
            "`{component}` was refused at boot (a device it drives is missing): none of its caps exist"
        ));
    }
    let mut planned = BTreeMap::new();
    for cap in &plan.caps {
        let component = &plan.components[cap.component].name;
        planned.insert((component.clone(), cap.slot), cap);
    }
    for ((component, slot), cap) in &planned {
        if dump.refused.contains(component) {
            continue;
        }
        let kind = paddock_spec::cap_kind_name(cap.kind as u8);
        let rights =
            String::from_utf8_lossy(&paddock_spec::rights_text(cap.rights.bits())).into_owned();
        match dump.caps.get(&(component.clone(), *slot)) {
            None => diff(format!(
                "`{component}` slot {slot}: the plan has {kind} `{}`, the root task made nothing",
                cap.name
            )),
            Some(d) => {
                out.compared += 1;
                if d.kind != kind {
                    diff(format!(
                        "`{component}` slot {slot} (`{}`): planned {kind}, built {}",
                        cap.name, d.kind
                    ));
                }
                if d.rights != rights {
                    diff(format!(
                        "`{component}` slot {slot} (`{}`): planned rights {rights}, built {}",
                        cap.name, d.rights
                    ));
                }
                if d.badge != cap.badge {
                    diff(format!(
                        "`{component}` slot {slot} (`{}`): planned badge {:#x}, built {:#x}",
                        cap.name, cap.badge, d.badge
                    ));
                }
                match d.kernel.as_str() {
                    "ok" => out.kernel_checked += 1,
                    "unchecked" => {}
                    other => diff(format!(
                        "`{component}` slot {slot} (`{}`): the kernel's view of the cap: {other}",
                        cap.name
                    )),
                }
            }
        }
    }
    for (component, slot) in dump.caps.keys() {
        if !planned.contains_key(&(component.clone(), *slot)) {
            diff(format!(
                "`{component}` slot {slot}: the root task made a cap the plan does not have"
            ));
        }
    }
    for c in plan
        .components
        .iter()
        .filter(|c| !dump.refused.contains(&c.name))
    {
        match dump.slots.get(&c.name) {
            None => diff(format!("`{}`: no slot summary in the dump", c.name)),
            Some((unplanned, _)) if *unplanned > 0 => diff(format!(
                "`{}`: the kernel found {unplanned} occupied slots outside the plan",
                c.name
            )),
            Some(_) => {}
        }
    }
    if let Some((caps, mismatches)) = dump.end {
        if caps as usize != dump.caps.len() {
            diff(format!(
                "the dump announces {caps} caps but lists {}",
                dump.caps.len()
            ));
        }
        if mismatches > 0 {
            diff(format!(
                "the root task counted {mismatches} kernel-side mismatches"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn hello_plan() -> Plan {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../images/hello.toml");
        let d = paddock_caps::load(&path).unwrap();
        paddock_caps::plan::plan(&d)
    }

    /// A dump as the root task prints it for a plan, built from the plan.
    fn faithful_dump(plan: &Plan) -> String {
        let mut out = format!(
            "{DUMP_PREFIX} begin {} {}\n",
            plan.name,
            plan.components.len()
        );
        for cap in &plan.caps {
            out += &format!(
                "{DUMP_PREFIX} cap {} {} {} rights={} badge={:#x} kernel=ok\n",
                plan.components[cap.component].name,
                cap.slot,
                paddock_spec::cap_kind_name(cap.kind as u8),
                String::from_utf8_lossy(&paddock_spec::rights_text(cap.rights.bits())),
                cap.badge
            );
        }
        for c in &plan.components {
            out += &format!(
                "{DUMP_PREFIX} slots {} planned=3 empty=1 unplanned=0 kernel=checked\n",
                c.name
            );
        }
        out + &format!("{DUMP_PREFIX} end caps={} mismatches=0\n", plan.caps.len())
    }

    #[test]
    fn a_faithful_dump_matches() {
        let plan = hello_plan();
        let result = compare(&plan, &parse(&faithful_dump(&plan)).unwrap());
        assert!(result.matches(), "{:?}", result.differences);
        assert_eq!(result.compared, plan.caps.len());
        assert_eq!(result.kernel_checked, plan.caps.len());
    }

    #[test]
    fn every_kind_of_difference_is_named() {
        let plan = hello_plan();
        let good = faithful_dump(&plan);
        let cases = [
            (
                "badge=0x1 kernel=ok\n",
                "badge=0x5 kernel=ok\n",
                "planned badge 0x1, built 0x5",
            ),
            ("rights=r--", "rights=rw-", "planned rights r--, built rw-"),
            (
                "kernel=ok\n",
                "kernel=mismatch\n",
                "the kernel's view of the cap: mismatch",
            ),
            (
                "unplanned=0",
                "unplanned=2",
                "2 occupied slots outside the plan",
            ),
            ("mismatches=0", "mismatches=1", "1 kernel-side mismatches"),
        ];
        for (from, to, expected) in cases {
            let bad = good.replacen(from, to, 1);
            assert_ne!(bad, good, "case `{from}` did not apply");
            let result = compare(&plan, &parse(&bad).unwrap());
            assert!(
                result.differences.iter().any(|d| d.contains(expected)),
                "`{expected}` not among {:?}",
                result.differences
            );
        }
        // A refused component.
        let refused = good.replacen(
            &format!("{DUMP_PREFIX} end"),
            &format!("{DUMP_PREFIX} refused beta\n{DUMP_PREFIX} end"),
            1,
        );
        let result = compare(&plan, &parse(&refused).unwrap());
        assert!(result
            .differences
            .iter()
            .any(|d| d.contains("`beta` was refused at boot")));
        // A missing cap line and an extra one.
        let first_cap = good.lines().find(|l| l.contains(" cap ")).unwrap();
        let missing = good.replacen(&format!("{first_cap}\n"), "", 1);
        let result = compare(&plan, &parse(&missing).unwrap());
        assert!(result
            .differences
            .iter()
            .any(|d| d.contains("the root task made nothing")));
        let extra = good.replacen(
            &format!("{DUMP_PREFIX} end"),
            &format!("{DUMP_PREFIX} cap alpha 9 io-port rights=rwg badge=0x0 kernel=ok\n{DUMP_PREFIX} end"),
            1,
        );
        let result = compare(&plan, &parse(&extra).unwrap());
        assert!(result
            .differences
            .iter()
            .any(|d| d.contains("a cap the plan does not have")));
    }

    #[test]
    fn a_log_without_a_complete_dump_is_an_error() {
        assert!(parse("paddock: system ready\n")
            .unwrap_err()
            .contains("no runtime dump"));
        let cut = format!("{DUMP_PREFIX} begin hello 2\n");
        assert!(parse(&cut).unwrap_err().contains("cut short"));
        let garbled = format!("{DUMP_PREFIX} begin hello 2\n{DUMP_PREFIX} cap alpha\n");
        assert!(parse(&garbled).unwrap_err().contains("malformed"));
    }
}
