//! The MSI-X rule at run time: no page of any mapping the dump reads back
//! is a device's MSI-X table or pending-bit array page, as the kernel
//! reports the frames (`msix` lines), and every built driver with MSI-X
//! IRQs has its device's line: a table the root task did not program, or
//! did not say where it is, is a difference too.

use super::compare::Comparison;
use super::parse::{Dump, Source};
use paddock_caps::plan::{IrqSource, Plan};

pub(super) fn compare_msix(
    plan: &Plan,
    dump: &Dump,
    out: &mut Comparison,
    built: &dyn Fn(usize) -> bool,
) {
    let mut devices: Vec<usize> = plan
        .irqs
        .iter()
        .filter_map(|q| match q.source {
            IrqSource::MsiX { pci, .. } => Some(pci),
            _ => None,
        })
        .collect();
    devices.dedup();
    for pci in devices {
        let Some(device) = plan.pci.get(pci) else {
            continue;
        };
        if !built(device.owner) {
            continue;
        }
        let owner = &plan.components[device.owner].name;
        let key = (owner.clone(), device.name.clone());
        let Some(msix) = dump.msix.get(&key) else {
            out.diff(format!(
                "`{owner}`'s `{}` has MSI-X IRQs but the dump says nothing of its table: the root task did not program it",
                device.name
            ));
            continue;
        };
        out.tally("msix-table-unmapped", msix.mapped.source);
        if msix.mapped.value != "0" || msix.mapped.source != Source::Observed {
            out.diff(format!(
                "line {}: {} mapped pages are `{owner}`'s `{}` MSI-X table ({:#x}) or PBA ({:#x}) pages, as the kernel reports them: the rule is none",
                msix.line, msix.mapped.value, device.name, msix.table, msix.pba
            ));
        }
    }
    for (owner, device) in dump.msix.keys() {
        let planned = plan.pci.iter().enumerate().any(|(i, d)| {
            plan.components
                .get(d.owner)
                .is_some_and(|c| &c.name == owner)
                && &d.name == device
                && plan
                    .irqs
                    .iter()
                    .any(|q| matches!(q.source, IrqSource::MsiX { pci, .. } if pci == i))
        });
        if !planned {
            out.diff(format!(
                "the root task programmed the MSI-X of `{owner}`'s `{device}`, which the plan gives no MSI-X IRQ"
            ));
        }
    }
}
