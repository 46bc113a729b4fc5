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

/// A scratch file of any bytes.
fn scratch_bytes(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch(name, "");
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs `paddock <command> <path>`: its exit code and stderr.
fn run(command: &str, path: &std::path::Path) -> (Option<i32>, String) {
    let out = paddock(&[command, path.to_str().unwrap()]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const VALID: &str = "[system]\nname = \"files\"\nkernel = \"debug\"\n";

#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_accepted() {
    let bom = scratch_bytes("bom.toml", &[b"\xef\xbb\xbf", VALID.as_bytes()].concat());
    let crlf = scratch("crlf.toml", &VALID.replace('\n', "\r\n"));
    let both = scratch_bytes(
        "bom-crlf.toml",
        &[b"\xef\xbb\xbf", VALID.replace('\n', "\r\n").as_bytes()].concat(),
    );
    for path in [bom, crlf, both] {
        let (code, stderr) = run("audit", &path);
        assert_eq!(code, Some(0), "{}: {stderr}", path.display());
    }
}

#[test]
fn errors_in_files_with_a_byte_order_mark_or_crlf_keep_their_columns() {
    // The mark is not a column: `sytem` is at 1:2 as an editor shows it.
    let bom = scratch_bytes("bom-typo.toml", b"\xef\xbb\xbf[sytem]\nname = \"x\"\n");
    let crlf = scratch(
        "crlf-error.toml",
        "[system]\r\nname = \"x\"\r\nkernel = \"debug\"\r\nmemory_mib = 1\r\n",
    );
    for (path, place, says) in [
        (bom, "1:2", "unknown field `sytem`"),
        (crlf, "4:14", "memory_mib 1"),
    ] {
        for command in ["build", "audit"] {
            let (code, stderr) = run(command, &path);
            assert_ne!(code, Some(0), "{stderr}");
            assert!(
                stderr.contains(&format!("{}:{place}", path.display())),
                "{stderr}"
            );
            assert!(stderr.contains(says), "{stderr}");
            assert!(!stderr.contains('\r'), "{stderr:?}");
        }
    }
}

#[test]
fn files_that_are_not_descriptions_are_named() {
    let dir = scratch("x", "").with_file_name("a-directory.toml");
    std::fs::create_dir_all(&dir).unwrap();
    let latin1 = scratch_bytes(
        "latin1.toml",
        b"[system]\nname = \"caf\xe9\"\nkernel = \"debug\"\n",
    );
    let empty = scratch("empty.toml", "");
    let comments = scratch("comments.toml", "# a description\n# to come\n");
    let huge = scratch("huge.toml", "");
    // Sparse: nothing is written to the disk.
    std::fs::File::options()
        .write(true)
        .open(&huge)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let cases = [
        (dir.clone(), dir.display().to_string(), "is a directory"),
        (
            latin1.clone(),
            format!("{}:2:12", latin1.display()),
            "is not UTF-8 text",
        ),
        (
            empty.clone(),
            format!("{}:1:1", empty.display()),
            "missing field `system`",
        ),
        (
            comments.clone(),
            format!("{}:1:1", comments.display()),
            "missing field `system`",
        ),
        (
            huge.clone(),
            huge.display().to_string(),
            "larger than the 16 MiB",
        ),
    ];
    for (path, place, says) in &cases {
        for (command, status) in [("build", 1), ("audit", 2)] {
            let started = std::time::Instant::now();
            let (code, stderr) = run(command, path);
            assert_eq!(code, Some(status), "{command} {}: {stderr}", path.display());
            assert!(
                stderr.contains(place),
                "{command}: want {place} in {stderr}"
            );
            assert!(
                stderr.contains(says),
                "{command}: want {says:?} in {stderr}"
            );
            assert!(
                started.elapsed().as_secs() < 5,
                "{command} {}",
                path.display()
            );
        }
    }
}

#[test]
fn a_file_that_cannot_be_read_is_named_with_the_reason() {
    // A path through a regular file, as if it were a folder: no reader,
    // root included, can open it (permission bits would not stop root).
    let file = scratch("not-a-folder.toml", VALID);
    let path = file.join("inner.toml");
    let (code, stderr) = run("audit", &path);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot read `{}`", path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("Not a directory"), "{stderr}");
}
