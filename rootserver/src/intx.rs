//! Where a PCI device's INTx arrives, for the devices the plan lets signal
//! through INTx (`PCI_INTX`): the root task reads the device's Interrupt
//! Pin register, routes it with the machine's own account of its wiring
//! (ACPI `_PRT`, `crate::acpi`), prints where it arrives, and refuses to
//! boot when that is not the IOAPIC line the description declares for the
//! device (`PciRecord::intx_irq`: its driver's own line, or the shared
//! line's holder `intx-<pin>`). A driver waiting on another line would
//! never see an interrupt (docs/platform.md, "Shared interrupt lines").

use crate::acpi::{AcpiError, Route, RouteError};
use crate::pci::Bdf;
use core::fmt;
use paddock_spec::{IrqKind, PciRecord, Spec, NONE, PCI_INTX};

/// The Interrupt Pin register: 0 none, 1..=4 INTA..INTD.
const INTERRUPT_PIN: u8 = 0x3d;

/// The line the description declares for a device's INTx: always on
/// IOAPIC 0, the only one the plan issues handlers from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Declared<'s> {
    /// The component holding the line's handler: the driver, or the
    /// holder of a shared line.
    pub holder: &'s str,
    pub shared: bool,
    pub pin: u32,
    pub level: bool,
    pub active_low: bool,
}

impl<'s> Declared<'s> {
    /// The line the spec links `record` to, for a device that signals
    /// through INTx; `None` for any other.
    pub fn of(spec: &Spec<'s>, record: &PciRecord) -> Option<Declared<'s>> {
        let line = record.intx_irq.get();
        if record.flags & PCI_INTX == 0 || line == NONE {
            return None;
        }
        // Decoding checked that the index is in range and the record an
        // IOAPIC line.
        let irq = spec.irqs.get(line as usize)?;
        if irq.kind != IrqKind::IoApic as u8 {
            return None;
        }
        let holder = spec.components.get(irq.component.get() as usize)?;
        Some(Declared {
            holder: spec.str(holder.name),
            shared: irq.component.get() != record.owner.get(),
            pin: irq.pin.get(),
            level: irq.level != 0,
            active_low: irq.polarity != 0,
        })
    }

    /// Whether the routing reaches this line: IOAPIC 0, the same pin,
    /// trigger and polarity.
    pub fn reached_by(&self, route: &Route) -> bool {
        route.ioapic == 0
            && route.pin == self.pin
            && route.level == self.level
            && route.active_low == self.active_low
    }
}

fn signal(level: bool, active_low: bool) -> &'static str {
    match (level, active_low) {
        (true, false) => "level, active-high",
        (true, true) => "level, active-low",
        (false, false) => "edge, active-high",
        (false, true) => "edge, active-low",
    }
}

/// `INTA`..`INTD`, or the register's value when it is none of them.
pub struct PinName(pub u8);

impl fmt::Display for PinName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1..=4 => write!(f, "INT{}", (b'A' + self.0 - 1) as char),
            other => write!(f, "{other} (none)"),
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "GSI {} (IOAPIC {} pin {}, {})",
            self.gsi,
            self.ioapic,
            self.pin,
            signal(self.level, self.active_low)
        )
    }
}

/// The device a check concerns, for messages.
#[derive(Clone, Copy, Debug)]
pub struct Device<'s> {
    pub name: &'s str,
    pub owner: &'s str,
    pub bdf: Bdf,
}

/// Why a device that signals through INTx is refused; every message names
/// the device, its driver and what to look at.
#[derive(Debug)]
pub enum IntxError<'s, 'e> {
    /// The plan links the device to no IOAPIC line (a spec this root task
    /// cannot use).
    NoLine { device: Device<'s> },
    PinRegister {
        device: Device<'s>,
        error: sel4::Error,
    },
    /// ACPI could not be read: no routing is assumed instead.
    NoRouting {
        device: Device<'s>,
        error: &'e AcpiError,
    },
    NoRoute {
        device: Device<'s>,
        pin: u8,
        error: RouteError,
    },
    /// The routing takes the device's pin to another line than declared.
    Mismatch {
        device: Device<'s>,
        pin: u8,
        declared: Declared<'s>,
        routed: Route,
    },
}

impl fmt::Display for IntxError<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = |f: &mut fmt::Formatter<'_>, d: &Device| {
            write!(
                f,
                "PCI device `{}` of component `{}` at {}",
                d.name, d.owner, d.bdf
            )
        };
        match self {
            IntxError::NoLine { device } => {
                at(f, device)?;
                write!(
                    f,
                    " signals through INTx, but the spec names no IOAPIC line for it"
                )
            }
            IntxError::PinRegister { device, error } => {
                at(f, device)?;
                write!(f, ": reading its Interrupt Pin register failed: {error}")
            }
            IntxError::NoRouting { device, error } => {
                at(f, device)?;
                write!(
                    f,
                    " signals through INTx, but the machine's interrupt routing could not be read ({error}): refusing to boot rather than assume where its interrupts arrive"
                )
            }
            IntxError::NoRoute { device, pin, error } => {
                at(f, device)?;
                write!(
                    f,
                    ": INTx pin {} cannot be routed by ACPI: {error}: refusing to boot",
                    PinName(*pin)
                )
            }
            IntxError::Mismatch {
                device,
                pin,
                declared,
                routed,
            } => {
                at(f, device)?;
                write!(
                    f,
                    ": the description declares its INTx on IOAPIC pin {} (",
                    declared.pin
                )?;
                if declared.shared {
                    write!(f, "the shared line held by `{}`", declared.holder)?;
                } else {
                    write!(f, "the line of `{}`", declared.holder)?;
                }
                write!(
                    f,
                    ", {}), but ACPI _PRT routes its INTx pin {} to {routed}: refusing to boot",
                    signal(declared.level, declared.active_low),
                    PinName(*pin)
                )
            }
        }
    }
}

/// The line the root task prints for a device whose routing reaches its
/// declared line.
#[derive(Debug)]
pub struct Routed<'s> {
    pub device: Device<'s>,
    pub pin: u8,
    pub route: Route,
}

impl fmt::Display for Routed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PCI `{}` at {}: INTx pin {} routes to {} by ACPI _PRT",
            self.device.name,
            self.device.bdf,
            PinName(self.pin),
            self.route
        )
    }
}

/// Compares the routing of a device's pin with its declared line.
pub fn compare<'s, 'e>(
    device: Device<'s>,
    declared: Option<Declared<'s>>,
    pin: u8,
    route: Result<Route, RouteError>,
) -> Result<Routed<'s>, IntxError<'s, 'e>> {
    let declared = declared.ok_or(IntxError::NoLine { device })?;
    let route = route.map_err(|error| IntxError::NoRoute { device, pin, error })?;
    if !declared.reached_by(&route) {
        return Err(IntxError::Mismatch {
            device,
            pin,
            declared,
            routed: route,
        });
    }
    Ok(Routed { device, pin, route })
}

/// Reads the device's Interrupt Pin register, routes it and compares the
/// result with the declared line (`routing`: the machine's routing, or
/// why it could not be read).
#[cfg(not(test))]
pub fn check<'s, 'e>(
    spec: &Spec<'s>,
    record: &PciRecord,
    bdf: Bdf,
    routing: Result<&mut crate::acpi::Routing, &'e AcpiError>,
) -> Result<Routed<'s>, IntxError<'s, 'e>> {
    let owner = spec
        .components
        .get(record.owner.get() as usize)
        .map_or("?", |c| spec.str(c.name));
    let device = Device {
        name: spec.str(record.name),
        owner,
        bdf,
    };
    let routing = routing.map_err(|error| IntxError::NoRouting { device, error })?;
    let pin = crate::pci::read(bdf, INTERRUPT_PIN, 1)
        .map_err(|error| IntxError::PinRegister { device, error })? as u8;
    compare(
        device,
        Declared::of(spec, record),
        pin,
        routing.route(bdf, pin),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    const EDU: Device = Device {
        name: "edu",
        owner: "first",
        bdf: Bdf {
            bus: 0,
            dev: 4,
            func: 0,
        },
    };

    fn line(pin: u32, holder: &str, shared: bool) -> Declared<'_> {
        Declared {
            holder,
            shared,
            pin,
            level: true,
            active_low: false,
        }
    }

    fn to(gsi: u32) -> Route {
        Route {
            gsi,
            ioapic: 0,
            pin: gsi,
            level: true,
            active_low: false,
        }
    }

    #[test]
    fn the_routed_line_is_printed_when_it_is_the_declared_one() {
        let ok = compare(EDU, Some(line(20, "first", false)), 1, Ok(to(20))).unwrap();
        assert_eq!(
            ok.to_string(),
            "PCI `edu` at 00:04.0: INTx pin INTA routes to GSI 20 (IOAPIC 0 pin 20, level, active-high) by ACPI _PRT"
        );
    }

    #[test]
    fn another_pin_is_refused_naming_both_pins() {
        let err = compare(EDU, Some(line(21, "first", false)), 1, Ok(to(20))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "PCI device `edu` of component `first` at 00:04.0: the description declares its INTx on IOAPIC pin 21 (the line of `first`, level, active-high), but ACPI _PRT routes its INTx pin INTA to GSI 20 (IOAPIC 0 pin 20, level, active-high): refusing to boot"
        );
        let err = compare(EDU, Some(line(22, "intx-22", true)), 2, Ok(to(21))).unwrap_err();
        assert!(err
            .to_string()
            .contains("IOAPIC pin 22 (the shared line held by `intx-22`"));
    }

    #[test]
    fn another_trigger_polarity_or_ioapic_is_refused_too() {
        let mut edge = line(20, "first", false);
        edge.level = false;
        assert!(compare(EDU, Some(edge), 1, Ok(to(20))).is_err());
        let mut low = line(20, "first", false);
        low.active_low = true;
        assert!(compare(EDU, Some(low), 1, Ok(to(20))).is_err());
        let second_ioapic = Route {
            ioapic: 1,
            ..to(20)
        };
        assert!(compare(EDU, Some(line(20, "first", false)), 1, Ok(second_ioapic)).is_err());
    }

    #[test]
    fn no_route_or_no_line_is_refused_with_the_reason() {
        let err = compare(
            EDU,
            Some(line(20, "first", false)),
            0,
            Err(RouteError::NoPin { register: 0 }),
        )
        .unwrap_err();
        assert!(err.to_string().contains(
            "INTx pin 0 (none) cannot be routed by ACPI: its Interrupt Pin register reads 0"
        ));
        assert!(matches!(
            compare(EDU, None, 1, Ok(to(20))),
            Err(IntxError::NoLine { .. })
        ));
        let why = AcpiError::NoIoApic;
        let err = IntxError::NoRouting {
            device: EDU,
            error: &why,
        };
        assert!(err.to_string().contains(
            "the machine's interrupt routing could not be read (the MADT lists no I/O APIC)"
        ));
    }
}
