//! What the HPET timer component needs beyond the protocol crate: the
//! register block through the mapping of its `[[component.mmio]]`.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod mmio;
