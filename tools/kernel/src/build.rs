//! Cached, out-of-tree kernel builds, one per [`KernelConfig`] and set of
//! inputs.
//!
//! A build is made in a private staging folder and then *published*: renamed,
//! in one step, to `target/kernel/<config>/<key>/`, where `<key>` is a hash
//! of the stamp (every input that decides the result). A published folder is
//! never written again, so any number of readers (the image builder, the
//! cross-check tests, a second `./simulate`) can use its files while another
//! process builds: a reader only ever sees a complete build. It holds
//! * `src/`: a copy of the pinned source with the configuration's
//!   `autoconf.h` written over `include/plat/pc99/autoconf.h` (that folder
//!   precedes `-I.`, so a header in the build folder would be ignored);
//! * `build/`: the Makefile's output folder, including the headers the kernel
//!   build generates (`api/invocation.h`, `arch/api/syscall.h`, ...) and
//!   `kernel_all.c_pp`;
//! * `kernel32.elf` (the kernel as `elf32-i386`, the only form QEMU's
//!   multiboot loader accepts) beside `build/kernel.elf`;
//! * `stamp`: the inputs, as text.
//!
//! Every path in the stamp is canonical, so the same inputs reached through
//! different spellings (`tools/kernel/../../target/venv` from a test,
//! `target/venv` from the command line) give the same key instead of
//! rebuilding each other's kernels. Builds of one configuration are
//! serialised by a lock on `target/kernel/<config>/.lock`; the lock is held
//! only while building and publishing, never while reading.

use crate::config::KernelConfig;
use crate::source::KernelSource;
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// gcc 12 warns (as errors) about code seL4 5.0 relies on. Passed through the
/// environment: `CFLAGS=` on the make command line would replace the
/// Makefile's own flags instead of adding to them.
const EXTRA_CFLAGS: &str = "-Wno-address-of-packed-member -Wno-array-bounds";

/// Bumped whenever the way a kernel is built changes, to invalidate caches.
const BUILD_RECIPE_VERSION: u32 = 3;

/// A fix applied to the source copy: (file, text, replacement). seL4
/// 5.0's x86_64 `restore_user_context` finds the top of the kernel stack
/// for an interrupt that arrived during a system call by rounding RSP to a
/// multiple of the stack size (`andq ~MASK(CONFIG_KERNEL_STACK_BITS)`), but
/// only aligns the stack to 16 bytes. When the linker puts the stack across
/// a 4 KiB boundary, that interrupt runs on memory above the stack, where
/// `x86KSidt` lies, and overwrites IDT entries; the next interrupt through
/// one of them faults in whatever thread is running (seen as #GP with error
/// code `vector * 16 + 2` under QEMU). Aligning the stack to its size, as
/// the rounding assumes, removes the overlap.
const SOURCE_FIXES: &[(&str, &str, &str)] = &[(
    "include/arch/x86/arch/64/mode/kernel/stack.h",
    "#define KERNEL_STACK_ALIGNMENT 16",
    "#define KERNEL_STACK_ALIGNMENT BIT(CONFIG_KERNEL_STACK_BITS)",
)];

/// A kernel ready to boot.
#[derive(Clone, Debug)]
pub struct BuiltKernel {
    pub config: KernelConfig,
    /// The kernel as linked (x86_64 ELF).
    pub elf: PathBuf,
    /// The same kernel as elf32-i386, for QEMU's `-kernel`.
    pub elf32: PathBuf,
    /// The configured source copy the kernel was built from.
    pub source: KernelSource,
    /// The build folder, holding the headers the kernel build generated.
    pub build_dir: PathBuf,
    /// Whether this call compiled the kernel (false: reused the cache).
    pub rebuilt: bool,
    /// Time spent in this call.
    pub elapsed: Duration,
}

/// Where a configuration's kernel lives under the workspace.
pub fn kernel_dir(workspace: &Path, config: KernelConfig) -> PathBuf {
    workspace.join("target/kernel").join(config.name())
}

/// The Python interpreter the kernel's generators run under: the project's
/// venv (made by `./simulate` and `./test`), unless `PADDOCK_PYTHON` names
/// another.
pub fn python(workspace: &Path) -> PathBuf {
    match std::env::var_os("PADDOCK_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => workspace.join("target/venv/bin/python3"),
    }
}

/// Builds the kernel for `config`, or reuses the published build of the
/// same inputs. The returned paths lie in a published folder: they stay
/// valid and unchanged whatever other processes build meanwhile.
pub fn build(workspace: &Path, config: KernelConfig) -> Result<BuiltKernel> {
    let started = Instant::now();
    let pristine = KernelSource::locate(workspace)?;
    let config_dir = kernel_dir(workspace, config);
    let python = canonical(&python(workspace));
    let stamp = stamp_text(&canonical(pristine.root()), config, &python);
    let published = config_dir.join(format!("{:016x}", fnv1a(stamp.as_bytes())));

    let mut rebuilt = false;
    if !is_published(&published, &stamp) {
        // Builds of one configuration from several processes (parallel
        // tests, a second terminal) would do the same work: one at a time,
        // and the second finds the first's result.
        let _lock = lock_dir(&config_dir)?;
        if !is_published(&published, &stamp) {
            if !python.is_file() {
                bail!(
                    "{} not found: the kernel's header generators need Python with ply, six \
                     and tempita (./simulate and ./test create this venv)",
                    python.display()
                );
            }
            let staging = config_dir.join(format!("staging-{}", std::process::id()));
            if staging.exists() {
                fs::remove_dir_all(&staging)
                    .with_context(|| format!("removing {}", staging.display()))?;
            }
            build_into(&pristine, &staging, config, &python)?;
            fs::write(staging.join("stamp"), &stamp)
                .with_context(|| format!("writing {}", staging.join("stamp").display()))?;
            if published.exists() {
                // Inputs identical but the stamp unreadable or the files
                // gone: an interrupted clean-up. Nobody can be reading a
                // folder that `is_published` refuses, so it may go.
                fs::remove_dir_all(&published)
                    .with_context(|| format!("removing {}", published.display()))?;
            }
            fs::rename(&staging, &published).with_context(|| {
                format!(
                    "publishing {} as {}",
                    staging.display(),
                    published.display()
                )
            })?;
            rebuilt = true;
        }
    }
    let build_dir = published.join("build");
    Ok(BuiltKernel {
        config,
        elf: build_dir.join("kernel.elf"),
        elf32: published.join("kernel32.elf"),
        source: KernelSource::at(published.join("src"))?,
        build_dir,
        rebuilt,
        elapsed: started.elapsed(),
    })
}

/// Whether `dir` is a complete published build of exactly `stamp`.
fn is_published(dir: &Path, stamp: &str) -> bool {
    fs::read_to_string(dir.join("stamp")).is_ok_and(|s| s == stamp)
        && dir.join("build/kernel.elf").is_file()
        && dir.join("kernel32.elf").is_file()
}

/// Configures a source copy in `dir/src`, builds it in `dir/build` and
/// converts the result to `dir/kernel32.elf`.
fn build_into(
    pristine: &KernelSource,
    dir: &Path,
    config: KernelConfig,
    python: &Path,
) -> Result<()> {
    let src = dir.join("src");
    let build_dir = dir.join("build");
    prepare_source(pristine.root(), &src, config)?;
    run_make(&src, &build_dir, config, python, &dir.join("build.log"))?;
    let elf = build_dir.join("kernel.elf");
    let status = Command::new("objcopy")
        .args(["-O", "elf32-i386"])
        .arg(&elf)
        .arg(dir.join("kernel32.elf"))
        .status()
        .context("running objcopy")?;
    if !status.success() {
        bail!("objcopy -O elf32-i386 {} failed", elf.display());
    }
    Ok(())
}

/// `path` with its folder's symbolic links and `..` resolved, when that
/// folder exists. The last component is kept as it is: a venv's
/// `python3` is a link to the system interpreter, and only when run through
/// the link does it find the venv's modules.
fn canonical(path: &Path) -> PathBuf {
    match (path.parent().map(fs::canonicalize), path.file_name()) {
        (Some(Ok(dir)), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// FNV-1a, 64 bits: a stable name for a stamp. Collisions cannot mix up
/// builds: the full stamp inside the folder is compared as well.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Creates `dir` if needed and holds an exclusive lock on it (a `.lock`
/// file in it) until the returned file is dropped, across processes.
pub fn lock_dir(dir: &Path) -> Result<fs::File> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(".lock");
    let lock = fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    lock.lock()
        .with_context(|| format!("locking {}", path.display()))?;
    Ok(lock)
}

/// Everything that decides a build's output, as text.
fn stamp_text(pristine: &Path, config: KernelConfig, python: &Path) -> String {
    format!(
        "recipe {BUILD_RECIPE_VERSION}\nsource {}\npython {}\ncflags {EXTRA_CFLAGS}\n\
         make {}\n--- autoconf.h ---\n{}",
        pristine.display(),
        python.display(),
        make_args(config).join(" "),
        config.autoconf_h()
    )
}

fn make_args(config: KernelConfig) -> Vec<&'static str> {
    let mut args = vec![
        "ARCH=x86",
        "SEL4_ARCH=x86_64",
        "PLAT=pc99",
        // tools/circular_includes.py chokes on gcc 12's `# 0 "file"` markers.
        "CIRCULAR_INCLUDES=true",
    ];
    if config.is_debug() {
        // Adds -DDEBUG and capdl.c, which the debug syscalls need.
        args.push("DEBUG=1");
    }
    args
}

/// Copies the pristine source to `dest` (replacing any old copy) and writes
/// the configuration's `autoconf.h` into it.
pub fn prepare_source(pristine: &Path, dest: &Path, config: KernelConfig) -> Result<()> {
    if dest.exists() {
        fs::remove_dir_all(dest).with_context(|| format!("removing {}", dest.display()))?;
    }
    copy_tree(pristine, dest)?;
    for (file, text, replacement) in SOURCE_FIXES {
        let path = dest.join(file);
        let old =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        if !old.contains(text) {
            bail!(
                "{}: `{text}` not found; the source is not the one these fixes are for",
                path.display()
            );
        }
        fs::write(&path, old.replacen(text, replacement, 1))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let autoconf = dest.join("include/plat/pc99/autoconf.h");
    fs::write(&autoconf, config.autoconf_h())
        .with_context(|| format!("writing {}", autoconf.display()))
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target).with_context(|| {
                format!("copying {} to {}", entry.path().display(), target.display())
            })?;
        }
    }
    Ok(())
}

fn run_make(
    src: &Path,
    build_dir: &Path,
    config: KernelConfig,
    python: &Path,
    log: &Path,
) -> Result<()> {
    if build_dir.exists() {
        fs::remove_dir_all(build_dir)?;
    }
    fs::create_dir_all(build_dir)?;
    let log_file = fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let status = Command::new("make")
        .arg("-f")
        .arg(src.join("Makefile"))
        .arg(format!("SOURCE_ROOT={}", src.display()))
        .args(make_args(config))
        .arg(format!("PYTHON={}", python.display()))
        .arg("-j2")
        .env("CFLAGS", EXTRA_CFLAGS)
        // The generators are also run through their `#!/usr/bin/env python`
        // lines, so the venv must come first on PATH, not only in PYTHON.
        .env("PATH", path_with_venv(python))
        .current_dir(build_dir)
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .status()
        .context("running make (is it installed?)")?;
    if !status.success() {
        let text = fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(25).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "building the {config} kernel failed (full log: {}):\n{}",
            log.display(),
            tail.join("\n")
        );
    }
    Ok(())
}

fn path_with_venv(python: &Path) -> std::ffi::OsString {
    let mut dirs: Vec<PathBuf> = python.parent().map(Path::to_path_buf).into_iter().collect();
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_spellings_of_one_interpreter_give_one_stamp() {
        let dir = std::env::temp_dir().join(format!("paddock-canonical-{}", std::process::id()));
        let bin = dir.join("target/venv/bin");
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir_all(dir.join("tools/kernel")).unwrap();
        let direct = bin.join("python3");
        let roundabout = dir.join("tools/kernel/../../target/venv/bin/python3");
        assert_ne!(direct, roundabout);
        assert_eq!(canonical(&direct), canonical(&roundabout));
        let stamp =
            |python: &Path| stamp_text(Path::new("/src"), KernelConfig::DEBUG, &canonical(python));
        assert_eq!(stamp(&direct), stamp(&roundabout));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_interpreter_link_itself_is_kept() {
        // Resolving the venv's `python3` link would name the system
        // interpreter, which does not see the venv's modules.
        let dir = std::env::temp_dir().join(format!("paddock-link-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let link = dir.join("python3");
        std::os::unix::fs::symlink("/bin/true", &link).unwrap();
        assert_eq!(canonical(&link).file_name(), link.file_name());
        assert_eq!(
            canonical(&link).parent(),
            fs::canonicalize(&dir).ok().as_deref()
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn other_inputs_get_another_folder() {
        let a = stamp_text(Path::new("/src"), KernelConfig::DEBUG, Path::new("/p"));
        let b = stamp_text(Path::new("/src"), KernelConfig::RELEASE, Path::new("/p"));
        assert_ne!(fnv1a(a.as_bytes()), fnv1a(b.as_bytes()));
        assert_eq!(fnv1a(a.as_bytes()), fnv1a(a.clone().as_bytes()));
    }
}
