//! Device logic of the IA-PC High Precision Event Timer (specification
//! 1.0a), as the time source of a timer driver.
//!
//! What it does: checks the block's capabilities ([`Timer::new`] refuses a
//! period of zero or above 100 ns, which includes an absent device reading
//! all ones, a comparator that does not exist, and an IOAPIC input the
//! comparator cannot route to), converts between nanoseconds and ticks in
//! 128-bit arithmetic ([`Period`]), reads the time, arms one-shot
//! deadlines on one comparator (reporting a deadline already passed instead
//! of programming a comparator that would never match, and stepping a
//! 32-bit comparator towards a far deadline), and acknowledges its
//! interrupt. [`TimerService`] shares the comparator between clients with
//! a [`DeadlineQueue`]; [`Clock`] and [`Delay`] are the client's side,
//! with `embedded-hal`'s `DelayNs`. Register access goes through the
//! [`HpetRegs`] trait, so the same code runs over the component's mapping
//! and over a modelled device in host tests.
//!
//! What it does not do: periodic mode, FSB (message) delivery, legacy
//! replacement routing (it turns it off), or more than one comparator per
//! [`Timer`].
//!
//! # What the component will need
//!
//! A timer component built on this crate needs, from its description:
//!
//! - the register block as device (uncached) memory: one 4 KiB frame at
//!   the physical address the ACPI HPET table gives (0xFED00000 on QEMU
//!   q35). It is not behind a PCI BAR, so the frame is named by address,
//!   not found by probing the bus;
//! - the interrupt as an IOAPIC input, with the trigger mode and polarity
//!   the comparator is configured for ([`Config`]); the input must be in
//!   the comparator's INT_ROUTE_CAP (sDDF uses input 2 on q35, where
//!   ISA IRQ 0 is also overridden to input 2: whether the PIT shares it
//!   must be checked when the component is written);
//! - a notification bound to that interrupt, and an endpoint or
//!   notification per client to signal expiry (bit `i` of the masks
//!   [`TimerService`] returns is client `i`);
//! - no DMA and no IOMMU window: the HPET never masters the bus.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod error;
mod mmio;
mod period;
mod queue;
pub mod regs;
mod service;
mod timer;

pub use client::{Clock, Delay};
pub use error::Error;
pub use mmio::HpetRegs;
pub use period::Period;
pub use queue::DeadlineQueue;
pub use regs::{GeneralCaps, TimerCaps};
pub use service::TimerService;
pub use timer::{Armed, Config, Interrupt, Timer, Trigger, WINDOW_32};
