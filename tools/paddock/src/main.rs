use clap::{Parser, Subcommand};
use paddock::{audit, image, simulate};
use std::path::PathBuf;
use std::process::ExitCode;

/// Build, simulate and audit seL4 systems of isolated user-level drivers.
#[derive(Parser, Debug)]
#[command(name = "paddock", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build the bootable image of a system description into
    /// target/images/<name>/.
    Build {
        /// The system description, e.g. images/default.toml.
        image: PathBuf,
        /// Test builds only: a root task that builds the system wrong on
        /// purpose, to show the runtime audit catches it (into
        /// target/images/<name>-audit-injection/).
        #[arg(long, hide = true)]
        inject_audit_faults: bool,
        /// Pack this folder into the description's disk instead of the
        /// folder it names (a description with one folder disk).
        #[arg(long, value_name = "DIR")]
        disk_from: Option<PathBuf>,
    },
    /// Build (if needed) and boot an image in QEMU.
    Simulate(simulate::SimulateArgs),
    /// Audit the capability layout of a system description.
    Audit(audit::AuditArgs),
    /// Build (or reuse the cached) seL4 kernel for one configuration.
    Kernel {
        /// debug, release, debug-iommu or release-iommu.
        config: paddock_kernel::config::KernelConfig,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = paddock::workspace_root().and_then(|workspace| match &cli.command {
        Command::Build {
            image,
            inject_audit_faults,
            disk_from,
        } => build(
            &workspace,
            image,
            image::BuildOptions {
                inject_audit_faults: *inject_audit_faults,
                disk_from: disk_from.clone(),
            },
        ),
        Command::Simulate(args) => simulate::run(&workspace, args),
        Command::Audit(args) => audit::run(args),
        Command::Kernel { config } => kernel(&workspace, *config),
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            let text = format!("{e:#}");
            // Description diagnostics are already rendered as `error: ...`.
            if text.starts_with("error") {
                eprintln!("{text}");
            } else {
                eprintln!("error: {text}");
            }
            ExitCode::FAILURE
        }
    }
}

fn build(
    workspace: &std::path::Path,
    path: &std::path::Path,
    options: image::BuildOptions,
) -> anyhow::Result<ExitCode> {
    let image = image::build_with(workspace, path, options.clone())?;
    println!("image {} in {}", image.name, image.dir.display());
    if options.inject_audit_faults {
        println!("boot it with: {}/qemu-command", image.dir.display());
    } else {
        println!("boot it with: ./simulate {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn kernel(
    workspace: &std::path::Path,
    config: paddock_kernel::config::KernelConfig,
) -> anyhow::Result<ExitCode> {
    let built = paddock_kernel::build::build(workspace, config)?;
    println!(
        "{} kernel: {} ({}, {:.1} s)",
        config,
        built.elf32.display(),
        if built.rebuilt { "built" } else { "cached" },
        built.elapsed.as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
