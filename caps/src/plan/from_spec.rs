//! A plan read back from spec bytes: what the root task will build, in the
//! host's terms, so the isolation rules can be checked on exactly that.
//!
//! Names the spec does not store are rebuilt the way the planner makes
//! them: a mapping's from the component's address symbol at its address,
//! an IRQ's from its handler cap, an IOSpace mapping's from its DMA
//! buffer. A plan that went through [`crate::encode::encode`] comes back
//! equal.

use super::*;
use paddock_kernel::config::Flavour;
use paddock_spec::{
    OwnerKind, RestartKind, Spec, FLAG_DEBUG, NONE, PCI_BUS_MASTER, PCI_HAS_ID, PCI_INTX,
};
use std::collections::HashMap;
use std::fmt;

/// A decoded spec that has no plan reading (its bytes passed
/// [`Spec::decode`], so these are contradictions between tables).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FromSpecError(pub String);

impl fmt::Display for FromSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FromSpecError {}

fn unknown(what: &str, value: u8) -> FromSpecError {
    FromSpecError(format!("{what} {value} is not one this host knows"))
}

/// An index field, [`NONE`] meaning none.
fn reference(v: u32) -> Option<usize> {
    (v != NONE).then_some(v as usize)
}

impl Plan {
    /// The plan a decoded spec describes.
    pub fn from_spec(spec: &Spec) -> Result<Plan, FromSpecError> {
        let objects = spec
            .objects
            .iter()
            .map(|o| {
                let index = o.owner_index.get() as usize;
                let owner = match OwnerKind::from_u8(o.owner_kind) {
                    Some(OwnerKind::Root) => Owner::Root,
                    Some(OwnerKind::Component) => Owner::Component(index),
                    Some(OwnerKind::Ring) => Owner::Ring(index),
                    Some(OwnerKind::Shared) => Owner::Shared(index),
                    Some(OwnerKind::Pci) => Owner::Pci(index),
                    None => return Err(unknown("owner kind", o.owner_kind)),
                };
                Ok(Object {
                    kind: ObjectKind::from_u8(o.kind).ok_or(unknown("object kind", o.kind))?,
                    name: spec.str(o.name).to_string(),
                    owner,
                    count: o.count.get(),
                    pci: reference(o.aux.get()),
                    aux: o.aux2.get(),
                    base: o.base.get(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let fault_endpoint = objects
            .iter()
            .position(|o| o.kind == ObjectKind::Endpoint && o.owner == Owner::Root)
            .ok_or_else(|| FromSpecError("the spec has no fault endpoint".into()))?;
        let caps = spec
            .caps
            .iter()
            .map(|k| {
                let kind = CapKind::from_u8(k.kind).ok_or(unknown("cap kind", k.kind))?;
                Ok(Cap {
                    component: k.component.get() as usize,
                    slot: k.slot.get(),
                    kind,
                    object: reference(k.object.get()),
                    rights: CapRights::from_bits(k.rights),
                    badge: k.badge.get(),
                    name: spec.str(k.name).to_string(),
                })
            })
            .collect::<Result<Vec<_>, FromSpecError>>()?;
        let symbols = spec
            .symbols
            .iter()
            .map(|s| {
                Ok(Symbol {
                    component: s.component.get() as usize,
                    name: spec.str(s.name).to_string(),
                    kind: SymbolKind::from_u8(s.kind).ok_or(unknown("symbol kind", s.kind))?,
                    value: s.value.get(),
                    size: s.size.get(),
                })
            })
            .collect::<Result<Vec<_>, FromSpecError>>()?;
        // The planner names each mapping as the address symbol it records
        // with it.
        let region_names: HashMap<(usize, u64), &str> = symbols
            .iter()
            .filter(|s| s.kind == SymbolKind::Vaddr)
            .map(|s| ((s.component, s.value), s.name.as_str()))
            .collect();
        let mappings = spec
            .mappings
            .iter()
            .map(|m| {
                let (component, vaddr) = (m.component.get() as usize, m.vaddr.get());
                let object = m.object.get() as usize;
                Ok(Mapping {
                    component,
                    vaddr,
                    object,
                    pages: m.pages.get(),
                    rights: MapRights::from_bits(m.rights),
                    cached: m.cached != 0,
                    purpose: MapPurpose::from_u8(m.purpose)
                        .ok_or(unknown("mapping purpose", m.purpose))?,
                    name: region_names
                        .get(&(component, vaddr))
                        .map_or_else(|| objects[object].name.clone(), |n| n.to_string()),
                })
            })
            .collect::<Result<Vec<_>, FromSpecError>>()?;
        let io_mappings = spec
            .io_mappings
            .iter()
            .map(|m| {
                let object = m.object.get() as usize;
                let name = &objects[object].name;
                IoMapping {
                    pci: m.pci.get() as usize,
                    iova: m.iova.get(),
                    object,
                    pages: m.pages.get(),
                    name: name.strip_prefix("dma.").unwrap_or(name).to_string(),
                }
            })
            .collect();
        let irqs = irqs(spec, &caps)?;
        let pci = pci(spec, &objects);
        let components = spec
            .components
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let restart = match RestartKind::from_u8(c.restart) {
                    Some(RestartKind::Never) => Restart::Never,
                    Some(RestartKind::Always) => Restart::Always,
                    Some(RestartKind::Limit) => Restart::Limit(c.restart_limit.get()),
                    None => return Err(unknown("restart kind", c.restart)),
                };
                // A driver is what holds device resources.
                let is_driver = caps.iter().any(|k| {
                    k.component == i && matches!(k.kind, CapKind::IoPort | CapKind::IrqHandler)
                }) || pci.iter().any(|p| p.owner == i)
                    || objects.iter().any(|o| {
                        o.kind == ObjectKind::PlatformFrames && o.owner == Owner::Component(i)
                    });
                Ok(PlanComponent {
                    name: spec.str(c.name).to_string(),
                    program: spec.str(c.program).to_string(),
                    badge: c.badge.get(),
                    priority: c.priority,
                    restart,
                    cnode_bits: c.cnode_bits,
                    tcb: c.tcb.get() as usize,
                    cnode: c.cnode.get() as usize,
                    vspace: c.vspace.get() as usize,
                    notification: c.notification.get() as usize,
                    ipc_buffer_object: c.ipc_buffer_object.get() as usize,
                    ipc_buffer: c.ipc_buffer.get(),
                    stack_top: c.stack_top.get(),
                    is_driver,
                })
            })
            .collect::<Result<Vec<_>, FromSpecError>>()?;
        Ok(Plan {
            name: spec.system_name().to_string(),
            kernel: KernelConfig {
                flavour: if spec.header.flags.get() & FLAG_DEBUG != 0 {
                    Flavour::Debug
                } else {
                    Flavour::Release
                },
                iommu: spec.iommu(),
            },
            fault_endpoint,
            components,
            objects,
            caps,
            mappings,
            io_mappings,
            irqs,
            pci,
            symbols,
        })
    }
}

/// IRQ bindings, each named after its handler cap (`irq.<name>`).
fn irqs(spec: &Spec, caps: &[Cap]) -> Result<Vec<IrqBinding>, FromSpecError> {
    let handler_names: HashMap<usize, &str> = caps
        .iter()
        .filter(|k| k.kind == CapKind::IrqHandler)
        .filter_map(|k| Some((k.object?, k.name.as_str())))
        .collect();
    spec.irqs
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let badge = q.badge.get();
            if badge.count_ones() != 1 {
                return Err(FromSpecError(format!(
                    "IRQ {i} signals badge {badge:#x}, not one bit"
                )));
            }
            let source = match IrqKind::from_u8(q.kind) {
                Some(IrqKind::IoApic) => IrqSource::IoApic {
                    pin: q.pin.get() as u8,
                    level: q.level != 0,
                    active_low: q.polarity != 0,
                },
                Some(IrqKind::Msi) => IrqSource::Msi {
                    pci: q.pci.get() as usize,
                    handle: q.pin.get(),
                },
                Some(IrqKind::MsiX) => IrqSource::MsiX {
                    pci: q.pci.get() as usize,
                    entry: u16::try_from(q.pin.get())
                        .map_err(|_| FromSpecError(format!("IRQ {i}: MSI-X entry out of range")))?,
                },
                None => return Err(unknown("IRQ kind", q.kind)),
            };
            let name = handler_names.get(&i).copied().unwrap_or("");
            Ok(IrqBinding {
                component: q.component.get() as usize,
                name: name.strip_prefix("irq.").unwrap_or(name).to_string(),
                source,
                vector: q.vector.get() as u8,
                notification: q.notification.get() as usize,
                badge_bit: badge.trailing_zeros(),
                slot: q.slot.get(),
            })
        })
        .collect()
}

/// PCI devices, their BARs read from their device frames (one object per
/// mapped BAR, in declaration order).
fn pci(spec: &Spec, objects: &[Object]) -> Vec<PciPlan> {
    spec.pci
        .iter()
        .enumerate()
        .map(|(i, p)| PciPlan {
            owner: p.owner.get() as usize,
            name: spec.str(p.name).to_string(),
            selector: if p.flags & PCI_HAS_ID != 0 {
                PciSelector::Id {
                    vendor: p.vendor.get(),
                    device: p.device.get(),
                }
            } else {
                PciSelector::At {
                    bus: p.bus,
                    dev: p.dev,
                    func: p.func,
                }
            },
            domain: p.domain.get(),
            bars: objects
                .iter()
                .filter(|o| o.kind == ObjectKind::DeviceFrames && o.pci == Some(i))
                .map(|o| (o.aux as u8, u64::from(o.count) * PAGE_SIZE))
                .collect(),
            bus_master: p.flags & PCI_BUS_MASTER != 0,
            intx: (p.flags & PCI_INTX != 0 && p.intx_irq.get() != NONE)
                .then_some(p.intx_irq.get() as usize),
            msi: (p.msi_count > 0).then_some(MsiBlock {
                first_vector: p.msi_vector,
                messages: p.msi_count,
            }),
        })
        .collect()
}
