//! A PCI device's BARs as the plan mapped them, as bounds-checked register
//! windows for `paddock-virtio`'s transport, and its DMA windows as the
//! driver and the device each see them.

use paddock_runtime::{Component, Region};
use paddock_virtio::{Iova, MappedRegion, Part};

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

/// DMA window `name` (`dma.<device>.<window>`) as this component maps it,
/// with the IO address the device uses for its start. A window the plan
/// does not give is logged by name and refused.
pub fn dma_window(c: &Component, name: &str) -> Result<(Region, u64), &'static str> {
    let missing = |what: &'static str| {
        paddock_runtime::log!("DMA window `{name}`: {what}");
        what
    };
    let mapped = c
        .region(name)
        .map_err(|_| missing("a DMA window is not mapped"))?;
    let iova = c
        .iova(name)
        .map_err(|_| missing("a DMA window has no IOVA"))?;
    Ok((mapped, iova.vaddr))
}

/// `len` bytes at `offset` in a DMA window mapped at `window` whose device
/// address is `iova`: the same bytes for the driver and for the device.
pub fn window_part(window: &Region, iova: u64, offset: u64, len: usize) -> Part {
    Part {
        vaddr: (window.vaddr + offset) as *mut u8,
        len,
        iova: Iova(iova + offset),
    }
}
