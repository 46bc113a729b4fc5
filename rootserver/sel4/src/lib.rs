//! seL4 bindings.
#![no_std]
