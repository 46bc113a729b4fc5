//! The isolation rules, checked against a plan.
//!
//! The audit does not trust the planner: it re-derives from the description
//! what each component may hold and compares every cap and mapping of the
//! plan against it. Each rule counts what it checked and names every
//! violation (rule, component, cap or mapping), so a failed audit says
//! exactly what to look at.

use crate::description::Description;
use crate::plan::{CapKind, IrqSource, MapPurpose, ObjectKind, Owner, Plan};
use serde::Serialize;
use std::collections::HashMap;

/// One isolation rule and its outcome.
#[derive(Clone, Debug, Serialize)]
pub struct RuleResult {
    pub id: &'static str,
    pub description: &'static str,
    pub checked: usize,
    pub violations: Vec<Violation>,
}

/// One broken rule: who, what, why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub component: Option<String>,
    /// The cap (`slot N name`) or mapping (`vaddr name`) at fault.
    pub item: String,
    pub message: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Audit {
    pub rules: Vec<RuleResult>,
}

impl Audit {
    pub fn passed(&self) -> bool {
        self.rules.iter().all(|r| r.violations.is_empty())
    }

    pub fn violations(&self) -> impl Iterator<Item = (&'static str, &Violation)> {
        self.rules
            .iter()
            .flat_map(|r| r.violations.iter().map(move |v| (r.id, v)))
    }
}

pub const RULES: [(&str, &str); 9] = [
    ("no-authority-caps", "no component holds Untyped, IRQControl, ASIDControl, the unnarrowed IOPort or an IOSpace cap"),
    ("no-foreign-structures", "no component holds another component's TCB, CNode or VSpace, nor a frame cap"),
    ("declared-devices", "every IOPort, IRQ handler and device-memory mapping was declared for its holder"),
    ("declared-sharing", "each ring, shared-region and DMA frame is mapped only by its declared parties with the declared rights, each signal cap follows a declared ring or channel, and each endpoint cap its channel's server and caller"),
    ("dma-confined", "DMA windows appear only in their own device's IOSpace, at their declared IOVA"),
    ("w-xor-x", "no mapping is both writable and executable"),
    ("exclusive-irqs", "each IOAPIC pin, MSI, MSI-X entry and vector is bound once"),
    ("confined-bus-masters", "a PCI device masters the bus only to do declared DMA: confined to IOSpace windows, or unconfined where [system] accepts it"),
    ("own-config-space", "a configuration-space cap reaches the root task's endpoint for a device its holder drives, with the access (read, or read and filtered write) declared for it"),
];

struct Checker<'a> {
    d: &'a Description,
    p: &'a Plan,
    results: Vec<RuleResult>,
    /// Lookups built once so the audit stays linear in the plan's size.
    component: HashMap<&'a str, usize>,
    by_notification: HashMap<usize, usize>,
    rings: HashMap<&'a str, usize>,
    channels: HashMap<&'a str, usize>,
}

impl Checker<'_> {
    fn rule(&mut self, i: usize) -> &mut RuleResult {
        &mut self.results[i]
    }

    fn fail(&mut self, rule: usize, component: Option<usize>, item: String, message: String) {
        let component = component.map(|c| self.p.components[c].name.clone());
        self.results[rule].violations.push(Violation {
            component,
            item,
            message,
        });
    }
}

/// Checks every rule over the plan of `d`.
pub fn audit(d: &Description, p: &Plan) -> Audit {
    let mut k = Checker {
        d,
        p,
        results: RULES
            .iter()
            .map(|(id, description)| RuleResult {
                id,
                description,
                checked: 0,
                violations: vec![],
            })
            .collect(),
        component: d
            .components
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name(), i))
            .collect(),
        by_notification: p
            .components
            .iter()
            .enumerate()
            .map(|(i, c)| (c.notification, i))
            .collect(),
        rings: d
            .rings
            .iter()
            .enumerate()
            .map(|(i, r)| (r.name.get_ref().as_str(), i))
            .collect(),
        channels: d
            .channels
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.get_ref().as_str(), i))
            .collect(),
    };
    caps(&mut k);
    mappings(&mut k);
    io_mappings(&mut k);
    irqs(&mut k);
    bus_masters(&mut k);
    config_spaces(&mut k);
    Audit { rules: k.results }
}

fn cap_item(p: &Plan, i: usize) -> String {
    let c = &p.caps[i];
    format!("slot {} `{}` ({:?})", c.slot, c.name, c.kind)
}

fn caps(k: &mut Checker) {
    let (d, p) = (k.d, k.p);
    for (i, cap) in p.caps.iter().enumerate() {
        let c = cap.component;
        let desc = k
            .component
            .get(p.components[c].name.as_str())
            .map(|&i| &d.components[i]);
        k.rule(0).checked += 1;
        if matches!(
            cap.kind,
            CapKind::Untyped
                | CapKind::IrqControl
                | CapKind::AsidControl
                | CapKind::IoPortControl
                | CapKind::IoSpace
        ) {
            k.fail(
                0,
                Some(c),
                cap_item(p, i),
                format!("{:?} is an authority cap no component may hold", cap.kind),
            );
        }
        k.rule(1).checked += 1;
        match cap.kind {
            CapKind::Tcb | CapKind::CNode | CapKind::VSpace => {
                let owner = cap.object.and_then(|o| p.objects.get(o)).map(|o| o.owner);
                if owner != Some(Owner::Component(c)) {
                    k.fail(
                        1,
                        Some(c),
                        cap_item(p, i),
                        format!("{:?} of another component", cap.kind),
                    );
                }
            }
            CapKind::Frame => k.fail(
                1,
                Some(c),
                cap_item(p, i),
                "frame caps stay with the root task".into(),
            ),
            CapKind::Notification if cap.object != Some(p.components[c].notification) => {
                k.fail(
                    1,
                    Some(c),
                    cap_item(p, i),
                    "receive right on another component's notification".into(),
                );
            }
            _ => {}
        }
        match cap.kind {
            CapKind::IoPort => {
                k.rule(2).checked += 1;
                let (f, l) = ((cap.badge >> 16) as i64, (cap.badge & 0xFFFF) as i64);
                let declared = desc.is_some_and(|dc| {
                    dc.io_ports
                        .iter()
                        .any(|r| *r.first.get_ref() == f && *r.last.get_ref() == l)
                });
                if !declared {
                    k.fail(
                        2,
                        Some(c),
                        cap_item(p, i),
                        format!("IO ports {f:#x}..={l:#x} were not declared for this component"),
                    );
                }
            }
            CapKind::IrqHandler => {
                k.rule(2).checked += 1;
                let ok = cap.object.and_then(|q| p.irqs.get(q)).is_some_and(|q| {
                    q.component == c
                        && desc
                            .is_some_and(|dc| dc.irqs.iter().any(|x| *x.name.get_ref() == q.name))
                });
                if !ok {
                    k.fail(
                        2,
                        Some(c),
                        cap_item(p, i),
                        "IRQ handler of an IRQ not declared for this component".into(),
                    );
                }
            }
            CapKind::NotificationSend => {
                k.rule(3).checked += 1;
                let target = cap.object.and_then(|o| k.by_notification.get(&o).copied());
                let me = p.components[c].name.as_str();
                let ok = target.is_some_and(|t| {
                    let peer = p.components[t].name.as_str();
                    let joins = |a: &str, b: &str| (a == me && b == peer) || (a == peer && b == me);
                    match cap.name.split_once('.') {
                        Some(("ring", n)) => k.rings.get(n).is_some_and(|&r| {
                            let r = &d.rings[r];
                            joins(r.producer.get_ref(), r.consumer.get_ref())
                        }),
                        Some(("channel", n)) => k.channels.get(n).is_some_and(|&ch| {
                            let e = d.channels[ch].ends.get_ref();
                            e.len() == 2 && joins(e[0].get_ref(), e[1].get_ref())
                        }),
                        _ => false,
                    }
                });
                if !ok {
                    k.fail(
                        3,
                        Some(c),
                        cap_item(p, i),
                        "signal cap to a notification no declared ring or channel joins".into(),
                    );
                }
            }
            CapKind::CallEndpoint | CapKind::ServeEndpoint => {
                k.rule(3).checked += 1;
                if let Err(why) = endpoint_cap(k, c, cap) {
                    k.fail(3, Some(c), cap_item(p, i), why.into());
                }
            }
            _ => {}
        }
    }
}

/// A channel endpoint cap follows its channel: the endpoint is the
/// server's, the server holds the receive side, the other end the call
/// side, and a caller cannot receive (it would take calls meant for the
/// server).
fn endpoint_cap(k: &Checker, c: usize, cap: &crate::plan::Cap) -> Result<(), &'static str> {
    let (d, p) = (k.d, k.p);
    let channel = cap
        .name
        .strip_prefix("endpoint.")
        .and_then(|n| k.channels.get(n))
        .map(|&ch| &d.channels[ch])
        .ok_or("endpoint cap of no declared channel")?;
    let server = channel
        .server
        .as_ref()
        .map(|s| s.get_ref().as_str())
        .ok_or("endpoint cap of a channel that declares no server")?;
    let me = p.components[c].name.as_str();
    if !channel.ends.get_ref().iter().any(|e| e.get_ref() == me) {
        return Err("endpoint cap of a channel its holder is not an end of");
    }
    let owner = cap
        .object
        .and_then(|o| p.objects.get(o))
        .filter(|o| o.kind == ObjectKind::Endpoint)
        .and_then(|o| match o.owner {
            Owner::Component(oc) => p.components.get(oc),
            _ => None,
        });
    if owner.is_none_or(|o| o.name != server) {
        return Err("endpoint cap to an endpoint that is not the channel server's");
    }
    match (cap.kind == CapKind::ServeEndpoint, me == server) {
        (true, false) => Err("receive right on an endpoint its holder does not serve"),
        (false, true) => Err("call cap held by the channel's own server"),
        (false, false) if cap.rights.read => Err("a caller's endpoint cap that can also receive"),
        _ => Ok(()),
    }
}

fn mappings(k: &mut Checker) {
    let (d, p) = (k.d, k.p);
    for m in &p.mappings {
        let c = m.component;
        let me = p.components[c].name.as_str();
        let item = format!("mapping {:#x} `{}`", m.vaddr, m.name);
        k.rule(5).checked += 1;
        if m.rights.write && m.rights.execute {
            k.fail(5, Some(c), item.clone(), "writable and executable".into());
        }
        let Some(obj) = p.objects.get(m.object) else {
            k.fail(
                3,
                Some(c),
                item,
                "maps an object that does not exist".into(),
            );
            continue;
        };
        match (obj.kind, obj.owner) {
            (ObjectKind::DeviceFrames, Owner::Pci(pi)) => {
                k.rule(2).checked += 1;
                let ok = p.pci.get(pi).is_some_and(|dev| {
                    dev.owner == c && dev.bars.iter().any(|(b, _)| u32::from(*b) == obj.aux)
                });
                if !ok {
                    k.fail(
                        2,
                        Some(c),
                        item,
                        format!(
                            "device memory `{}` not declared for this component",
                            obj.name
                        ),
                    );
                }
            }
            (ObjectKind::PlatformFrames, owner) => {
                k.rule(2).checked += 1;
                let size = u64::from(obj.count) * 4096;
                let declared = owner == Owner::Component(c)
                    && d.components.get(c).is_some_and(|dc| {
                        dc.mmio.iter().any(|x| {
                            *x.paddr.get_ref() == obj.base
                                && *x.size.get_ref() == size
                                && crate::symbols::mmio(x.name.get_ref()) == obj.name
                        })
                    });
                if !declared {
                    k.fail(
                        2,
                        Some(c),
                        item,
                        format!(
                            "device memory `{}` at physical {:#x} ({size:#x} bytes) not declared for this component",
                            obj.name, obj.base
                        ),
                    );
                }
            }
            (_, Owner::Ring(r)) => {
                k.rule(3).checked += 1;
                let ring = &d.rings[r];
                let producer = ring.producer.get_ref() == me;
                let consumer = ring.consumer.get_ref() == me;
                let data = m.purpose == MapPurpose::RingData;
                if !(producer || consumer) {
                    k.fail(
                        3,
                        Some(c),
                        item,
                        format!("ring `{}` is not this component's", ring.name.get_ref()),
                    );
                } else if data && m.rights.write && !producer {
                    k.fail(
                        3,
                        Some(c),
                        item,
                        format!(
                            "only the producer may write the data of ring `{}`",
                            ring.name.get_ref()
                        ),
                    );
                }
            }
            (_, Owner::Shared(s)) => {
                k.rule(3).checked += 1;
                let region = &d.shared[s];
                match region.maps.iter().find(|x| x.component.get_ref() == me) {
                    None => k.fail(
                        3,
                        Some(c),
                        item,
                        format!(
                            "shared region `{}` does not list this component",
                            region.name.get_ref()
                        ),
                    ),
                    Some(x) if m.rights.write && !x.rights.get_ref().write() => k.fail(
                        3,
                        Some(c),
                        item,
                        format!(
                            "shared region `{}` is read-only for this component",
                            region.name.get_ref()
                        ),
                    ),
                    _ => {}
                }
            }
            (ObjectKind::Frames, Owner::Pci(pi)) => {
                k.rule(3).checked += 1;
                let window = p.pci.get(pi).and_then(|dev| {
                    let owner = &d.components[dev.owner];
                    let pd = owner
                        .pci_devices
                        .iter()
                        .find(|x| *x.name.get_ref() == dev.name)?;
                    let w = pd
                        .dma
                        .iter()
                        .find(|w| obj.name == format!("dma.{}.{}", dev.name, w.name.get_ref()))?;
                    Some(match &w.mapped_by {
                        None => owner.name() == me,
                        Some(list) => list.iter().any(|x| x.get_ref() == me),
                    })
                });
                if window != Some(true) {
                    k.fail(
                        3,
                        Some(c),
                        item,
                        format!(
                            "DMA buffer `{}` is not declared as mapped by this component",
                            obj.name
                        ),
                    );
                }
            }
            (_, Owner::Component(o)) if o != c => {
                k.rule(1).checked += 1;
                k.fail(
                    1,
                    Some(c),
                    item,
                    format!("maps `{}`, private to another component", obj.name),
                );
            }
            _ => {}
        }
    }
}

fn io_mappings(k: &mut Checker) {
    let (d, p) = (k.d, k.p);
    for m in &p.io_mappings {
        k.rule(4).checked += 1;
        let item = format!("IOVA {:#x} `{}`", m.iova, m.name);
        let owner = p.pci.get(m.pci).map(|x| x.owner);
        let obj = p.objects.get(m.object);
        if obj.map(|o| o.owner) != Some(Owner::Pci(m.pci)) {
            k.fail(
                4,
                owner,
                item,
                "frames of another device's DMA window (or not DMA frames)".into(),
            );
            continue;
        }
        let declared = p.pci.get(m.pci).and_then(|dev| {
            let pd = d.components[dev.owner]
                .pci_devices
                .iter()
                .find(|x| *x.name.get_ref() == dev.name)?;
            Some(pd.dma.iter().any(|w| {
                *w.iova.get_ref() == m.iova && *w.size.get_ref() == u64::from(m.pages) * 4096
            }))
        });
        if declared != Some(true) {
            k.fail(
                4,
                owner,
                item,
                "IOVA range is not a declared DMA window of this device".into(),
            );
        }
    }
}

fn irqs(k: &mut Checker) {
    let p = k.p;
    let mut pins = std::collections::BTreeMap::new();
    let mut vectors = std::collections::BTreeMap::new();
    for (i, q) in p.irqs.iter().enumerate() {
        k.rule(6).checked += 1;
        let item = format!("IRQ `{}` vector {}", q.name, q.vector);
        let key = match q.source {
            IrqSource::IoApic { pin, .. } => (0, pin as usize, 0),
            IrqSource::Msi { pci, handle } => (1, pci, handle),
            IrqSource::MsiX { pci, entry } => (2, pci, entry.into()),
        };
        if let Some(first) = pins.insert(key, i) {
            k.fail(
                6,
                Some(q.component),
                item.clone(),
                format!("source already bound to `{}`", p.irqs[first].name),
            );
        }
        if let Some(first) = vectors.insert(q.vector, i) {
            k.fail(
                6,
                Some(q.component),
                item,
                format!("vector already bound to `{}`", p.irqs[first].name),
            );
        }
    }
}

/// Bus mastering lets a device read and write memory on its own: only a
/// device with declared DMA may have it, and without an IOMMU confining it
/// only where the system accepts that.
fn bus_masters(k: &mut Checker) {
    let (d, p) = (k.d, k.p);
    for dev in &p.pci {
        k.rule(7).checked += 1;
        if !dev.bus_master {
            continue;
        }
        let declared = d
            .components
            .iter()
            .find(|c| c.name() == p.components[dev.owner].name)
            .and_then(|c| c.pci_devices.iter().find(|x| *x.name.get_ref() == dev.name));
        let windows = declared.is_some_and(|x| !x.dma.is_empty());
        let unconfined = declared
            .and_then(|x| x.unconfined_dma.as_ref())
            .is_some_and(|u| *u.get_ref());
        let item = format!("PCI device {} `{}`", dev.label(), dev.name);
        let message = if windows && p.kernel.iommu {
            continue;
        } else if unconfined && !p.kernel.iommu {
            if d.system.accept_unconfined_dma {
                continue;
            }
            "masters the bus with no IOMMU confining its DMA, and [system] does not accept unconfined DMA"
        } else {
            "masters the bus, but no DMA was declared for it"
        };
        k.fail(7, Some(dev.owner), item, message.into());
    }
}

/// A configuration-space cap lets its holder read, and perhaps write, a
/// device's configuration space through the root task: only the device's
/// own driver may hold one, with the access its description declares.
fn config_spaces(k: &mut Checker) {
    let (d, p) = (k.d, k.p);
    for (i, cap) in p.caps.iter().enumerate() {
        if cap.kind != CapKind::PciConfig {
            continue;
        }
        k.rule(8).checked += 1;
        let c = cap.component;
        let Some((pci, write)) = paddock_spec::pci_config::decode(cap.badge) else {
            k.fail(
                8,
                Some(c),
                cap_item(p, i),
                "its badge names no PCI device".into(),
            );
            continue;
        };
        let message = match p.pci.get(pci) {
            None => Some("its badge names no PCI device".to_string()),
            Some(dev) if dev.owner != c => Some(format!(
                "reaches the configuration space of {} `{}`, a device of `{}`",
                dev.label(),
                dev.name,
                p.components[dev.owner].name
            )),
            _ if cap.object != Some(p.fault_endpoint) => {
                Some("is not a cap to the root task's endpoint".into())
            }
            Some(dev) => {
                let declared = k
                    .component
                    .get(p.components[c].name.as_str())
                    .and_then(|&ci| {
                        d.components[ci]
                            .pci_devices
                            .iter()
                            .find(|x| *x.name.get_ref() == dev.name)
                    })
                    .and_then(|x| x.config.as_ref())
                    .map(|a| a.get_ref().as_str());
                let granted = if write { "read-write" } else { "read" };
                (declared != Some(granted)).then(|| {
                    format!(
                        "grants `{granted}` access to {} `{}`, declared `{}`",
                        dev.label(),
                        dev.name,
                        declared.unwrap_or("none")
                    )
                })
            }
        };
        if let Some(message) = message {
            k.fail(8, Some(c), cap_item(p, i), message);
        }
    }
}
