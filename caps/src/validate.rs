//! Whole-system validation, run after parsing.
//!
//! Each check names both sides of a conflict (the second occurrence is the
//! error, the first is labelled "first ... here") and says what to change.
//! Limits that the planner relies on are defined here, once.

use crate::description::*;
use crate::diagnostics::{nearest, Error};
use std::collections::BTreeMap;

/// The root task's priority; every component must be below it.
pub const ROOTSERVER_PRIORITY: i64 = 255;
/// The kernel's IRQ vectors usable by user level on x86_64 (`vector` of
/// `IRQControl_GetIOAPIC`/`GetMSI`).
pub const MAX_IRQ_VECTOR: i64 = 107;
/// One IOAPIC with 24 pins (`CONFIG_MAX_NUM_IOAPIC 1`).
pub const MAX_IOAPIC_PIN: i64 = 23;
pub const MAX_IO_PORT: i64 = 0xFFFF;
/// A badge in seL4 5.0 is the 28-bit `Badge` field of `seL4_CapData_t`
/// (`types_64.bf`); the top one, bit 27, is kept for the root task.
pub const BADGE_BITS: u32 = 27;
pub const PAGE_SIZE: u64 = 4096;
pub const MIN_STACK: u64 = PAGE_SIZE;
pub const MAX_STACK: u64 = 8 << 20;
pub const MAX_HEAP: u64 = 256 << 20;
pub const MIN_RING_SLOTS: u64 = 2;
pub const MAX_RING_SLOTS: u64 = 1 << 15;
pub const MAX_RING_DATA: u64 = 64 << 20;
pub const MAX_SHARED: u64 = 256 << 20;
pub const MAX_DMA: u64 = 256 << 20;
pub const MAX_BAR: u64 = 256 << 20;
/// IOVAs must fit a 3-level VT-d table (39 bits).
pub const IOVA_LIMIT: u64 = 1 << 39;
pub const MIN_CNODE_BITS: i64 = 4;
pub const MAX_CNODE_BITS: i64 = 20;
pub const MIN_MEMORY_MIB: u32 = 64;
pub const MAX_MEMORY_MIB: u32 = 3072;
/// CSpace slots every component has before its own caps: null, the fault
/// endpoint and its notification.
pub const FIXED_SLOTS: u64 = 3;

/// Every error in the description.
pub fn validate(d: &Description) -> Vec<Error> {
    let mut v = Validator {
        d,
        errors: vec![],
        names: d.components.iter().map(|c| c.name()).collect(),
    };
    v.system();
    v.names();
    v.components();
    v.io_ports();
    v.irqs();
    v.pci();
    v.connections();
    v.badges_and_cnodes();
    v.errors
}

struct Validator<'a> {
    d: &'a Description,
    errors: Vec<Error>,
    /// Component names, looked up once per reference.
    names: std::collections::HashSet<&'a str>,
}

fn s(x: &Spanned<String>) -> &str {
    x.get_ref()
}

/// A span to point at: the value's own when it was written, else `fallback`.
fn or(span: Span, fallback: Span) -> Span {
    if span.is_empty() {
        fallback
    } else {
        span
    }
}

fn size_text(n: u64) -> String {
    if n >= 1 << 20 && n & ((1 << 20) - 1) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n & ((1 << 10) - 1) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

impl Validator<'_> {
    fn push(&mut self, e: Error) {
        self.errors.push(e);
    }

    fn system(&mut self) {
        let sys = &self.d.system;
        let sp = &sys.spans;
        self.name("system name", &sys.name, sp.name.clone());
        if !(MIN_MEMORY_MIB..=MAX_MEMORY_MIB).contains(&sys.memory_mib) {
            self.push(
                Error::new(format!(
                    "memory_mib {} is outside {MIN_MEMORY_MIB}..={MAX_MEMORY_MIB}",
                    sys.memory_mib
                ))
                .at(sp.memory_mib.clone(), "guest memory")
                .help(format!(
                    "give between {MIN_MEMORY_MIB} and {MAX_MEMORY_MIB} MiB"
                )),
            );
        }
        if sys.iommu && sys.qemu_machine != Machine::Q35 {
            let e = Error::new("iommu = true needs qemu_machine = \"q35\"");
            let e = if sp.qemu_machine.is_empty() {
                e.at(sp.iommu.clone(), "the IOMMU is enabled here")
                    .help("add `qemu_machine = \"q35\"`: QEMU offers `intel-iommu` only on q35")
            } else {
                e.at(sp.qemu_machine.clone(), "not q35")
                    .also(sp.iommu.clone(), "the IOMMU is enabled here")
                    .help("QEMU offers `intel-iommu` only on the q35 machine")
            };
            self.push(e);
        }
        if sys.iommu && !sys.qemu_devices.iter().any(|d| d == "intel-iommu") {
            self.push(
                Error::new("iommu = true needs the `intel-iommu` QEMU device")
                    .at(sp.iommu.clone(), "the IOMMU is enabled here")
                    .help("add `qemu_devices = [\"intel-iommu\"]` to [system]"),
            );
        }
    }

    /// Names are identifiers, so they can be used in generated code and file
    /// names: lower-case ASCII letters, digits, `-` and `_`, letter first.
    fn name(&mut self, what: &str, name: &str, span: Span) {
        let ok = name.len() <= 64
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !ok {
            self.push(
                Error::new(format!("invalid {what} `{name}`"))
                    .at(span, "not a valid name")
                    .help("use at most 64 lower-case letters, digits, `-` or `_`, starting with a letter"),
            );
        }
    }

    fn names(&mut self) {
        let d = self.d;
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for c in &d.components {
            self.name("component name", c.name(), c.name.span());
            for key in c.params.keys() {
                self.name("parameter name", key.get_ref(), key.span());
            }
            if let Some(first) = seen.insert(c.name(), c.name.span()) {
                self.push(
                    Error::new(format!("duplicate component name `{}`", c.name()))
                        .at(c.name.span(), "declared again here")
                        .also(first, "first declared here")
                        .help("give each component its own name"),
                );
            }
            // A component's device resources share one namespace: each
            // becomes a name in the component's generated cap table.
            let mut local: BTreeMap<&str, Span> = BTreeMap::new();
            let mut names: Vec<(&str, &Spanned<String>)> = vec![];
            names.extend(c.io_ports.iter().map(|p| ("IO port range", &p.name)));
            names.extend(c.irqs.iter().map(|i| ("IRQ", &i.name)));
            for p in &c.pci_devices {
                names.push(("PCI device", &p.name));
                names.extend(p.dma.iter().map(|w| ("DMA window", &w.name)));
            }
            for (what, n) in names {
                self.name(&format!("{what} name"), s(n), n.span());
                if let Some(first) = local.insert(s(n), n.span()) {
                    self.push(
                        Error::new(format!(
                            "duplicate resource name `{}` in component `{}`",
                            s(n),
                            c.name()
                        ))
                        .at(n.span(), "declared again here")
                        .also(first, "first declared here")
                        .help("IO port ranges, IRQs, PCI devices and DMA windows of one component need distinct names"),
                    );
                }
            }
        }
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        let conns = d
            .rings
            .iter()
            .map(|r| ("ring", &r.name))
            .chain(d.channels.iter().map(|c| ("channel", &c.name)))
            .chain(d.shared.iter().map(|s| ("shared region", &s.name)));
        for (what, n) in conns {
            self.name(&format!("{what} name"), s(n), n.span());
            if let Some(first) = seen.insert(s(n), n.span()) {
                self.push(
                    Error::new(format!("duplicate connection name `{}`", s(n)))
                        .at(n.span(), "declared again here")
                        .also(first, "first declared here")
                        .help("rings, channels and shared regions share one namespace"),
                );
            }
        }
    }

    fn component_ref(&mut self, what: &str, name: &Spanned<String>) -> bool {
        if self.names.contains(s(name)) {
            return true;
        }
        let mut e = Error::new(format!("{what} names unknown component `{}`", s(name)))
            .at(name.span(), "no component of this name");
        if let Some(n) = nearest(s(name), self.d.components.iter().map(|c| c.name())) {
            e = e.help(format!("did you mean `{n}`?"));
        } else {
            e = e.help("declare it with [[component]]");
        }
        self.push(e);
        false
    }

    fn power_of_two(&mut self, what: &str, v: &Spanned<u64>, min: u64, max: u64, fallback: Span) {
        // Slot counts are numbers, everything else is bytes.
        let count = what.ends_with("slots");
        let size_text = |n: u64| if count { n.to_string() } else { size_text(n) };
        let span = or(v.span(), fallback);
        let n = *v.get_ref();
        if n == 0 {
            self.push(
                Error::new(format!("{what} is zero"))
                    .at(span, "zero")
                    .help(format!(
                        "give a power of two between {} and {}",
                        size_text(min),
                        size_text(max)
                    )),
            );
        } else if !n.is_power_of_two() {
            let up = n.next_power_of_two();
            let (shown, hint) = if count {
                (n.to_string(), up.to_string())
            } else {
                (format!("{n:#x}"), format!("{up:#x} ({})", size_text(up)))
            };
            self.push(
                Error::new(format!("{what} {shown} is not a power of two"))
                    .at(span, "not a power of two")
                    .help(format!("use {hint}")),
            );
        } else if n < min || n > max {
            let shown = if count {
                n.to_string()
            } else {
                format!("{n:#x}")
            };
            self.push(
                Error::new(format!(
                    "{what} {shown} is outside {}..={}",
                    size_text(min),
                    size_text(max)
                ))
                .at(span, "out of range"),
            );
        }
    }

    fn pages(&mut self, what: &str, v: &Spanned<u64>, allow_zero: bool, max: u64, fallback: Span) {
        let span = or(v.span(), fallback);
        let n = *v.get_ref();
        if n == 0 && !allow_zero {
            self.push(
                Error::new(format!("{what} is zero"))
                    .at(span, "zero")
                    .help("give a multiple of 4 KiB (0x1000)"),
            );
        } else if n & (PAGE_SIZE - 1) != 0 {
            let up = n.div_ceil(PAGE_SIZE) * PAGE_SIZE;
            self.push(
                Error::new(format!("{what} {n:#x} is not a multiple of 4 KiB"))
                    .at(span, "not page-sized")
                    .help(format!("use {up:#x}")),
            );
        } else if n > max {
            self.push(
                Error::new(format!(
                    "{what} {n:#x} is beyond the limit of {}",
                    size_text(max)
                ))
                .at(span, "too large"),
            );
        }
    }

    fn components(&mut self) {
        for c in &self.d.components {
            let at = c.name.span();
            let p = *c.priority.get_ref();
            if p >= ROOTSERVER_PRIORITY {
                self.push(
                    Error::new(format!(
                        "priority {p} of `{}` is at or above the rootserver's ({ROOTSERVER_PRIORITY})",
                        c.name()
                    ))
                    .at(c.priority.span(), "too high")
                    .help(format!("components run below the rootserver: use 0..={}", ROOTSERVER_PRIORITY - 1)),
                );
            } else if p < 0 {
                self.push(
                    Error::new(format!("priority {p} of `{}` is negative", c.name()))
                        .at(c.priority.span(), "negative")
                        .help("use 0..=254"),
                );
            }
            self.power_of_two(
                "stack_size",
                &c.stack_size,
                MIN_STACK,
                MAX_STACK,
                at.clone(),
            );
            self.pages("heap_size", &c.heap_size, true, MAX_HEAP, at.clone());
            let bits = *c.cnode_size_bits.get_ref();
            if !(MIN_CNODE_BITS..=MAX_CNODE_BITS).contains(&bits) {
                self.push(
                    Error::new(format!(
                        "cnode_size_bits {bits} is outside {MIN_CNODE_BITS}..={MAX_CNODE_BITS}"
                    ))
                    .at(or(c.cnode_size_bits.span(), at.clone()), "out of range"),
                );
            }
        }
    }

    fn io_ports(&mut self) {
        // (first, last, component, span) of every well-formed range.
        let mut ranges: Vec<(i64, i64, &str, Span)> = vec![];
        for c in &self.d.components {
            for r in &c.io_ports {
                let (f, l) = (*r.first.get_ref(), *r.last.get_ref());
                let mut ok = true;
                for (v, sp) in [(f, r.first.span()), (l, r.last.span())] {
                    if !(0..=MAX_IO_PORT).contains(&v) {
                        ok = false;
                        self.push(
                            Error::new(format!("IO port {v:#x} is outside 0..=0xFFFF"))
                                .at(sp, "not an x86 IO port")
                                .help("x86 IO ports are 16-bit"),
                        );
                    }
                }
                if ok && f > l {
                    ok = false;
                    self.push(
                        Error::new(format!(
                            "IO port range `{}` ends ({l:#x}) before it starts ({f:#x})",
                            s(&r.name)
                        ))
                        .at(r.last.span(), "below `first`")
                        .also(r.first.span(), "starts here")
                        .help("`last` is the last port of the range, inclusive"),
                    );
                }
                if ok {
                    ranges.push((f, l, c.name(), r.first.span()));
                }
            }
        }
        for (i, (f, l, owner, span)) in ranges.iter().enumerate() {
            if let Some((pf, pl, powner, pspan)) =
                ranges[..i].iter().find(|(pf, pl, ..)| pf <= l && f <= pl)
            {
                self.errors.push(
                    Error::new(format!(
                        "IO ports {f:#x}..={l:#x} of `{owner}` overlap {pf:#x}..={pl:#x} of `{powner}`"
                    ))
                    .at(span.clone(), "this range")
                    .also(pspan.clone(), "overlaps this one")
                    .help("an IO port belongs to one driver only"),
                );
            }
        }
    }

    fn irqs(&mut self) {
        let mut pins: BTreeMap<i64, (Span, &str)> = BTreeMap::new();
        let mut vectors: BTreeMap<i64, (Span, &str)> = BTreeMap::new();
        let all: Vec<&Irq> = self.d.components.iter().flat_map(|c| &c.irqs).collect();
        if let Some(extra) = all.get(MAX_IRQ_VECTOR as usize + 1) {
            self.push(
                Error::new(format!(
                    "the system declares {} IRQs but the kernel has {} vectors",
                    all.len(),
                    MAX_IRQ_VECTOR + 1
                ))
                .at(extra.name.span(), "one IRQ too many")
                .also(all[0].name.span(), "first IRQ"),
            );
        }
        for c in &self.d.components {
            for irq in &c.irqs {
                let at = irq.name.span();
                match (&irq.ioapic_pin, &irq.msi) {
                    (None, None) => self.push(
                        Error::new(format!(
                            "IRQ `{}` has neither `ioapic_pin` nor `msi`",
                            s(&irq.name)
                        ))
                        .at(at.clone(), "this IRQ")
                        .help("give `ioapic_pin = <0..=23>` or `msi = \"<pci device name>\"`"),
                    ),
                    (Some(pin), Some(msi)) => self.push(
                        Error::new(format!(
                            "IRQ `{}` has both `ioapic_pin` and `msi`",
                            s(&irq.name)
                        ))
                        .at(msi.span(), "an MSI")
                        .also(pin.span(), "and an IOAPIC pin")
                        .help("declare two IRQs if the device really has two lines"),
                    ),
                    (Some(pin), None) => {
                        let p = *pin.get_ref();
                        if !(0..=MAX_IOAPIC_PIN).contains(&p) {
                            self.push(
                                Error::new(format!(
                                    "IOAPIC pin {p} is outside 0..={MAX_IOAPIC_PIN}"
                                ))
                                .at(pin.span(), "no such pin")
                                .help("the IOAPIC has 24 pins"),
                            );
                        } else if let Some((first, owner)) = pins.get(&p) {
                            self.push(
                                Error::new(format!(
                                    "IOAPIC pin {p} of `{}` is already claimed by `{owner}`",
                                    c.name()
                                ))
                                .at(pin.span(), "claimed again here")
                                .also(first.clone(), "first claimed here")
                                .help("a shared IRQ line would let one driver mask or ack another's device: give each pin to one driver"),
                            );
                        } else {
                            pins.insert(p, (pin.span(), c.name()));
                        }
                    }
                    (None, Some(msi)) => {
                        if !c.pci_devices.iter().any(|p| s(&p.name) == s(msi)) {
                            let mut e = Error::new(format!(
                                "MSI of IRQ `{}` names unknown PCI device `{}` of `{}`",
                                s(&irq.name),
                                s(msi),
                                c.name()
                            ))
                            .at(msi.span(), "no such [[component.pci]]");
                            if let Some(n) =
                                nearest(s(msi), c.pci_devices.iter().map(|p| s(&p.name)))
                            {
                                e = e.help(format!("did you mean `{n}`?"));
                            } else {
                                e = e.help(
                                    "an MSI belongs to one of the component's own PCI devices",
                                );
                            }
                            self.push(e);
                        }
                        for (what, span) in [
                            ("trigger", irq.trigger.as_ref().map(|t| t.span())),
                            ("polarity", irq.polarity.as_ref().map(|p| p.span())),
                        ] {
                            if let Some(span) = span {
                                self.push(
                                    Error::new(format!(
                                        "`{what}` applies to IOAPIC pins, not to an MSI"
                                    ))
                                    .at(span, "not for an MSI")
                                    .help(format!("remove `{what}`")),
                                );
                            }
                        }
                    }
                }
                if let Some(v) = &irq.vector {
                    let n = *v.get_ref();
                    if !(0..=MAX_IRQ_VECTOR).contains(&n) {
                        self.push(
                            Error::new(format!(
                                "IRQ vector {n} is outside the kernel's 0..={MAX_IRQ_VECTOR}"
                            ))
                            .at(v.span(), "out of range")
                            .help("leave `vector` out to let the planner choose one"),
                        );
                    } else if let Some((first, owner)) = vectors.get(&n) {
                        self.push(
                            Error::new(format!(
                                "IRQ vector {n} of `{}` is already claimed by `{owner}`",
                                c.name()
                            ))
                            .at(v.span(), "claimed again here")
                            .also(first.clone(), "first claimed here")
                            .help("leave `vector` out to let the planner choose a free one"),
                        );
                    } else {
                        vectors.insert(n, (v.span(), c.name()));
                    }
                }
            }
        }
    }

    fn pci(&mut self) {
        let mut ids: BTreeMap<(u16, u16), (Span, &str)> = BTreeMap::new();
        let mut addrs: BTreeMap<(u8, u8, u8), (Span, &str)> = BTreeMap::new();
        for c in &self.d.components {
            for p in &c.pci_devices {
                match (&p.id, &p.address) {
                    (None, None) => self.push(
                        Error::new(format!("PCI device `{}` has neither `id` nor `address`", s(&p.name)))
                            .at(p.name.span(), "which device?")
                            .help("give `id = \"vendor:device\"` (hex) or `address = \"bus:device.function\"`"),
                    ),
                    (Some(id), Some(addr)) => self.push(
                        Error::new(format!("PCI device `{}` has both `id` and `address`", s(&p.name)))
                            .at(addr.span(), "an address")
                            .also(id.span(), "and an id")
                            .help("keep one: the id finds the device wherever QEMU puts it"),
                    ),
                    (Some(id), None) => match parse_pci_id(s(id)) {
                        None => self.push(
                            Error::new(format!("invalid PCI id `{}`", s(id)))
                                .at(id.span(), "not vendor:device")
                                .help("write four hex digits each, e.g. `1234:11e8`"),
                        ),
                        Some(key) => {
                            if let Some((first, owner)) = ids.get(&key) {
                                self.push(
                                    Error::new(format!(
                                        "PCI device {} of `{}` is already given to `{owner}`",
                                        s(id),
                                        c.name()
                                    ))
                                    .at(id.span(), "given again here")
                                    .also(first.clone(), "first given here")
                                    .help("a PCI device belongs to one driver only"),
                                );
                            } else {
                                ids.insert(key, (id.span(), c.name()));
                            }
                        }
                    },
                    (None, Some(addr)) => match parse_pci_address(s(addr)) {
                        None => self.push(
                            Error::new(format!("invalid PCI address `{}`", s(addr)))
                                .at(addr.span(), "not bus:device.function")
                                .help("write hex bus:device.function, device < 0x20 and function < 8, e.g. `00:03.0`"),
                        ),
                        Some(key) => {
                            if let Some((first, owner)) = addrs.get(&key) {
                                self.push(
                                    Error::new(format!(
                                        "PCI device {} of `{}` is already given to `{owner}`",
                                        s(addr),
                                        c.name()
                                    ))
                                    .at(addr.span(), "given again here")
                                    .also(first.clone(), "first given here")
                                    .help("a PCI device belongs to one driver only"),
                                );
                            } else {
                                addrs.insert(key, (addr.span(), c.name()));
                            }
                        }
                    },
                }
                let mut bars: BTreeMap<i64, Span> = BTreeMap::new();
                for b in &p.bars {
                    let i = *b.index.get_ref();
                    if !(0..=5).contains(&i) {
                        self.push(
                            Error::new(format!("BAR index {i} is outside 0..=5"))
                                .at(b.index.span(), "no such BAR")
                                .help("a PCI function has BARs 0 to 5"),
                        );
                    } else if let Some(first) = bars.insert(i, b.index.span()) {
                        self.push(
                            Error::new(format!("BAR {i} of `{}` is declared twice", s(&p.name)))
                                .at(b.index.span(), "declared again here")
                                .also(first, "first declared here"),
                        );
                    }
                    self.power_of_two("BAR size", &b.size, PAGE_SIZE, MAX_BAR, b.index.span());
                }
                self.dma(c, p);
            }
        }
    }

    fn dma(&mut self, c: &Component, p: &PciDevice) {
        let mut windows: Vec<(u64, u64, Span)> = vec![];
        for w in &p.dma {
            if !self.d.system.iommu {
                let sp = &self.d.system.spans;
                let mut e = Error::new(format!(
                    "DMA window `{}` is declared while the IOMMU is off",
                    s(&w.name)
                ))
                .at(w.name.span(), "needs an IOMMU");
                e = if sp.iommu.is_empty() {
                    e.also(sp.name.clone(), "this system has no `iommu = true`")
                } else {
                    e.also(sp.iommu.clone(), "the IOMMU is off here")
                };
                self.push(e.help(
                    "without an IOMMU a device can DMA anywhere: set `iommu = true` in [system]",
                ));
            }
            let (iova, size) = (*w.iova.get_ref(), *w.size.get_ref());
            let mut ok = true;
            if iova & (PAGE_SIZE - 1) != 0 {
                ok = false;
                self.push(
                    Error::new(format!(
                        "DMA window `{}` IOVA {iova:#x} is not 4 KiB aligned",
                        s(&w.name)
                    ))
                    .at(w.iova.span(), "not aligned")
                    .help(format!("use {:#x}", iova & !(PAGE_SIZE - 1))),
                );
            }
            let before = self.errors.len();
            self.pages("DMA window size", &w.size, false, MAX_DMA, w.name.span());
            ok &= self.errors.len() == before;
            if ok && iova.checked_add(size).is_none_or(|end| end > IOVA_LIMIT) {
                ok = false;
                self.push(
                    Error::new(format!(
                        "DMA window `{}` ends beyond the IOMMU's 39-bit address space",
                        s(&w.name)
                    ))
                    .at(w.iova.span(), "too high"),
                );
            }
            if ok {
                if let Some((pi, ps, pspan)) = windows
                    .iter()
                    .find(|(pi, ps, _)| *pi < iova + size && iova < pi + ps)
                {
                    self.push(
                        Error::new(format!(
                            "DMA window `{}` ({iova:#x}..{:#x}) overlaps {pi:#x}..{:#x} of `{}`",
                            s(&w.name),
                            iova + size,
                            pi + ps,
                            s(&p.name)
                        ))
                        .at(w.iova.span(), "this window")
                        .also(pspan.clone(), "overlaps this one")
                        .help("DMA windows of one device need disjoint IOVA ranges"),
                    );
                }
                windows.push((iova, size, w.iova.span()));
            }
            let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
            for m in w.mapped_by.iter().flatten() {
                if self.component_ref(&format!("DMA window `{}`", s(&w.name)), m) {
                    if let Some(first) = seen.insert(s(m), m.span()) {
                        self.push(
                            Error::new(format!(
                                "`{}` maps DMA window `{}` twice",
                                s(m),
                                s(&w.name)
                            ))
                            .at(m.span(), "listed again here")
                            .also(first, "first listed here"),
                        );
                    }
                }
            }
            let _ = c;
        }
    }

    fn connections(&mut self) {
        let d = self.d;
        for r in &d.rings {
            let a = self.component_ref(&format!("ring `{}`", s(&r.name)), &r.producer);
            let b = self.component_ref(&format!("ring `{}`", s(&r.name)), &r.consumer);
            if a && b && s(&r.producer) == s(&r.consumer) {
                self.push(
                    Error::new(format!(
                        "ring `{}` joins `{}` to itself",
                        s(&r.name),
                        s(&r.producer)
                    ))
                    .at(r.consumer.span(), "consumer")
                    .also(r.producer.span(), "is also the producer")
                    .help("a ring connects two different components"),
                );
            }
            self.power_of_two(
                "ring slots",
                &r.slots,
                MIN_RING_SLOTS,
                MAX_RING_SLOTS,
                r.name.span(),
            );
            self.power_of_two(
                "ring data_size",
                &r.data_size,
                PAGE_SIZE,
                MAX_RING_DATA,
                r.name.span(),
            );
        }
        for ch in &d.channels {
            let ends = ch.ends.get_ref();
            if ends.len() != 2 {
                self.push(
                    Error::new(format!("channel `{}` has {} ends", s(&ch.name), ends.len()))
                        .at(ch.ends.span(), "not two components")
                        .help("a channel joins exactly two components: `ends = [\"a\", \"b\"]`"),
                );
                continue;
            }
            let a = self.component_ref(&format!("channel `{}`", s(&ch.name)), &ends[0]);
            let b = self.component_ref(&format!("channel `{}`", s(&ch.name)), &ends[1]);
            if a && b && s(&ends[0]) == s(&ends[1]) {
                self.push(
                    Error::new(format!(
                        "channel `{}` joins `{}` to itself",
                        s(&ch.name),
                        s(&ends[0])
                    ))
                    .at(ends[1].span(), "second end")
                    .also(ends[0].span(), "is also the first end")
                    .help("a channel connects two different components"),
                );
            }
        }
        for sh in &d.shared {
            self.pages(
                "shared region size",
                &sh.size,
                false,
                MAX_SHARED,
                sh.name.span(),
            );
            let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
            for m in &sh.maps {
                if self.component_ref(&format!("shared region `{}`", s(&sh.name)), &m.component) {
                    if let Some(first) = seen.insert(s(&m.component), m.component.span()) {
                        self.push(
                            Error::new(format!(
                                "`{}` maps shared region `{}` twice",
                                s(&m.component),
                                s(&sh.name)
                            ))
                            .at(m.component.span(), "mapped again here")
                            .also(first, "first mapped here")
                            .help("give each component one mapping with the rights it needs"),
                        );
                    }
                }
                if *m.rights.get_ref() == Rights::Rwx {
                    self.push(
                        Error::new(format!(
                            "mapping of `{}` by `{}` is both writable and executable",
                            s(&sh.name),
                            s(&m.component)
                        ))
                        .at(m.rights.span(), "writable and executable")
                        .help("use `rw` for data or `rx` for code, never both"),
                    );
                }
            }
        }
    }

    /// Badge bits and CNode slots follow from the whole description, so
    /// they are counted once everything else is known to be consistent.
    fn badges_and_cnodes(&mut self) {
        let d = self.d;
        let ends = connection_ends(d);
        for c in &d.components {
            let name = c.name();
            let conns = ends.get(name).copied().unwrap_or(0);
            let bits = c.irqs.len() + conns;
            if bits > BADGE_BITS as usize {
                self.push(
                    Error::new(format!(
                        "`{name}` needs {bits} notification badge bits but has {BADGE_BITS}"
                    ))
                    .at(c.name.span(), "too many IRQs, rings and channels")
                    .help("each IRQ, ring end and channel end takes one bit of the 28-bit badge (bit 27 is the rootserver's): split the component"),
                );
            }
            let slots = FIXED_SLOTS + (c.irqs.len() + c.io_ports.len() + conns) as u64;
            let b = *c.cnode_size_bits.get_ref();
            if (MIN_CNODE_BITS..=MAX_CNODE_BITS).contains(&b) && slots > 1u64 << b {
                let need = 64 - (slots - 1).leading_zeros();
                self.push(
                    Error::new(format!(
                        "the {slots} caps of `{name}` do not fit its CNode of {} slots",
                        1u64 << b
                    ))
                    .at(or(c.cnode_size_bits.span(), c.name.span()), "too small")
                    .help(format!("set `cnode_size_bits = {need}`")),
                );
            }
        }
    }
}

/// Ring ends and channel ends per component name.
fn connection_ends(d: &Description) -> std::collections::HashMap<&str, usize> {
    let mut n = std::collections::HashMap::new();
    for r in &d.rings {
        *n.entry(s(&r.producer)).or_insert(0) += 1;
        *n.entry(s(&r.consumer)).or_insert(0) += 1;
    }
    for ch in &d.channels {
        for e in ch.ends.get_ref() {
            *n.entry(s(e)).or_insert(0) += 1;
        }
    }
    n
}

/// `vendor:device`, four hex digits each.
pub fn parse_pci_id(s: &str) -> Option<(u16, u16)> {
    let (v, d) = s.split_once(':')?;
    if v.len() != 4 || d.len() != 4 {
        return None;
    }
    Some((
        u16::from_str_radix(v, 16).ok()?,
        u16::from_str_radix(d, 16).ok()?,
    ))
}

/// `bus:device.function` in hex: bus < 0x100, device < 0x20, function < 8.
pub fn parse_pci_address(s: &str) -> Option<(u8, u8, u8)> {
    let (bus, rest) = s.split_once(':')?;
    let (dev, func) = rest.split_once('.')?;
    let bus = u8::from_str_radix(bus, 16).ok()?;
    let dev = u8::from_str_radix(dev, 16).ok()?;
    let func = u8::from_str_radix(func, 16).ok()?;
    (dev < 0x20 && func < 8).then_some((bus, dev, func))
}

/// Names one component's info page can hold (`paddock_protocol::component`):
/// every cap, region, DMA window, badge bit and parameter it can look up.
pub const MAX_NAMES_PER_COMPONENT: usize = paddock_protocol::component::MAX_SYMBOLS;

/// Checks of a description that need its plan: a component whose names
/// do not fit its info page would be refused by the root task at boot.
pub fn validate_plan(d: &Description, plan: &crate::plan::Plan) -> Vec<Error> {
    let mut errors = Vec::new();
    for (ci, c) in d.components.iter().enumerate() {
        let names = plan.symbols_of(ci).count();
        if names > MAX_NAMES_PER_COMPONENT {
            errors.push(
                Error::new(format!(
                    "`{}` needs {names} names on its info page but one holds {MAX_NAMES_PER_COMPONENT}",
                    c.name()
                ))
                .at(c.name.span(), "this component")
                .help("each cap, mapped region, DMA window, badge bit and parameter takes one: split the component"),
            );
        }
    }
    errors
}
