//! Access to the HPET register block, supplied by whoever maps it.

/// Volatile 64-bit access to the register block at byte offsets.
///
/// The component implements this over the uncached device-memory mapping
/// of the block (the only place that needs `unsafe`); tests implement it
/// over a model. Accesses are infallible: a mapped frame cannot fail, and
/// an absent device reads as all ones, which
/// [`Timer::new`](crate::Timer::new) refuses (its period is too long).
pub trait HpetRegs {
    /// Read the 64-bit register at `offset`.
    fn read(&mut self, offset: usize) -> u64;
    /// Write the 64-bit register at `offset`.
    fn write(&mut self, offset: usize, value: u64);
}

impl<R: HpetRegs + ?Sized> HpetRegs for &mut R {
    fn read(&mut self, offset: usize) -> u64 {
        (**self).read(offset)
    }
    fn write(&mut self, offset: usize, value: u64) {
        (**self).write(offset, value)
    }
}
