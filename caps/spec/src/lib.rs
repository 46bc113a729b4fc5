//! The binary spec of a capability plan.
#![no_std]
