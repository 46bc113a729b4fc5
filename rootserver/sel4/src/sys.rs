//! The numbers of the seL4 interface for the kernel this crate is built
//! against: syscall numbers, invocation labels, object types, error codes,
//! initial capability slots, the bootinfo and IPC buffer layouts and other
//! constants.
//!
//! None of them is written by hand: `build.rs` generates them with
//! `paddock_kernel::interface` from the pinned seL4 source and the kernel
//! configuration in `PADDOCK_KERNEL_CONFIG` (default `debug`), and
//! paddock-kernel's cross-check test compares that generator against real
//! kernel builds. The crate is also compiled with `cfg(sel4_debug_build)`
//! and `cfg(sel4_iommu)` matching [`config::DEBUG_BUILD`] and
//! [`config::IOMMU`], for code that only exists in those configurations.

include!(concat!(env!("OUT_DIR"), "/sel4_generated.rs"));
