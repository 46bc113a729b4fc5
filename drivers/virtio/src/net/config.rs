//! virtio-net's feature bits and device configuration (virtio 1.x, 5.1).

use super::NetError;
use crate::mmio::Mmio;
use crate::transport::registers::Features;
use crate::transport::Transport;

/// virtio-net feature bits this driver knows.
pub mod feature {
    use crate::Features;

    /// VIRTIO_NET_F_MTU (3): `mtu` holds the largest MTU the device
    /// advises.
    pub const MTU: Features = Features(1 << 3);
    /// VIRTIO_NET_F_MAC (5): `mac` holds the device's address.
    pub const MAC: Features = Features(1 << 5);
    /// VIRTIO_NET_F_STATUS (16): `status` says whether the link is up.
    pub const STATUS: Features = Features(1 << 16);
}

/// The features this driver accepts when offered. No checksum offload,
/// segmentation offload or merged receive buffers: every frame is whole,
/// in one buffer, with its checksums made by the client's stack.
pub const KNOWN_FEATURES: Features = Features::VERSION_1
    .union(Features::ACCESS_PLATFORM)
    .union(feature::MTU)
    .union(feature::MAC)
    .union(feature::STATUS);

/// The features a device must offer: modern, DMA through the IOMMU, and an
/// address of its own (the driver does not make one up).
pub const REQUIRED_FEATURES: Features = Features::VERSION_1
    .union(Features::ACCESS_PLATFORM)
    .union(feature::MAC);

/// Byte offsets in `struct virtio_net_config`.
pub mod offsets {
    /// `mac[6]`.
    pub const MAC: u64 = 0;
    /// `status` (le16), with VIRTIO_NET_F_STATUS.
    pub const STATUS: u64 = 6;
    /// `mtu` (le16), with VIRTIO_NET_F_MTU.
    pub const MTU: u64 = 10;
}

/// VIRTIO_NET_S_LINK_UP in `status`.
const LINK_UP: u16 = 1;

/// Bytes of the header before every frame in a buffer (`struct
/// virtio_net_hdr` with `num_buffers`, which VERSION_1 always has).
pub const HEADER_BYTES: u32 = 12;
/// The largest Ethernet frame without its frame check sequence: 1500 bytes
/// of payload and a 14-byte header (no VLAN tag).
pub const MAX_FRAME: u32 = 1514;
/// The smallest frame: an Ethernet header.
pub const MIN_FRAME: u32 = 14;

/// What the driver knows about the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetInfo {
    /// The device's MAC address.
    pub mac: [u8; 6],
    /// Whether the link is up, if the device says.
    pub link_up: Option<bool>,
    /// The MTU the device advises, if it says; frames stay at most
    /// [`MAX_FRAME`] whatever it says.
    pub mtu: Option<u16>,
    /// The negotiated features.
    pub features: Features,
}

/// Reads the configuration consistently.
pub(crate) fn read_info<M: Mmio>(
    transport: &Transport<M>,
    features: Features,
) -> Result<NetInfo, NetError> {
    let (mac, status, mtu) = transport.read_device_config(|c| {
        let mut mac = [0u8; 6];
        for (i, byte) in (0u64..).zip(mac.iter_mut()) {
            *byte = c.read8(offsets::MAC + i)?;
        }
        let status = match features.contains(feature::STATUS) {
            true => Some(c.read16(offsets::STATUS)?),
            false => None,
        };
        let mtu = match features.contains(feature::MTU) {
            true => Some(c.read16(offsets::MTU)?),
            false => None,
        };
        Ok((mac, status, mtu))
    })?;
    // A multicast or all-zero address is not one a station may use.
    if mac[0] & 1 != 0 || mac == [0; 6] {
        return Err(NetError::BadConfig {
            field: "mac",
            value: mac.iter().fold(0u64, |a, &b| a << 8 | u64::from(b)),
        });
    }
    if let Some(value) = mtu.filter(|&m| m < 68) {
        return Err(NetError::BadConfig {
            field: "mtu",
            value: value.into(),
        });
    }
    Ok(NetInfo {
        mac,
        link_up: status.map(link_up),
        mtu,
        features,
    })
}

/// Re-reads the link state (after a configuration-change interrupt).
pub(crate) fn read_link<M: Mmio>(transport: &Transport<M>) -> Result<u16, NetError> {
    Ok(transport.read_device_config(|c| c.read16(offsets::STATUS))?)
}

/// Whether a `status` word says the link is up.
pub fn link_up(status: u16) -> bool {
    status & LINK_UP != 0
}
