use clap::{Parser, Subcommand};
use paddock::audit;
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
    /// Build (or reuse the cached) seL4 kernel for one configuration.
    Kernel {
        /// debug, release, debug-iommu or release-iommu.
        config: paddock_kernel::config::KernelConfig,
    },
    /// Audit the capability layout of a system description.
    Audit(audit::AuditArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Audit(args) => audit::run(args),
        Command::Kernel { config } => kernel(*config),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn kernel(config: paddock_kernel::config::KernelConfig) -> anyhow::Result<ExitCode> {
    let workspace = paddock::workspace_root()?;
    let built = paddock_kernel::build::build(&workspace, config)?;
    println!(
        "{} kernel: {} ({}, {:.1} s)",
        config,
        built.elf32.display(),
        if built.rebuilt { "built" } else { "cached" },
        built.elapsed.as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
