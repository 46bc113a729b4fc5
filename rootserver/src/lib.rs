//! paddock's root task.
//!
//! The kernel starts it with the bootinfo address in RDI and no stack
//! (`start`); it reports what the kernel handed over, then builds the
//! planned system (`boot`).
//!
//! Host-side unit tests build this crate with `std`; the freestanding
//! entry, stack, panic handler and boot sequence exist only in the real
//! root task.
#![cfg_attr(not(test), no_std)]
// Host tests build only the host-testable modules; what the boot sequence
// alone uses is dead there.
#![cfg_attr(test, allow(dead_code))]
#![deny(unsafe_op_in_unsafe_fn)]

// Only ACPI allocates (see `acpi`'s heap).
extern crate alloc;

#[macro_use]
mod console;
mod acpi;
#[cfg(not(test))]
mod boot;
mod cell;
mod config_space;
#[cfg(not(test))]
mod dump;
mod elf;
#[cfg(not(test))]
mod faults;
mod inject;
mod intx;
#[cfg(not(test))]
mod line_report;
#[cfg(not(test))]
mod observe;
mod paging;
mod pci;
mod scratch;
mod slots;
#[cfg(not(test))]
mod start;
mod system;
mod untyped;
#[cfg(not(test))]
mod views;
#[cfg(not(test))]
mod witness;
