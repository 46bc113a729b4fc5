//! seL4 5.0.0 bindings for x86_64, as paddock's root task and components use
//! them.
//!
//! Every number that crosses into the kernel (syscall numbers, invocation
//! labels, object types, error codes, the bootinfo layout) lives in [`sys`],
//! which `build.rs` generates from the same kernel source and the same
//! configuration (`PADDOCK_KERNEL_CONFIG`) as the kernel the image boots.
//! Nothing here types such a number by hand.
//!
//! Layout:
//! * [`syscall`]: the raw `syscall` instruction (the only inline assembly);
//! * [`ipc`]: message info words and the IPC buffer;
//! * the typed invocations, one module per kind of object: [`untyped`],
//!   [`cnode`], [`tcb`], [`vspace`], [`irq`], [`ioport`], [`iommu`];
//! * [`debug`]: the debug syscalls, present on debug kernels only.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod sys;

pub mod bootinfo;
pub mod cap;
pub mod cnode;
pub mod debug;
pub mod error;
#[cfg(paddock_freestanding)]
pub mod freestanding;
mod invoke;
pub mod iommu;
pub mod ioport;
pub mod ipc;
pub mod irq;
pub mod syscall;
pub mod tcb;
pub mod untyped;
pub mod vspace;

pub use cap::{CPtr, CapRights};
pub use error::{Error, Result};
pub use ipc::MessageInfo;

/// A machine word.
pub type Word = u64;
