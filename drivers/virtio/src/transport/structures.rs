//! Finding the virtio structures through the vendor-specific PCI
//! capabilities (virtio 1.x, 4.1.4).
//!
//! Every byte read here comes from the device: a capability too short for
//! the fields it must have, or one that runs past the 256 bytes of
//! configuration space, is an error; a reserved `cfg_type` or `bar` is
//! ignored, as the specification asks. Where each structure lies in its
//! BAR is checked later, against the mapping the caller gives
//! ([`Transport::from_structures`](crate::Transport::from_structures)).

use paddock_pci::{Config, CAP_VENDOR};

use super::registers::cap;
use crate::error::TransportError;

/// Which virtio structure a capability describes (its `cfg_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StructureKind {
    /// `cfg_type` 1: common configuration (status, features, queues).
    Common,
    /// `cfg_type` 2: the notify registers.
    Notify,
    /// `cfg_type` 3: the ISR status byte (only for INTx).
    Isr,
    /// `cfg_type` 4: the device-specific configuration.
    Device,
}

impl StructureKind {
    const ALL: [StructureKind; 4] = [Self::Common, Self::Notify, Self::Isr, Self::Device];

    /// The capability's `cfg_type` value.
    pub const fn cfg_type(self) -> u8 {
        match self {
            Self::Common => 1,
            Self::Notify => 2,
            Self::Isr => 3,
            Self::Device => 4,
        }
    }

    /// The kind a `cfg_type` names; `None` for the PCI configuration
    /// access window (5), shared memory (8) and reserved values, none of
    /// which this driver uses.
    pub const fn from_cfg_type(cfg_type: u8) -> Option<StructureKind> {
        match cfg_type {
            1 => Some(Self::Common),
            2 => Some(Self::Notify),
            3 => Some(Self::Isr),
            4 => Some(Self::Device),
            _ => None,
        }
    }

    /// The structure's name in messages.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Common => "common configuration",
            Self::Notify => "notify",
            Self::Isr => "ISR status",
            Self::Device => "device configuration",
        }
    }

    /// The fewest bytes the structure can have: the common configuration's
    /// fields, one notify register, the ISR byte. A device configuration's
    /// fields are checked one by one as they are read.
    pub const fn minimum_length(self) -> u64 {
        match self {
            Self::Common => super::registers::common::LEN,
            Self::Notify => 2,
            Self::Isr => 1,
            Self::Device => 0,
        }
    }

    /// The alignment virtio 1.x requires of the structure's offset in its
    /// BAR (4.1.4.3-4.1.4.6); it makes every register naturally aligned.
    pub const fn alignment(self) -> u64 {
        match self {
            Self::Common | Self::Device => 4,
            Self::Notify => 2,
            Self::Isr => 1,
        }
    }

    fn index(self) -> usize {
        self.cfg_type() as usize - 1
    }
}

/// Where the device says a structure is: its capability's `bar`, `offset`
/// and `length`, unchecked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Structure {
    /// BAR number, 0-5.
    pub bar: u8,
    /// Byte offset in the BAR.
    pub offset: u32,
    /// Bytes.
    pub length: u32,
}

/// The structures a modern virtio PCI function offers, as its capabilities
/// describe them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Structures {
    /// Common configuration.
    pub common: Structure,
    /// Notify registers.
    pub notify: Structure,
    /// The notify capability's `notify_off_multiplier`, unchecked.
    pub notify_off_multiplier: u32,
    /// ISR status.
    pub isr: Structure,
    /// Device-specific configuration, if the device has one.
    pub device: Option<Structure>,
}

impl Structures {
    /// Walks the function's capability list (bounded, through
    /// [`paddock_pci::capabilities`]) and takes the first usable vendor
    /// capability of each type, as virtio 1.x (4.1.4) asks.
    pub fn find(config: &impl Config) -> Result<Structures, TransportError> {
        let mut found: [Option<(Structure, u32)>; 4] = [None; 4];
        for capability in paddock_pci::capabilities(config) {
            let capability = capability.map_err(TransportError::Config)?;
            if capability.id != CAP_VENDOR {
                continue;
            }
            let at = u16::from(capability.offset);
            let Some(kind) = StructureKind::from_cfg_type(config.read8(at + cap::CFG_TYPE)?) else {
                continue;
            };
            if found[kind.index()].is_some() {
                continue;
            }
            let needed = match kind {
                StructureKind::Notify => cap::NOTIFY_LEN,
                _ => cap::LEN,
            };
            // The walker stops below 0x40 and masks offsets to 4 bytes, so
            // `at` is at most 0xfc; the fields must still fit below 0x100.
            if usize::from(at) + usize::from(needed) > 256 {
                return Err(TransportError::CapabilityPastConfigSpace {
                    at: capability.offset,
                    needed,
                });
            }
            let cap_len = config.read8(at + cap::CAP_LEN)?;
            if cap_len < needed {
                return Err(TransportError::CapabilityTooShort {
                    at: capability.offset,
                    cap_len,
                    needed,
                });
            }
            let bar = config.read8(at + cap::BAR)?;
            if bar > 5 {
                // 4.1.4: a driver must ignore a capability with a reserved
                // BAR value.
                continue;
            }
            let structure = Structure {
                bar,
                offset: config.read32(at + cap::OFFSET)?,
                length: config.read32(at + cap::LENGTH)?,
            };
            let multiplier = match kind {
                StructureKind::Notify => config.read32(at + cap::NOTIFY_OFF_MULTIPLIER)?,
                _ => 0,
            };
            found[kind.index()] = Some((structure, multiplier));
        }
        let take = |kind: StructureKind| found[kind.index()].map(|(s, _)| s);
        let need = |kind| take(kind).ok_or(TransportError::MissingStructure(kind));
        Ok(Structures {
            common: need(StructureKind::Common)?,
            notify: need(StructureKind::Notify)?,
            notify_off_multiplier: found[StructureKind::Notify.index()].map_or(0, |(_, m)| m),
            isr: need(StructureKind::Isr)?,
            device: take(StructureKind::Device),
        })
    }

    /// Each structure the device offers, with its kind.
    pub fn each(&self) -> impl Iterator<Item = (StructureKind, Structure)> + '_ {
        StructureKind::ALL.into_iter().filter_map(|kind| {
            let s = match kind {
                StructureKind::Common => Some(self.common),
                StructureKind::Notify => Some(self.notify),
                StructureKind::Isr => Some(self.isr),
                StructureKind::Device => self.device,
            };
            s.map(|s| (kind, s))
        })
    }
}
