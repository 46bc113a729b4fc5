//! Bringing the component's virtio-blk device up from the plan: its
//! configuration space, its BARs, its `queues` window and the MSI-X
//! entries of IRQs `queue` and (if planned) `config`. Shared by the
//! isolated driver, the benchmark that links the driver into its client,
//! and the compromised driver of the DMA test, so all three bring up the
//! same device the same way.

use crate::memory;
use paddock_blk::Geometry;
use paddock_runtime::{log, Component};
use paddock_virtio::blk::{BlkDevice, BlkInfo, Interrupts, SECTOR_BYTES};
use paddock_virtio::{MappedRegion, Transport};

/// Virtqueue entries (the device may offer fewer).
pub const QUEUE: usize = 128;
/// Requests one client may have in flight, unless the driver's
/// `queue_depth` parameter says otherwise.
pub const DEFAULT_DEPTH: u32 = 32;
/// Most blocks one client request moves: 64 KiB.
pub const MAX_BLOCKS: u32 = 128;

/// The device, with a queue of [`QUEUE`] entries.
pub type Device = BlkDevice<'static, MappedRegion, QUEUE>;

/// Brings the device up; the error names what is missing or refused (the
/// device's own error is logged first).
pub fn bring_up(c: &Component) -> Result<(Device, Interrupts), &'static str> {
    let config = c
        .pci_config("blk")
        .map_err(|_| "no configuration access to `blk`")?;
    let transport = Transport::new(&config, memory::bars(c)).map_err(|e| {
        log!("the device's virtio structures: {e}");
        "no usable virtio transport"
    })?;
    let entry = |irq: &str| c.param(irq).and_then(|e| u16::try_from(e).ok());
    let interrupts = Interrupts {
        config: entry("irq.config"),
        queue: Some(entry("irq.queue").ok_or("no MSI-X entry for IRQ `queue`")?),
    };
    let (queue, requests) = memory::queue(c, QUEUE as u16)?;
    let device = BlkDevice::new(transport, queue, requests, interrupts).map_err(|e| {
        log!("bringing the device up: {e}");
        "the device did not come up"
    })?;
    Ok((device, interrupts))
}

/// What clients are told of a device described by `info`, with `depth`
/// requests in flight each.
pub fn geometry(info: &BlkInfo, depth: u32) -> Geometry {
    Geometry {
        capacity_blocks: info.capacity,
        block_size: SECTOR_BYTES as u32,
        queue_depth: depth,
        max_blocks_per_request: MAX_BLOCKS,
        read_only: info.read_only,
    }
}
