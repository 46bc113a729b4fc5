//! `paddock audit`: placeholder until the capability plan lands.

use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// The system description to audit.
    pub image: PathBuf,
}

pub fn run(args: &AuditArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("audit of {} is not implemented yet", args.image.display())
}
