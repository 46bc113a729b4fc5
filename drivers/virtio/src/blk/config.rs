//! virtio-blk's feature bits and device configuration (virtio 1.x, 5.2).

use core::mem::offset_of;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::BlkError;
use crate::mmio::Mmio;
use crate::transport::registers::Features;
use crate::transport::Transport;

/// virtio-blk feature bits this driver knows.
pub mod feature {
    use crate::Features;

    /// VIRTIO_BLK_F_SIZE_MAX (1): a largest segment size (not accepted:
    /// the driver does not split segments).
    pub const SIZE_MAX: Features = Features(1 << 1);
    /// VIRTIO_BLK_F_SEG_MAX (2): `seg_max` says how many data segments a
    /// request may have.
    pub const SEG_MAX: Features = Features(1 << 2);
    /// VIRTIO_BLK_F_RO (5): the device is read-only.
    pub const RO: Features = Features(1 << 5);
    /// VIRTIO_BLK_F_BLK_SIZE (6): `blk_size` is the optimal block size.
    pub const BLK_SIZE: Features = Features(1 << 6);
    /// VIRTIO_BLK_F_FLUSH (9): flush requests are supported.
    pub const FLUSH: Features = Features(1 << 9);
}

/// The features this driver accepts when offered: VERSION_1 and
/// ACCESS_PLATFORM (required), and the virtio-blk ones it honours.
pub const KNOWN_FEATURES: Features = Features::VERSION_1
    .union(Features::ACCESS_PLATFORM)
    .union(feature::SEG_MAX)
    .union(feature::RO)
    .union(feature::BLK_SIZE)
    .union(feature::FLUSH);

/// The features a device must offer: a modern device (no legacy
/// interface) whose DMA goes through the IOMMU, so it can only reach the
/// IOVAs its IOSpace maps.
pub const REQUIRED_FEATURES: Features = Features::VERSION_1.union(Features::ACCESS_PLATFORM);

/// `struct virtio_blk_config`, up to `blk_size` (the fields read here).
#[derive(FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct BlkConfig {
    /// Capacity in 512-byte sectors.
    pub capacity: u64,
    /// Largest segment (VIRTIO_BLK_F_SIZE_MAX).
    pub size_max: u32,
    /// Most data segments in a request (VIRTIO_BLK_F_SEG_MAX).
    pub seg_max: u32,
    /// Cylinders, heads, sectors (VIRTIO_BLK_F_GEOMETRY).
    pub geometry: [u8; 4],
    /// Optimal block size (VIRTIO_BLK_F_BLK_SIZE).
    pub blk_size: u32,
}

/// Byte offsets of [`BlkConfig`]'s fields.
pub mod offsets {
    use super::*;

    /// `capacity`.
    pub const CAPACITY: u64 = offset_of!(BlkConfig, capacity) as u64;
    /// `seg_max`.
    pub const SEG_MAX: u64 = offset_of!(BlkConfig, seg_max) as u64;
    /// `blk_size`.
    pub const BLK_SIZE: u64 = offset_of!(BlkConfig, blk_size) as u64;
}

const _: () = assert!(offsets::CAPACITY == 0 && offsets::SEG_MAX == 12 && offsets::BLK_SIZE == 20);

/// Bytes of a sector: the unit of every request, whatever `blk_size` says.
pub const SECTOR_BYTES: u64 = 512;

/// What the driver knows about the disk: the storage information a client
/// gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlkInfo {
    /// Capacity in 512-byte sectors.
    pub capacity: u64,
    /// Optimal block size in bytes, if the device says (a power of two of
    /// at least 512); requests are still in 512-byte sectors.
    pub blk_size: Option<u32>,
    /// Most data segments in one request, if the device says.
    pub seg_max: Option<u32>,
    /// Writes are refused.
    pub read_only: bool,
    /// Flush requests are supported.
    pub flush: bool,
    /// The negotiated features.
    pub features: Features,
}

/// Reads the configuration consistently and checks what the driver will
/// rely on.
pub(crate) fn read_info<M: Mmio>(
    transport: &Transport<M>,
    features: Features,
) -> Result<BlkInfo, BlkError> {
    let (capacity, seg_max, blk_size) = transport.read_device_config(|c| {
        let capacity = c.read64(offsets::CAPACITY)?;
        let seg_max = match features.contains(feature::SEG_MAX) {
            true => Some(c.read32(offsets::SEG_MAX)?),
            false => None,
        };
        let blk_size = match features.contains(feature::BLK_SIZE) {
            true => Some(c.read32(offsets::BLK_SIZE)?),
            false => None,
        };
        Ok((capacity, seg_max, blk_size))
    })?;
    if let Some(value) = seg_max.filter(|&s| s == 0) {
        return Err(BlkError::BadConfig {
            field: "seg_max",
            value: value.into(),
        });
    }
    if let Some(value) = blk_size.filter(|&b| b < 512 || !b.is_power_of_two()) {
        return Err(BlkError::BadConfig {
            field: "blk_size",
            value: value.into(),
        });
    }
    Ok(BlkInfo {
        capacity,
        blk_size,
        seg_max,
        read_only: features.contains(feature::RO),
        flush: features.contains(feature::FLUSH),
        features,
    })
}

/// Re-reads the capacity (after a configuration-change interrupt).
pub(crate) fn read_capacity<M: Mmio>(transport: &Transport<M>) -> Result<u64, BlkError> {
    Ok(transport.read_device_config(|c| c.read64(offsets::CAPACITY))?)
}
