//! The console contract between a booted system and the host.
//!
//! The root task prints these exact lines; `./simulate`, the system tests
//! and `paddock audit --runtime` look for them. Keeping them in one crate
//! that both sides depend on means a renamed sentinel cannot silently break
//! a test.
#![cfg_attr(not(test), no_std)]

pub mod blob;
pub mod component;
pub mod line_report;
pub mod pci_config;
pub mod record;
pub mod started;

/// Printed once the system is built and every component has been started.
/// A non-interactive run ends with exit status 0 when it sees this line.
pub const SUCCESS_SENTINEL: &str = "paddock: system ready";

/// Printed (after the reason) when the root task cannot go on: a panic, a
/// failed invocation, a spec it refuses. A non-interactive run ends with a
/// non-zero status when it sees this prefix.
pub const FAILURE_SENTINEL: &str = "paddock: SYSTEM FAILED";

/// Prefix of the bootinfo summary lines.
pub const BOOTINFO_PREFIX: &str = "paddock: bootinfo:";

/// Prefix of every line of the runtime audit dump (see the root task's
/// `dump` module for the format).
pub const DUMP_PREFIX: &str = "paddock-dump:";

/// Printed once every component has been created and started; the rest
/// of the line is [`started::Started`].
pub const STARTED_PREFIX: &str = "paddock: all components started:";
