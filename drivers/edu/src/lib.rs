//! Device logic of QEMU's `edu` educational PCI device (1234:11e8).
//!
//! What it does: checks that BAR 0 is a live `edu` ([`Edu::probe`]),
//! builds DMA requests that are in bounds for the device's 4 KiB buffer
//! and its DMA mask before any register is written ([`DmaRequest`],
//! [`BusWindow`]), starts them with an interrupt on completion, and
//! services the interrupt by acknowledging exactly what was raised
//! ([`Edu::handle_interrupt`]). Register access goes through the [`Mmio`]
//! trait, so the same code runs over the component's uncached BAR mapping
//! and over a modelled device in host tests.
//!
//! What it does not do: find the device on the PCI bus, map its BAR,
//! enable bus mastering or MSI, program the IOMMU, or touch the host
//! memory it moves data to and from; it deals in bus addresses only, so
//! the driver never needs the client's buffers mapped.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod device;
mod dma;
mod error;
mod mmio;
pub mod regs;

pub use device::{Edu, Interrupt, Version};
pub use dma::{BusWindow, Direction, DmaRequest, DEFAULT_DMA_MASK};
pub use error::Error;
pub use mmio::Mmio;
