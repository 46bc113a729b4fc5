//! Shared helpers of the host and system tests.

use anyhow::Result;
use paddock::image::{self, Image};
use paddock::qemu::{self, BatchOptions, Outcome};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Image builds share cargo target folders; one at a time keeps cargo's
/// own lock waits out of the boot timings.
static BUILD_LOCK: Mutex<()> = Mutex::new(());

/// Builds `images/<name>.toml`.
pub fn build_image(name: &str) -> Result<Image> {
    let ws = workspace();
    build_description(
        &ws.join("images").join(format!("{name}.toml")),
        Default::default(),
    )
}

/// Builds the description at `path` (anywhere, e.g. generated under
/// `target/`) with `options`.
pub fn build_description(path: &Path, options: image::BuildOptions) -> Result<Image> {
    let _guard = BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    image::build_with(&workspace(), path, options)
}

/// Builds and boots `images/<name>.toml` without a terminal, returning the
/// verdict and the whole console log.
pub fn boot(name: &str, timeout: Duration) -> Result<Outcome> {
    boot_until(name, timeout, &[])
}

/// Like [`boot`], but the run succeeds only once a line containing each of
/// `until` has appeared (the failure sentinel still ends it).
pub fn boot_until(name: &str, timeout: Duration, until: &[&str]) -> Result<Outcome> {
    let image = build_image(name)?;
    qemu::run_batch(
        &image,
        BatchOptions {
            timeout,
            echo: false,
            until: until.iter().map(|s| s.to_string()).collect(),
            ..BatchOptions::default()
        },
    )
}

/// The value after `key` on the first console line containing it, e.g.
/// `field(log, "IO page-table levels")` on `... IO page-table levels 3`.
pub fn field<'a>(log: &'a str, key: &str) -> Option<&'a str> {
    log.lines().find_map(|l| {
        let rest = &l[l.find(key)? + key.len()..];
        rest.split_whitespace().next()
    })
}

/// Builds and boots `images/<name>.toml` with the consoles `attach` asks
/// for (COM2, the QEMU monitor), and returns the running session once
/// lines containing each of `ready` have appeared; otherwise fails with
/// the verdict and the console log.
pub fn start(
    name: &str,
    attach: qemu::Attach,
    ready: &[&str],
    timeout: Duration,
) -> Result<qemu::Session> {
    let image = build_image(name)?;
    let mut session = qemu::Session::start(&image, &qemu::Extra::default(), attach)?;
    let deadline = session.started() + timeout;
    match session.wait_for(ready, deadline, false, None) {
        qemu::Verdict::Success(_) => Ok(session),
        verdict => anyhow::bail!(
            "{name} ended with {verdict:?} before {ready:?}; console:\n{}",
            session.log()
        ),
    }
}

/// Builds the description at `path` with `options`, runs it without a
/// terminal as `batch` says, and fails the calling test with the verdict
/// and the console log unless the run succeeded.
pub fn boot_succeeding(path: &Path, options: image::BuildOptions, batch: BatchOptions) -> Outcome {
    let image = build_description(path, options).unwrap_or_else(|e| panic!("{e:#}"));
    let outcome = qemu::run_batch(&image, batch).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        matches!(outcome.verdict, qemu::Verdict::Success(_)),
        "{}: {:?}\n{}",
        path.display(),
        outcome.verdict,
        outcome.log
    );
    outcome
}

/// File `name` in the FAT partition of the packed disk `disk`, as mtools'
/// `mtype` (which nobody here wrote) reads it.
pub fn mtype(disk: &Path, name: &str) -> Vec<u8> {
    let out = std::process::Command::new("mtype")
        .env("MTOOLS_SKIP_CHECK", "1")
        .arg("-i")
        .arg(paddock::disk::partition_spec(disk))
        .arg(format!("::/{name}"))
        .output()
        .expect("mtype (Debian's mtools) runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Pseudo-random bytes from a fixed seed (xorshift): test data that is
/// the same on every run.
pub fn random(seed: u32, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}
