//! What driver and client components share beyond the runtime.
//!
//! * [`rings`]: a ring the plan names (`ring.<name>.queues`,
//!   `ring.<name>.data`, the `ring.<name>` signal cap and badge bit)
//!   attached as a byte writer or reader, with its peer to signal.
//! * [`tsc`]: the time-stamp counter, which counts guest instructions
//!   under QEMU's `-icount`.
//! * [`names`]: symbol names made from parts; [`pci`]: a PCI device's
//!   BARs as register windows.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod names;
pub mod pci;
pub mod rings;
pub mod tsc;
