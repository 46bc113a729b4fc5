//! Comparing a parsed dump with the plan: every planned cap, slot summary,
//! shared mapping and IOSpace mapping against what the root task observed
//! or recorded, each difference named with the component and the cap or
//! mapping.

use super::parse::{hex, Dump, DumpedCap, DumpedFrames, Fact, Source};
use paddock_caps::plan::{Cap, CapKind, MapPurpose, ObjectKind, Plan};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What the comparison found.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Planned caps found in the dump.
    pub compared: usize,
    /// Caps whose kernel type was observed to be the planned one.
    pub kernel_checked: usize,
    /// Facts compared, by kind of fact, that the root task observed
    /// through the kernel.
    pub observed: BTreeMap<&'static str, usize>,
    /// Facts compared that the root task only recorded.
    pub recorded: BTreeMap<&'static str, usize>,
    /// Set when the dump is of another spec: nothing else was compared.
    pub other_spec: bool,
    pub differences: Vec<String>,
}

impl Comparison {
    pub fn matches(&self) -> bool {
        self.differences.is_empty()
    }

    pub fn observed_total(&self) -> usize {
        self.observed.values().sum()
    }

    pub fn recorded_total(&self) -> usize {
        self.recorded.values().sum()
    }

    pub(super) fn tally(&mut self, what: &'static str, source: Source) {
        let counts = match source {
            Source::Observed => &mut self.observed,
            Source::Recorded => &mut self.recorded,
        };
        *counts.entry(what).or_default() += 1;
    }

    pub(super) fn diff(&mut self, text: String) {
        self.differences.push(text);
    }
}

/// SHA-256 of the spec a plan encodes to, lowercase hex: what the root
/// task of an image built from the same description prints.
pub fn spec_digest(plan: &Plan) -> String {
    Sha256::digest(paddock_caps::encode::encode(plan))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Mapping purposes whose frames the root task reads back (as
/// `observed_purpose` in `rootserver/src/dump.rs`).
pub fn dumped_purpose(purpose: MapPurpose) -> bool {
    matches!(
        purpose,
        MapPurpose::RingQueues
            | MapPurpose::RingData
            | MapPurpose::Shared
            | MapPurpose::DeviceBar
            | MapPurpose::DeviceMemory
            | MapPurpose::DmaBuffer
    )
}

fn source_word(source: Source) -> &'static str {
    match source {
        Source::Observed => "observed",
        Source::Recorded => "recorded",
    }
}

/// Compares a dump with the plan. A dump of another spec is refused: only
/// that is reported.
pub fn compare(plan: &Plan, dump: &Dump) -> Comparison {
    let mut out = Comparison::default();
    let expected = spec_digest(plan);
    if dump.spec != expected {
        out.other_spec = true;
        out.diff(format!(
            "the dump is of another spec: the root task decoded a spec with SHA-256 {} \
             (system `{}`), this description encodes to {expected} (system `{}`); the log is \
             from another image, or from an image built from another version of the \
             description: rebuild and boot it again",
            dump.spec, dump.system, plan.name
        ));
        return out;
    }
    if dump.system != plan.name || dump.components != plan.components.len() {
        out.diff(format!(
            "the dump is of system `{}` with {} components, the plan of `{}` with {}",
            dump.system,
            dump.components,
            plan.name,
            plan.components.len()
        ));
    }
    for component in &dump.refused {
        out.diff(format!(
            "`{component}` was refused at boot (a device it drives is missing): none of its caps exist"
        ));
    }
    let built = |c: usize| !dump.refused.contains(&plan.components[c].name);
    compare_caps(plan, dump, &mut out, &built);
    compare_slots(plan, dump, &mut out, &built);
    compare_frames(plan, dump, &mut out, &built);
    super::msix::compare_msix(plan, dump, &mut out, &built);
    if let Some(end) = dump.end {
        if end.caps != dump.caps.len() {
            out.diff(format!(
                "the dump announces {} caps but lists {}",
                end.caps,
                dump.caps.len()
            ));
        }
        let listed = dump.maps.len() + dump.iomaps.len();
        if end.frames != listed {
            out.diff(format!(
                "the dump announces {} mappings but lists {listed}",
                end.frames
            ));
        }
        if end.mismatches > 0 {
            out.diff(format!(
                "the root task counted {} kernel-side mismatches",
                end.mismatches
            ));
        }
    }
    out
}

fn compare_caps(plan: &Plan, dump: &Dump, out: &mut Comparison, built: &dyn Fn(usize) -> bool) {
    let mut planned = BTreeMap::new();
    for cap in &plan.caps {
        planned.insert((plan.components[cap.component].name.clone(), cap.slot), cap);
    }
    for ((component, slot), cap) in &planned {
        if !built(cap.component) {
            continue;
        }
        let kind = paddock_spec::cap_kind_name(cap.kind as u8);
        match dump.caps.get(&(component.clone(), *slot)) {
            None => out.diff(format!(
                "`{component}` slot {slot}: the plan has {kind} `{}`, the root task made nothing",
                cap.name
            )),
            Some(d) => {
                out.compared += 1;
                let at = format!(
                    "`{component}` slot {slot} (`{}`, line {})",
                    cap.name, d.line
                );
                if d.kind != kind {
                    out.diff(format!("{at}: planned {kind}, built {}", d.kind));
                }
                compare_cap(cap, kind, d, &at, out);
            }
        }
    }
    for ((component, slot), d) in &dump.caps {
        if !planned.contains_key(&(component.clone(), *slot)) {
            out.diff(format!(
                "`{component}` slot {slot} (line {}): the root task made a cap the plan does not have",
                d.line
            ));
        }
    }
}

/// The facts of one cap line against its planned cap.
fn compare_cap(cap: &Cap, kind: &str, d: &DumpedCap, at: &str, out: &mut Comparison) {
    let notification = matches!(cap.kind, CapKind::Notification | CapKind::NotificationSend);
    let expected: &[&str] = match cap.kind {
        CapKind::IoPort => &["type", "rights", "badge", "ports"],
        _ if notification => &["type", "rights", "badge", "write"],
        _ => &["type", "rights", "badge"],
    };
    for key in d.facts.keys() {
        if !expected.contains(&key.as_str()) {
            out.diff(format!("{at}: `{key}` is not a fact of a {kind} cap"));
        }
    }
    // A cap that was never made has nothing to observe.
    let absent = d.facts.get("type").is_some_and(|t| t.value == "absent");
    let optional = |key: &str| absent && matches!(key, "write" | "ports");
    for key in expected {
        if !d.facts.contains_key(*key) && !optional(key) {
            out.diff(format!("{at}: the dump has no `{key}` for it"));
        }
    }
    if let Some(t) = d.facts.get("type") {
        out.tally("type", t.source);
        if t.value != kind {
            let what = match t.value.as_str() {
                "absent" => "the root task never made it".to_string(),
                "empty" => "the kernel finds the slot empty".to_string(),
                "other" => "the kernel holds a cap of another type there".to_string(),
                other => format!("it is a {other}"),
            };
            out.diff(format!("{at}: {what} ({})", source_word(t.source)));
        } else if t.source == Source::Observed {
            out.kernel_checked += 1;
        }
    }
    if let Some(r) = d.facts.get("rights") {
        out.tally("rights", r.source);
        let rights =
            String::from_utf8_lossy(&paddock_spec::rights_text(cap.rights.bits())).into_owned();
        if r.value != rights {
            out.diff(format!(
                "{at}: planned rights {rights}, {} {}",
                source_word(r.source),
                r.value
            ));
        }
    }
    if let Some(b) = d.facts.get("badge") {
        out.tally("badge", b.source);
        compare_badge(cap, b, at, out);
    }
    if let Some(w) = d.facts.get("write") {
        out.tally("write", w.source);
        let arrived = w.value == "ok";
        if arrived != cap.rights.write || !matches!(w.value.as_str(), "ok" | "refused") {
            let seen = if arrived {
                "arrives"
            } else {
                "does not arrive"
            };
            let planned = if cap.rights.write {
                "the plan gives it the write right"
            } else {
                "the plan gives it no write right"
            };
            out.diff(format!(
                "{at}: a signal through it {seen} ({}), {planned}",
                source_word(w.source)
            ));
        }
    }
    if let Some(p) = d.facts.get("ports") {
        out.tally("ports", p.source);
        compare_ports(cap.badge, p, at, out);
    }
}

fn compare_badge(cap: &Cap, b: &Fact, at: &str, out: &mut Comparison) {
    let planned = cap.badge;
    match (b.value.as_str(), b.source) {
        ("none", Source::Observed) => {
            if cap.kind == CapKind::NotificationSend {
                out.diff(format!(
                    "{at}: a signal through it never arrives (observed), the plan has badge {planned:#x}"
                ));
            }
        }
        (value, source) => match hex(value) {
            Some(v) if v == planned => {}
            Some(v) if source == Source::Observed => out.diff(format!(
                "{at}: a signal through it arrives with badge {v:#x} (observed), the plan has {planned:#x}"
            )),
            Some(v) => out.diff(format!(
                "{at}: planned badge {planned:#x}, recorded {v:#x}"
            )),
            None => out.diff(format!("{at}: unreadable badge `{value}`")),
        },
    }
}

/// The IO port probes of a cap (`port:outcome,...`) against its planned
/// range (`first << 16 | last`).
fn compare_ports(range: u64, p: &Fact, at: &str, out: &mut Comparison) {
    let (first, last) = ((range >> 16) & 0xffff, range & 0xffff);
    let planned = format!("{first:#x}..={last:#x}");
    if p.value == "absent" {
        out.diff(format!(
            "{at}: the root task found no cap to read ports through (observed)"
        ));
        return;
    }
    let mut probes = BTreeMap::new();
    for probe in p.value.split(',') {
        let parsed = probe
            .split_once(':')
            .and_then(|(port, outcome)| Some((hex(port)?, outcome)));
        match parsed {
            Some((port, outcome)) => {
                probes.insert(port, outcome);
            }
            None => out.diff(format!("{at}: unreadable port probe `{probe}`")),
        }
    }
    let mut wanted = vec![first, last];
    if first > 0 {
        wanted.push(first - 1);
    }
    if last < 0xffff {
        wanted.push(last + 1);
    }
    for port in wanted {
        if !probes.contains_key(&port) {
            out.diff(format!("{at}: port {port:#x} was not probed"));
        }
    }
    for (port, outcome) in probes {
        let inside = (first..=last).contains(&port);
        match (inside, outcome) {
            (true, "ok") | (false, "refused") => {}
            (false, "ok") => out.diff(format!(
                "{at}: the kernel accepts port {port:#x} through it (observed), outside the planned range {planned}: the cap is wider than planned"
            )),
            (true, "refused") => out.diff(format!(
                "{at}: the kernel refuses port {port:#x} through it (observed), inside the planned range {planned}: the cap is narrower than planned"
            )),
            (_, other) => out.diff(format!(
                "{at}: reading port {port:#x} through it failed: {other} (observed)"
            )),
        }
    }
}

fn compare_slots(plan: &Plan, dump: &Dump, out: &mut Comparison, built: &dyn Fn(usize) -> bool) {
    for (ci, c) in plan.components.iter().enumerate() {
        if !built(ci) {
            continue;
        }
        let Some(slots) = dump.slots.get(&c.name) else {
            out.diff(format!("`{}`: no slot summary in the dump", c.name));
            continue;
        };
        out.tally("empty slots", slots.unplanned.source);
        let planned = plan.caps_of(ci).count();
        if slots.planned != planned {
            out.diff(format!(
                "`{}`: the root task placed {} caps, the plan has {planned}",
                c.name, slots.planned
            ));
        }
        match slots.unplanned.value.parse::<u32>() {
            Ok(0) => {}
            Ok(n) => out.diff(format!(
                "`{}`: the kernel found {n} occupied slots outside the plan ({})",
                c.name,
                source_word(slots.unplanned.source)
            )),
            Err(_) => out.diff(format!(
                "`{}`: unreadable count of unplanned slots `{}`",
                c.name, slots.unplanned.value
            )),
        }
    }
    for component in dump.slots.keys() {
        if !plan.components.iter().any(|c| &c.name == component) {
            out.diff(format!(
                "`{component}`: a slot summary of no planned component"
            ));
        }
    }
}

/// `what` (a mapping) against the frames of its object.
fn same_frames(what: &str, mapped: &DumpedFrames, object: &DumpedFrames, out: &mut Comparison) {
    out.tally("pages", mapped.pages.source);
    out.tally("frames", mapped.paddr.source);
    if mapped.pages.value != object.pages.value {
        out.diff(format!(
            "{what} (line {}): {} pages mapped, the object has {}",
            mapped.line, mapped.pages.value, object.pages.value
        ));
    }
    if mapped.paddr.value != object.paddr.value {
        out.diff(format!(
            "{what} (line {}): its first page is the frame at {} ({}), the object's first frame is at {} (line {})",
            mapped.line,
            mapped.paddr.value,
            source_word(mapped.paddr.source),
            object.paddr.value,
            object.line
        ));
    } else if mapped.digest.value != object.digest.value {
        out.diff(format!(
            "{what} (line {}): its pages are not the object's frames (digest {} ({}), the object's {})",
            mapped.line,
            mapped.digest.value,
            source_word(mapped.digest.source),
            object.digest.value
        ));
    }
}

fn compare_frames(plan: &Plan, dump: &Dump, out: &mut Comparison, built: &dyn Fn(usize) -> bool) {
    let mut expected_maps = BTreeMap::new();
    for m in &plan.mappings {
        if !built(m.component) || !dumped_purpose(m.purpose) {
            continue;
        }
        let component = &plan.components[m.component].name;
        expected_maps.insert((component.clone(), m.vaddr), m);
        let what = format!("`{component}` maps `{}` at {:#x}", m.name, m.vaddr);
        let Some(mapped) = dump.maps.get(&(component.clone(), m.vaddr)) else {
            out.diff(format!("{what}: the dump does not show it"));
            continue;
        };
        match dump.frames.get(&m.object) {
            Some(object) => same_frames(&what, mapped, object, out),
            None => out.diff(format!(
                "{what}: the dump has no frames of its object `{}`",
                plan.objects[m.object].name
            )),
        }
    }
    for ((component, vaddr), mapped) in &dump.maps {
        if !expected_maps.contains_key(&(component.clone(), *vaddr)) {
            out.diff(format!(
                "`{component}` (line {}): a mapping at {vaddr:#x} the plan does not have",
                mapped.line
            ));
        }
    }
    let mut expected_io = BTreeMap::new();
    for m in &plan.io_mappings {
        if !built(plan.pci[m.pci].owner) {
            continue;
        }
        let device = &plan.pci[m.pci].name;
        let owner = &plan.components[plan.pci[m.pci].owner].name;
        let key = (owner.clone(), device.clone(), m.iova);
        let what = format!(
            "`{owner}`'s `{device}` sees `{}` at IOVA {:#x}",
            m.name, m.iova
        );
        expected_io.insert(key.clone(), m);
        let Some(mapped) = dump.iomaps.get(&key) else {
            out.diff(format!("{what}: the dump does not show it"));
            continue;
        };
        match dump.frames.get(&m.object) {
            Some(object) => same_frames(&what, mapped, object, out),
            None => out.diff(format!(
                "{what}: the dump has no frames of its object `{}`",
                plan.objects[m.object].name
            )),
        }
    }
    for (key @ (owner, device, iova), mapped) in &dump.iomaps {
        if !expected_io.contains_key(key) {
            out.diff(format!(
                "`{owner}`'s `{device}` (line {}): an IOSpace mapping at {iova:#x} the plan does not have",
                mapped.line
            ));
        }
    }
    // The objects' own frames: named as planned, and no two objects on
    // the same frame.
    let mut owners: BTreeMap<&str, usize> = BTreeMap::new();
    for (&index, frames) in &dump.frames {
        match plan.objects.get(index) {
            Some(o) if o.name == frames.object => {}
            _ => out.diff(format!(
                "line {}: object {index} is not `{}` in the plan",
                frames.line, frames.object
            )),
        }
        // Device memory declared by address must be exactly there.
        if let Some(o) = plan
            .objects
            .get(index)
            .filter(|o| o.kind == ObjectKind::PlatformFrames)
        {
            out.tally("device addresses", frames.paddr.source);
            if hex(&frames.paddr.value) != Some(o.base) {
                out.diff(format!(
                    "line {}: device memory `{}` is the frame at {} ({}), declared at {:#x}",
                    frames.line,
                    o.name,
                    frames.paddr.value,
                    source_word(frames.paddr.source),
                    o.base
                ));
            }
        }
        if hex(&frames.paddr.value).is_none_or(|p| p == 0) {
            continue;
        }
        if let Some(other) = owners.insert(&frames.paddr.value, index) {
            out.diff(format!(
                "objects `{}` and `{}` start on the same frame {} (observed)",
                dump.frames[&other].object, frames.object, frames.paddr.value
            ));
        }
    }
}
