//! The driver's memory, from the plan's symbols: the BARs of its device,
//! the virtqueue and request slots in its `queues` DMA window, and the
//! control region it shares with each client. The unsafe views are made
//! here, once, over regions the root task mapped for the component's whole
//! life.

use paddock_blk::{Control, ControlLayout};
use paddock_component_support::pci::{dma_window, window_part as part};
use paddock_runtime::{Component, Region};
use paddock_virtio::blk::request::SLOT_BYTES;
use paddock_virtio::blk::RequestMemory;
use paddock_virtio::queue::layout::{avail_ring_bytes, descriptor_table_bytes, QueueMemory};
use paddock_virtio::MappedRegion;

/// The driver's own DMA window: the virtqueue and request slots.
pub const QUEUES_WINDOW: &str = "dma.blk.queues";
/// Every other window of the device is a client's: `dma.blk.<client>`,
/// with its control region `shared.<client>-blk-control` and its channel
/// `channel.<client>-blk`. The driver knows a client's window only by its
/// IOVA; the client alone maps it.
pub const CLIENT_WINDOW_PREFIX: &str = "dma.blk.";

/// `<prefix><client><suffix>`.
pub use paddock_component_support::names::symbol as client_symbol;

const PAGE: u64 = 4096;

/// Every BAR of `blk` the plan mapped into this component.
pub fn bars(c: &Component) -> [Option<MappedRegion>; 6] {
    paddock_component_support::pci::bars(c, "blk")
}

/// Where the `queues` window is for the driver and for the device.
fn queues_window(c: &Component) -> Result<(Region, u64), &'static str> {
    let (mapped, iova) = dma_window(c, QUEUES_WINDOW)?;
    if mapped.size < 2 * PAGE {
        return Err("the `queues` DMA window is smaller than two pages");
    }
    Ok((mapped, iova))
}

/// A virtqueue of `size` entries in the first page of the `queues` window
/// (descriptor table, then available and used rings, each aligned as the
/// virtio spec asks), and its request slots in the second page.
pub fn queue(
    c: &Component,
    size: u16,
) -> Result<(QueueMemory<'static>, RequestMemory<'static>), &'static str> {
    let (window, iova) = queues_window(c)?;
    let descriptors = descriptor_table_bytes(size);
    let available = avail_ring_bytes(size);
    let used_at = (descriptors + available).next_multiple_of(4);
    let slots = usize::from(size) * SLOT_BYTES;
    // The window has two pages (`queues_window`): the rings must fit the
    // first, the request slots the second.
    if used_at as u64 >= PAGE || slots as u64 > PAGE {
        return Err("the queue does not fit the first page of the `queues` window");
    }
    let used = PAGE as usize - used_at;
    // SAFETY: the three parts lie in the first page of the window, which
    // the root task mapped read-write for the component's life, and do not
    // overlap (descriptor table, then the available ring, then the used
    // ring from a 4-byte boundary to the end of the page); nothing else in
    // this component views them.
    let queue = unsafe {
        QueueMemory::from_raw(
            part(&window, iova, 0, descriptors),
            part(&window, iova, descriptors as u64, available),
            part(&window, iova, used_at as u64, used),
            size,
        )
    }
    .map_err(|_| "the virtqueue does not fit its memory")?;
    // SAFETY: the second page of the same window, disjoint from the first;
    // viewed only here.
    let requests = unsafe {
        RequestMemory::from_raw(part(&window, iova, PAGE, PAGE as usize), usize::from(size))
    }
    .map_err(|_| "the request slots do not fit their page")?;
    Ok((queue, requests))
}

/// Client `client`'s control region, laid out for `depth` requests in
/// flight.
pub fn control(c: &Component, client: &str, depth: u32) -> Result<Control<'static>, &'static str> {
    let name = client_symbol("shared.", client, "-blk-control");
    let region = c
        .region(&name)
        .map_err(|_| "no control region `shared.<client>-blk-control`")?;
    let layout = ControlLayout::for_depth(depth).map_err(|_| "no control layout for this depth")?;
    // SAFETY: the root task mapped the region read-write for the
    // component's life; this component reaches it only through the views
    // `from_raw` makes (atomics); the client may write anything there.
    unsafe { Control::from_raw(region.vaddr as *mut u8, region.size as usize, layout) }
        .map_err(|_| "a control region is too small for the control layout")
}
