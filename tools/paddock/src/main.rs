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
    /// Audit the capability layout of a system description.
    Audit(audit::AuditArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Audit(args) => audit::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
