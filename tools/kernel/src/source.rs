//! The pinned seL4 kernel source.
//!
//! The only seL4 source on the package registries is the `seL4/` folder
//! bundled in `sel4-sys` 0.0.28 on Cargo's registry. `tools/kernel-source`
//! depends on it (pinned by checksum in that folder's `Cargo.lock`) without ever being
//! compiled; `cargo metadata` fetches the package if needed and reports where
//! it lives. The registry copy is read, never written: builds copy it first
//! (see `build`).

use anyhow::{bail, ensure, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The registry package and version that carry the kernel source.
pub const PACKAGE: &str = "sel4-sys";
pub const PACKAGE_VERSION: &str = "0.0.28";
/// The kernel version that package carries (its `seL4/VERSION`).
pub const KERNEL_VERSION: &str = "5.0.0";

/// A located, read-only seL4 source tree.
#[derive(Clone, Debug)]
pub struct KernelSource {
    root: PathBuf,
}

impl KernelSource {
    /// Locates the source through the pinning manifest under
    /// `<workspace>/tools/kernel-source`, fetching it if Cargo has not yet.
    pub fn locate(workspace: &Path) -> Result<KernelSource> {
        let manifest = workspace.join("tools/kernel-source/Cargo.toml");
        ensure!(
            manifest.is_file(),
            "{} is missing: it pins the seL4 source",
            manifest.display()
        );
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(&cargo)
            .args(["metadata", "--format-version", "1", "--locked"])
            .arg("--manifest-path")
            .arg(&manifest)
            .output()
            .with_context(|| format!("running `{} metadata`", cargo.to_string_lossy()))?;
        if !output.status.success() {
            bail!(
                "`cargo metadata` for {} failed:\n{}",
                manifest.display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let meta: serde_json::Value =
            serde_json::from_slice(&output.stdout).context("parsing `cargo metadata` output")?;
        let package_manifest = meta["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == PACKAGE && p["version"] == PACKAGE_VERSION)
            .and_then(|p| p["manifest_path"].as_str())
            .with_context(|| {
                format!("`cargo metadata` does not list {PACKAGE} {PACKAGE_VERSION}")
            })?;
        let root = Path::new(package_manifest)
            .parent()
            .context("package manifest has no folder")?
            .join("seL4");
        Self::at(root)
    }

    /// Uses an existing seL4 tree (a registry copy or a build copy),
    /// checking that it is the kernel version paddock is written for.
    pub fn at(root: PathBuf) -> Result<KernelSource> {
        let version_file = root.join("VERSION");
        let version = std::fs::read_to_string(&version_file)
            .with_context(|| format!("reading {}", version_file.display()))?;
        ensure!(
            version.trim() == KERNEL_VERSION,
            "{} says seL4 {}, paddock needs {KERNEL_VERSION}",
            version_file.display(),
            version.trim()
        );
        Ok(KernelSource { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `include/api/syscall.xml`: syscall numbers.
    pub fn syscall_xml(&self) -> PathBuf {
        self.root.join("include/api/syscall.xml")
    }

    /// `libsel4/include/interfaces/sel4.xml`: generic invocations.
    pub fn sel4_xml(&self) -> PathBuf {
        self.root.join("libsel4/include/interfaces/sel4.xml")
    }

    /// `libsel4/arch_include/x86/interfaces/sel4arch.xml`: x86 invocations.
    pub fn arch_xml(&self) -> PathBuf {
        self.root
            .join("libsel4/arch_include/x86/interfaces/sel4arch.xml")
    }

    /// `libsel4/sel4_arch_include/x86_64/interfaces/sel4arch.xml`: x86_64
    /// invocations.
    pub fn sel4_arch_xml(&self) -> PathBuf {
        self.root
            .join("libsel4/sel4_arch_include/x86_64/interfaces/sel4arch.xml")
    }

    /// Include folders of libsel4 for x86_64/pc99, most specific first.
    pub fn libsel4_include_dirs(&self) -> Vec<PathBuf> {
        [
            "libsel4/include",
            "libsel4/arch_include/x86",
            "libsel4/sel4_arch_include/x86_64",
            "libsel4/sel4_plat_include/pc99",
        ]
        .iter()
        .map(|d| self.root.join(d))
        .collect()
    }
}
