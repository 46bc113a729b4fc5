//! The runtime dump: what the root task built, printed in a framed,
//! line-based form that `paddock audit --runtime` compares with the plan.
//!
//! Every fact is a `key=value@source` word. `@observed` means the root task
//! asked the kernel (through its view of the component's CSpace, see
//! [`Views`], or through the caps it mapped frames with), so the value is
//! what the kernel holds, whatever the root task meant to build;
//! `@recorded` means the value is the one the root task minted from the
//! spec and the kernel offers no way to read it back.
//!
//! ```text
//! paddock-dump: begin <system> <components> spec=<sha256 of the spec bytes, hex>
//! paddock-dump: cap <component> <slot> <kind> type=<t>@<src> rights=<rwg>@recorded badge=<b>@<src> [write=<ok|refused>@observed] [ports=<probes>@observed]
//! paddock-dump: map <component> <vaddr> <object> pages=<n>@recorded paddr=<hex>@observed digest=<hex>@observed
//! paddock-dump: slots <component> planned=<n> unplanned=<n>@<src>
//! paddock-dump: refused <component>
//! paddock-dump: frames <object index> <object> pages=<n>@recorded paddr=<hex>@observed digest=<hex>@observed
//! paddock-dump: iomap <component> <device> <iova> <object> pages=<n>@recorded paddr=<hex>@observed digest=<hex>@observed
//! paddock-dump: msix <component> <device> table=<hex> pba=<hex> mapped=<n>@observed
//! paddock-dump: end caps=<n> frames=<n> mismatches=<n>
//! ```
//!
//! * `type`: observed on debug kernels (`seL4_DebugCapIdentify`): the kind
//!   when the slot holds a cap of the same kernel type as the root task's
//!   cap it was derived from, `empty` or `other` otherwise. Recorded (the
//!   kind) on release kernels, and `absent` when the cap's object belongs
//!   to a refused component and was never made.
//! * `write` (notification caps): the root task signals through the
//!   component's own cap and polls the notification with its original cap
//!   (no component runs yet, so nothing else signals it): `ok` when the
//!   signal arrived.
//! * `badge`: observed for a notification cap whose signal arrived (the
//!   badge it carried; `none` for a send cap whose signal did not arrive),
//!   recorded otherwise (fault and channel endpoints, IRQ handlers, IO
//!   ports: no invocation reveals it).
//! * `ports` (IO port caps): `port:outcome` for the port below the planned
//!   range, its first and last ports and the port above (the outside ones
//!   only within 0..=0xFFFF), each read once with `In8` through the
//!   component's cap: `ok`, `refused` (IllegalOperation), or the error.
//! * `map` (one per ring, shared-region, BAR, device-memory or DMA-buffer
//!   mapping),
//!   `frames` (one per such object, from the root task's original caps) and
//!   `iomap` (one per IOSpace mapping): the physical address of the first
//!   page and the first 8 bytes of SHA-256 over every page's physical
//!   address (8 bytes little-endian each), from `X86PageGetAddress` on the
//!   cap each page was mapped through. Every party of a shared object must
//!   show the object's frames.
//! * `msix` (one per device whose MSI-X table the root task programmed):
//!   where its table and pending-bit array are (from its capability), and
//!   how many pages of the `map` mappings `X86PageGetAddress` puts on a
//!   table or PBA page (unreadable ones count): the rule is 0.
//! * `slots`: on debug kernels, every slot the plan leaves empty is
//!   checked to be empty (`unplanned=<n>@observed`); release kernels
//!   cannot look (`unplanned=0@recorded`).
//!
//! A cap whose object belongs to a refused component (a driver whose device
//! is missing) is not made; its line says `type=absent@recorded`. Whether
//! an observed value is the planned one is the host audit's to judge (the
//! root task prints what it saw, not a verdict); the root task itself only
//! counts kernel type mismatches and unplanned caps (`mismatches=`), and
//! stops the boot when there are any.

use crate::observe::{self, Hex, PortOutcome, Prober};
use crate::system::{copy_slots, System};
use crate::views::Views;
use core::fmt;
use paddock_protocol::DUMP_PREFIX;
use paddock_spec::{CapKind, CapRecord, MapPurpose};
use sel4::{CPtr, Word};

/// The kernel's type tag of what `cptr` names (0 when empty), or `None` on
/// a release kernel.
fn kernel_type(cptr: CPtr) -> Option<u64> {
    sel4::debug::cap_identify(cptr).ok()
}

/// The root task's cap that a component's cap was made from, to compare
/// kernel types with.
fn source_of(system: &System, cap: &CapRecord) -> Option<CPtr> {
    match CapKind::from_u8(cap.kind)? {
        CapKind::IoPort => Some(sel4::bootinfo::init_cap::IOPort),
        CapKind::IrqHandler => system.irq_handlers.get(cap.object.get() as usize).copied(),
        _ => system
            .objects
            .get(cap.object.get() as usize)
            .map(|o| o.first),
    }
}

/// Where a fact comes from.
#[derive(Clone, Copy)]
enum Source {
    Observed,
    Recorded,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Observed => "observed",
            Source::Recorded => "recorded",
        })
    }
}

/// A badge value, or `none` when no signal arrived.
struct Badge(Option<Word>);

impl fmt::Display for Badge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(b) => write!(f, "{b:#x}"),
            None => f.write_str("none"),
        }
    }
}

/// The IO port probes of one cap.
struct Ports(heapless::Vec<(u16, PortOutcome), 4>);

impl fmt::Display for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("absent");
        }
        for (i, (port, outcome)) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            write!(f, "{sep}{port:#x}:{}", outcome.word())?;
        }
        Ok(())
    }
}

/// Everything one cap line says.
struct CapFacts {
    kind: &'static str,
    ty: (&'static str, Source),
    badge: (Badge, Source),
    write: Option<bool>,
    ports: Option<Ports>,
}

/// The physical frames of one mapping, or why they could not be read.
struct FramesFact(Result<observe::Frames, sel4::Error>);

impl fmt::Display for FramesFact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Ok(frames) => write!(
                f,
                "pages={}@recorded paddr={:#x}@observed digest={}@observed",
                frames.pages,
                frames.first,
                Hex(&frames.digest)
            ),
            Err(e) => write!(
                f,
                "pages=0@recorded paddr={}@observed digest=-@observed",
                e.name()
            ),
        }
    }
}

/// Mapping purposes whose frames the dump reads back: everything that is
/// shared or device memory (a component's private IPC buffer, stack and
/// heap are not).
fn observed_purpose(purpose: u8) -> bool {
    matches!(
        MapPurpose::from_u8(purpose),
        Some(
            MapPurpose::RingQueues
                | MapPurpose::RingData
                | MapPurpose::Shared
                | MapPurpose::DeviceBar
                | MapPurpose::DeviceMemory
                | MapPurpose::DmaBuffer
        )
    )
}

/// Why the dump could not be made.
#[derive(Debug)]
pub struct DumpError {
    pub component: usize,
    pub error: sel4::Error,
}

/// How many slots of component `ci`'s CSpace (seen through `view`, its
/// slot 0) hold a cap the plan does not put there, as the kernel
/// identifies them; `None` on release kernels, which cannot look.
pub fn unplanned(system: &System, view: CPtr, ci: usize) -> Option<u32> {
    if !sel4::debug::AVAILABLE {
        return None;
    }
    let c = &system.spec.components[ci];
    let caps = system.spec.caps_of(c);
    let mut unplanned = 0u32;
    for index in 0..(1u64 << c.cnode_bits) {
        if caps.iter().any(|cap| u64::from(cap.slot.get()) == index) {
            continue;
        }
        if !matches!(kernel_type(view | index), Some(0) | None) {
            unplanned += 1;
        }
    }
    Some(unplanned)
}

/// Prints the dump; returns the number of mismatches the kernel check
/// found (kernel types and unplanned caps; always 0 on release kernels,
/// which cannot check). `spare` is an empty root CNode slot.
pub fn print(
    system: &System,
    views: &Views,
    spare: CPtr,
    spec_digest: &[u8; 32],
) -> Result<u32, DumpError> {
    let spec = &system.spec;
    let prober = Prober::new(views.top(), spare);
    println!(
        "{DUMP_PREFIX} begin {} {} spec={}",
        spec.system_name(),
        spec.components.len(),
        Hex(spec_digest)
    );
    let (mut total, mut mapped, mut mismatches) = (0u32, 0u32, 0u32);
    for (ci, c) in spec.components.iter().enumerate() {
        let name = spec.str(c.name);
        if system.running[ci].refused {
            println!("{DUMP_PREFIX} refused {name}");
            continue;
        }
        let cnode = system.objects[c.cnode.get() as usize].first;
        let view = views
            .open(ci, cnode, c.cnode_bits)
            .map_err(|error| DumpError {
                component: ci,
                error,
            })?;
        let caps = spec.caps_of(c);
        for cap in caps {
            let facts = cap_facts(system, &prober, view | u64::from(cap.slot.get()), cap);
            if matches!(facts.ty, ("empty" | "other", Source::Observed)) {
                mismatches += 1;
            }
            print_cap(name, cap, &facts);
            total += 1;
        }
        let first = c.mappings.first.get() as usize;
        let mut copy = copy_slots(system, false, first);
        for m in spec.mappings_of(c) {
            let first_copy = copy;
            copy += u64::from(m.pages.get());
            if !observed_purpose(m.purpose) {
                continue;
            }
            let object = m.object.get() as usize;
            let pages = m.pages.get().min(system.objects[object].count);
            println!(
                "{DUMP_PREFIX} map {name} {:#x} {} {}",
                m.vaddr.get(),
                spec.str(spec.objects[object].name),
                FramesFact(observe::frames(first_copy, pages))
            );
            mapped += 1;
        }
        // Every other slot must be empty.
        let unplanned = unplanned(system, view, ci).unwrap_or(0);
        mismatches += unplanned;
        let source = if sel4::debug::AVAILABLE {
            Source::Observed
        } else {
            Source::Recorded
        };
        println!(
            "{DUMP_PREFIX} slots {name} planned={} unplanned={unplanned}@{source}",
            caps.len(),
        );
    }
    print_frames(system);
    mapped += print_io_mappings(system);
    crate::system::msix::print_facts(system, DUMP_PREFIX, |i| dumped_mapping(system, i));
    println!("{DUMP_PREFIX} end caps={total} frames={mapped} mismatches={mismatches}");
    Ok(mismatches)
}

fn print_cap(component: &str, cap: &CapRecord, facts: &CapFacts) {
    let rights = paddock_spec::rights_text(cap.rights);
    let write = match facts.write {
        Some(true) => " write=ok@observed",
        Some(false) => " write=refused@observed",
        None => "",
    };
    let (ty, ty_source) = facts.ty;
    let (badge, badge_source) = &facts.badge;
    match &facts.ports {
        Some(ports) => println!(
            "{DUMP_PREFIX} cap {component} {} {} type={ty}@{ty_source} rights={}@recorded badge={badge}@{badge_source}{write} ports={ports}@observed",
            cap.slot.get(),
            facts.kind,
            core::str::from_utf8(&rights).unwrap_or("???"),
        ),
        None => println!(
            "{DUMP_PREFIX} cap {component} {} {} type={ty}@{ty_source} rights={}@recorded badge={badge}@{badge_source}{write}",
            cap.slot.get(),
            facts.kind,
            core::str::from_utf8(&rights).unwrap_or("???"),
        ),
    }
}

/// Observes one planned cap in the component slot `at` (a view CPtr).
fn cap_facts(system: &System, prober: &Prober, at: CPtr, cap: &CapRecord) -> CapFacts {
    let kind = paddock_spec::cap_kind_name(cap.kind);
    let source = source_of(system, cap);
    let recorded_badge = (Badge(Some(cap.badge.get())), Source::Recorded);
    let mut facts = CapFacts {
        kind,
        ty: (kind, Source::Recorded),
        badge: recorded_badge,
        write: None,
        ports: None,
    };
    if source == Some(0) {
        // Its object belongs to a refused component: never made.
        facts.ty = ("absent", Source::Recorded);
        return facts;
    }
    let expected = source.and_then(kernel_type);
    if let (Some(found), Some(expected)) = (kernel_type(at), expected) {
        facts.ty = match found {
            0 => ("empty", Source::Observed),
            t if t == expected => (kind, Source::Observed),
            _ => ("other", Source::Observed),
        };
    }
    match CapKind::from_u8(cap.kind) {
        Some(kind @ (CapKind::Notification | CapKind::NotificationSend)) => {
            let object = cap.object.get();
            let target = system.objects[object as usize].first;
            let irq_bits = system
                .spec
                .irqs
                .iter()
                .filter(|irq| irq.notification.get() == object)
                .fold(0, |bits, irq| bits | irq.badge.get());
            let arrived = prober.signal(at, target, irq_bits);
            facts.write = Some(arrived.is_some());
            if arrived.is_some() || kind == CapKind::NotificationSend {
                facts.badge = (Badge(arrived), Source::Observed);
            }
        }
        Some(CapKind::IoPort) => facts.ports = Some(port_probes(prober, at, cap.badge.get())),
        _ => {}
    }
    facts
}

/// Reads the ports at the edges of the planned range `first << 16 | last`
/// through the component's cap.
fn port_probes(prober: &Prober, at: CPtr, range: Word) -> Ports {
    let mut probes = heapless::Vec::new();
    if !prober.present(at) {
        return Ports(probes);
    }
    let (first, last) = ((range >> 16) as u16, range as u16);
    let ports = [
        first.checked_sub(1),
        Some(first),
        (last != first).then_some(last),
        last.checked_add(1),
    ];
    for port in ports.into_iter().flatten() {
        // Cannot overflow: at most four ports.
        let _ = probes.push((port, prober.port(at, port)));
    }
    Ports(probes)
}

/// Whether mapping `index` is one the dump reads back (of a component
/// that was built).
fn dumped_mapping(system: &System, index: usize) -> bool {
    let m = &system.spec.mappings[index];
    observed_purpose(m.purpose)
        && system
            .running
            .get(m.component.get() as usize)
            .is_some_and(|r| !r.refused)
}

/// One `frames` line per object that a dumped mapping or an IOSpace
/// mapping shows, from the root task's original caps.
fn print_frames(system: &System) {
    let spec = &system.spec;
    let mapped = (0..spec.mappings.len())
        .filter(|&i| dumped_mapping(system, i))
        .map(|i| spec.mappings[i].object.get());
    let io_mapped = spec
        .io_mappings
        .iter()
        .filter(|m| io_mapped(system, m))
        .map(|m| m.object.get());
    let objects = mapped.chain(io_mapped);
    for (i, object) in objects.clone().enumerate() {
        if objects.clone().take(i).any(|earlier| earlier == object) {
            continue;
        }
        let caps = system.objects[object as usize];
        println!(
            "{DUMP_PREFIX} frames {object} {} {}",
            spec.str(spec.objects[object as usize].name),
            FramesFact(observe::frames(caps.first, caps.count))
        );
    }
}

/// Whether an IOSpace mapping was made: its device was found and has an
/// IOSpace.
fn io_mapped(system: &System, m: &paddock_spec::IoMappingRecord) -> bool {
    system
        .iospaces
        .get(m.pci.get() as usize)
        .is_some_and(|&iospace| iospace != 0)
}

/// One `iomap` line per IOSpace mapping that was made; returns how many.
fn print_io_mappings(system: &System) -> u32 {
    let spec = &system.spec;
    let mut count = 0;
    for (index, m) in spec.io_mappings.iter().enumerate() {
        let device = m.pci.get() as usize;
        if !io_mapped(system, m) {
            continue;
        }
        let object = m.object.get() as usize;
        let pages = m.pages.get().min(system.objects[object].count);
        // Device names are the driver's own: two drivers may both call
        // theirs `edu`, so the owner is part of the key.
        let owner = spec.pci[device].owner.get() as usize;
        println!(
            "{DUMP_PREFIX} iomap {} {} {:#x} {} {}",
            spec.components.get(owner).map_or("?", |c| spec.str(c.name)),
            spec.str(spec.pci[device].name),
            m.iova.get(),
            spec.str(spec.objects[object].name),
            FramesFact(observe::frames(copy_slots(system, true, index), pages))
        );
        count += 1;
    }
    count
}
