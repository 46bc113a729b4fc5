//! Register access: the one thing a transport needs from a mapped BAR.
//!
//! A trait, so host tests can put a modelled device behind it; a component
//! uses [`MappedRegion`](crate::MappedRegion), the volatile implementation
//! over a mapping the root task made.

/// Byte, word, dword and qword access at offsets within one mapped BAR
/// region (offset 0 is the start of the mapping, not of the structure).
///
/// This crate only makes accesses with `offset + width <= size()` and
/// `offset` aligned to the width: every structure is checked against
/// [`size`](Mmio::size) when the transport is built. An implementation
/// must still stay within its mapping for any offset (the volatile one
/// reads all ones and drops writes outside it), so a bug here can never
/// become an access to someone else's memory.
pub trait Mmio {
    /// Bytes of the BAR that are mapped: what every structure the device
    /// claims to have in this BAR is checked against.
    fn size(&self) -> u64;
    /// Reads the byte at `offset`.
    fn read8(&self, offset: u64) -> u8;
    /// Reads the little-endian word at `offset`.
    fn read16(&self, offset: u64) -> u16;
    /// Reads the little-endian dword at `offset`.
    fn read32(&self, offset: u64) -> u32;
    /// Writes the byte at `offset`.
    fn write8(&self, offset: u64, value: u8);
    /// Writes the little-endian word at `offset`.
    fn write16(&self, offset: u64, value: u16);
    /// Writes the little-endian dword at `offset`.
    fn write32(&self, offset: u64, value: u32);

    /// Reads a 64-bit field as two dword accesses, low half first: virtio
    /// 1.x (4.1.3.1) asks drivers to access 64-bit fields of the PCI
    /// structures 32 bits at a time.
    fn read64(&self, offset: u64) -> u64 {
        let low = self.read32(offset);
        let high = self.read32(offset.wrapping_add(4));
        u64::from(high) << 32 | u64::from(low)
    }

    /// Writes a 64-bit field as two dword accesses, low half first (see
    /// [`read64`](Mmio::read64)).
    fn write64(&self, offset: u64, value: u64) {
        self.write32(offset, value as u32);
        self.write32(offset.wrapping_add(4), (value >> 32) as u32);
    }
}

impl<M: Mmio + ?Sized> Mmio for &M {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read8(&self, offset: u64) -> u8 {
        (**self).read8(offset)
    }
    fn read16(&self, offset: u64) -> u16 {
        (**self).read16(offset)
    }
    fn read32(&self, offset: u64) -> u32 {
        (**self).read32(offset)
    }
    fn write8(&self, offset: u64, value: u8) {
        (**self).write8(offset, value)
    }
    fn write16(&self, offset: u64, value: u16) {
        (**self).write16(offset, value)
    }
    fn write32(&self, offset: u64, value: u32) {
        (**self).write32(offset, value)
    }
}
