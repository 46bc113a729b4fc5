//! The paddock command's library: image building, QEMU runs and audits.

pub mod audit;
