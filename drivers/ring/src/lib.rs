//! Shared-memory descriptor rings.
#![no_std]
