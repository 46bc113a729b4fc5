//! The virtio 1.x PCI layouts, defined once as types.
//!
//! The structures are read and written through [`Mmio`](crate::Mmio) or
//! [`Config`](paddock_pci::Config) at offsets, never by mapping these types
//! over device memory: the offsets come from the types (`offset_of!`), the
//! zerocopy derives make the compiler refuse a layout with padding, and
//! the assertions below pin every offset to the number in the
//! specification. Host tests that model a device use the same constants.

use core::mem::{offset_of, size_of};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `struct virtio_pci_common_cfg` (virtio 1.x, 4.1.4.3): the fields a
/// driver needs, up to `queue_device`. Later revisions append fields
/// (`queue_notify_data`, `queue_reset`) that this driver does not use.
#[derive(FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct CommonCfg {
    /// Selects which 32 feature bits `device_feature` shows.
    pub device_feature_select: u32,
    /// The device's feature bits, 32 at a time (read-only).
    pub device_feature: u32,
    /// Selects which 32 feature bits `driver_feature` takes.
    pub driver_feature_select: u32,
    /// The feature bits the driver accepts, 32 at a time.
    pub driver_feature: u32,
    /// MSI-X table entry for configuration changes, or [`NO_VECTOR`].
    pub msix_config: u16,
    /// Number of queues the device has (read-only).
    pub num_queues: u16,
    /// The status handshake ([`status`]); writing 0 resets the device.
    pub device_status: u8,
    /// Changes whenever the device configuration may have changed.
    pub config_generation: u8,
    /// Selects the queue the `queue_*` fields below refer to.
    pub queue_select: u16,
    /// On reset the largest size the device supports; the driver may
    /// write a smaller one.
    pub queue_size: u16,
    /// MSI-X table entry for this queue's used-buffer events.
    pub queue_msix_vector: u16,
    /// Writing 1 enables the queue.
    pub queue_enable: u16,
    /// Where, in units of the notify multiplier, this queue's notify
    /// register is (read-only).
    pub queue_notify_off: u16,
    /// Device-visible address of the descriptor table.
    pub queue_desc: u64,
    /// Device-visible address of the available (driver) ring.
    pub queue_driver: u64,
    /// Device-visible address of the used (device) ring.
    pub queue_device: u64,
}

/// Byte offsets of [`CommonCfg`]'s fields.
pub mod common {
    use super::*;

    /// `device_feature_select`.
    pub const DEVICE_FEATURE_SELECT: u64 = offset_of!(CommonCfg, device_feature_select) as u64;
    /// `device_feature`.
    pub const DEVICE_FEATURE: u64 = offset_of!(CommonCfg, device_feature) as u64;
    /// `driver_feature_select`.
    pub const DRIVER_FEATURE_SELECT: u64 = offset_of!(CommonCfg, driver_feature_select) as u64;
    /// `driver_feature`.
    pub const DRIVER_FEATURE: u64 = offset_of!(CommonCfg, driver_feature) as u64;
    /// `msix_config`.
    pub const MSIX_CONFIG: u64 = offset_of!(CommonCfg, msix_config) as u64;
    /// `num_queues`.
    pub const NUM_QUEUES: u64 = offset_of!(CommonCfg, num_queues) as u64;
    /// `device_status`.
    pub const DEVICE_STATUS: u64 = offset_of!(CommonCfg, device_status) as u64;
    /// `config_generation`.
    pub const CONFIG_GENERATION: u64 = offset_of!(CommonCfg, config_generation) as u64;
    /// `queue_select`.
    pub const QUEUE_SELECT: u64 = offset_of!(CommonCfg, queue_select) as u64;
    /// `queue_size`.
    pub const QUEUE_SIZE: u64 = offset_of!(CommonCfg, queue_size) as u64;
    /// `queue_msix_vector`.
    pub const QUEUE_MSIX_VECTOR: u64 = offset_of!(CommonCfg, queue_msix_vector) as u64;
    /// `queue_enable`.
    pub const QUEUE_ENABLE: u64 = offset_of!(CommonCfg, queue_enable) as u64;
    /// `queue_notify_off`.
    pub const QUEUE_NOTIFY_OFF: u64 = offset_of!(CommonCfg, queue_notify_off) as u64;
    /// `queue_desc`.
    pub const QUEUE_DESC: u64 = offset_of!(CommonCfg, queue_desc) as u64;
    /// `queue_driver`.
    pub const QUEUE_DRIVER: u64 = offset_of!(CommonCfg, queue_driver) as u64;
    /// `queue_device`.
    pub const QUEUE_DEVICE: u64 = offset_of!(CommonCfg, queue_device) as u64;
    /// Bytes a common configuration structure must have.
    pub const LEN: u64 = size_of::<CommonCfg>() as u64;
}

const _: () = {
    assert!(common::DEVICE_FEATURE == 0x04 && common::DRIVER_FEATURE == 0x0c);
    assert!(common::MSIX_CONFIG == 0x10 && common::NUM_QUEUES == 0x12);
    assert!(common::DEVICE_STATUS == 0x14 && common::CONFIG_GENERATION == 0x15);
    assert!(common::QUEUE_SELECT == 0x16 && common::QUEUE_SIZE == 0x18);
    assert!(common::QUEUE_MSIX_VECTOR == 0x1a && common::QUEUE_ENABLE == 0x1c);
    assert!(common::QUEUE_NOTIFY_OFF == 0x1e && common::QUEUE_DESC == 0x20);
    assert!(common::QUEUE_DRIVER == 0x28 && common::QUEUE_DEVICE == 0x30);
    assert!(common::LEN == 0x38);
};

/// `struct virtio_pci_notify_cap` (virtio 1.x, 4.1.4): the generic
/// vendor capability (`struct virtio_pci_cap`, its first 16 bytes) and the
/// notify structure's multiplier after it.
#[derive(FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct VirtioPciCap {
    /// PCI capability id: vendor-specific (0x09).
    pub cap_vndr: u8,
    /// Offset of the next capability.
    pub cap_next: u8,
    /// Length of this capability in bytes.
    pub cap_len: u8,
    /// Which structure this is ([`StructureKind`](crate::StructureKind)).
    pub cfg_type: u8,
    /// Which BAR holds the structure (0-5; other values are reserved).
    pub bar: u8,
    /// Distinguishes several capabilities of one type (virtio 1.2).
    pub id: u8,
    /// Reserved.
    pub padding: [u8; 2],
    /// Where the structure starts in the BAR.
    pub offset: u32,
    /// How long the structure is.
    pub length: u32,
    /// Notify structure only: bytes between two queues' notify registers
    /// per unit of `queue_notify_off`.
    pub notify_off_multiplier: u32,
}

/// Byte offsets of [`VirtioPciCap`]'s fields from the capability's start.
pub mod cap {
    use super::*;

    /// `cap_len`.
    pub const CAP_LEN: u16 = offset_of!(VirtioPciCap, cap_len) as u16;
    /// `cfg_type`.
    pub const CFG_TYPE: u16 = offset_of!(VirtioPciCap, cfg_type) as u16;
    /// `bar`.
    pub const BAR: u16 = offset_of!(VirtioPciCap, bar) as u16;
    /// `offset`.
    pub const OFFSET: u16 = offset_of!(VirtioPciCap, offset) as u16;
    /// `length`.
    pub const LENGTH: u16 = offset_of!(VirtioPciCap, length) as u16;
    /// `notify_off_multiplier`.
    pub const NOTIFY_OFF_MULTIPLIER: u16 = offset_of!(VirtioPciCap, notify_off_multiplier) as u16;
    /// Bytes of a capability without the multiplier.
    pub const LEN: u8 = NOTIFY_OFF_MULTIPLIER as u8;
    /// Bytes of the notify capability.
    pub const NOTIFY_LEN: u8 = size_of::<VirtioPciCap>() as u8;
}

const _: () = {
    assert!(cap::CAP_LEN == 2 && cap::CFG_TYPE == 3 && cap::BAR == 4);
    assert!(cap::OFFSET == 8 && cap::LENGTH == 12 && cap::NOTIFY_OFF_MULTIPLIER == 16);
    assert!(cap::LEN == 16 && cap::NOTIFY_LEN == 20);
};

/// Bits of `device_status` (virtio 1.x, 2.1).
pub mod status {
    /// The driver has found the device.
    pub const ACKNOWLEDGE: u8 = 1;
    /// The driver knows how to drive it.
    pub const DRIVER: u8 = 2;
    /// The driver is set up and ready to drive the device.
    pub const DRIVER_OK: u8 = 4;
    /// The driver has acknowledged the features it understands, and
    /// feature negotiation is complete if the device keeps this bit.
    pub const FEATURES_OK: u8 = 8;
    /// The device has met an error it cannot recover from without reset.
    pub const DEVICE_NEEDS_RESET: u8 = 0x40;
    /// The driver has given up on the device.
    pub const FAILED: u8 = 0x80;
}

/// What `queue_msix_vector` and `msix_config` read back as when the device
/// has no vector for that event, including when it refused the one the
/// driver wrote.
pub const NO_VECTOR: u16 = 0xffff;

/// Feature bits: a 64-bit set, as the device offers them and the driver
/// accepts them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Features(pub u64);

impl Features {
    /// VIRTIO_F_VERSION_1 (bit 32): the device is a virtio 1.x device; the
    /// only kind this crate drives (no legacy interface).
    pub const VERSION_1: Features = Features(1 << 32);
    /// VIRTIO_F_ACCESS_PLATFORM (bit 33): the device's DMA goes through the
    /// platform's address translation, here VT-d: the addresses it is told
    /// are IOVAs in its IOSpace, not physical addresses.
    pub const ACCESS_PLATFORM: Features = Features(1 << 33);
    /// No features.
    pub const NONE: Features = Features(0);

    /// Every bit of `other` is set here.
    pub const fn contains(self, other: Features) -> bool {
        self.0 & other.0 == other.0
    }

    /// The bits of both.
    pub const fn union(self, other: Features) -> Features {
        Features(self.0 | other.0)
    }

    /// The bits set in both.
    pub const fn intersection(self, other: Features) -> Features {
        Features(self.0 & other.0)
    }

    /// The bits of `self` that `other` lacks.
    pub const fn difference(self, other: Features) -> Features {
        Features(self.0 & !other.0)
    }

    /// No bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl core::fmt::Display for Features {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}
