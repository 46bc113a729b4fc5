//! The system description: what `images/<name>.toml` may say.
//!
//! Every value that validation may need to point at is kept as a
//! [`Spanned`] so that an error can name `file:line:column`. Unknown fields
//! are rejected (`deny_unknown_fields`); the diagnostics module turns serde's
//! "unknown field" message into a suggestion of the nearest valid name.
//!
//! `[system]` is the exception: the image builder reads it as plain values,
//! so it is parsed through [`RawSystem`] and keeps its spans on the side.

use paddock_kernel::config::{Flavour, KernelConfig};
use serde::{de, Deserialize, Deserializer};
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

pub use toml::Spanned;

/// A byte range in the description's source text.
pub type Span = Range<usize>;

/// The text a description was parsed from, kept for diagnostics.
#[derive(Clone, Debug, Default)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

/// A whole system: `[system]` plus the component and connection tables.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Description {
    pub system: System,
    #[serde(default, rename = "component")]
    pub components: Vec<Component>,
    #[serde(default, rename = "ring")]
    pub rings: Vec<Ring>,
    #[serde(default, rename = "channel")]
    pub channels: Vec<Channel>,
    #[serde(default, rename = "shared")]
    pub shared: Vec<SharedRegion>,
    #[serde(default, rename = "disk")]
    pub disks: Vec<Disk>,
    #[serde(default, rename = "network")]
    pub networks: Vec<Network>,
    #[serde(skip)]
    pub source: Source,
}

impl Description {
    pub fn component(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.name() == name)
    }

    pub fn component_index(&self, name: &str) -> Option<usize> {
        self.components.iter().position(|c| c.name() == name)
    }
}

/// `[system]`: what the kernel and QEMU must provide.
#[derive(Clone, Debug)]
pub struct System {
    pub name: String,
    pub kernel: Flavour,
    pub iommu: bool,
    pub memory_mib: u32,
    pub qemu_machine: Machine,
    pub qemu_devices: Vec<String>,
    /// Whether a PCI device may master the bus with no IOMMU confining it
    /// (`unconfined_dma = true` on the device); the audit fails such a
    /// device unless this is set.
    pub accept_unconfined_dma: bool,
    pub spans: SystemSpans,
}

/// Where each `[system]` value was written (empty when defaulted).
#[derive(Clone, Debug, Default)]
pub struct SystemSpans {
    pub name: Span,
    pub kernel: Span,
    pub iommu: Span,
    pub memory_mib: Span,
    pub qemu_machine: Span,
    pub qemu_devices: Span,
    /// One span per entry of `qemu_devices`.
    pub qemu_device: Vec<Span>,
    pub accept_unconfined_dma: Span,
}

impl System {
    /// The kernel configuration this system needs.
    pub fn kernel_config(&self) -> KernelConfig {
        KernelConfig {
            flavour: self.kernel,
            iommu: self.iommu,
        }
    }

    /// QEMU arguments that follow from the description: machine, memory and
    /// devices. The runner adds the CPU, serial and image arguments.
    pub fn qemu_args(&self) -> Vec<String> {
        let mut args = vec![
            "-machine".to_string(),
            self.qemu_machine.name().to_string(),
            "-m".to_string(),
            format!("{}M", self.memory_mib),
        ];
        for d in &self.qemu_devices {
            args.push("-device".to_string());
            args.push(d.clone());
        }
        args
    }
}

/// The QEMU machine model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Machine {
    /// i440FX, QEMU's default PC.
    Pc,
    /// Q35: PCIe, and the only machine with `intel-iommu`.
    Q35,
}

impl Machine {
    pub fn name(self) -> &'static str {
        match self {
            Machine::Pc => "pc",
            Machine::Q35 => "q35",
        }
    }
}

/// Default guest memory: enough for the kernel, the root task's untypeds
/// and dozens of components.
pub const DEFAULT_MEMORY_MIB: u32 = 512;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSystem {
    name: Spanned<String>,
    #[serde(deserialize_with = "flavour")]
    kernel: Spanned<Flavour>,
    #[serde(default)]
    iommu: Option<Spanned<bool>>,
    #[serde(default, deserialize_with = "memory_mib")]
    memory_mib: Option<Spanned<u32>>,
    #[serde(default)]
    qemu_machine: Option<Spanned<Machine>>,
    #[serde(default)]
    qemu_devices: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    accept_unconfined_dma: Option<Spanned<bool>>,
}

fn flavour<'de, D: Deserializer<'de>>(d: D) -> Result<Spanned<Flavour>, D::Error> {
    let s = Spanned::<String>::deserialize(d)?;
    let span = s.span();
    let f = s.get_ref().parse::<Flavour>().map_err(de::Error::custom)?;
    Ok(Spanned::new(span, f))
}

/// Any integer, so that one past `u32` is refused with the field's own
/// range rather than the type's.
fn memory_mib<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Spanned<u32>>, D::Error> {
    let n = Spanned::<i64>::deserialize(d)?;
    let span = n.span();
    let mib = u32::try_from(*n.get_ref()).map_err(|_| {
        de::Error::custom(format!(
            "memory_mib {} is outside {}..={}",
            n.get_ref(),
            crate::validate::MIN_MEMORY_MIB,
            crate::validate::MAX_MEMORY_MIB
        ))
    })?;
    Ok(Some(Spanned::new(span, mib)))
}

fn split<T: Clone>(v: &Option<Spanned<T>>, default: T) -> (T, Span) {
    match v {
        Some(s) => (s.get_ref().clone(), s.span()),
        None => (default, 0..0),
    }
}

impl<'de> Deserialize<'de> for System {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawSystem::deserialize(d)?;
        let (iommu, iommu_span) = split(&raw.iommu, false);
        let (memory_mib, memory_span) = split(&raw.memory_mib, DEFAULT_MEMORY_MIB);
        let (qemu_machine, machine_span) = split(&raw.qemu_machine, Machine::Pc);
        let (devices, devices_span) = split(&raw.qemu_devices, Vec::new());
        let (accept, accept_span) = split(&raw.accept_unconfined_dma, false);
        Ok(System {
            name: raw.name.get_ref().clone(),
            kernel: *raw.kernel.get_ref(),
            iommu,
            memory_mib,
            qemu_machine,
            qemu_devices: devices.iter().map(|d| d.get_ref().clone()).collect(),
            accept_unconfined_dma: accept,
            spans: SystemSpans {
                name: raw.name.span(),
                kernel: raw.kernel.span(),
                iommu: iommu_span,
                memory_mib: memory_span,
                qemu_machine: machine_span,
                qemu_devices: devices_span,
                qemu_device: devices.iter().map(|d| d.span()).collect(),
                accept_unconfined_dma: accept_span,
            },
        })
    }
}

/// Defaults of a component's optional fields.
pub const DEFAULT_PRIORITY: i64 = 100;
pub const DEFAULT_STACK_SIZE: u64 = 16 * 1024;
pub const DEFAULT_HEAP_SIZE: u64 = 64 * 1024;
pub const DEFAULT_CNODE_SIZE_BITS: i64 = 8;

fn spanned<T>(v: T) -> Spanned<T> {
    Spanned::new(0..0, v)
}
fn default_priority() -> Spanned<i64> {
    spanned(DEFAULT_PRIORITY)
}
fn default_stack() -> Spanned<u64> {
    spanned(DEFAULT_STACK_SIZE)
}
fn default_heap() -> Spanned<u64> {
    spanned(DEFAULT_HEAP_SIZE)
}
fn default_cnode_bits() -> Spanned<i64> {
    spanned(DEFAULT_CNODE_SIZE_BITS)
}
fn default_restart() -> Spanned<Restart> {
    spanned(Restart::Never)
}
fn default_true() -> Spanned<bool> {
    spanned(true)
}

/// `[[component]]`: one isolated program, driver or client.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub name: Spanned<String>,
    /// The crate (binary) that builds this component.
    pub program: Spanned<String>,
    #[serde(default = "default_priority")]
    pub priority: Spanned<i64>,
    #[serde(default = "default_stack")]
    pub stack_size: Spanned<u64>,
    #[serde(default = "default_heap")]
    pub heap_size: Spanned<u64>,
    #[serde(default = "default_restart")]
    pub restart: Spanned<Restart>,
    #[serde(default = "default_cnode_bits")]
    pub cnode_size_bits: Spanned<i64>,
    #[serde(default, rename = "io_port")]
    pub io_ports: Vec<IoPortRange>,
    #[serde(default, rename = "irq")]
    pub irqs: Vec<Irq>,
    #[serde(default, rename = "pci")]
    pub pci_devices: Vec<PciDevice>,
    /// Platform device memory named by physical address (`[[component.mmio]]`).
    #[serde(default, rename = "mmio")]
    pub mmio: Vec<Mmio>,
    /// Settings the program reads by name at run time (line speed, modes):
    /// plain numbers, carried unchanged to the component's info page.
    #[serde(default)]
    pub params: std::collections::BTreeMap<Spanned<String>, Spanned<u64>>,
}

impl Component {
    pub fn name(&self) -> &str {
        self.name.get_ref()
    }
    pub fn program(&self) -> &str {
        self.program.get_ref()
    }
    /// Whether the component owns any device resource.
    pub fn is_driver(&self) -> bool {
        !(self.io_ports.is_empty()
            && self.irqs.is_empty()
            && self.pci_devices.is_empty()
            && self.mmio.is_empty())
    }
}

/// What the root task does when a component faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// Report the fault and leave the component stopped.
    Never,
    /// Restart after every fault.
    Always,
    /// Restart at most this many times, then leave it stopped.
    Limit(u32),
}

impl fmt::Display for Restart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Restart::Never => f.write_str("never"),
            Restart::Always => f.write_str("always"),
            Restart::Limit(n) => write!(f, "at most {n} times"),
        }
    }
}

impl<'de> Deserialize<'de> for Restart {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Restart;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`never`, `always` or a restart count (1 or more)")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Restart, E> {
                match s {
                    "never" => Ok(Restart::Never),
                    "always" => Ok(Restart::Always),
                    _ => Err(E::unknown_variant(s, &["never", "always"])),
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Restart, E> {
                match u32::try_from(n) {
                    Ok(n) if n > 0 => Ok(Restart::Limit(n)),
                    _ => Err(E::invalid_value(de::Unexpected::Signed(n), &self)),
                }
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Restart, E> {
                match u32::try_from(n) {
                    Ok(n) if n > 0 => Ok(Restart::Limit(n)),
                    _ => Err(E::invalid_value(de::Unexpected::Unsigned(n), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `[[component.io_port]]`: an inclusive range of x86 IO ports.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IoPortRange {
    pub name: Spanned<String>,
    pub first: Spanned<i64>,
    pub last: Spanned<i64>,
}

/// `[[component.irq]]`: an IOAPIC pin or the MSI of one of the
/// component's PCI devices.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Irq {
    pub name: Spanned<String>,
    #[serde(default)]
    pub ioapic_pin: Option<Spanned<i64>>,
    #[serde(default)]
    pub trigger: Option<Spanned<Trigger>>,
    #[serde(default)]
    pub polarity: Option<Spanned<Polarity>>,
    /// `shared = true`: this driver agrees to share its IOAPIC pin with
    /// other drivers that say the same.
    #[serde(default)]
    pub shared: Option<Spanned<bool>>,
    /// On a shared line: the longest, in TSC ticks, this driver lets its
    /// interrupts wait for the other sharers' answers. The line's holder
    /// takes the smallest bound any sharer states
    /// ([`crate::intx::ACK_BOUND_TSC`] when none does).
    #[serde(default)]
    pub ack_bound_tsc: Option<Spanned<i64>>,
    /// The name of a `[[component.pci]]` of the same component.
    #[serde(default)]
    pub msi: Option<Spanned<String>>,
    /// The name of a `[[component.pci]]` whose MSI-X table has an entry
    /// for this IRQ (docs/platform.md, "MSI-X").
    #[serde(default)]
    pub msix: Option<Spanned<String>>,
    /// The MSI-X table entry; declaration order among the device's MSI-X
    /// IRQs when absent.
    #[serde(default)]
    pub entry: Option<Spanned<i64>>,
    /// The kernel's IRQ vector (0..=107); chosen by the planner when absent.
    #[serde(default)]
    pub vector: Option<Spanned<i64>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    Edge,
    Level,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Polarity {
    High,
    Low,
}

/// `[[component.mmio]]`: device memory that is not behind a PCI BAR (an
/// HPET, say), named by its physical address and mapped uncached.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mmio {
    pub name: Spanned<String>,
    pub paddr: Spanned<u64>,
    pub size: Spanned<u64>,
}

/// `[[component.pci]]`: a PCI function given to this driver.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PciDevice {
    pub name: Spanned<String>,
    /// `vendor:device` in hex, e.g. `1234:11e8`.
    #[serde(default)]
    pub id: Option<Spanned<String>>,
    /// `bus:device.function` in hex, e.g. `00:03.0`.
    #[serde(default)]
    pub address: Option<Spanned<String>>,
    #[serde(default, rename = "bar")]
    pub bars: Vec<Bar>,
    #[serde(default, rename = "dma")]
    pub dma: Vec<DmaWindow>,
    /// `true`: the device masters the bus on a system without an IOMMU,
    /// so it can read and write all memory.
    #[serde(default)]
    pub unconfined_dma: Option<Spanned<bool>>,
    /// `"read"` or `"read-write"`: the driver reaches this function's
    /// configuration space through the root task (writes filtered by the
    /// policy in docs/platform.md). Absent: no access.
    #[serde(default)]
    pub config: Option<Spanned<String>>,
    /// Set by [`crate::intx`] on the devices of a component whose IOAPIC
    /// line it moved to a holder: the device may signal through INTx.
    #[serde(skip)]
    pub intx: bool,
}

/// `[[component.pci.bar]]`: a memory BAR mapped uncached into the driver.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bar {
    pub index: Spanned<i64>,
    pub size: Spanned<u64>,
}

/// `[[component.pci.dma]]`: a buffer the device may reach through the IOMMU.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DmaWindow {
    pub name: Spanned<String>,
    pub iova: Spanned<u64>,
    pub size: Spanned<u64>,
    /// Components that map the buffer; the driver when absent. An empty
    /// list keeps the buffer away from every component.
    #[serde(default)]
    pub mapped_by: Option<Vec<Spanned<String>>>,
}

/// `[[ring]]`: a single-producer, single-consumer descriptor ring.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ring {
    pub name: Spanned<String>,
    pub producer: Spanned<String>,
    pub consumer: Spanned<String>,
    pub slots: Spanned<u64>,
    pub data_size: Spanned<u64>,
}

/// `[[channel]]`: a pair of notification wake-ups between two components,
/// and, with `server`, an endpoint the other end calls the server through.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub name: Spanned<String>,
    pub ends: Spanned<Vec<Spanned<String>>>,
    /// The end that receives the other end's seL4 calls on the channel's
    /// endpoint (`endpoint.<name>`) and replies to them.
    #[serde(default)]
    pub server: Option<Spanned<String>>,
}

/// `[[shared]]`: a memory region mapped by the components listed.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedRegion {
    pub name: Spanned<String>,
    pub size: Spanned<u64>,
    #[serde(default = "default_true")]
    pub cached: Spanned<bool>,
    #[serde(default, rename = "map")]
    pub maps: Vec<SharedMap>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedMap {
    pub component: Spanned<String>,
    pub rights: Spanned<Rights>,
}

/// Mapping rights as written: `r`, `rw`, `rx` (and `rwx`, always refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum Rights {
    #[serde(rename = "r")]
    R,
    #[serde(rename = "rw")]
    Rw,
    #[serde(rename = "rx")]
    Rx,
    #[serde(rename = "rwx")]
    Rwx,
}

impl Rights {
    pub fn write(self) -> bool {
        matches!(self, Rights::Rw | Rights::Rwx)
    }
    pub fn execute(self) -> bool {
        matches!(self, Rights::Rx | Rights::Rwx)
    }
}

/// `[[disk]]`: a raw disk image QEMU attaches as drive `name` (a
/// `qemu_devices` entry names it with `drive=<name>`). `paddock build`
/// makes it under the image's folder, from a host folder packed into a FAT
/// volume or from a copy of an existing image file; the original is never
/// written (docs/storage.md).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disk {
    pub name: Spanned<String>,
    /// A host folder, relative to the description: its files become the
    /// root directory of a new FAT volume.
    #[serde(default)]
    pub folder: Option<Spanned<String>>,
    /// An existing raw disk image, relative to the description; copied.
    #[serde(default)]
    pub image: Option<Spanned<String>>,
    /// The FAT volume's size (folder only).
    #[serde(default)]
    pub size_mib: Option<Spanned<i64>>,
    /// 16 or 32 (folder only).
    #[serde(default)]
    pub fat: Option<Spanned<i64>>,
}

/// Defaults of a packed disk.
pub const DEFAULT_DISK_MIB: i64 = 64;
pub const DEFAULT_FAT: i64 = 32;

/// `[[network]]`: a QEMU user-mode network (`-netdev user`) that a
/// `qemu_devices` entry attaches with `netdev=<name>`. The host reaches
/// the guest only through `forward`, each on a port of the host's
/// loopback address (docs/network.md).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    pub name: Spanned<String>,
    #[serde(default)]
    pub forward: Vec<Spanned<Forward>>,
}

/// One forwarded port: the host's `127.0.0.1:<host>` to the guest's
/// `<guest>`. Without `host`, a free port is chosen at each boot.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forward {
    pub protocol: Spanned<String>,
    pub guest: Spanned<i64>,
    #[serde(default)]
    pub host: Option<Spanned<i64>>,
}
