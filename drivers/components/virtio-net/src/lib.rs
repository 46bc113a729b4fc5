//! The virtio-net driver's logic, as a library: the isolated driver
//! (`virtio-net`) runs it in its own component; the benchmark links it
//! into its client to measure what isolation costs.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod device;
pub mod memory;
pub mod service;

pub use service::{Service, Stop};
