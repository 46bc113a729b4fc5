//! The driver's memory, from the plan's symbols: the BARs of its device,
//! the two virtqueues and the frame headers in its `queues` DMA window,
//! and its pool of receive buffers in the `pool` window. The unsafe views
//! are made here, once, over regions the root task mapped for the
//! component's whole life.
//!
//! ```text
//! `queues` window (20 KiB)
//! page  contents
//!    0  receive queue: descriptor table (16 bytes per entry)
//!    1  receive queue: available ring, then the used ring from a 4-byte boundary
//!    2  transmit queue: descriptor table
//!    3  transmit queue: available ring, used ring
//!    4  frame headers: the transmit header and the receive header
//! ```

use core::sync::atomic::AtomicU8;

use paddock_runtime::Component;
use paddock_virtio::blk::request::SLOT_BYTES;
use paddock_virtio::blk::RequestMemory;
use paddock_virtio::queue::layout::{avail_ring_bytes, descriptor_table_bytes, QueueMemory};
use paddock_virtio::MappedRegion;

/// The driver's own DMA window: the virtqueues and frame headers.
pub const QUEUES_WINDOW: &str = "dma.net.queues";
/// The driver's receive pool: the device writes every frame here first.
pub const RX_WINDOW: &str = "dma.net.pool";
/// Every other window of the device is a client's: `dma.net.<client>`,
/// with its control region `shared.<client>-net-control` and its channel
/// `channel.<client>-net`.
pub const CLIENT_WINDOW_PREFIX: &str = "dma.net.";

/// `<prefix><client><suffix>`.
pub use paddock_component_support::names::symbol as client_symbol;

const PAGE: u64 = 4096;
/// Pages of the `queues` window.
pub const QUEUES_PAGES: u64 = 5;

/// Every BAR of `net` the plan mapped into this component.
pub fn bars(c: &Component) -> [Option<MappedRegion>; 6] {
    paddock_component_support::pci::bars(c, "net")
}

pub use paddock_component_support::pci::dma_window as window;
use paddock_component_support::pci::window_part as part;

/// The device's queues and headers.
pub struct Queues {
    pub rx: QueueMemory<'static>,
    pub tx: QueueMemory<'static>,
    pub headers: RequestMemory<'static>,
}

/// Both virtqueues of `size` entries (at most 256: a descriptor table fills
/// its page) and the header slots, laid out as the module says.
pub fn queues(c: &Component, size: u16) -> Result<Queues, &'static str> {
    let (window, iova) = window(c, QUEUES_WINDOW)?;
    if window.size < QUEUES_PAGES * PAGE {
        return Err("the `queues` DMA window is smaller than five pages");
    }
    let descriptors = descriptor_table_bytes(size);
    let available = avail_ring_bytes(size);
    let used_at = available.next_multiple_of(4);
    if descriptors as u64 > PAGE || used_at as u64 >= PAGE {
        return Err("the virtqueues do not fit their pages");
    }
    let used = PAGE as usize - used_at;
    let queue = |first_page: u64| {
        let table = first_page * PAGE;
        let rings = table + PAGE;
        // SAFETY: the three parts lie in two pages of the window, which the
        // root task mapped read-write for the component's life, and do not
        // overlap (the descriptor table in the first page; the available
        // ring, then the used ring from a 4-byte boundary, in the second);
        // each queue gets its own two pages and nothing else in this
        // component views them.
        unsafe {
            QueueMemory::from_raw(
                part(&window, iova, table, descriptors),
                part(&window, iova, rings, available),
                part(&window, iova, rings + used_at as u64, used),
                size,
            )
        }
        .map_err(|_| "a virtqueue does not fit its memory")
    };
    let rx = queue(0)?;
    let tx = queue(2)?;
    // SAFETY: page 4 of the same window, disjoint from the queues' pages;
    // viewed only here.
    let headers =
        unsafe { RequestMemory::from_raw(part(&window, iova, 4 * PAGE, SLOT_BYTES * 2), 2) }
            .map_err(|_| "the frame headers do not fit their page")?;
    Ok(Queues { rx, tx, headers })
}

/// A window's bytes as atomics (the device, and for a client's window the
/// client, may write them at any time).
pub fn bytes(c: &Component, name: &str) -> Result<(&'static [AtomicU8], u64), &'static str> {
    let (window, iova) = window(c, name)?;
    let len = usize::try_from(window.size).map_err(|_| "a DMA window is too large")?;
    // SAFETY: the root task mapped the window read-write for the
    // component's life; this component views it only as atomics made
    // here, once per window, so the peer's and the device's writes are
    // values to check, never undefined behaviour.
    let bytes = unsafe { core::slice::from_raw_parts(window.vaddr as *const AtomicU8, len) };
    Ok((bytes, iova))
}
