//! The generated bindings for every configuration: present where expected,
//! and compiling as `no_std` Rust with warnings denied.

use paddock_kernel::config::KernelConfig;
use paddock_kernel::interface::{self, Interface};
use paddock_kernel::source::KernelSource;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scratch(what: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(what)
}

/// Tests run in parallel: each names its own scratch folder.
fn generate(test: &str, config: KernelConfig) -> Interface {
    let source = KernelSource::locate(&workspace()).expect("kernel source");
    interface::generate(&source, config, &scratch(&format!("{test}-{config}")))
        .unwrap_or_else(|e| panic!("generating {config}: {e:#}"))
}

fn names<T>(items: &[T], name: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|i| name(i).to_string()).collect()
}

#[test]
fn configuration_dependent_entries_follow_the_configuration() {
    let debug = generate("entries", KernelConfig::DEBUG);
    let release = generate("entries", KernelConfig::RELEASE);
    let iommu = generate("entries", KernelConfig::DEBUG_IOMMU);

    let syscalls = |i: &Interface| names(&i.syscalls, |s| &s.name);
    assert!(syscalls(&debug).contains(&"DebugPutChar".to_string()));
    assert!(!syscalls(&release).contains(&"DebugPutChar".to_string()));
    assert_eq!(syscalls(&release).len(), 8);

    let objects = |i: &Interface| names(&i.object_types, |o| &o.name);
    assert!(objects(&iommu).contains(&"X86_IOPageTableObject".to_string()));
    assert!(!objects(&debug).contains(&"X86_IOPageTableObject".to_string()));
    assert!(iommu.constant("IOPageTableBits").is_some());
    assert!(debug.constant("IOPageTableBits").is_none());

    // Facts measured by booting (shared/KERNEL.md).
    let offset = |i: &Interface, f: &str| {
        i.boot_info
            .fields
            .iter()
            .find(|(n, _)| n == f)
            .map(|(_, o)| *o)
    };
    assert_eq!(offset(&debug, "untyped"), Some(153));
    assert_eq!(offset(&debug, "untypedList"), Some(169));
    assert_eq!(
        debug
            .syscalls
            .iter()
            .find(|s| s.name == "DebugPutChar")
            .unwrap()
            .value,
        -9
    );
    assert_eq!(iommu.init_caps.len(), 12);
    assert_eq!(iommu.constant("Fault_VMFault"), Some(5));
}

#[test]
fn generated_rust_compiles_as_no_std_without_warnings() {
    for config in KernelConfig::ALL {
        let text = generate("rustc", config).to_rust().expect("render");
        let dir = scratch(&format!("rustc-{config}"));
        std::fs::create_dir_all(&dir).unwrap();
        let generated = dir.join("sel4_generated.rs");
        std::fs::write(&generated, &text).unwrap();
        let lib = dir.join("lib.rs");
        std::fs::write(
            &lib,
            format!(
                "#![no_std]\n#![deny(warnings, missing_docs)]\n//! Check crate.\npub mod sys {{\n    //! Generated.\n    include!({:?});\n}}\n",
                generated
            ),
        )
        .unwrap();
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let out = Command::new(rustc)
            .args([
                "--crate-type",
                "lib",
                "--edition",
                "2021",
                "--crate-name",
                "check",
            ])
            .arg("--out-dir")
            .arg(&dir)
            .arg(&lib)
            .output()
            .expect("running rustc");
        assert!(
            out.status.success(),
            "generated Rust for {config} does not compile:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
