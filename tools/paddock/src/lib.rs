//! The paddock command's library: image building, QEMU runs and audits.

pub mod audit;
pub mod disk;
pub mod image;
pub mod progress;
pub mod qemu;
pub mod runtime_audit;
pub mod simulate;

use anyhow::{Context, Result};
use std::path::PathBuf;

/// The workspace root: `PADDOCK_ROOT` if set, else the folder holding this
/// crate's workspace (the checkout the `paddock` binary was built from).
pub fn workspace_root() -> Result<PathBuf> {
    if let Some(root) = std::env::var_os("PADDOCK_ROOT") {
        return Ok(PathBuf::from(root));
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .context("cannot find the workspace root above tools/paddock")
}
