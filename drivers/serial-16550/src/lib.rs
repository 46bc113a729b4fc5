//! Device logic of a 16550 UART reached through port IO.
//!
//! What it does: checks line settings ([`Config`]), finds out whether a
//! UART answers at all, programs it ([`Uart::init`]), and services its
//! interrupt ([`Uart::handle_interrupt`]): receive bytes go to a consumer
//! that may push back, transmit bytes come from a producer, and line
//! errors are counted ([`Stats`]). All register access goes through the
//! [`PortIo`] trait with offsets relative to the UART's base, so the same
//! code runs against seL4 IOPort capabilities in a component and against a
//! modelled UART in host tests.
//!
//! What it does not do: own any capability, wait for interrupts, ack them
//! at the interrupt controller, or know about rings. The component that
//! wraps it does those. It also does not handle modem-line flow control
//! (RTS/CTS) beyond asserting RTS and DTR.
//!
//! Register layouts are in [`regs`].
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod config;
mod error;
mod io;
pub mod regs;
mod stats;
mod uart;

pub use config::{Config, ConfigError, LineSettings, Parity};
pub use error::{Absence, Error};
pub use io::PortIo;
pub use stats::{Events, Stats};
pub use uart::Uart;
