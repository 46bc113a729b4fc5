//! `paddock build`: a system description becomes a bootable image under
//! `target/images/<name>/`: the kernel (elf32, for QEMU's multiboot loader),
//! the root task, and the exact QEMU command line that boots them.

use crate::progress::Step;
use crate::qemu;
use anyhow::{bail, Context, Result};
use paddock_caps::plan::Plan;
use paddock_caps::Description;
use paddock_kernel::config::KernelConfig;
use paddock_protocol::blob::Kind;
use paddock_protocol::component::LOG_PORT;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A built image, ready for QEMU.
#[derive(Clone, Debug)]
pub struct Image {
    pub name: String,
    pub dir: PathBuf,
    pub kernel: PathBuf,
    pub rootserver: PathBuf,
    pub config: KernelConfig,
    /// QEMU arguments that come from the description (machine, memory,
    /// devices); the runner adds CPU, console and image arguments.
    pub machine_args: Vec<String>,
    /// The disk images QEMU attaches, made anew by this build.
    pub disks: Vec<crate::disk::BuiltDisk>,
    /// The user-mode networks, as the description declares them.
    pub networks: Vec<qemu::network::Network>,
    /// A component may log on QEMU's debug console
    /// (`paddock_protocol::component::LOG_PORT`): the runner attaches it
    /// to COM1's console.
    pub debug_console: bool,
}

/// The host target the root task and components are compiled for: seL4
/// runs freestanding x86_64 code with the SysV ABI, which is what this
/// target produces once linked without its C runtime.
pub const COMPONENT_TARGET: &str = "x86_64-unknown-linux-gnu";

/// Loads and plans a description, or fails with its rendered diagnostics.
pub fn load_description(path: &Path) -> Result<(Description, Plan)> {
    paddock_caps::load_planned(path).map_err(|d| anyhow::anyhow!("{d}"))
}

/// Builds the image a description file asks for, reusing every cached
/// piece.
pub fn build(workspace: &Path, description_path: &Path) -> Result<Image> {
    let (description, plan) = load_description(description_path)?;
    build_planned(workspace, &description, &plan)
}

/// How to build an image beyond what its description says. Nothing in a
/// description reaches these: they exist for tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// Build the root task with the cargo feature `audit-injection`: it
    /// then builds the system wrong on purpose in four ways (see
    /// `rootserver/src/inject.rs`), to show the runtime audit catches
    /// them. Such an image and its programs go to folders of their own
    /// (`target/images/<name>-audit-injection`,
    /// `target/sel4/<config>-audit-injection`), so a normal build never
    /// picks them up.
    pub inject_audit_faults: bool,
    /// Pack this host folder into the description's one folder disk
    /// instead of the folder it names (`./simulate --disk-from DIR`).
    pub disk_from: Option<PathBuf>,
}

impl BuildOptions {
    /// What the folders of such a build are suffixed with.
    fn suffix(&self) -> &'static str {
        if self.inject_audit_faults {
            "-audit-injection"
        } else {
            ""
        }
    }
}

/// Builds the image a description file asks for, with `options`.
pub fn build_with(
    workspace: &Path,
    description_path: &Path,
    options: BuildOptions,
) -> Result<Image> {
    let (description, plan) = load_description(description_path)?;
    build_planned_with(workspace, &description, &plan, options)
}

/// Builds the image of a loaded description and its plan.
pub fn build_planned(workspace: &Path, description: &Description, plan: &Plan) -> Result<Image> {
    build_planned_with(workspace, description, plan, BuildOptions::default())
}

/// Builds the image of a loaded description and its plan, with `options`.
pub fn build_planned_with(
    workspace: &Path,
    description: &Description,
    plan: &Plan,
    options: BuildOptions,
) -> Result<Image> {
    let system = &description.system;
    let config = system.kernel_config();

    let step = Step::start(format!("kernel ({config})"));
    let kernel = paddock_kernel::build::build(workspace, config)?;
    step.done(if kernel.rebuilt { "built" } else { "cached" });

    let spec = paddock_caps::encode::encode(plan);
    let mut programs: Vec<&str> = description.components.iter().map(|c| c.program()).collect();
    programs.sort_unstable();
    programs.dedup();

    let step = Step::start(format!(
        "rootserver, {} programs ({config})",
        programs.len()
    ));
    let built = build_programs(workspace, config, &programs, &options)?;
    step.done("ok");

    let dir = workspace
        .join("target/images")
        .join(format!("{}{}", system.name, options.suffix()));
    // Two builds of one image at once would interleave their writes.
    let _lock = paddock_kernel::build::lock_dir(&dir)?;
    let mut files = vec![(Kind::Spec, "spec".to_string(), spec)];
    for (program, path) in programs.iter().zip(&built.programs) {
        let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        files.push((Kind::Program, program.to_string(), bytes));
    }
    check_before_writing(description, plan, &files)?;
    let entries: Vec<(Kind, &str, &[u8])> = files
        .iter()
        .map(|(k, n, b)| (*k, n.as_str(), b.as_slice()))
        .collect();
    let mut blob = Vec::new();
    paddock_protocol::blob::pack(&entries, &mut blob).map_err(|e| anyhow::anyhow!("{e}"))?;
    let library = built.rootserver;
    let step = Step::start("link".to_string());
    link_rootserver(workspace, &library, &dir, &blob)?;
    step.done("ok");
    let disks = if description.disks.is_empty() {
        vec![]
    } else {
        let step = Step::start(format!("{} disk(s)", description.disks.len()));
        let disks = crate::disk::make_all(description, &dir, options.disk_from.as_deref())?;
        step.done("made");
        disks
    };
    let mut machine_args = system.qemu_args();
    for disk in &disks {
        machine_args.extend(crate::disk::drive_args(disk));
    }
    let image = Image {
        name: system.name.clone(),
        kernel: dir.join("kernel32.elf"),
        rootserver: dir.join("rootserver.elf"),
        dir: dir.clone(),
        config,
        machine_args,
        disks,
        networks: qemu::network::Network::from_description(description),
        debug_console: grants_port(description, LOG_PORT),
    };
    copy_if_changed(&kernel.elf32, &image.kernel)?;
    let command = qemu::shell_command(&qemu::command_line(&image, qemu::Console::Interactive));
    write_if_changed(
        &dir.join("qemu-command"),
        format!("# Boots this image; quit QEMU with Ctrl-A X.\n{command}\n").as_bytes(),
    )?;
    Ok(image)
}

/// Refuses to write an image whose encoded spec fails an isolation rule
/// or does not read back as the plan (`paddock_caps::spec_check`: the
/// rules run on the bytes the root task will decode), or that meets a
/// limit only the build can count: each program's pages, the paging
/// structures of each address space, the root task's CNode slots
/// (`paddock_caps::image_check`, errors at the component's place in the
/// description).
fn check_before_writing(
    description: &Description,
    plan: &Plan,
    files: &[(Kind, String, Vec<u8>)],
) -> Result<()> {
    let spec = files
        .iter()
        .find(|(kind, ..)| *kind == Kind::Spec)
        .map(|(.., bytes)| bytes.as_slice())
        .context("the image has no spec to check")?;
    paddock_caps::spec_check::check(description, plan, spec)
        .map_err(|e| anyhow::anyhow!("refusing to write the image of `{}`:\n{e}", plan.name))?;
    let programs: Vec<(&str, &[u8])> = files
        .iter()
        .filter(|(kind, ..)| *kind == Kind::Program)
        .map(|(_, name, bytes)| (name.as_str(), bytes.as_slice()))
        .collect();
    let errors = paddock_caps::image_check::check(description, plan, &programs);
    if !errors.is_empty() {
        let source = &description.source;
        bail!(
            "{}",
            paddock_caps::Diagnostics::new(&source.path, &source.text, errors)
        );
    }
    Ok(())
}

/// What `build_programs` produced.
struct BuiltPrograms {
    rootserver: PathBuf,
    /// One executable per requested program, in the same order.
    programs: Vec<PathBuf>,
}

/// Compiles the root task library and the component programs against the
/// bindings of `config`, in one cargo run. Each kernel configuration has its
/// own target folder: the bindings differ, and sharing one folder would
/// rebuild on every switch. The flags are the same for every crate of the
/// run (a library ignores link arguments), so nothing is rebuilt because
/// one image has components and another has none.
fn build_programs(
    workspace: &Path,
    config: KernelConfig,
    programs: &[&str],
    options: &BuildOptions,
) -> Result<BuiltPrograms> {
    let packages = program_packages(workspace, programs)?;
    let target_dir =
        workspace
            .join("target/sel4")
            .join(format!("{}{}", config.name(), options.suffix()));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let script = workspace.join("drivers/runtime/link.ld");
    let flags = [
        "-Crelocation-model=static".to_string(),
        // Compiles the C memory functions into the `sel4` crate.
        "--cfg=paddock_freestanding".to_string(),
        "-Clink-arg=-nostartfiles".to_string(),
        "-Clink-arg=-nostdlib".to_string(),
        "-Clink-arg=-static".to_string(),
        "-Clink-arg=-no-pie".to_string(),
        "-Clink-arg=-Wl,--build-id=none".to_string(),
        "-Clink-arg=-Wl,--gc-sections".to_string(),
        format!("-Clink-arg=-Wl,-T,{}", script.display()),
    ];
    let mut command = Command::new(&cargo);
    command
        .current_dir(workspace)
        .args(["build", "--quiet", "--release", "-p", "paddock-rootserver"])
        .args(["--target", COMPONENT_TARGET])
        .arg("--target-dir")
        .arg(&target_dir)
        .env("PADDOCK_KERNEL_CONFIG", config.name())
        // With an explicit --target, build scripts and proc macros are
        // compiled without these flags: only the seL4 programs get them.
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"));
    for package in &packages {
        command.args(["-p", package]);
    }
    if options.inject_audit_faults {
        command.args(["--features", "paddock-rootserver/audit-injection"]);
    }
    let status = command
        .status()
        .context("running cargo to build the seL4 programs")?;
    if !status.success() {
        bail!("building the rootserver and programs for the {config} kernel failed");
    }
    let out = target_dir.join(COMPONENT_TARGET).join("release");
    Ok(BuiltPrograms {
        rootserver: out.join("libpaddock_rootserver.a"),
        programs: programs.iter().map(|p| out.join(p)).collect(),
    })
}

/// The workspace package that has a binary called `program`, for each
/// program. A program no package provides is an error naming it.
fn program_packages(workspace: &Path, programs: &[&str]) -> Result<Vec<String>> {
    if programs.is_empty() {
        return Ok(Vec::new());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .current_dir(workspace)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("reading cargo metadata")?;
    let mut packages = Vec::new();
    for program in programs {
        let package = meta["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| {
                p["targets"].as_array().into_iter().flatten().any(|t| {
                    t["name"] == *program
                        && t["kind"]
                            .as_array()
                            .is_some_and(|k| k.iter().any(|k| k == "bin"))
                })
            })
            .and_then(|p| p["name"].as_str())
            .with_context(|| {
                format!(
                    "no workspace package builds a program called `{program}` \
                     (component programs live in drivers/components/)"
                )
            })?;
        packages.push(package.to_string());
    }
    packages.sort();
    packages.dedup();
    Ok(packages)
}

/// Links the root task executable from its library and the image's boot
/// blob. The blob becomes an object whose bytes sit between the symbols
/// `_binary_blob_bin_start` and `_binary_blob_bin_end` (named after the
/// file `blob.bin`, hence the fixed name and working folder).
fn link_rootserver(workspace: &Path, library: &Path, dir: &Path, blob: &[u8]) -> Result<PathBuf> {
    let blob_path = dir.join("blob.bin");
    write_if_changed(&blob_path, blob)?;
    run(Command::new("objcopy")
        .current_dir(dir)
        .args(["-I", "binary", "-O", "elf64-x86-64", "-B", "i386:x86-64"])
        .args([
            "--rename-section",
            ".data=.rodata.paddock_blob,alloc,load,readonly,data,contents",
        ])
        .args(["blob.bin", "blob.o"]))?;
    let output = dir.join("rootserver.elf");
    let fresh = dir.join("rootserver.elf.new");
    let script = workspace.join("rootserver/link.ld");
    run(Command::new("cc")
        .args(["-nostdlib", "-nostartfiles", "-static", "-no-pie"])
        .args(["-Wl,--gc-sections", "-Wl,--build-id=none"])
        .arg(format!("-Wl,-T,{}", script.display()))
        .arg("-o")
        .arg(&fresh)
        .arg(dir.join("blob.o"))
        .arg(library))?;
    // Replace the image only when it changed, and atomically: a QEMU that
    // is loading the previous one (another run of the same image) keeps
    // reading the file it opened.
    let unchanged = fs::read(&output).ok() == Some(fs::read(&fresh)?);
    if unchanged {
        fs::remove_file(&fresh)?;
    } else {
        fs::rename(&fresh, &output).with_context(|| format!("replacing {}", output.display()))?;
    }
    Ok(output)
}

fn run(command: &mut Command) -> Result<()> {
    let output = command
        .output()
        .with_context(|| format!("running {:?}", command.get_program()))?;
    if !output.status.success() {
        bail!(
            "{:?} failed:\n{}",
            command,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

fn copy_if_changed(from: &Path, to: &Path) -> Result<()> {
    let bytes = fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    write_if_changed(to, &bytes)
}

/// Writes only when the content differs, so unchanged images keep their
/// timestamps, and through a rename, so a reader never sees half a file.
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<()> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    let fresh = path.with_extension("new");
    fs::write(&fresh, bytes).with_context(|| format!("writing {}", fresh.display()))?;
    fs::rename(&fresh, path).with_context(|| format!("replacing {}", path.display()))
}

/// Whether a component of the description holds `port`.
pub fn grants_port(description: &Description, port: u16) -> bool {
    description.components.iter().any(|c| {
        c.io_ports
            .iter()
            .any(|r| (*r.first.get_ref()..=*r.last.get_ref()).contains(&i64::from(port)))
    })
}
