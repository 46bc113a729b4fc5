//! `paddock simulate`: build an image if needed and boot it in QEMU.

use crate::image;
use crate::qemu::{self, BatchOptions, Extra, Verdict};
use anyhow::Result;
use clap::Args;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The image `./simulate` boots when given none.
pub const DEFAULT_IMAGE: &str = "images/default.toml";

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// System description to boot [default: images/default.toml].
    pub image: Option<PathBuf>,
    /// Give up after this many seconds without a sentinel (batch runs).
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// Run without a terminal even when stdin is one: COM1 on stdout, exit
    /// status from the system's sentinel.
    #[arg(long)]
    pub batch: bool,
    /// Count instructions (`-icount shift=0,sleep=off`): the guest TSC then
    /// counts guest instructions, for repeatable in-guest measurements.
    #[arg(long)]
    pub icount: bool,
    /// End a batch run successfully once console lines containing each
    /// given text have appeared, rather than on the system's success
    /// sentinel (repeatable).
    #[arg(long, value_name = "TEXT")]
    pub until: Vec<String>,
}

pub fn run(workspace: &Path, args: &SimulateArgs) -> Result<ExitCode> {
    let path = args
        .image
        .clone()
        .unwrap_or_else(|| workspace.join(DEFAULT_IMAGE));
    eprintln!("paddock: building {}", path.display());
    let image = image::build(workspace, &path)?;
    let extra = Extra {
        icount: args.icount,
        args: Vec::new(),
    };
    if !args.batch && std::io::stdin().is_terminal() {
        eprintln!("paddock: booting {} (interactive)", image.name);
        let status = qemu::run_interactive(&image, &extra)?;
        return Ok(if status.success() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    eprintln!(
        "paddock: booting {} (batch, timeout {} s)",
        image.name, args.timeout
    );
    let outcome = qemu::run_batch(
        &image,
        BatchOptions {
            timeout: Duration::from_secs(args.timeout),
            extra,
            until: args.until.clone(),
            ..BatchOptions::default()
        },
    )?;
    Ok(match outcome.verdict {
        Verdict::Success(after) => {
            eprintln!(
                "paddock: {} ready {:.2} s after QEMU started",
                image.name,
                after.as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Verdict::Failure => {
            eprintln!("paddock: {} reported failure", image.name);
            ExitCode::from(1)
        }
        Verdict::Timeout => {
            eprintln!(
                "paddock: {}: no sentinel within {} s",
                image.name, args.timeout
            );
            ExitCode::from(2)
        }
        Verdict::Exited(code) => {
            eprintln!(
                "paddock: QEMU exited (status {code:?}) before {} reported",
                image.name
            );
            ExitCode::from(3)
        }
    })
}
