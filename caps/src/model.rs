//! The validated system: what the planner reads.
//!
//! [`crate::validate::validate`] builds a [`Model`] from a
//! [`crate::Description`] only when the description has no error. Every
//! value here is typed and checked: numbers have the widths the kernel and
//! the spec use, PCI selectors are parsed, names of other components are
//! indices, and every IRQ has its kernel vector. The planner can therefore
//! not meet an impossible value, and has no fallback for one.
//!
//! Order is the description's: component `i` here is the description's
//! `[[component]]` number `i`, and so for every list. Checks that need a
//! place in the text after planning (`crate::limits`) rely on that to find
//! the span of what they name.

use crate::description::Restart;
use paddock_kernel::config::KernelConfig;

/// Index of a component in [`Model::components`].
pub type ComponentId = usize;

/// A whole validated system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    pub name: String,
    pub kernel: KernelConfig,
    pub memory_mib: u32,
    /// `[system] accept_unconfined_dma`: whether a device may master the
    /// bus with no IOMMU confining it.
    pub accept_unconfined_dma: bool,
    pub components: Vec<Component>,
    pub rings: Vec<Ring>,
    pub channels: Vec<Channel>,
    pub shared: Vec<Shared>,
}

impl AsRef<Model> for Model {
    fn as_ref(&self) -> &Model {
        self
    }
}

impl Model {
    pub fn iommu(&self) -> bool {
        self.kernel.iommu
    }
}

/// One isolated program, driver or client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Component {
    pub name: String,
    pub program: String,
    pub priority: u8,
    pub cnode_bits: u8,
    pub stack_size: u64,
    /// 0 for none.
    pub heap_size: u64,
    pub restart: Restart,
    pub io_ports: Vec<IoPorts>,
    pub irqs: Vec<Irq>,
    pub pci: Vec<PciDevice>,
    /// Platform device memory, by physical address.
    pub mmio: Vec<Mmio>,
    /// `[component.params]`, in name order.
    pub params: Vec<(String, u64)>,
}

impl Component {
    /// Whether the component owns any device resource.
    pub fn is_driver(&self) -> bool {
        !(self.io_ports.is_empty()
            && self.irqs.is_empty()
            && self.pci.is_empty()
            && self.mmio.is_empty())
    }
}

/// An inclusive range of x86 IO ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoPorts {
    pub name: String,
    pub first: u16,
    pub last: u16,
}

/// Device memory at a fixed physical address, mapped uncached into its
/// driver (`[[component.mmio]]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mmio {
    pub name: String,
    /// Page-aligned physical address.
    pub paddr: u64,
    /// Bytes, a whole number of pages.
    pub size: u64,
}

/// An interrupt and the kernel vector it is delivered on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Irq {
    pub name: String,
    pub source: IrqSource,
    /// The kernel's vector (CPU vector 0x30 + this): the declared one, or
    /// the one validation chose.
    pub vector: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqSource {
    IoApic {
        pin: u8,
        level: bool,
        active_low: bool,
    },
    /// Message `message` of the component's PCI device number `pci` (an
    /// index into [`Component::pci`]). A device's messages are numbered in
    /// declaration order from 0, and their vectors form one block.
    Msi { pci: usize, message: u8 },
    /// Entry `entry` of the MSI-X table of the component's PCI device
    /// number `pci`: a vector of its own, programmed by the root task.
    MsiX { pci: usize, entry: u16 },
}

/// How a PCI function is found on the bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PciSelector {
    /// By vendor and device id, wherever it is.
    Id { vendor: u16, device: u16 },
    /// At a fixed bus, device and function.
    At { bus: u8, dev: u8, func: u8 },
}

impl PciSelector {
    /// How reports show it: `vvvv:dddd` or `bb:dd.f`.
    pub fn label(self) -> String {
        match self {
            PciSelector::Id { vendor, device } => format!("{vendor:04x}:{device:04x}"),
            PciSelector::At { bus, dev, func } => format!("{bus:02x}:{dev:02x}.{func:x}"),
        }
    }
}

/// A PCI function given to a driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PciDevice {
    pub name: String,
    pub selector: PciSelector,
    pub bars: Vec<Bar>,
    pub dma: Vec<DmaWindow>,
    /// `unconfined_dma = true`: the device masters the bus on a system
    /// without an IOMMU.
    pub unconfined_dma: bool,
    /// What the driver may do with the function's configuration space.
    pub config: ConfigAccess,
    /// The IOAPIC pin its driver declares (its own line, or a shared line
    /// whose holder stands in for it): the device may signal through INTx
    /// when it has no MSI, and the root task checks at boot that the
    /// machine's routing takes its INTx pin there.
    pub intx: Option<u8>,
}

/// A driver's access to its function's configuration space, served by
/// the root task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfigAccess {
    #[default]
    None,
    Read,
    /// Reads, and writes the root task's policy allows.
    ReadWrite,
}

impl ConfigAccess {
    /// How descriptions and reports spell it.
    pub fn text(self) -> &'static str {
        match self {
            ConfigAccess::None => "none",
            ConfigAccess::Read => "read",
            ConfigAccess::ReadWrite => "read-write",
        }
    }
}

/// A memory BAR mapped into the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bar {
    pub index: u8,
    pub size: u64,
}

/// A buffer the device reaches through the IOMMU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmaWindow {
    pub name: String,
    pub iova: u64,
    pub size: u64,
    /// The components that map the buffer (the driver when the
    /// description says nothing; none for device-only memory).
    pub mapped_by: Vec<ComponentId>,
}

/// A single-producer, single-consumer descriptor ring.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ring {
    pub name: String,
    pub producer: ComponentId,
    pub consumer: ComponentId,
    pub slots: u32,
    /// Bytes of the region holding both queues, a whole number of pages.
    pub queues_size: u64,
    pub data_size: u64,
}

/// A pair of wake-ups between two different components.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub name: String,
    pub ends: [ComponentId; 2],
    /// Which end (0 or 1) serves calls on the channel's endpoint, if it
    /// has one.
    pub server: Option<usize>,
}

/// A memory region mapped by the components listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shared {
    pub name: String,
    pub size: u64,
    pub cached: bool,
    pub maps: Vec<SharedMap>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SharedMap {
    pub component: ComponentId,
    pub access: Access,
}

/// The rights of a shared mapping; writable and executable together is
/// refused by validation, so it has no value here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    ReadWrite,
    ReadExecute,
}
