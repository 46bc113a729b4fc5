//! Device logic of a PS/2 keyboard behind the i8042 controller.
//!
//! What it does: brings up the controller and the keyboard with bounded
//! polling ([`Controller::init`]), reads the bytes waiting when IRQ 1
//! fires ([`Controller::read_available`]), decodes scancode set 1 or 2
//! into key events with modifier tracking and US-layout ASCII
//! ([`Decoder`]), and packs events into a checked four-byte wire form
//! ([`WireKeyEvent`]) for rings between components. All port access goes
//! through the [`PortIo`] trait, so the same code runs against seL4 IOPort
//! capabilities for 0x60 and 0x64 and against a modelled i8042 in tests.
//!
//! What it does not do: own capabilities, wait for or ack interrupts,
//! drive the mouse port (it is left disabled), set the keyboard LEDs, or
//! know any layout but US.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod ascii;
mod controller;
mod decoder;
mod error;
mod event;
mod io;
mod keycode;
pub mod regs;
mod scancode;
mod wire;

pub use ascii::ascii;
pub use controller::{Config, Controller, Stats};
pub use decoder::Decoder;
pub use error::{Error, Step, Wait};
pub use event::{Decoded, KeyEvent, Modifiers, Reply};
pub use io::{Port, PortIo};
pub use keycode::KeyCode;
pub use scancode::{lookup, ScancodeSet};
pub use wire::{WireError, WireKeyEvent, WIRE_SIZE};
