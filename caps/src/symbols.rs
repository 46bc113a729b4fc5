//! The names a component finds on its info page, spelled in one place.
//!
//! The planner names every slot, badge bit, region and IOVA with these;
//! validation derives the same names from a description to refuse one that
//! is too long for the info page or that two declarations would share
//! before anything is planned.

/// The component's fault endpoint (a slot).
pub const FAULT: &str = "fault";
/// The component's own notification (a slot).
pub const NOTIFICATION: &str = "notification";
/// The badge bit the root task signals with.
pub const ROOT: &str = "root";
pub const IPC_BUFFER: &str = "ipc_buffer";
pub const STACK: &str = "stack";
pub const HEAP: &str = "heap";

/// An IRQ handler's slot and its badge bit; for an MSI-X IRQ also a
/// parameter, the table entry the root task programmed for it.
pub fn irq(name: &str) -> String {
    format!("irq.{name}")
}

/// An IO port range's slot.
pub fn io(name: &str) -> String {
    format!("io.{name}")
}

/// A ring's signal cap and badge bit.
pub fn ring(name: &str) -> String {
    format!("ring.{name}")
}

/// A ring's queues region.
pub fn ring_queues(name: &str) -> String {
    format!("ring.{name}.queues")
}

/// A ring's data region.
pub fn ring_data(name: &str) -> String {
    format!("ring.{name}.data")
}

/// A channel's signal cap and badge bit.
pub fn channel(name: &str) -> String {
    format!("channel.{name}")
}

/// A channel's endpoint: the server's receive cap, the other end's call
/// cap.
pub fn endpoint(name: &str) -> String {
    format!("endpoint.{name}")
}

/// A shared region.
pub fn shared(name: &str) -> String {
    format!("shared.{name}")
}

/// A PCI device's BAR, mapped into its driver.
pub fn bar(device: &str, index: u8) -> String {
    format!("{device}.bar{index}")
}

/// A DMA window: its IOVA for the driver, its buffer for each mapper.
pub fn dma(device: &str, window: &str) -> String {
    format!("dma.{device}.{window}")
}

/// A PCI device's configuration-space cap, in its driver.
pub fn pci_config(device: &str) -> String {
    format!("pci.{device}")
}

/// Device memory declared by physical address (`[[component.mmio]]`),
/// mapped into its driver.
pub fn mmio(name: &str) -> String {
    format!("mmio.{name}")
}

#[cfg(test)]
mod tests {
    use paddock_protocol::component::{LOG_CAP_NAME, LOG_PORT_NAME};

    #[test]
    fn the_runtime_finds_the_log_port_cap_by_the_planned_name() {
        assert_eq!(super::io(LOG_PORT_NAME), LOG_CAP_NAME);
    }
}
