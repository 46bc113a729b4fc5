//! Cached, out-of-tree kernel builds, one per [`KernelConfig`].
//!
//! Each configuration gets `target/kernel/<config>/` holding
//! * `src/`: a copy of the pinned source with the configuration's
//!   `autoconf.h` written over `include/plat/pc99/autoconf.h` (that folder
//!   precedes `-I.`, so a header in the build folder would be ignored);
//! * `build/`: the Makefile's output folder, including the headers the kernel
//!   build generates (`api/invocation.h`, `arch/api/syscall.h`, ...);
//! * `kernel.elf`, and `kernel32.elf` (the same kernel as `elf32-i386`, the
//!   only form QEMU's multiboot loader accepts);
//! * `stamp`: every input that decides the result. A build whose stamp
//!   matches is reused untouched, so changing one image's configuration
//!   rebuilds only that configuration.

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
const BUILD_RECIPE_VERSION: u32 = 2;

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

/// Builds the kernel for `config`, or reuses the cached build when every
/// input is unchanged.
pub fn build(workspace: &Path, config: KernelConfig) -> Result<BuiltKernel> {
    let started = Instant::now();
    let pristine = KernelSource::locate(workspace)?;
    let dir = kernel_dir(workspace, config);
    let src = dir.join("src");
    let build_dir = dir.join("build");
    let elf = build_dir.join("kernel.elf");
    let elf32 = dir.join("kernel32.elf");
    let stamp_path = dir.join("stamp");
    let python = python(workspace);
    let stamp = stamp_text(&pristine, config, &python);

    // Builds of one configuration from several processes (parallel tests,
    // a second terminal) would write the same files: one at a time.
    let _lock = lock_dir(&dir)?;

    let cached = fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp)
        && elf.is_file()
        && elf32.is_file();
    if !cached {
        if !python.is_file() {
            bail!(
                "{} not found: the kernel's header generators need Python with ply, six \
                 and tempita (./simulate and ./test create this venv)",
                python.display()
            );
        }
        // A stale stamp must not survive a failed build.
        let _ = fs::remove_file(&stamp_path);
        prepare_source(pristine.root(), &src, config)?;
        run_make(&src, &build_dir, config, &python, &dir.join("build.log"))?;
        let status = Command::new("objcopy")
            .args(["-O", "elf32-i386"])
            .arg(&elf)
            .arg(&elf32)
            .status()
            .context("running objcopy")?;
        if !status.success() {
            bail!("objcopy -O elf32-i386 {} failed", elf.display());
        }
        fs::write(&stamp_path, &stamp)
            .with_context(|| format!("writing {}", stamp_path.display()))?;
    }
    Ok(BuiltKernel {
        config,
        elf,
        elf32,
        source: KernelSource::at(src)?,
        build_dir,
        rebuilt: !cached,
        elapsed: started.elapsed(),
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
fn stamp_text(pristine: &KernelSource, config: KernelConfig, python: &Path) -> String {
    format!(
        "recipe {BUILD_RECIPE_VERSION}\nsource {}\npython {}\ncflags {EXTRA_CFLAGS}\n\
         make {}\n--- autoconf.h ---\n{}",
        pristine.root().display(),
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
