//! The `paddock` command's answers to bad input: a clear error naming the
//! file (and line), and a non-zero exit, before anything is built.

use std::path::PathBuf;
use std::process::{Command, Output};

fn paddock(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paddock"))
        .args(args)
        .output()
        .expect("paddock runs")
}

fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("paddock-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_missing_image_file_is_named() {
    let out = paddock(&["build", "images/no-such-image.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("images/no-such-image.toml"), "{stderr}");
    assert!(stderr.contains("error"), "{stderr}");
}

#[test]
fn a_malformed_image_file_is_named_with_its_line() {
    let path = scratch(
        "broken.toml",
        "[system]\nname = \"broken\"\nkernel = debug\n",
    );
    let out = paddock(&["build", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    let location = format!("{}:3:", path.display());
    assert!(
        stderr.contains(&location),
        "expected {location} in:\n{stderr}"
    );
}

#[test]
fn an_unknown_field_is_answered_with_a_suggestion() {
    let path = scratch(
        "typo.toml",
        "[system]\nname = \"typo\"\nkernel = \"debug\"\niomu = true\n",
    );
    let out = paddock(&["build", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("{}:4:1", path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("iommu"), "{stderr}");
}
