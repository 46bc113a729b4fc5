//! The virtio-blk driver's logic ([`service`]), shared by the isolated
//! component (`src/main.rs`) and the benchmark that links it into its
//! client.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod device;
pub mod memory;
pub mod service;
pub use service::{Service, Stats, Stop};
