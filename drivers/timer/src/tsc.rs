//! The time-stamp counter, the one instruction the clock page needs.

/// Reads the time-stamp counter.
pub fn read() -> u64 {
    // SAFETY: rdtsc reads a counter and has no other effect; every x86_64
    // CPU has it, and seL4 leaves CR4.TSD clear, so user level may use it.
    unsafe { core::arch::x86_64::_rdtsc() }
}
