//! The atomics the queue protocol runs on.
//!
//! Normally these are `core`'s. With the `loom` feature they are loom's
//! model-checked ones, so the loom test explores every interleaving of the
//! very code components run, not a copy of it. Only the queue control words
//! go through here: the data region and the layout arithmetic never change.

#[cfg(feature = "loom")]
pub(crate) use loom::sync::atomic::{fence, AtomicU32, AtomicU64};

#[cfg(not(feature = "loom"))]
pub(crate) use core::sync::atomic::{fence, AtomicU32, AtomicU64};

pub(crate) use core::sync::atomic::Ordering;
