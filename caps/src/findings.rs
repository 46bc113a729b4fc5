//! Findings: residual risks the audit reports alongside its rules. A
//! finding is not a failed rule (no description can avoid it, so it does
//! not fail the audit); it names what the isolation rules cannot confine
//! and where it was measured.

use crate::plan::{CapKind, IrqSource, Plan, SymbolKind};
use serde::Serialize;
use std::fmt::Write;

/// One finding about one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: &'static str,
    /// The resource it is about, with its holder.
    pub item: String,
    pub message: String,
}

/// DMA into the MSI address window.
pub const DMA_MSI_WINDOW: &str = "dma-msi-window";

const DMA_MSI_WINDOW_MESSAGE: &str = "DMA to the MSI address window 0xFEE00000-0xFEEFFFFF is not confined: seL4 5.0's VT-d code sets no interrupt remapping table, so VT-d passes such writes on as interrupts; measured in tests/msi_window.rs: a 4-byte DMA write of 0x30+V to 0xFEE00000 is delivered on kernel vector V to the component bound to it, with no VT-d fault";

/// Where an MSI-X table lives is the device's to say.
pub const MSIX_TABLE_AT_BOOT: &str = "msix-table-at-boot";

const MSIX_TABLE_AT_BOOT_MESSAGE: &str = "no rule over the plan can check that the MSI-X table and pending-bit array stay out of the driver: their BAR and offset are the device's to say; the root task refuses the driver at boot if a BAR it maps covers a table or PBA page, and the runtime dump's observed `msix` fact shows that no mapping holds one (docs/platform.md, MSI-X)";

/// Every finding of the plan: one per bus-mastering PCI device of a system
/// whose DMA VT-d confines (without an IOMMU, the `confined-bus-masters`
/// rule already judges a bus master), one per device with MSI-X IRQs,
/// then one per shared IOAPIC line.
pub fn findings(p: &Plan) -> Vec<Finding> {
    let mut found = msi_window(p);
    found.extend(msix_tables(p));
    found.extend(shared_lines(p));
    found
}

fn device_item(p: &Plan, d: &crate::plan::PciPlan) -> String {
    format!(
        "PCI device {} `{}` of {}",
        d.label(),
        d.name,
        p.components[d.owner].name
    )
}

/// One per device with MSI-X IRQs: the rule the boot check and the runtime
/// dump carry.
fn msix_tables(p: &Plan) -> Vec<Finding> {
    p.pci
        .iter()
        .enumerate()
        .filter(|&(i, _)| {
            p.irqs
                .iter()
                .any(|q| matches!(q.source, IrqSource::MsiX { pci, .. } if pci == i))
        })
        .map(|(_, d)| Finding {
            id: MSIX_TABLE_AT_BOOT,
            item: device_item(p, d),
            message: MSIX_TABLE_AT_BOOT_MESSAGE.to_string(),
        })
        .collect()
}

fn msi_window(p: &Plan) -> Vec<Finding> {
    if !p.kernel.iommu {
        return vec![];
    }
    p.pci
        .iter()
        .filter(|d| d.bus_master)
        .map(|d| Finding {
            id: DMA_MSI_WINDOW,
            item: device_item(p, d),
            message: DMA_MSI_WINDOW_MESSAGE.to_string(),
        })
        .collect()
}

/// A shared IOAPIC line.
pub const SHARED_INTX: &str = "shared-intx";

/// One finding per shared IOAPIC line: its holder (the multiplexer the
/// plan added, `crate::intx`) and the sharers, which are the components
/// holding a send cap to the holder's notification.
fn shared_lines(p: &Plan) -> Vec<Finding> {
    p.irqs
        .iter()
        .filter(|b| p.components[b.component].program == crate::intx::MUX_PROGRAM)
        .filter_map(|b| {
            let IrqSource::IoApic { pin, .. } = b.source else {
                return None;
            };
            let holder = &p.components[b.component];
            let mut sharers: Vec<&str> = p
                .caps
                .iter()
                .filter(|c| {
                    c.component != b.component
                        && c.kind == CapKind::NotificationSend
                        && c.object == Some(holder.notification)
                })
                .map(|c| p.components[c.component].name.as_str())
                .collect();
            sharers.sort_unstable();
            sharers.dedup();
            let bound = p
                .symbols
                .iter()
                .find(|s| {
                    s.component == b.component
                        && s.kind == SymbolKind::Param
                        && s.name == "ack_bound_tsc"
                })
                .map_or(0, |s| s.value);
            let names: Vec<String> = sharers.iter().map(|n| format!("`{n}`")).collect();
            Some(Finding {
                id: SHARED_INTX,
                item: format!(
                    "IOAPIC pin {pin} held by {}, shared by {}",
                    holder.name,
                    names.join(", ")
                ),
                message: format!(
                    "every sharer is signalled on every interrupt of the line, whichever device raised it, and must check its own device's status; a sharer that does not acknowledge delays the line, and so the other sharers' interrupts, by up to {bound} TSC ticks per interrupt, after which {} acknowledges it and the root task names the late sharer",
                    holder.name
                ),
            })
        })
        .collect()
}

/// The findings as a section of the text report; empty without any.
pub fn text(p: &Plan) -> String {
    let found = findings(p);
    let mut s = String::new();
    if found.is_empty() {
        return s;
    }
    let _ = writeln!(s, "\nfindings (residual risks, not failed rules):");
    for f in &found {
        let _ = writeln!(s, "  note {:<22} {}: {}", f.id, f.item, f.message);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{audit, load_planned, report};
    use std::path::Path;

    fn reports(image: &str) -> (String, serde_json::Value) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../images")
            .join(image);
        let (d, p) = load_planned(&path).unwrap_or_else(|e| panic!("{e}"));
        let a = audit::audit(&d, &p);
        (report::text(&d, &p, &a), report::json(&d, &p, &a))
    }

    #[test]
    fn a_bus_master_behind_vt_d_gets_the_msi_window_finding() {
        let (text, json) = reports("dma.toml");
        let line = "  note dma-msi-window         PCI device 1234:11e8 `edu` of edu: DMA to the MSI address window 0xFEE00000-0xFEEFFFFF is not confined: seL4 5.0's VT-d code sets no interrupt remapping table";
        assert!(text.contains(line), "{text}");
        assert!(text.contains("measured in tests/msi_window.rs"), "{text}");
        // A finding, not a failed rule.
        assert!(text.ends_with("\naudit passed\n"), "{text}");
        assert_eq!(json["passed"], true);
        let found = json["findings"].as_array().expect("findings in JSON");
        assert_eq!(found.len(), 1, "{json:#}");
        assert_eq!(found[0]["id"], DMA_MSI_WINDOW);
        assert_eq!(found[0]["item"], "PCI device 1234:11e8 `edu` of edu");
    }

    #[test]
    fn a_system_without_bus_masters_has_no_findings() {
        let (text, json) = reports("default.toml");
        assert!(!text.contains("findings"), "{text}");
        assert!(!text.contains(DMA_MSI_WINDOW), "{text}");
        assert_eq!(json["findings"], serde_json::json!([]));
    }

    #[test]
    fn a_device_with_msix_irqs_gets_the_boot_check_finding() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/system/msix.toml");
        let (d, p) = load_planned(&path).unwrap_or_else(|e| panic!("{e}"));
        let text = report::text(&d, &p, &audit::audit(&d, &p));
        let line = "  note msix-table-at-boot     PCI device 1af4:1042 `blk` of blk: no rule over the plan can check";
        assert!(text.contains(line), "{text}");
        assert!(text.ends_with("\naudit passed\n"), "{text}");
        let (text, _) = reports("dma.toml");
        assert!(!text.contains(MSIX_TABLE_AT_BOOT), "{text}");
    }

    #[test]
    fn each_bus_master_has_its_own_finding() {
        let (text, _) = reports("msi-window.toml");
        for item in [
            "PCI device 00:04.0 `edu` of victim",
            "PCI device 00:05.0 `edu` of attacker",
        ] {
            assert!(
                text.contains(&format!("note dma-msi-window         {item}: ")),
                "{text}"
            );
        }
    }
}
