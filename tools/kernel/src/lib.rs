//! The seL4 kernel as paddock uses it.
//!
//! * [`config`]: the kernel configurations paddock boots, as typed values that
//!   render to the kernel's `autoconf.h`.
//! * [`source`]: the pinned seL4 5.0.0 source, fetched and located by Cargo.
//!
//! The same source and the same [`config::KernelConfig`] feed both the kernel
//! build and the generated user-space bindings, so the numbers a component
//! uses are the numbers the kernel it runs on was built with.

pub mod build;
pub mod config;
pub mod interface;
pub mod source;
