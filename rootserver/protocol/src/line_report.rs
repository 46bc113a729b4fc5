//! A shared IOAPIC line's holder telling the root task which sharers were
//! late (docs/platform.md, "Shared interrupt lines").
//!
//! The holder sends, without waiting for an answer, on its fault endpoint
//! cap: the kernel stamps that message with the holder's own component
//! badge, so the root task knows who reports, and accepts the report only
//! from a component running [`HOLDER_PROGRAM`]. The message names sharers
//! by the bits their answers set in the holder's notification; the root
//! task turns each bit into a component from the plan (the component whose
//! send cap to that notification carries the bit), so a report can never
//! name anyone but a sharer of that line.

/// The program of every planned line holder.
pub const HOLDER_PROGRAM: &str = "irq-mux";

/// The label of a late report. The kernel's fault messages carry labels
/// below 16 (`seL4_Fault_*`); the root task checks at compile time that
/// this one is none of them.
pub const LATE: u64 = 0x1a7e;

/// Message words of a late report, in order.
pub mod word {
    /// The late sharers' bits in the holder's notification badge.
    pub const LATE_BITS: usize = 0;
    /// Which interrupt of the line, counted by the holder from 1.
    pub const INTERRUPT: usize = 1;
    /// How many words a report has.
    pub const COUNT: usize = 2;
}
