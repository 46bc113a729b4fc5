//! Volatile, bounds-checked access to a device structure inside a mapped
//! BAR: an access outside it reads as all ones and writes nothing.

pub struct Mmio {
    base: *mut u8,
    len: usize,
}

impl Mmio {
    /// # Safety
    /// `base..base + len` must lie in an uncached device mapping of this
    /// component that stays mapped.
    pub unsafe fn new(base: *mut u8, len: usize) -> Mmio {
        Mmio { base, len }
    }

    fn inside(&self, offset: usize, width: usize) -> bool {
        offset.checked_add(width).is_some_and(|end| end <= self.len) && offset.is_multiple_of(width)
    }

    pub fn read8(&self, offset: usize) -> u8 {
        if !self.inside(offset, 1) {
            return u8::MAX;
        }
        // SAFETY: in bounds (checked) of the mapping `new`'s contract
        // guarantees; device registers need volatile.
        unsafe { self.base.add(offset).read_volatile() }
    }

    pub fn read16(&self, offset: usize) -> u16 {
        if !self.inside(offset, 2) {
            return u16::MAX;
        }
        // SAFETY: as in read8, and aligned (checked).
        unsafe { self.base.add(offset).cast::<u16>().read_volatile() }
    }

    pub fn read32(&self, offset: usize) -> u32 {
        if !self.inside(offset, 4) {
            return u32::MAX;
        }
        // SAFETY: as in read16.
        unsafe { self.base.add(offset).cast::<u32>().read_volatile() }
    }

    pub fn write8(&self, offset: usize, value: u8) {
        if self.inside(offset, 1) {
            // SAFETY: as in read8.
            unsafe { self.base.add(offset).write_volatile(value) }
        }
    }

    pub fn write16(&self, offset: usize, value: u16) {
        if self.inside(offset, 2) {
            // SAFETY: as in read16.
            unsafe { self.base.add(offset).cast::<u16>().write_volatile(value) }
        }
    }

    pub fn write32(&self, offset: usize, value: u32) {
        if self.inside(offset, 4) {
            // SAFETY: as in read16.
            unsafe { self.base.add(offset).cast::<u32>().write_volatile(value) }
        }
    }
}
