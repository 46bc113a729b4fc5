//! A PCI device's BARs as the plan mapped them, as bounds-checked register
//! windows for `paddock-virtio`'s transport.

use paddock_runtime::Component;
use paddock_virtio::MappedRegion;

use crate::names::symbol;

/// Every BAR of device `device` the plan mapped into this component
/// (symbols `<device>.bar0` to `<device>.bar5`).
pub fn bars(c: &Component, device: &str) -> [Option<MappedRegion>; 6] {
    const INDEX: [&str; 6] = ["0", "1", "2", "3", "4", "5"];
    INDEX.map(|i| {
        let region = c.region(&symbol(device, ".bar", i)).ok()?;
        let base = core::ptr::NonNull::new(region.vaddr as *mut u8)?;
        // SAFETY: the root task mapped the BAR uncached at `vaddr` for
        // `size` bytes, for the component's life; the caller makes one
        // set of views of a device's BARs, through this function only.
        Some(unsafe { MappedRegion::new(base, usize::try_from(region.size).ok()?) })
    })
}
