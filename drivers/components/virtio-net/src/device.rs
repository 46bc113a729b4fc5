//! Bringing the component's virtio-net device up from the plan: its
//! configuration space, its BARs, its `queues` window and the MSI-X
//! entries of IRQs `rx`, `tx` and (if planned) `config`. Shared by the
//! isolated driver and the benchmark client that links the driver in.

use crate::memory;
use paddock_runtime::{log, Component};
use paddock_virtio::net::{NetDevice, NetInterrupts};
use paddock_virtio::{MappedRegion, Transport};

/// Entries of each virtqueue; a frame takes two (header and buffer), so
/// up to `QUEUE / 2` frames are with the device in each direction.
pub const QUEUE: usize = 256;

/// The device, with queues of [`QUEUE`] entries.
pub type Device = NetDevice<'static, MappedRegion, QUEUE>;

/// Brings the device up; the error names what is missing or refused (the
/// device's own error is logged first).
pub fn bring_up(c: &Component) -> Result<(Device, NetInterrupts), &'static str> {
    let config = c
        .pci_config("net")
        .map_err(|_| "no configuration access to `net`")?;
    let transport = Transport::new(&config, memory::bars(c)).map_err(|e| {
        log!("the device's virtio structures: {e}");
        "no usable virtio transport"
    })?;
    let entry = |irq: &str| c.param(irq).and_then(|e| u16::try_from(e).ok());
    let interrupts = NetInterrupts {
        config: entry("irq.config"),
        rx: Some(entry("irq.rx").ok_or("no MSI-X entry for IRQ `rx`")?),
        tx: Some(entry("irq.tx").ok_or("no MSI-X entry for IRQ `tx`")?),
    };
    let queues = memory::queues(c, QUEUE as u16)?;
    let device = NetDevice::new(transport, queues.rx, queues.tx, queues.headers, interrupts)
        .map_err(|e| {
            log!("bringing the device up: {e}");
            "the device did not come up"
        })?;
    Ok((device, interrupts))
}
