//! `virtio-blk-config`: finds a modern virtio-blk device's common and
//! device configuration structures through its vendor capabilities (BAR
//! and offset read from the device, never typed), maps nothing but the BAR
//! the plan gave it, brings the device to DRIVER_OK with no queues, binds
//! configuration changes to the MSI-X entry the plan gives IRQ `config`, and on each interrupt on that
//! entry's badge bit reports the capacity the device now says it has.
//!
//! The MSI-X table is the root task's: it programmed entry 0 with this
//! driver's vector and never mapped the table here.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

#[path = "../mmio.rs"]
mod mmio;

use mmio::Mmio;
use paddock_runtime::pci::{self, Config, PciConfig, CAP_VENDOR};
use paddock_runtime::{entry, log, sel4, Component};

entry!(main);

/// virtio 1.x `cfg_type` of the structures used here.
const COMMON_CFG: u8 = 1;
const DEVICE_CFG: u8 = 4;
/// Common configuration registers (virtio 1.x, 4.1.4.3).
const DEVICE_FEATURE_SELECT: usize = 0x00;
const DEVICE_FEATURE: usize = 0x04;
const DRIVER_FEATURE_SELECT: usize = 0x08;
const DRIVER_FEATURE: usize = 0x0c;
const MSIX_CONFIG: usize = 0x10;
const DEVICE_STATUS: usize = 0x14;
const CONFIG_GENERATION: usize = 0x15;
const COMMON_LEN: u32 = 0x38;
/// Device status bits.
const ACKNOWLEDGE: u8 = 1;
const DRIVER: u8 = 2;
const DRIVER_OK: u8 = 4;
const FEATURES_OK: u8 = 8;
/// Feature bits 32 and up the driver accepts: VERSION_1 and, behind an
/// IOMMU, ACCESS_PLATFORM (the device's DMA goes through VT-d).
const ACCEPTED_HIGH: u32 = 1 | 1 << 1;
/// The device refused a vector.
const NO_VECTOR: u16 = 0xffff;
/// virtio-blk's device configuration: the capacity in 512-byte sectors.
const CAPACITY: usize = 0x00;

fn main(c: Component) -> ! {
    if let Err(e) = run(&c) {
        log!("stopped: {e}");
    }
    loop {
        let _ = c.wait();
    }
}

/// A structure found through a vendor capability.
#[derive(Clone, Copy)]
struct Structure {
    bar: u8,
    offset: u32,
    length: u32,
}

fn run(c: &Component) -> Result<(), &'static str> {
    let config = c.pci_config("blk").map_err(|_| "no configuration access")?;
    let common = find(&config, COMMON_CFG)?;
    let device = find(&config, DEVICE_CFG)?;
    log!(
        "common configuration in BAR {} at {:#x}, device configuration in BAR {} at {:#x}",
        common.bar,
        common.offset,
        device.bar,
        device.offset
    );
    if common.length < COMMON_LEN || device.length < 8 {
        return Err("a structure is shorter than virtio 1.x says");
    }
    let common = open(c, common)?;
    let device = open(c, device)?;

    // Reset, then ACKNOWLEDGE | DRIVER, the features this driver knows,
    // FEATURES_OK (read back: the device may refuse them), configuration
    // changes on vector 0 (read back: 0xffff is a refusal), DRIVER_OK.
    common.write8(DEVICE_STATUS, 0);
    if !(0..1000).any(|_| common.read8(DEVICE_STATUS) == 0) {
        return Err("the device does not finish its reset");
    }
    common.write8(DEVICE_STATUS, ACKNOWLEDGE | DRIVER);
    common.write32(DEVICE_FEATURE_SELECT, 1);
    let high = common.read32(DEVICE_FEATURE) & ACCEPTED_HIGH;
    common.write32(DRIVER_FEATURE_SELECT, 0);
    common.write32(DRIVER_FEATURE, 0);
    common.write32(DRIVER_FEATURE_SELECT, 1);
    common.write32(DRIVER_FEATURE, high);
    common.write8(DEVICE_STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
    if common.read8(DEVICE_STATUS) & FEATURES_OK == 0 {
        return Err("the device refused the features (FEATURES_OK cleared)");
    }
    // The table entry the plan gave the IRQ `config`, which the root task
    // programmed.
    let entry = c
        .param("irq.config")
        .ok_or("no MSI-X entry for IRQ `config`")?;
    let entry = u16::try_from(entry).map_err(|_| "MSI-X entry out of range")?;
    common.write16(MSIX_CONFIG, entry);
    let vector = common.read16(MSIX_CONFIG);
    if vector == NO_VECTOR {
        return Err("the device refused the MSI-X entry for configuration changes");
    }
    common.write8(
        DEVICE_STATUS,
        ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK,
    );

    let irq = c.slot("irq.config").map_err(|_| "no IRQ `config`")?;
    let irq_bit = c.badge_bit("irq.config").map_err(|_| "no IRQ `config`")?;
    log!(
        "ready: configuration changes on MSI-X entry {vector} (badge bit {}), capacity {} sectors",
        irq_bit.trailing_zeros(),
        capacity(&common, &device)
    );
    loop {
        let bits = c.wait().unwrap_or(0);
        if bits & irq_bit == 0 {
            log!("woken by badge {bits:#x}, not its MSI-X entry");
            continue;
        }
        log!(
            "configuration change on MSI-X entry {vector} (badge bit {}): capacity {} sectors",
            irq_bit.trailing_zeros(),
            capacity(&common, &device)
        );
        if let Err(e) = sel4::irq::ack(irq) {
            log!("acknowledging the interrupt failed: {e:?}");
        }
    }
}

/// The capacity, read consistently: the generation must not move while
/// the 64-bit value is read in two halves.
fn capacity(common: &Mmio, device: &Mmio) -> u64 {
    loop {
        let before = common.read8(CONFIG_GENERATION);
        let low = device.read32(CAPACITY);
        let high = device.read32(CAPACITY + 4);
        if common.read8(CONFIG_GENERATION) == before {
            return u64::from(high) << 32 | u64::from(low);
        }
    }
}

/// The first vendor capability of `cfg_type` (virtio 1.x, 4.1.4: type at
/// +3, BAR at +4, offset at +8, length at +12).
fn find(config: &PciConfig, cfg_type: u8) -> Result<Structure, &'static str> {
    for cap in pci::capabilities(config) {
        let cap = cap.map_err(|_| "reading the capability list failed")?;
        if cap.id != CAP_VENDOR {
            continue;
        }
        let at = u16::from(cap.offset);
        let read = |o| {
            config
                .read32(at + o)
                .map_err(|_| "reading a capability failed")
        };
        let head = read(0)?;
        if (head >> 24) as u8 != cfg_type {
            continue;
        }
        return Ok(Structure {
            bar: read(4)? as u8,
            offset: read(8)?,
            length: read(12)?,
        });
    }
    Err("no virtio structure of the needed type")
}

/// The structure's bytes in the BAR the plan mapped (`blk.bar<N>`); a
/// structure in a BAR the plan did not map, or past its end, is refused.
fn open(c: &Component, s: Structure) -> Result<Mmio, &'static str> {
    if s.bar > 5 {
        return Err("a structure names no BAR");
    }
    let mut name = *b"blk.bar0";
    name[7] += s.bar;
    let name = core::str::from_utf8(&name).map_err(|_| "BAR name")?;
    let region = c
        .region(name)
        .map_err(|_| "a structure is in a BAR the plan does not map")?;
    let end = u64::from(s.offset) + u64::from(s.length);
    if end > region.size {
        return Err("a structure reaches past its BAR");
    }
    // SAFETY: the root task mapped `region` (the device's BAR, uncached)
    // into this component only, and [offset, end) was checked to lie in it.
    Ok(unsafe {
        Mmio::new(
            (region.vaddr + u64::from(s.offset)) as *mut u8,
            s.length as usize,
        )
    })
}
