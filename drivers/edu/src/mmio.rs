//! Access to the device's register BAR, supplied by whoever maps it.

/// Volatile access to BAR 0 at byte offsets.
///
/// The component implements this over the uncached mapping of the BAR
/// (the only place that needs `unsafe`); tests implement it over a model.
/// Accesses are infallible: a mapped frame cannot fail, and a device that
/// is gone reads as all ones, which [`Edu::probe`](crate::Edu::probe)
/// detects. Offsets come from [`regs`](crate::regs), which also fixes each
/// register's width (the device ignores 8-byte accesses below 0x80).
pub trait Mmio {
    /// Read the 32-bit register at `offset`.
    fn read32(&mut self, offset: usize) -> u32;
    /// Write the 32-bit register at `offset`.
    fn write32(&mut self, offset: usize, value: u32);
    /// Read the 64-bit register at `offset`.
    fn read64(&mut self, offset: usize) -> u64;
    /// Write the 64-bit register at `offset`.
    fn write64(&mut self, offset: usize, value: u64);
}

impl<M: Mmio + ?Sized> Mmio for &mut M {
    fn read32(&mut self, offset: usize) -> u32 {
        (**self).read32(offset)
    }
    fn write32(&mut self, offset: usize, value: u32) {
        (**self).write32(offset, value)
    }
    fn read64(&mut self, offset: usize) -> u64 {
        (**self).read64(offset)
    }
    fn write64(&mut self, offset: usize, value: u64) {
        (**self).write64(offset, value)
    }
}
