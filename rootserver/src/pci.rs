//! PCI configuration space, which only the root task reaches (ports 0xCF8
//! and 0xCFC through its own IOPort cap; no component is ever given them).
//!
//! The root task finds each device the spec declares, checks it is what the
//! spec says, reads the BARs the plan maps, turns on memory decoding and
//! bus mastering, and programs MSI with the vector the plan chose. Nothing a
//! device reports is trusted beyond that: BAR sizes are checked against the
//! plan before any frame is handed out.

use paddock_protocol::pci_config::{capability_len, Capability, Layout};
use paddock_spec::{PciRecord, Spec, PCI_HAS_ADDRESS, PCI_HAS_ID};
use sel4::bootinfo::init_cap;

const CONFIG_ADDRESS: u16 = 0xcf8;
const CONFIG_DATA: u16 = 0xcfc;

const VENDOR_ID: u8 = 0x00;
const COMMAND: u8 = 0x04;
const STATUS: u8 = 0x06;
const HEADER_TYPE: u8 = 0x0e;
const BAR0: u8 = 0x10;
const SECONDARY_BUS: u8 = 0x19;
const CAPABILITIES: u8 = 0x34;

const COMMAND_MEMORY: u16 = 1 << 1;
const COMMAND_BUS_MASTER: u16 = 1 << 2;
const COMMAND_INTX_DISABLE: u16 = 1 << 10;
const STATUS_CAPABILITIES: u16 = 1 << 4;
const CAP_MSI: u8 = 0x05;
/// MSIs go to the local APIC of CPU 0 at this address.
const MSI_ADDRESS: u32 = 0xfee0_0000;
/// The kernel delivers its IRQ vector `v` as CPU vector 0x30 + v.
const MSI_VECTOR_BASE: u32 = 0x30;

/// PCI devices one system may declare (the limit host validation checks).
pub const MAX_DEVICES: usize = paddock_spec::limits::MAX_PCI_DEVICES;

/// A bus:device.function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bdf {
    pub bus: u8,
    pub dev: u8,
    pub func: u8,
}

impl core::fmt::Display for Bdf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus, self.dev, self.func)
    }
}

/// A declared device, found.
#[derive(Clone, Copy, Debug)]
pub struct Found {
    pub bdf: Bdf,
    pub vendor: u16,
    pub device: u16,
    /// Physical address and size of each memory BAR (0 when absent or IO).
    pub bars: [(u64, u64); 6],
    /// The capability list as walked at boot: what the write policy of
    /// the driver's configuration-space access protects.
    pub layout: Layout,
}

#[derive(Debug)]
pub enum PciError<'s> {
    Io(sel4::Error),
    NotFound {
        name: &'s str,
        owner: &'s str,
        wanted: Wanted,
    },
    WrongDevice {
        name: &'s str,
        bdf: Bdf,
        vendor: u16,
        device: u16,
    },
    TooMany,
    NoMsi {
        name: &'s str,
        bdf: Bdf,
    },
    /// The plan binds more MSI messages than the device can send.
    MsiMessages {
        name: &'s str,
        bdf: Bdf,
        capable: u32,
        wanted: u32,
    },
}

/// What a declaration asked for, for messages.
#[derive(Clone, Copy, Debug)]
pub enum Wanted {
    Id(u16, u16),
    At(Bdf),
}

impl core::fmt::Display for PciError<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PciError::Io(e) => write!(f, "PCI configuration access failed: {e}"),
            PciError::NotFound {
                name,
                owner,
                wanted,
            } => {
                write!(f, "PCI device `{name}` of component `{owner}` (")?;
                match wanted {
                    Wanted::Id(v, d) => write!(f, "{v:04x}:{d:04x}")?,
                    Wanted::At(bdf) => write!(f, "at {bdf}")?,
                }
                write!(f, ") is not present: refusing to start its driver")
            }
            PciError::WrongDevice {
                name,
                bdf,
                vendor,
                device,
            } => write!(
                f,
                "PCI device `{name}`: {bdf} is {vendor:04x}:{device:04x}, not the declared device"
            ),
            PciError::TooMany => write!(f, "more than {MAX_DEVICES} PCI devices declared"),
            PciError::NoMsi { name, bdf } => {
                write!(f, "PCI device `{name}` at {bdf} has no MSI capability")
            }
            PciError::MsiMessages {
                name,
                bdf,
                capable,
                wanted,
            } => write!(
                f,
                "PCI device `{name}` at {bdf} can send {capable} MSI messages, the plan binds {wanted}"
            ),
        }
    }
}

impl From<sel4::Error> for PciError<'_> {
    fn from(e: sel4::Error) -> Self {
        PciError::Io(e)
    }
}

fn address(bdf: Bdf, offset: u8) -> u32 {
    1 << 31
        | u32::from(bdf.bus) << 16
        | u32::from(bdf.dev & 0x1f) << 11
        | u32::from(bdf.func & 7) << 8
        | u32::from(offset & 0xfc)
}

pub fn read32(bdf: Bdf, offset: u8) -> Result<u32, sel4::Error> {
    sel4::ioport::out32(init_cap::IOPort, CONFIG_ADDRESS, address(bdf, offset))?;
    sel4::ioport::in32(init_cap::IOPort, CONFIG_DATA)
}

pub fn write32(bdf: Bdf, offset: u8, value: u32) -> Result<(), sel4::Error> {
    sel4::ioport::out32(init_cap::IOPort, CONFIG_ADDRESS, address(bdf, offset))?;
    sel4::ioport::out32(init_cap::IOPort, CONFIG_DATA, value)
}

fn read16(bdf: Bdf, offset: u8) -> Result<u16, sel4::Error> {
    Ok((read32(bdf, offset & !3)? >> ((offset & 2) * 8)) as u16)
}

fn read8(bdf: Bdf, offset: u8) -> Result<u8, sel4::Error> {
    Ok((read32(bdf, offset & !3)? >> ((offset & 3) * 8)) as u8)
}

fn write16(bdf: Bdf, offset: u8, value: u16) -> Result<(), sel4::Error> {
    let shift = (offset & 2) * 8;
    let word = read32(bdf, offset & !3)?;
    let word = (word & !(0xffff << shift)) | u32::from(value) << shift;
    write32(bdf, offset & !3, word)
}

/// Calls `f` on every function present, following bridges from bus 0.
fn enumerate(mut f: impl FnMut(Bdf, u16, u16) -> bool) -> Result<(), sel4::Error> {
    let mut buses = heapless::Vec::<u8, 64>::new();
    let _ = buses.push(0);
    let mut next = 0;
    while next < buses.len() {
        let bus = buses[next];
        next += 1;
        for dev in 0..32 {
            for func in 0..8 {
                let bdf = Bdf { bus, dev, func };
                let id = read32(bdf, VENDOR_ID)?;
                if id & 0xffff == 0xffff {
                    if func == 0 {
                        break;
                    }
                    continue;
                }
                if f(bdf, id as u16, (id >> 16) as u16) {
                    return Ok(());
                }
                let header = read8(bdf, HEADER_TYPE)?;
                if header & 0x7f == 1 {
                    let secondary = read8(bdf, SECONDARY_BUS)?;
                    if secondary != 0 && !buses.contains(&secondary) {
                        let _ = buses.push(secondary);
                    }
                }
                if func == 0 && header & 0x80 == 0 {
                    break;
                }
            }
        }
    }
    Ok(())
}

/// The memory BARs of a function, sized by the usual write-ones probe
/// (with decoding off meanwhile, so the probe cannot claim addresses).
fn read_bars(bdf: Bdf) -> Result<[(u64, u64); 6], sel4::Error> {
    let mut bars = [(0, 0); 6];
    let command = read16(bdf, COMMAND)?;
    write16(bdf, COMMAND, command & !COMMAND_MEMORY)?;
    let mut i = 0;
    while i < 6 {
        let offset = BAR0 + 4 * i as u8;
        let low = read32(bdf, offset)?;
        if low & 1 != 0 {
            i += 1; // an IO BAR
            continue;
        }
        let wide = (low >> 1) & 3 == 2;
        write32(bdf, offset, u32::MAX)?;
        let size_low = read32(bdf, offset)? & !0xf;
        write32(bdf, offset, low)?;
        let (mut base, mut mask) = (
            u64::from(low & !0xf),
            u64::from(size_low) | 0xffff_ffff_0000_0000,
        );
        if wide && i < 5 {
            let high = read32(bdf, offset + 4)?;
            write32(bdf, offset + 4, u32::MAX)?;
            let size_high = read32(bdf, offset + 4)?;
            write32(bdf, offset + 4, high)?;
            base |= u64::from(high) << 32;
            mask = u64::from(size_high) << 32 | u64::from(size_low);
        }
        if size_low != 0 {
            bars[i] = (base, (!mask).wrapping_add(1));
        }
        i += if wide { 2 } else { 1 };
    }
    write16(bdf, COMMAND, command)?;
    Ok(bars)
}

/// Looks for every device the spec declares, in spec order: each is found
/// (identity checked, BARs read) or absent with the reason. Only a failing
/// configuration access or too many declarations are errors for the whole
/// system.
pub fn find_all<'s>(
    spec: &Spec<'s>,
) -> Result<heapless::Vec<Result<Found, PciError<'s>>, MAX_DEVICES>, PciError<'s>> {
    let mut found = heapless::Vec::new();
    for record in spec.pci {
        let f = match find(spec, record) {
            Err(PciError::Io(e)) => return Err(PciError::Io(e)),
            other => other,
        };
        found.push(f).map_err(|_| PciError::TooMany)?;
    }
    Ok(found)
}

fn find<'s>(spec: &Spec<'s>, r: &PciRecord) -> Result<Found, PciError<'s>> {
    let name = spec.str(r.name);
    let owner = spec
        .components
        .get(r.owner.get() as usize)
        .map_or("?", |c| spec.str(c.name));
    let wanted_id = (r.flags & PCI_HAS_ID != 0).then(|| (r.vendor.get(), r.device.get()));
    let wanted_at = (r.flags & PCI_HAS_ADDRESS != 0).then_some(Bdf {
        bus: r.bus,
        dev: r.dev,
        func: r.func,
    });
    let mut hit = None;
    enumerate(|bdf, vendor, device| {
        let matches = match (wanted_at, wanted_id) {
            (Some(at), _) => at == bdf,
            (None, Some(id)) => id == (vendor, device),
            (None, None) => false,
        };
        if matches {
            hit = Some((bdf, vendor, device));
        }
        matches
    })?;
    let Some((bdf, vendor, device)) = hit else {
        return Err(PciError::NotFound {
            name,
            owner,
            wanted: match (wanted_at, wanted_id) {
                (Some(at), _) => Wanted::At(at),
                (None, Some((v, d))) => Wanted::Id(v, d),
                (None, None) => Wanted::Id(0xffff, 0xffff),
            },
        });
    };
    if let Some(id) = wanted_id {
        if id != (vendor, device) {
            return Err(PciError::WrongDevice {
                name,
                bdf,
                vendor,
                device,
            });
        }
    }
    Ok(Found {
        bdf,
        vendor,
        device,
        bars: read_bars(bdf)?,
        layout: capabilities(bdf)?,
    })
}

/// Turns on memory decoding, and bus mastering only for a device the plan
/// lets do DMA (`PCI_BUS_MASTER`: confined by its IOSpace windows, or
/// declared unconfined); the driver cannot: config space is the root
/// task's. Bus mastering left on by firmware is turned off otherwise.
/// INTx stays disabled unless the plan says the device signals through it
/// (`PCI_INTX`: no MSI, and its driver declares an IOAPIC line).
pub fn enable(bdf: Bdf, bus_master: bool, intx: bool) -> Result<(), sel4::Error> {
    let command = read16(bdf, COMMAND)?;
    let master = if bus_master { COMMAND_BUS_MASTER } else { 0 };
    let intx_disable = if intx { 0 } else { COMMAND_INTX_DISABLE };
    write16(
        bdf,
        COMMAND,
        (command & !(COMMAND_BUS_MASTER | COMMAND_INTX_DISABLE))
            | COMMAND_MEMORY
            | master
            | intx_disable,
    )
}

/// Points the function's MSI at CPU 0 with the block of `messages` kernel
/// vectors from `first_vector`, and enables that many messages. The plan
/// aligned the block (0x30 + `first_vector` is a multiple of `messages`
/// rounded up to a power of two, N), so the device's message number in the
/// data's low log2(N) bits selects the vector. A device whose Multiple
/// Message Capable is below N is refused.
pub fn program_msi<'s>(
    bdf: Bdf,
    first_vector: u32,
    messages: u32,
    name: &'s str,
) -> Result<(), PciError<'s>> {
    if read16(bdf, STATUS)? & STATUS_CAPABILITIES == 0 {
        return Err(PciError::NoMsi { name, bdf });
    }
    let mut at = read8(bdf, CAPABILITIES)? & 0xfc;
    // A capability list is at most 48 entries long; a loop is a broken device.
    for _ in 0..48 {
        if at == 0 {
            break;
        }
        let header = read32(bdf, at)?;
        if header as u8 == CAP_MSI {
            let control = (header >> 16) as u16;
            // log2 of the messages: what the device can send (Multiple
            // Message Capable, bits 3:1) and what the plan binds.
            let capable = (control >> 1) & 7;
            let enable = messages.max(1).next_power_of_two().trailing_zeros() as u16;
            if enable > capable {
                return Err(PciError::MsiMessages {
                    name,
                    bdf,
                    capable: 1 << capable,
                    wanted: messages,
                });
            }
            let wide = control & (1 << 7) != 0;
            write32(bdf, at + 4, MSI_ADDRESS)?;
            let data_at = if wide {
                write32(bdf, at + 8, 0)?;
                at + 12
            } else {
                at + 8
            };
            write16(bdf, data_at, (MSI_VECTOR_BASE + first_vector) as u16)?;
            // Enable, with Multiple Message Enable (bits 6:4) = log2(N).
            let control = (control & !(7 << 4)) | enable << 4 | 1;
            write16(bdf, at + 2, control)?;
            return Ok(());
        }
        at = (header >> 8) as u8 & 0xfc;
    }
    Err(PciError::NoMsi { name, bdf })
}

/// Walks the function's capability list once, at boot: each structure's
/// offset, id and length. The list cannot change behind the root task's
/// back (its pointers are read-only in hardware and refused by the write
/// policy); a list longer than the layout holds is recorded as overflowing,
/// which makes the policy refuse the whole device-specific area.
fn capabilities(bdf: Bdf) -> Result<Layout, sel4::Error> {
    let mut layout = Layout::default();
    if read16(bdf, STATUS)? & STATUS_CAPABILITIES == 0 {
        return Ok(layout);
    }
    let mut at = read8(bdf, CAPABILITIES)? & 0xfc;
    // A list is at most 48 entries long; a loop is a broken device.
    for _ in 0..48 {
        if at < 0x40 {
            return Ok(layout);
        }
        let header = read32(bdf, at)?;
        let id = header as u8;
        layout.push(Capability {
            offset: at,
            id,
            len: capability_len(id, (header >> 16) as u16),
        });
        at = (header >> 8) as u8 & 0xfc;
    }
    layout.overflow = true;
    Ok(layout)
}

/// Reads `width` (1, 2 or 4) bytes at `offset`, aligned to the width,
/// through the data port's matching byte lanes.
pub fn read(bdf: Bdf, offset: u8, width: u8) -> Result<u32, sel4::Error> {
    sel4::ioport::out32(init_cap::IOPort, CONFIG_ADDRESS, address(bdf, offset))?;
    let port = CONFIG_DATA + u16::from(offset & 3);
    match width {
        1 => sel4::ioport::in8(init_cap::IOPort, port).map(u32::from),
        2 => sel4::ioport::in16(init_cap::IOPort, port).map(u32::from),
        _ => sel4::ioport::in32(init_cap::IOPort, port),
    }
}

/// Writes `width` bytes at `offset` through the matching byte lanes only,
/// so no neighbouring register is rewritten (a read-modify-write of the
/// dword would write status bits back and clear them).
pub fn write(bdf: Bdf, offset: u8, width: u8, value: u32) -> Result<(), sel4::Error> {
    sel4::ioport::out32(init_cap::IOPort, CONFIG_ADDRESS, address(bdf, offset))?;
    let port = CONFIG_DATA + u16::from(offset & 3);
    match width {
        1 => sel4::ioport::out8(init_cap::IOPort, port, value as u8),
        2 => sel4::ioport::out16(init_cap::IOPort, port, value as u16),
        _ => sel4::ioport::out32(init_cap::IOPort, port, value),
    }
}
