//! IO port ranges: well formed, given to one driver only, and clear of the
//! ports the kernel and the root task use themselves.

use super::*;
use paddock_kernel::config::Flavour;

/// IO ports the platform keeps: a driver given one of them could upset
/// the kernel or the root task.
#[derive(Clone, Copy, Debug)]
pub struct ReservedPorts {
    pub first: u16,
    pub last: u16,
    /// Whose they are, on a debug and on a release kernel.
    pub owner_debug: &'static str,
    pub owner_release: &'static str,
    /// Why, for the error's help.
    pub why: &'static str,
}

impl ReservedPorts {
    pub fn owner(&self, flavour: Flavour) -> &'static str {
        match flavour {
            Flavour::Debug => self.owner_debug,
            Flavour::Release => self.owner_release,
        }
    }
}

pub const RESERVED_PORTS: [ReservedPorts; 6] = [
    ReservedPorts {
        first: 0x20,
        last: 0x21,
        owner_debug: "the kernel's master 8259 PIC",
        owner_release: "the kernel's master 8259 PIC",
        why: "the kernel remaps and masks both 8259 PICs at boot (seL4 src/plat/pc99/machine/pic.c); drivers get their interrupts through the IOAPIC or MSI",
    },
    ReservedPorts {
        first: 0x40,
        last: 0x43,
        owner_debug: "the kernel's PIT",
        owner_release: "the kernel's PIT",
        why: "the kernel programs the PIT to calibrate its timers (seL4 src/plat/pc99/machine/pit.c, src/arch/x86/kernel/apic.c)",
    },
    ReservedPorts {
        first: 0xA0,
        last: 0xA1,
        owner_debug: "the kernel's slave 8259 PIC",
        owner_release: "the kernel's slave 8259 PIC",
        why: "the kernel remaps and masks both 8259 PICs at boot (seL4 src/plat/pc99/machine/pic.c); drivers get their interrupts through the IOAPIC or MSI",
    },
    ReservedPorts {
        first: 0x3F8,
        last: 0x3FF,
        owner_debug: "the kernel's console (COM1)",
        owner_release: "the root task's console (COM1)",
        why: "a debug kernel prints on COM1; with a release kernel the root task prints there itself (rootserver/src/console.rs): use COM2 (0x2F8..=0x2FF) for a serial driver",
    },
    ReservedPorts {
        first: paddock_protocol::record::PORT,
        last: paddock_protocol::record::PORT,
        owner_debug: "the root task's record",
        owner_release: "the root task's record",
        why: "the root task writes its verdicts there, where no component may, so that none can forge them (docs/containment.md, \"The record\")",
    },
    ReservedPorts {
        first: 0xCF8,
        last: 0xCFF,
        owner_debug: "the root task's PCI configuration mechanism",
        owner_release: "the root task's PCI configuration mechanism",
        why: "only the root task reaches PCI configuration space (rootserver/src/pci.rs): it finds devices and sets their BARs, command register and MSI",
    },
];

impl Validator<'_> {
    pub(super) fn io_ports(&mut self) -> Vec<Vec<Option<model::IoPorts>>> {
        let flavour = self.d.system.kernel;
        let mut out = vec![];
        // (first, last, component, span) of every well-formed range.
        let mut ranges: Vec<(u16, u16, &str, Span)> = vec![];
        for c in &self.d.components {
            let mut mine = vec![];
            for r in &c.io_ports {
                let (f, l) = (*r.first.get_ref(), *r.last.get_ref());
                let mut ok = true;
                for (v, sp) in [(f, r.first.span()), (l, r.last.span())] {
                    if !(0..=MAX_IO_PORT).contains(&v) {
                        ok = false;
                        // A negative port is shown as written, not as
                        // its two's complement.
                        let shown = if v < 0 {
                            v.to_string()
                        } else {
                            format!("{v:#x}")
                        };
                        self.push(
                            Error::new(format!("IO port {shown} is outside 0..=0xFFFF"))
                                .at(sp, "not an x86 IO port")
                                .help("x86 IO ports are 16-bit"),
                        );
                    }
                }
                let (Ok(f), Ok(l)) = (u16::try_from(f), u16::try_from(l)) else {
                    mine.push(None);
                    continue;
                };
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
                if !ok {
                    mine.push(None);
                    continue;
                }
                if let Some(res) = RESERVED_PORTS
                    .iter()
                    .find(|res| res.first <= l && f <= res.last)
                {
                    self.push(
                        Error::new(format!(
                            "IO ports {f:#x}..={l:#x} of `{}` overlap {:#x}..={:#x}, {}",
                            c.name(),
                            res.first,
                            res.last,
                            res.owner(flavour)
                        ))
                        .at(r.first.span(), "this range")
                        .help(res.why),
                    );
                }
                ranges.push((f, l, c.name(), r.first.span()));
                mine.push(Some(model::IoPorts {
                    name: s(&r.name).to_string(),
                    first: f,
                    last: l,
                }));
            }
            out.push(mine);
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
        out
    }
}
