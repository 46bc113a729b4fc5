//! Where a PCI device's INTx should arrive, for the devices the plan lets
//! signal through INTx (`PCI_INTX`). The root task reads the device's
//! Interrupt Pin register (what the device reports) and prints the IOAPIC
//! pin that q35's default routing gives it; the description's pin is
//! compared with that line by whoever reads the log (tests/intx.rs). The
//! routing itself is not read from the chipset: the default below was
//! measured on QEMU 7.2 (docs/platform.md, "Shared interrupt lines").

use crate::pci::Bdf;

/// The Interrupt Pin register: 0 none, 1..=4 INTA..INTD.
const INTERRUPT_PIN: u8 = 0x3d;

/// q35's default routing for a device on bus 0 below the chipset's own
/// slots (25 and up, which have their own routing registers): slot S with
/// interrupt pin P (1..=4) goes to PIRQ E + (S + P - 1) mod 4, and PIRQ
/// E-H reach IOAPIC pins 20-23. `None` where that default does not apply.
pub fn q35_default_pin(bdf: Bdf, interrupt_pin: u8) -> Option<u8> {
    if bdf.bus != 0 || bdf.dev >= 25 || !(1..=4).contains(&interrupt_pin) {
        return None;
    }
    Some(20 + (bdf.dev + interrupt_pin - 1) % 4)
}

/// Prints the device's interrupt pin and where q35's default routing
/// takes it.
#[cfg(not(test))]
pub fn report(bdf: Bdf, name: &str) {
    let pin = match crate::pci::read(bdf, INTERRUPT_PIN, 1) {
        Ok(p) => p as u8,
        Err(e) => {
            println!("paddock: PCI `{name}` at {bdf}: reading its interrupt pin failed: {e:?}");
            return;
        }
    };
    let letter = match pin {
        1..=4 => (b'A' + pin - 1) as char,
        _ => '-',
    };
    match q35_default_pin(bdf, pin) {
        Some(ioapic) => println!(
            "paddock: PCI `{name}` at {bdf}: INTx pin INT{letter}, which q35's default routing takes to IOAPIC pin {ioapic}"
        ),
        None => println!(
            "paddock: PCI `{name}` at {bdf}: INTx pin {pin}, outside q35's default routing: its IOAPIC pin is not known"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(dev: u8) -> Bdf {
        Bdf {
            bus: 0,
            dev,
            func: 0,
        }
    }

    #[test]
    fn measured_slots_reach_the_measured_pins() {
        // Measured on QEMU 7.2 q35 with edu (INTA): slots 4 and 8 on pin
        // 20, slot 5 on 21, slot 7 on 23.
        assert_eq!(q35_default_pin(at(4), 1), Some(20));
        assert_eq!(q35_default_pin(at(8), 1), Some(20));
        assert_eq!(q35_default_pin(at(5), 1), Some(21));
        assert_eq!(q35_default_pin(at(7), 1), Some(23));
    }

    #[test]
    fn outside_the_default_nothing_is_claimed() {
        assert_eq!(q35_default_pin(at(4), 0), None);
        assert_eq!(q35_default_pin(at(4), 5), None);
        assert_eq!(q35_default_pin(at(25), 1), None);
        let behind_a_bridge = Bdf {
            bus: 1,
            dev: 0,
            func: 0,
        };
        assert_eq!(q35_default_pin(behind_a_bridge, 1), None);
    }
}
