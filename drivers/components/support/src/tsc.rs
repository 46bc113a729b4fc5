//! The time-stamp counter. Under QEMU's `-icount shift=0` it advances by
//! one per guest instruction, which makes it a repeatable cost measure.

/// Reads the time-stamp counter.
pub fn read() -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: rdtsc reads a counter into EDX:EAX and has no other effect;
    // seL4 leaves CR4.TSD clear, so it is allowed at user level.
    unsafe {
        core::arch::asm!("rdtsc", out("eax") low, out("edx") high, options(nomem, nostack));
    }
    (u64::from(high) << 32) | u64::from(low)
}
