//! Reading the runtime dump out of a console log, strictly: every line
//! with the dump prefix must be one of the documented forms (see
//! `rootserver/src/dump.rs`), with exactly the documented fields, or the
//! whole dump is refused naming the line.

use paddock_protocol::DUMP_PREFIX;
use std::collections::BTreeMap;

/// Where a fact comes from: the kernel, or the root task's own record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Observed,
    Recorded,
}

/// One `key=value@source` word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    pub value: String,
    pub source: Source,
}

/// One `cap` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpedCap {
    pub kind: String,
    /// By key: `type`, `rights`, `badge`, and `write`, `ports` where the
    /// kind has them.
    pub facts: BTreeMap<String, Fact>,
    pub line: usize,
}

/// One `map`, `frames` or `iomap` line: the frames behind a mapping or an
/// object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpedFrames {
    pub object: String,
    pub pages: Fact,
    pub paddr: Fact,
    pub digest: Fact,
    pub line: usize,
}

/// One `slots` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpedSlots {
    pub planned: usize,
    pub unplanned: Fact,
}

/// The `end` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct End {
    pub caps: usize,
    pub frames: usize,
    pub mismatches: usize,
}

/// One `msix` line: where a device's MSI-X table and PBA are, and how many
/// pages of the dumped mappings the kernel says are one of theirs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpedMsix {
    pub table: u64,
    pub pba: u64,
    pub mapped: Fact,
    pub line: usize,
}

/// The parsed dump.
#[derive(Debug, Default)]
pub struct Dump {
    pub system: String,
    pub components: usize,
    /// SHA-256 of the spec the root task decoded, lowercase hex.
    pub spec: String,
    /// (component, slot) -> cap.
    pub caps: BTreeMap<(String, u32), DumpedCap>,
    /// (component, vaddr) -> frames.
    pub maps: BTreeMap<(String, u64), DumpedFrames>,
    /// Object index -> its frames, from the root task's original caps.
    pub frames: BTreeMap<usize, DumpedFrames>,
    /// (device, iova) -> frames.
    pub iomaps: BTreeMap<(String, String, u64), DumpedFrames>,
    pub slots: BTreeMap<String, DumpedSlots>,
    /// (component, device) -> where its MSI-X structures are.
    pub msix: BTreeMap<(String, String), DumpedMsix>,
    /// Components the root task refused to build (a device was missing).
    pub refused: Vec<String>,
    pub end: Option<End>,
}

/// The fields one line form has after its positional words: plain
/// `key=value` ones, then `key=value@source` facts (required, optional).
struct Form {
    positional: usize,
    plain: &'static [&'static str],
    required: &'static [&'static str],
    optional: &'static [&'static str],
}

const FRAMES_FACTS: &[&str] = &["pages", "paddr", "digest"];

fn form(tag: &str) -> Option<Form> {
    let form = |positional, plain, required, optional| Form {
        positional,
        plain,
        required,
        optional,
    };
    Some(match tag {
        "begin" => form(2, &["spec"][..], &[][..], &[][..]),
        "cap" => form(3, &[], &["type", "rights", "badge"], &["write", "ports"]),
        "map" => form(3, &[], FRAMES_FACTS, &[]),
        "frames" => form(2, &[], FRAMES_FACTS, &[]),
        "iomap" => form(4, &[], FRAMES_FACTS, &[]),
        "slots" => form(1, &["planned"], &["unplanned"], &[]),
        "refused" => form(1, &[], &[], &[]),
        "msix" => form(2, &["table", "pba"], &["mapped"], &[]),
        "end" => form(0, &["caps", "frames", "mismatches"], &[], &[]),
        _ => return None,
    })
}

/// One line split by its form.
struct Line<'a> {
    positional: Vec<&'a str>,
    plain: BTreeMap<&'a str, &'a str>,
    facts: BTreeMap<String, Fact>,
}

fn split<'a>(form: &Form, words: &[&'a str]) -> Result<Line<'a>, String> {
    if words.len() < form.positional {
        return Err(format!("{} fields expected", form.positional));
    }
    let (positional, rest) = words.split_at(form.positional);
    let mut line = Line {
        positional: positional.to_vec(),
        plain: BTreeMap::new(),
        facts: BTreeMap::new(),
    };
    for word in rest {
        let Some((key, value)) = word.split_once('=') else {
            return Err(format!("`{word}` is not key=value"));
        };
        let duplicate = if form.plain.contains(&key) {
            line.plain.insert(key, value).is_some()
        } else if form.required.contains(&key) || form.optional.contains(&key) {
            let Some((value, source)) = value.rsplit_once('@') else {
                return Err(format!("`{word}` does not say @observed or @recorded"));
            };
            let source = match source {
                "observed" => Source::Observed,
                "recorded" => Source::Recorded,
                other => return Err(format!("unknown source `@{other}`")),
            };
            let fact = Fact {
                value: value.to_string(),
                source,
            };
            line.facts.insert(key.to_string(), fact).is_some()
        } else {
            return Err(format!("unknown field `{key}`"));
        };
        if duplicate {
            return Err(format!("`{key}` given twice"));
        }
    }
    if let Some(missing) = form
        .plain
        .iter()
        .find(|k| !line.plain.contains_key(*k))
        .or_else(|| form.required.iter().find(|k| !line.facts.contains_key(**k)))
    {
        return Err(format!("no `{missing}`"));
    }
    Ok(line)
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("`{text}` is not a number"))
}

/// A `0x`-prefixed hex number.
pub fn hex(text: &str) -> Option<u64> {
    u64::from_str_radix(text.strip_prefix("0x")?, 16).ok()
}

fn address(text: &str) -> Result<u64, String> {
    hex(text).ok_or_else(|| format!("`{text}` is not a 0x-prefixed hex address"))
}

fn frames_of(line: &mut Line, object: &str, number: usize) -> DumpedFrames {
    let mut take = |key: &str| line.facts.remove(key).expect("required facts are present");
    DumpedFrames {
        object: object.to_string(),
        pages: take("pages"),
        paddr: take("paddr"),
        digest: take("digest"),
        line: number,
    }
}

/// Reads the dump out of a console log. Lines without the dump prefix are
/// ignored (serial noise before a line's prefix is tolerated); every line
/// with it must be well-formed and lie between one `begin` and one `end`.
pub fn parse(log: &str) -> Result<Dump, String> {
    let mut dump = Dump::default();
    let mut begun = false;
    for (index, text) in log.lines().enumerate() {
        let number = index + 1;
        let Some(at) = text.find(DUMP_PREFIX) else {
            continue;
        };
        let words: Vec<&str> = text[at + DUMP_PREFIX.len()..].split_whitespace().collect();
        let bad = |why: String| format!("line {number}: malformed dump line ({why}): {text}");
        let tag = words.first().copied().unwrap_or("");
        let form = form(tag).ok_or_else(|| bad(format!("unknown line `{tag}`")))?;
        let mut line = split(&form, &words[1..]).map_err(bad)?;
        if tag == "begin" {
            if begun || dump.end.is_some() {
                return Err(format!(
                    "line {number}: a second runtime dump in one log: {text}"
                ));
            }
            begun = true;
        } else if !begun || dump.end.is_some() {
            return Err(format!(
                "line {number}: dump line outside `begin` ... `end`: {text}"
            ));
        }
        let p = line.positional.clone();
        let twice = |what: String| format!("line {number}: {what} dumped twice: {text}");
        match tag {
            "begin" => {
                dump.system = p[0].to_string();
                dump.components = number_field(p[1]).map_err(bad)?;
                let spec = line.plain["spec"];
                if spec.len() != 64 || !spec.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(bad("`spec` is not a SHA-256 in hex".into()));
                }
                dump.spec = spec.to_ascii_lowercase();
            }
            "cap" => {
                let slot: u32 = number_field(p[1]).map_err(bad)?;
                let cap = DumpedCap {
                    kind: p[2].to_string(),
                    facts: std::mem::take(&mut line.facts),
                    line: number,
                };
                if dump.caps.insert((p[0].to_string(), slot), cap).is_some() {
                    return Err(twice(format!("slot {slot} of `{}`", p[0])));
                }
            }
            "map" => {
                let vaddr = address(p[1]).map_err(bad)?;
                let frames = frames_of(&mut line, p[2], number);
                if dump
                    .maps
                    .insert((p[0].to_string(), vaddr), frames)
                    .is_some()
                {
                    return Err(twice(format!("the mapping of `{}` at {vaddr:#x}", p[0])));
                }
            }
            "frames" => {
                let object: usize = number_field(p[0]).map_err(bad)?;
                let frames = frames_of(&mut line, p[1], number);
                if dump.frames.insert(object, frames).is_some() {
                    return Err(twice(format!("object {object}")));
                }
            }
            "iomap" => {
                let iova = address(p[2]).map_err(bad)?;
                let frames = frames_of(&mut line, p[3], number);
                if dump
                    .iomaps
                    .insert((p[0].to_string(), p[1].to_string(), iova), frames)
                    .is_some()
                {
                    return Err(twice(format!(
                        "the IOSpace mapping of `{}`'s `{}` at {iova:#x}",
                        p[0], p[1]
                    )));
                }
            }
            "slots" => {
                let slots = DumpedSlots {
                    planned: number_field(line.plain["planned"]).map_err(bad)?,
                    unplanned: line.facts.remove("unplanned").expect("required"),
                };
                if dump.slots.insert(p[0].to_string(), slots).is_some() {
                    return Err(twice(format!("the slot summary of `{}`", p[0])));
                }
            }
            "refused" => dump.refused.push(p[0].to_string()),
            "msix" => {
                let msix = DumpedMsix {
                    table: address(line.plain["table"]).map_err(bad)?,
                    pba: address(line.plain["pba"]).map_err(bad)?,
                    mapped: line.facts.remove("mapped").expect("required"),
                    line: number,
                };
                let key = (p[0].to_string(), p[1].to_string());
                if dump.msix.insert(key, msix).is_some() {
                    return Err(twice(format!("the MSI-X of `{}`'s `{}`", p[0], p[1])));
                }
            }
            "end" => {
                dump.end = Some(End {
                    caps: number_field(line.plain["caps"]).map_err(bad)?,
                    frames: number_field(line.plain["frames"]).map_err(bad)?,
                    mismatches: number_field(line.plain["mismatches"]).map_err(bad)?,
                });
            }
            _ => unreachable!("every tag with a form is handled"),
        }
    }
    if !begun {
        return Err(format!(
            "no runtime dump (`{DUMP_PREFIX} begin ...`) in the log: did the system boot?"
        ));
    }
    if dump.end.is_none() {
        return Err("the runtime dump is cut short (no `end` line)".into());
    }
    Ok(dump)
}

fn number_field<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    number(text)
}
