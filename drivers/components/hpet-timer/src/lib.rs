//! What the HPET timer component needs beyond the protocol crate: the
//! register block through the mapping of its `[[component.mmio]]`.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod mmio;

use paddock_runtime::{log, Component};

/// Log why the component stops, then block for good: waiting on its
/// notification (ignoring what arrives) takes no CPU time from the
/// lower-priority components, as a spin would.
pub fn stop(c: &Component, why: &dyn core::fmt::Display) -> ! {
    log!("stopped: {why}");
    c.park()
}
