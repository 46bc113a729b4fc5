//! The HPET's register block, through the uncached mapping the plan calls
//! `mmio.<name>`.

use paddock_hpet::regs::BLOCK_SIZE;
use paddock_hpet::HpetRegs;
use paddock_runtime::Component;

/// The mapped register block.
pub struct MappedHpet {
    base: *mut u64,
}

impl MappedHpet {
    /// The block mapped as `mmio.<name>`; refused unless the mapping holds
    /// the whole block.
    pub fn attach(c: &Component, symbol: &str) -> Result<MappedHpet, &'static str> {
        let r = c
            .region(symbol)
            .map_err(|_| "the plan maps no device memory of that name")?;
        if r.size < BLOCK_SIZE as u64 || r.vaddr == 0 || !r.vaddr.is_multiple_of(8) {
            return Err("the HPET mapping is smaller than its register block");
        }
        Ok(MappedHpet {
            base: r.vaddr as *mut u64,
        })
    }

    /// The register at byte `offset`, if it is an aligned one of the block.
    fn register(&self, offset: usize) -> Option<*mut u64> {
        (offset.is_multiple_of(8) && offset + 8 <= BLOCK_SIZE)
            // SAFETY: offset + 8 <= BLOCK_SIZE, inside the mapping
            // `attach` checked; the pointer is only formed here.
            .then(|| unsafe { self.base.add(offset / 8) })
    }
}

impl HpetRegs for MappedHpet {
    fn read(&mut self, offset: usize) -> u64 {
        match self.register(offset) {
            // SAFETY: an aligned register inside the uncached device
            // mapping the root task keeps for the component's life;
            // volatile, so every access reaches the device.
            Some(p) => unsafe { p.read_volatile() },
            // Outside the block: what an absent device reads.
            None => u64::MAX,
        }
    }

    fn write(&mut self, offset: usize, value: u64) {
        if let Some(p) = self.register(offset) {
            // SAFETY: as for `read`.
            unsafe { p.write_volatile(value) }
        }
    }
}
