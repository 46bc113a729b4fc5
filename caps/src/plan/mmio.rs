//! Device memory named by physical address (`[[component.mmio]]`): one
//! platform-frames object per declaration, at its address, mapped
//! uncached into its driver.

use super::planner::Planner;
use super::*;
use crate::model::Component;
use crate::symbols as sym;

/// Plans component `ci`'s device memory, in declaration order.
pub(super) fn map_device_memory(p: &mut Planner, ci: usize, c: &Component) {
    for m in &c.mmio {
        let name = sym::mmio(&m.name);
        let o = p.object(
            ObjectKind::PlatformFrames,
            name.clone(),
            Owner::Component(ci),
            pages(m.size),
        );
        p.plan.objects[o].base = m.paddr;
        // Device registers: uncached, never executable.
        p.map(
            ci,
            o,
            m.size,
            MapRights::RW,
            false,
            MapPurpose::DeviceMemory,
            name,
        );
    }
}
