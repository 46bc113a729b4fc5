//! Whole-system validation, run after parsing: a description becomes a
//! [`Model`] only when it has no error.
//!
//! Each check names both sides of a conflict (the second occurrence is the
//! error, the first is labelled "first ... here") and says what to change.
//! Each section parses what it checks once, into the typed value the model
//! holds, so the planner never reads a raw value.
//!
//! The sections, in the order they report: `[system]` and the system-wide
//! counts ([`system`]), names ([`names`]), component settings and CSpace
//! and badge room ([`components`]), IO ports ([`ports`]), IRQs ([`irqs`]),
//! PCI devices and DMA ([`pci`]), device memory by address ([`mmio`]), rings, channels and shared regions
//! ([`connections`]). Then, on the resolved declarations: IRQ vectors
//! ([`vectors`]) and the names of each info page ([`symbols`]).

mod attachments;
mod components;
mod connections;
pub mod disks;
mod irqs;
pub mod mmio;
mod msix;
mod names;
pub mod networks;
mod pci;
mod ports;
mod symbols;
mod system;
mod vectors;

use crate::description::*;
use crate::diagnostics::{nearest, Error};
use crate::model::{self, Model};
use std::collections::HashMap;

pub use pci::{parse_pci_address, parse_pci_id};
pub use ports::{ReservedPorts, RESERVED_PORTS};

/// The root task's priority; every component must be below it.
pub const ROOTSERVER_PRIORITY: i64 = 255;
/// The kernel's IRQ vectors usable by user level on x86_64 (`vector` of
/// `IRQControl_GetIOAPIC`/`GetMSI`).
pub const MAX_IRQ_VECTOR: i64 = paddock_spec::limits::MAX_IRQ_VECTOR as i64;
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
/// Longest name of anything but a component (which the info and status
/// pages limit further, see [`paddock_spec::limits::COMPONENT_NAME_LEN`]):
/// the system's name, which the spec decoder bounds the same way.
pub const NAME_LEN: usize = paddock_spec::limits::SYSTEM_NAME_LEN;

/// The model of `d`, or every error in it.
pub fn validate(d: &Description) -> Result<Model, Vec<Error>> {
    let mut v = Validator {
        d,
        errors: vec![],
        index: HashMap::new(),
    };
    for (i, c) in d.components.iter().enumerate() {
        v.index.entry(c.name()).or_insert(i);
    }
    v.system();
    // Past a count, the rest of the checks would only repeat the error
    // for every declaration, and some compare declarations pairwise.
    if v.counts() {
        return Err(v.errors);
    }
    v.names();
    let settings = v.components();
    let ports = v.io_ports();
    let irqs = v.irqs();
    let pci = v.pci();
    let mmio = v.mmio();
    let (rings, channels, shared) = v.connections();
    v.disks();
    v.networks();
    v.badges_and_cnodes();
    if !v.errors.is_empty() {
        return Err(v.errors);
    }
    let vectors = v.vectors(&irqs);
    let model = (|| {
        let components = d
            .components
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let s = settings[i]?;
                let irqs = irqs[i]
                    .iter()
                    .zip(vectors.as_ref()?.get(i)?)
                    .zip(&c.irqs)
                    .map(|((q, &vector), raw)| {
                        Some(model::Irq {
                            name: raw.name.get_ref().clone(),
                            source: q.as_ref()?.source,
                            vector,
                        })
                    })
                    .collect::<Option<_>>()?;
                Some(model::Component {
                    name: c.name().to_string(),
                    program: c.program().to_string(),
                    priority: s.priority,
                    cnode_bits: s.cnode_bits,
                    stack_size: s.stack_size,
                    heap_size: s.heap_size,
                    restart: *c.restart.get_ref(),
                    io_ports: ports[i].iter().cloned().collect::<Option<_>>()?,
                    irqs,
                    pci: pci[i].iter().cloned().collect::<Option<_>>()?,
                    mmio: mmio[i].iter().cloned().collect::<Option<_>>()?,
                    params: c
                        .params
                        .iter()
                        .map(|(k, v)| (k.get_ref().clone(), *v.get_ref()))
                        .collect(),
                })
            })
            .collect::<Option<_>>()?;
        let sys = &d.system;
        Some(Model {
            name: sys.name.clone(),
            kernel: sys.kernel_config(),
            memory_mib: sys.memory_mib,
            accept_unconfined_dma: sys.accept_unconfined_dma,
            components,
            rings: rings.into_iter().collect::<Option<_>>()?,
            channels: channels.into_iter().collect::<Option<_>>()?,
            shared: shared.into_iter().collect::<Option<_>>()?,
        })
    })();
    if !v.errors.is_empty() {
        return Err(v.errors);
    }
    let Some(model) = model else {
        // Every section that cannot give its value reports why; reaching
        // this means one did not.
        return Err(vec![Error::new(
            "the description has no error, yet a declaration could not be read: \
             please report this with the description",
        )]);
    };
    v.symbols(&model);
    if v.errors.is_empty() {
        Ok(model)
    } else {
        Err(v.errors)
    }
}

/// The state of one validation: the description and what it found.
struct Validator<'a> {
    d: &'a Description,
    errors: Vec<Error>,
    /// Component index by name (the first, when names repeat).
    index: HashMap<&'a str, usize>,
}

/// What an IRQ declaration resolves to before vectors are chosen.
#[derive(Clone, Copy, Debug)]
struct IrqDecl {
    source: model::IrqSource,
    /// The `vector` written in the description.
    vector: Option<u8>,
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

    /// The index of the component `name` refers to; an error naming the
    /// nearest existing name when there is none.
    fn component_ref(&mut self, what: &str, name: &Spanned<String>) -> Option<usize> {
        if let Some(&i) = self.index.get(s(name)) {
            return Some(i);
        }
        let mut e = Error::new(format!("{what} names unknown component `{}`", s(name)))
            .at(name.span(), "no component of this name");
        if let Some(n) = nearest(s(name), self.d.components.iter().map(|c| c.name())) {
            e = e.help(format!("did you mean `{n}`?"));
        } else {
            e = e.help("declare it with [[component]]");
        }
        self.push(e);
        None
    }

    /// A power of two in `min..=max`: a count of slots, or bytes.
    fn power_of_two(
        &mut self,
        what: &str,
        v: &Spanned<u64>,
        min: u64,
        max: u64,
        fallback: Span,
    ) -> Option<u64> {
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
        } else if let Some(up) = n
            .checked_next_power_of_two()
            .filter(|&up| up <= max && !n.is_power_of_two())
        {
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
        } else if n < min || n > max || !n.is_power_of_two() {
            // Past `max`, the next power of two is no use as a hint (nor
            // always a number: it overflows near u64::MAX).
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
        } else {
            return Some(n);
        }
        None
    }

    /// A whole number of pages, at most `max` bytes.
    fn pages(
        &mut self,
        what: &str,
        v: &Spanned<u64>,
        allow_zero: bool,
        max: u64,
        fallback: Span,
    ) -> Option<u64> {
        let span = or(v.span(), fallback);
        let n = *v.get_ref();
        if n == 0 && !allow_zero {
            self.push(
                Error::new(format!("{what} is zero"))
                    .at(span, "zero")
                    .help("give a multiple of 4 KiB (0x1000)"),
            );
        } else if n & (PAGE_SIZE - 1) != 0 && n < max {
            // Rounding up cannot overflow below `max`; past it, the limit
            // is what to say.
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
        } else {
            return Some(n);
        }
        None
    }
}
