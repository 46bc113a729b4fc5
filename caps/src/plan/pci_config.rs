//! Configuration-space caps: one per PCI device whose description grants
//! its driver `config` access.
//!
//! The cap is a copy of the root task's fault endpoint with send and grant
//! rights (seL4 5.0 gives a caller a reply only through a cap with grant;
//! the root task names no receive slot, so no cap a driver sends ever
//! arrives) and a badge that names the PCI record and whether the driver
//! may write ([`paddock_spec::pci_config::badge`]). It is named
//! `pci.<device>` on the driver's info page.

use super::planner::Planner;
use super::{CapKind, CapRights};
use crate::model::{Component, ConfigAccess};

/// Adds component `ci`'s configuration-space caps, in device order;
/// `pci_base` is the plan index of its first device.
pub(super) fn config_caps(p: &mut Planner, ci: usize, c: &Component, pci_base: usize) {
    for (k, dev) in c.pci.iter().enumerate() {
        let write = match dev.config {
            ConfigAccess::None => continue,
            ConfigAccess::Read => false,
            ConfigAccess::ReadWrite => true,
        };
        let badge = paddock_spec::pci_config::badge((pci_base + k) as u32, write);
        let endpoint = p.plan.fault_endpoint;
        p.cap(
            ci,
            CapKind::PciConfig,
            Some(endpoint),
            CapRights::FAULT,
            badge,
            crate::symbols::pci_config(&dev.name),
        );
    }
}
