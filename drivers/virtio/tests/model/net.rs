//! The modelled function as a virtio-net device: its configuration, the
//! transmit queue putting frames on a wire the test reads, and frames the
//! test injects written into posted receive buffers.
//!
//! Each chain is the 12-byte `virtio_net_hdr` (a slot of the driver's
//! request memory) then one buffer in the client's data window. The
//! transmit header must be all zero (no offloads were negotiated); a
//! receive is completed with `used.len` = 12 + the frame's length.

use std::sync::atomic::Ordering;

use paddock_virtio::blk::request::RequestSlot;
use paddock_virtio::transport::registers::status;

use super::device::{Behaviour, Kind, Model};
use super::process::Segment;

/// VERSION_1, ACCESS_PLATFORM, MAC and STATUS: what QEMU's virtio-net
/// offers once the offloads are taken away.
pub const NET_FEATURES: u64 = (1 << 32) | (1 << 33) | (1 << 5) | (1 << 16);
/// The modelled NIC's address (QEMU's default).
pub const NET_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

impl Behaviour {
    /// A well-behaved virtio-net function with an MSI-X entry each for
    /// configuration changes, receive and transmit.
    pub fn net() -> Self {
        Behaviour {
            kind: Kind::Net,
            device_features: NET_FEATURES,
            msix_entries: 3,
            ..Behaviour::default()
        }
    }
}

/// Bytes of `struct virtio_net_hdr` under VERSION_1.
pub const NET_HEADER: u32 = 12;
/// `num_buffers` is at bytes 10..12 of the header; without
/// VIRTIO_NET_F_MRG_RXBUF the device sets it to 1 (virtio 1.x, 5.1.6.3.1).
const NUM_BUFFERS_AT: usize = 10;

/// The configuration a new model starts with: QEMU's default MAC, link up.
pub fn net_config() -> [u8; 12] {
    let mut config = [0u8; 12];
    config[..6].copy_from_slice(&NET_MAC);
    config[6..8].copy_from_slice(&1u16.to_le_bytes());
    config
}

/// The 12 header bytes of a slot, as the device reads them.
fn header_bytes(slot: &RequestSlot) -> [u8; 12] {
    let mut bytes = [0u8; 12];
    bytes[0..4].copy_from_slice(&u32::from_le(slot.kind.load(Ordering::Relaxed)).to_le_bytes());
    let reserved = u32::from_le(slot.reserved.load(Ordering::Relaxed));
    bytes[4..8].copy_from_slice(&reserved.to_le_bytes());
    let sector = u64::from_le(slot.sector.load(Ordering::Relaxed));
    bytes[8..12].copy_from_slice(&sector.to_le_bytes()[..4]);
    bytes
}

/// Writes the 12 header bytes of a slot, leaving the slot's other bytes
/// alone (the device may write only what the descriptor covers).
pub fn write_header(slot: &RequestSlot, bytes: [u8; 12]) {
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    slot.kind.store(word(0).to_le(), Ordering::Relaxed);
    slot.reserved.store(word(4).to_le(), Ordering::Relaxed);
    let old = u64::from_le(slot.sector.load(Ordering::Relaxed));
    let new = old & !0xffff_ffff | u64::from(word(8));
    slot.sector.store(new.to_le(), Ordering::Relaxed);
}

impl Model {
    /// Reads `struct virtio_net_config`: naturally aligned fields, each
    /// read at most as wide as itself (the MAC a byte at a time).
    pub(super) fn net_device_read(&mut self, at: u64, width: u8) -> u64 {
        let field_width = match at {
            0..=5 => 1,
            6..=11 => 2,
            _ => 0,
        };
        if width != field_width || !at.is_multiple_of(u64::from(width)) {
            self.violation(format!("device configuration read of {width} at {at:#x}"));
            return 0;
        }
        let at = at as usize;
        self.net_config[at..at + usize::from(width)]
            .iter()
            .rev()
            .fold(0, |v, &b| v << 8 | u64::from(b))
    }

    /// A frame arrives from the wire: it waits for a receive buffer, and
    /// takes one now if the device processes on its own.
    pub fn deliver(&mut self, frame: &[u8]) {
        self.inbound.push_back(frame.to_vec());
        if self.b.auto_process && self.status & status::DRIVER_OK != 0 {
            self.process_queue(0, usize::MAX);
        }
    }

    /// Checks a chain is a header and one buffer, the header a whole slot
    /// of the driver's request memory, both in the direction `writable`.
    fn net_chain<'c>(
        &self,
        chain: &'c [Segment],
        writable: bool,
    ) -> Result<(&'static RequestSlot, &'c Segment), String> {
        let [header, buffer] = chain else {
            return Err(format!("a net chain of {} descriptors, not 2", chain.len()));
        };
        if header.len != NET_HEADER || header.writable != writable || buffer.writable != writable {
            return Err(format!(
                "not a virtio-net chain: header of {} bytes, writable {}/{} (expected 12, {writable})",
                header.len, header.writable, buffer.writable
            ));
        }
        Ok((self.dma.header(header.addr)?, buffer))
    }

    /// Puts a transmit chain's frame on the wire; the device writes
    /// nothing back.
    pub(super) fn transmit(&mut self, chain: &[Segment]) -> Result<u32, String> {
        self.requests += 1;
        let (slot, frame) = self.net_chain(chain, false)?;
        let header = header_bytes(slot);
        if header != [0; 12] {
            self.violation(format!("transmit header {header:02x?} is not all zero"));
        }
        let bytes = self.dma.bytes(frame.addr, frame.len)?;
        self.wire
            .push(bytes.iter().map(|b| b.load(Ordering::Relaxed)).collect());
        Ok(0)
    }

    /// Writes the oldest waiting frame into a receive chain; `None` when
    /// no frame waits.
    pub(super) fn receive(&mut self, chain: &[Segment]) -> Result<Option<u32>, String> {
        if self.inbound.is_empty() {
            return Ok(None);
        }
        let (slot, buffer) = self.net_chain(chain, true)?;
        let frame = self.inbound.front().expect("checked not empty");
        if frame.len() > buffer.len as usize {
            return Err(format!(
                "a {}-byte frame for a {}-byte buffer",
                frame.len(),
                buffer.len
            ));
        }
        let window = self.dma.bytes(buffer.addr, frame.len() as u32)?;
        for (cell, &b) in window.iter().zip(frame) {
            cell.store(b, Ordering::Relaxed);
        }
        let mut header = [0u8; 12];
        header[NUM_BUFFERS_AT..].copy_from_slice(&1u16.to_le_bytes());
        write_header(slot, header);
        let written = NET_HEADER + frame.len() as u32;
        self.inbound.pop_front();
        self.requests += 1;
        Ok(Some(written))
    }
}
