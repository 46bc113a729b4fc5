//! `[system]`, and the system-wide counts the root task's tables hold.

use super::*;
use paddock_spec::limits::{MAX_COMPONENTS, MAX_IRQS, MAX_PCI_DEVICES, MAX_SYMBOLS};

impl Validator<'_> {
    pub(super) fn system(&mut self) {
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

    /// The root task holds components, PCI devices and IRQ bindings in
    /// tables of fixed size (`paddock_spec::limits`): a system with more
    /// is refused at the first declaration past the limit. So is a
    /// component with more declarations than its info page has names
    /// for (each IO port range, IRQ, device memory range and parameter
    /// takes one at least), before the checks that compare declarations
    /// with each other; `crate::limits` counts the plan's exact names.
    /// Whether one was found.
    pub(super) fn counts(&mut self) -> bool {
        let d = self.d;
        let before = self.errors.len();
        if let Some(extra) = d.components.get(MAX_COMPONENTS) {
            self.push(
                Error::new(format!(
                    "the system declares {} components but the root task holds {MAX_COMPONENTS}",
                    d.components.len()
                ))
                .at(extra.name.span(), "one component too many")
                .also(d.components[0].name.span(), "first component")
                .help("split the system, or join components that need not be isolated from each other"),
            );
        }
        let devices: Vec<&PciDevice> = d.components.iter().flat_map(|c| &c.pci_devices).collect();
        if let Some(extra) = devices.get(MAX_PCI_DEVICES) {
            self.push(
                Error::new(format!(
                    "the system declares {} PCI devices but the root task holds {MAX_PCI_DEVICES}",
                    devices.len()
                ))
                .at(extra.name.span(), "one PCI device too many")
                .also(devices[0].name.span(), "first PCI device"),
            );
        }
        let irqs: Vec<&Irq> = d.components.iter().flat_map(|c| &c.irqs).collect();
        if let Some(extra) = irqs.get(MAX_IRQS) {
            self.push(
                Error::new(format!(
                    "the system declares {} IRQs but the kernel has {MAX_IRQS} vectors",
                    irqs.len()
                ))
                .at(extra.name.span(), "one IRQ too many")
                .also(irqs[0].name.span(), "first IRQ"),
            );
        }
        if self.errors.len() > before {
            return true;
        }
        for c in d.components.iter().take(MAX_COMPONENTS) {
            let named = c.io_ports.len() + c.irqs.len() + c.mmio.len() + c.params.len();
            if named > MAX_SYMBOLS {
                self.push(
                    Error::new(format!(
                        "`{}` declares {named} IO port ranges, IRQs, device memory ranges and parameters, but its info page holds {MAX_SYMBOLS} names",
                        c.name()
                    ))
                    .at(c.name.span(), "this component")
                    .help("each takes a name on the info page: join adjacent IO port ranges, or split the component"),
                );
            }
        }
        self.errors.len() > before
    }
}
