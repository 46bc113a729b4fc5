//! The audit report as text, JSON (schema in `docs/audit.md`) and DOT.

use crate::audit::Audit;
use crate::description::Description;
use crate::plan::{CapKind, IrqSource, MapPurpose, Owner, Plan};
use serde_json::{json, Value};
use std::fmt::Write;

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes & ((1 << 20) - 1) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

fn kind_group(k: CapKind) -> &'static str {
    match k {
        CapKind::FaultEndpoint => "fault endpoint",
        CapKind::Notification => "own notification",
        CapKind::NotificationSend => "signals",
        CapKind::IrqHandler => "IRQ handlers",
        CapKind::IoPort => "IO ports",
        CapKind::PciConfig => "PCI configuration space",
        CapKind::CallEndpoint => "calls",
        CapKind::ServeEndpoint => "serves calls",
        _ => "other (forbidden)",
    }
}

/// Who holds a device resource or maps a shared frame, for the report.
struct Holder {
    what: String,
    holders: Vec<String>,
}

fn device_holders(p: &Plan) -> Vec<Holder> {
    let mut out = vec![];
    for cap in &p.caps {
        let who = format!("{} (slot {})", p.components[cap.component].name, cap.slot);
        match cap.kind {
            CapKind::IoPort => out.push(Holder {
                what: format!(
                    "IO ports {:#x}..={:#x} `{}`",
                    cap.badge >> 16,
                    cap.badge & 0xFFFF,
                    cap.name
                ),
                holders: vec![who],
            }),
            CapKind::IrqHandler => {
                if let Some(q) = cap.object.and_then(|o| p.irqs.get(o)) {
                    let src = match q.source {
                        IrqSource::IoApic {
                            pin,
                            level,
                            active_low,
                        } => format!(
                            "IOAPIC pin {pin} ({}, active {})",
                            if level { "level" } else { "edge" },
                            if active_low { "low" } else { "high" }
                        ),
                        IrqSource::Msi { pci, handle } => {
                            format!("MSI {handle} of PCI {}", p.pci[pci].label())
                        }
                        IrqSource::MsiX { pci, entry } => {
                            format!("MSI-X entry {entry} of PCI {}", p.pci[pci].label())
                        }
                    };
                    out.push(Holder {
                        what: format!("{src}, vector {} `{}`", q.vector, q.name),
                        holders: vec![who],
                    });
                }
            }
            // Who may read and who may write each device's configuration
            // space (through the root task, writes filtered by its policy).
            CapKind::PciConfig => {
                if let Some((pci, write)) = paddock_spec::pci_config::decode(cap.badge) {
                    let label = p.pci.get(pci).map_or("?".into(), |d| d.label());
                    let access = if write {
                        "read, filtered write"
                    } else {
                        "read"
                    };
                    out.push(Holder {
                        what: format!("configuration space of PCI {label} ({access})"),
                        holders: vec![who],
                    });
                }
            }
            _ => {}
        }
    }
    for m in p
        .mappings
        .iter()
        .filter(|m| m.purpose == MapPurpose::DeviceMemory)
    {
        let paddr = p.objects.get(m.object).map_or(0, |o| o.base);
        out.push(Holder {
            what: format!(
                "device memory `{}` at physical {paddr:#x} ({})",
                m.name,
                size(m.size())
            ),
            holders: vec![format!(
                "{} at {:#x} {} uncached",
                p.components[m.component].name,
                m.vaddr,
                m.rights.text()
            )],
        });
    }
    for (pi, dev) in p.pci.iter().enumerate() {
        let owner = p.components[dev.owner].name.clone();
        out.push(Holder {
            what: format!(
                "PCI device {} `{}` (IOSpace domain {}{})",
                dev.label(),
                dev.name,
                dev.domain,
                if dev.bus_master { ", bus master" } else { "" }
            ),
            holders: vec![owner],
        });
        for m in p.mappings.iter().filter(|m| {
            m.purpose == MapPurpose::DeviceBar && p.objects[m.object].owner == Owner::Pci(pi)
        }) {
            out.push(Holder {
                what: format!("  BAR memory `{}` ({})", m.name, size(m.size())),
                holders: vec![format!(
                    "{} at {:#x} {} uncached",
                    p.components[m.component].name,
                    m.vaddr,
                    m.rights.text()
                )],
            });
        }
        for io in p.io_mappings.iter().filter(|m| m.pci == pi) {
            let mappers: Vec<String> = p
                .mappings
                .iter()
                .filter(|m| m.object == io.object)
                .map(|m| {
                    format!(
                        "{} at {:#x} {}",
                        p.components[m.component].name,
                        m.vaddr,
                        m.rights.text()
                    )
                })
                .collect();
            out.push(Holder {
                what: format!(
                    "  DMA window `{}` IOVA {:#x} ({})",
                    io.name,
                    io.iova,
                    size(u64::from(io.pages) * 4096)
                ),
                holders: if mappers.is_empty() {
                    vec!["device only".into()]
                } else {
                    mappers
                },
            });
        }
    }
    out
}

fn sharing(p: &Plan) -> Vec<Holder> {
    let mut out = vec![];
    for (o, obj) in p.objects.iter().enumerate() {
        if !matches!(obj.owner, Owner::Ring(_) | Owner::Shared(_)) {
            continue;
        }
        let holders = p
            .mappings
            .iter()
            .filter(|m| m.object == o)
            .map(|m| {
                format!(
                    "{} at {:#x} {}{}",
                    p.components[m.component].name,
                    m.vaddr,
                    m.rights.text(),
                    if m.cached { "" } else { " uncached" }
                )
            })
            .collect();
        out.push(Holder {
            what: format!("{} ({})", obj.name, size(u64::from(obj.count) * 4096)),
            holders,
        });
    }
    out
}

/// The readable report.
pub fn text(d: &Description, p: &Plan, a: &Audit) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "system `{}`: kernel {}, {} components, {} objects, {} caps, {} mappings, {} IOSpace mappings, {} of memory\n",
        p.name,
        p.kernel,
        p.components.len(),
        p.objects.len(),
        p.caps.len(),
        p.mappings.len(),
        p.io_mappings.len(),
        size(p.memory_bytes().div_ceil(4096) * 4096)
    );
    for (i, c) in p.components.iter().enumerate() {
        let _ = writeln!(
            s,
            "component `{}` ({}; program `{}`, priority {}, restart {}, badge {}, CNode {} slots)",
            c.name,
            if c.is_driver { "driver" } else { "client" },
            c.program,
            c.priority,
            c.restart,
            c.badge,
            1u64 << c.cnode_bits
        );
        let mut groups: Vec<&str> = vec![];
        for cap in p.caps_of(i) {
            let g = kind_group(cap.kind);
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        for g in groups {
            let _ = writeln!(s, "  {g}:");
            for cap in p.caps_of(i).filter(|k| kind_group(k.kind) == g) {
                let _ = writeln!(
                    s,
                    "    slot {:>3}  {:<24} {:<5} {}",
                    cap.slot,
                    cap.name,
                    cap.rights.text(),
                    p.grants(cap)
                );
            }
        }
        let _ = writeln!(s, "  mappings:");
        for m in p.mappings_of(i) {
            let _ = writeln!(
                s,
                "    {:#014x}  {:>8}  {:<3} {:<8} {}",
                m.vaddr,
                size(m.size()),
                m.rights.text(),
                if m.cached { "cached" } else { "uncached" },
                m.name
            );
        }
        s.push('\n');
    }
    let _ = writeln!(s, "device resources:");
    let devices = device_holders(p);
    if devices.is_empty() {
        let _ = writeln!(s, "  none");
    }
    for h in devices {
        let _ = writeln!(s, "  {}: {}", h.what, h.holders.join(", "));
    }
    let _ = writeln!(s, "\nrings and shared regions:");
    let shared = sharing(p);
    if shared.is_empty() {
        let _ = writeln!(s, "  none");
    }
    for h in shared {
        let _ = writeln!(s, "  {}: {}", h.what, h.holders.join("; "));
    }
    let _ = writeln!(s, "\nchannels:");
    if d.channels.is_empty() {
        let _ = writeln!(s, "  none");
    }
    for ch in &d.channels {
        let e = ch.ends.get_ref();
        let serves = ch
            .server
            .as_ref()
            .map(|sv| format!(", {} serves calls", sv.get_ref()))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  {}: {} <-> {}{serves}",
            ch.name.get_ref(),
            e[0].get_ref(),
            e[1].get_ref()
        );
    }
    let _ = writeln!(s, "\nisolation rules:");
    for r in &a.rules {
        let verdict = if r.violations.is_empty() {
            "ok  "
        } else {
            "FAIL"
        };
        let _ = writeln!(
            s,
            "  {verdict} {:<22} {:>5} checked, {} failed: {}",
            r.id,
            r.checked,
            r.violations.len(),
            r.description
        );
        for v in &r.violations {
            let _ = writeln!(
                s,
                "       {}: {}: {}",
                v.component.as_deref().unwrap_or("-"),
                v.item,
                v.message
            );
        }
    }
    s.push_str(&crate::findings::text(p));
    let _ = writeln!(
        s,
        "\naudit {}",
        if a.passed() { "passed" } else { "FAILED" }
    );
    s
}

/// The report as JSON (schema version 1, documented in `docs/audit.md`).
pub fn json(d: &Description, p: &Plan, a: &Audit) -> Value {
    let components: Vec<Value> = p
        .components
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "name": c.name,
                "program": c.program,
                "driver": c.is_driver,
                "priority": c.priority,
                "restart": c.restart.to_string(),
                "badge": c.badge,
                "cnode_slots": 1u64 << c.cnode_bits,
                "caps": p.caps_of(i).map(|k| json!({
                    "slot": k.slot,
                    "kind": format!("{:?}", k.kind),
                    "name": k.name,
                    "object": k.object.and_then(|o| if k.kind == CapKind::IrqHandler { p.irqs.get(o).map(|q| q.name.clone()) } else { p.objects.get(o).map(|x| x.name.clone()) }),
                    "rights": k.rights.text(),
                    "badge": k.badge,
                    "grants": p.grants(k),
                })).collect::<Vec<_>>(),
                "mappings": p.mappings_of(i).map(|m| json!({
                    "name": m.name,
                    "vaddr": m.vaddr,
                    "size": m.size(),
                    "rights": m.rights.text(),
                    "cached": m.cached,
                    "object": p.objects[m.object].name,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let to_json = |hs: Vec<Holder>| -> Vec<Value> {
        hs.into_iter()
            .map(|h| json!({"resource": h.what.trim(), "holders": h.holders}))
            .collect()
    };
    json!({
        "schema": 1,
        "system": {
            "name": p.name,
            "kernel": p.kernel.to_string(),
            "iommu": p.kernel.iommu,
            "memory_mib": d.system.memory_mib,
        },
        "totals": {
            "components": p.components.len(),
            "objects": p.objects.len(),
            "caps": p.caps.len(),
            "mappings": p.mappings.len(),
            "io_mappings": p.io_mappings.len(),
            "memory_bytes": p.memory_bytes(),
        },
        "components": components,
        "devices": to_json(device_holders(p)),
        "sharing": to_json(sharing(p)),
        "channels": d.channels.iter().map(|ch| json!({
            "name": ch.name.get_ref(),
            "ends": ch.ends.get_ref().iter().map(|e| e.get_ref().clone()).collect::<Vec<_>>(),
            "server": ch.server.as_ref().map(|sv| sv.get_ref().clone()),
        })).collect::<Vec<_>>(),
        "rules": a.rules,
        "findings": crate::findings::findings(p),
        "passed": a.passed(),
    })
}

/// The JSON report, pretty-printed.
pub fn json_text(d: &Description, p: &Plan, a: &Audit) -> String {
    let mut s = serde_json::to_string_pretty(&json(d, p, a)).unwrap_or_default();
    s.push('\n');
    s
}

fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A Graphviz graph of components, devices, rings, channels and shared
/// regions.
pub fn dot(d: &Description, p: &Plan) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "digraph {} {{", q(&p.name));
    let _ = writeln!(
        s,
        "  graph [rankdir=LR, label={}, fontname=\"Helvetica\"];",
        q(&format!("{} ({})", p.name, p.kernel))
    );
    let _ = writeln!(s, "  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];");
    for c in &p.components {
        let (fill, role) = if c.is_driver {
            ("lightsalmon", "driver")
        } else {
            ("lightblue", "client")
        };
        let _ = writeln!(
            s,
            "  {} [shape=box, style=\"rounded,filled\", fillcolor={fill}, label={}];",
            q(&format!("c:{}", c.name)),
            q(&format!(
                "{}\n{} `{}`\nprio {}",
                c.name, role, c.program, c.priority
            ))
        );
    }
    for cap in &p.caps {
        let comp = q(&format!("c:{}", p.components[cap.component].name));
        match cap.kind {
            CapKind::IoPort => {
                let id = q(&format!("io:{}", cap.badge));
                let _ = writeln!(
                    s,
                    "  {id} [shape=cds, style=filled, fillcolor=khaki, label={}];",
                    q(&format!(
                        "ports {:#x}-{:#x}",
                        cap.badge >> 16,
                        cap.badge & 0xFFFF
                    ))
                );
                let _ = writeln!(
                    s,
                    "  {id} -> {comp} [arrowhead=none, label={}];",
                    q(&cap.name)
                );
            }
            CapKind::IrqHandler => {
                if let Some(qb) = cap.object.and_then(|o| p.irqs.get(o)) {
                    let label = match qb.source {
                        IrqSource::IoApic { pin, .. } => format!("IOAPIC pin {pin}"),
                        IrqSource::Msi { pci, .. } => format!("MSI {}", p.pci[pci].label()),
                        IrqSource::MsiX { pci, entry } => {
                            format!("MSI-X {} entry {entry}", p.pci[pci].label())
                        }
                    };
                    let id = q(&format!("irq:{}", qb.vector));
                    let _ = writeln!(
                        s,
                        "  {id} [shape=diamond, style=filled, fillcolor=gold, label={}];",
                        q(&format!("{label}\nvector {}", qb.vector))
                    );
                    let _ = writeln!(s, "  {id} -> {comp} [style=bold, label={}];", q(&cap.name));
                }
            }
            _ => {}
        }
    }
    for (pi, dev) in p.pci.iter().enumerate() {
        let id = q(&format!("pci:{pi}"));
        let _ = writeln!(
            s,
            "  {id} [shape=component, style=filled, fillcolor=palegreen, label={}];",
            q(&format!("PCI {}\n{}", dev.label(), dev.name))
        );
        let _ = writeln!(
            s,
            "  {id} -> {} [arrowhead=none, label=\"owns\"];",
            q(&format!("c:{}", p.components[dev.owner].name))
        );
        for io in p.io_mappings.iter().filter(|m| m.pci == pi) {
            let w = q(&format!("dma:{}", io.name));
            let _ = writeln!(
                s,
                "  {w} [shape=folder, label={}];",
                q(&format!("DMA {}\nIOVA {:#x}", io.name, io.iova))
            );
            let _ = writeln!(s, "  {id} -> {w} [style=dashed, label=\"DMA\"];");
            for m in p.mappings.iter().filter(|m| m.object == io.object) {
                let _ = writeln!(
                    s,
                    "  {w} -> {} [style=dotted, arrowhead=none, label={}];",
                    q(&format!("c:{}", p.components[m.component].name)),
                    q(m.rights.text())
                );
            }
        }
    }
    for r in &d.rings {
        let _ = writeln!(
            s,
            "  {} -> {} [color=blue, penwidth=2, label={}];",
            q(&format!("c:{}", r.producer.get_ref())),
            q(&format!("c:{}", r.consumer.get_ref())),
            q(&format!(
                "ring {} ({} slots)",
                r.name.get_ref(),
                r.slots.get_ref()
            ))
        );
    }
    for ch in &d.channels {
        let e = ch.ends.get_ref();
        let _ = writeln!(
            s,
            "  {} -> {} [dir=both, style=dashed, color=gray40, label={}];",
            q(&format!("c:{}", e[0].get_ref())),
            q(&format!("c:{}", e[1].get_ref())),
            q(&format!("channel {}", ch.name.get_ref()))
        );
    }
    for sh in &d.shared {
        let id = q(&format!("shared:{}", sh.name.get_ref()));
        let _ = writeln!(
            s,
            "  {id} [shape=note, label={}];",
            q(&format!("shared {}", sh.name.get_ref()))
        );
        for m in &sh.maps {
            let r = *m.rights.get_ref();
            let _ = writeln!(
                s,
                "  {id} -> {} [style=dotted, arrowhead=none, label={}];",
                q(&format!("c:{}", m.component.get_ref())),
                q(if r.write() { "rw" } else { "r" })
            );
        }
    }
    s.push_str("}\n");
    s
}
