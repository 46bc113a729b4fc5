//! Generates `$OUT_DIR/sel4_generated.rs`, the numbers of the seL4 interface
//! (see `src/sys.rs`), from the pinned kernel source and the kernel
//! configuration named by `PADDOCK_KERNEL_CONFIG` (default `debug`). The
//! image builder sets that variable to the configuration of the kernel it
//! boots, so the two can never disagree.

use paddock_kernel::config::KernelConfig;
use paddock_kernel::interface;
use paddock_kernel::source::KernelSource;
use std::path::PathBuf;
use std::process::ExitCode;

const CONFIG_VAR: &str = "PADDOCK_KERNEL_CONFIG";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: generating the seL4 bindings failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    println!("cargo::rerun-if-env-changed={CONFIG_VAR}");
    println!("cargo::rerun-if-env-changed=PADDOCK_CC");
    println!("cargo::rustc-check-cfg=cfg(sel4_debug_build)");
    println!("cargo::rustc-check-cfg=cfg(sel4_iommu)");

    let config: KernelConfig = match std::env::var(CONFIG_VAR) {
        Ok(name) => name
            .parse()
            .map_err(|e| anyhow::anyhow!("{CONFIG_VAR}={name:?}: {e}"))?,
        Err(std::env::VarError::NotPresent) => KernelConfig::DEBUG,
        Err(e) => anyhow::bail!("{CONFIG_VAR}: {e}"),
    };
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let workspace = manifest_dir.join("../..");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    // The pin decides which source is used.
    for pin in [
        "tools/kernel-source/Cargo.toml",
        "tools/kernel-source/Cargo.lock",
    ] {
        println!("cargo::rerun-if-changed={}", workspace.join(pin).display());
    }
    let source = KernelSource::locate(&workspace)?;
    let generated = interface::generate(&source, config, &out_dir.join("probe"))?;
    for input in &generated.inputs {
        println!("cargo::rerun-if-changed={}", input.display());
    }
    let path = out_dir.join("sel4_generated.rs");
    std::fs::write(&path, generated.to_rust()?)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;

    if config.is_debug() {
        println!("cargo::rustc-cfg=sel4_debug_build");
    }
    if config.iommu {
        println!("cargo::rustc-cfg=sel4_iommu");
    }
    Ok(())
}
