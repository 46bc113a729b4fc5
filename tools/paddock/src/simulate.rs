//! `paddock simulate`: build an image if needed and boot it in QEMU.
//!
//! An image whose drivers own COM2 or the PS/2 keyboard gets them
//! attached: COM2 on a socket whose output is shown tagged `[com2]`
//! alongside COM1, and, on a terminal, each line typed goes to COM2 and is
//! typed on the guest's keyboard through the QEMU monitor's `sendkey`.

use crate::image;
use crate::qemu::{self, Attach, BatchOptions, Extra, Next, Session, Source, Verdict, COM2_TAG};
use anyhow::Result;
use clap::Args;
use paddock_caps::Description;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The image `./simulate` boots when given none.
pub const DEFAULT_IMAGE: &str = "images/default.toml";

/// COM2's first port, and the i8042's data port.
const COM2_PORT: i64 = 0x2F8;
const KEYBOARD_PORT: i64 = 0x60;

/// How long each typed key is held.
const KEY_HOLD_MS: u32 = 20;

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
    /// sentinel (repeatable). COM2's lines count with their `[com2] ` tag.
    #[arg(long, value_name = "TEXT")]
    pub until: Vec<String>,
    /// After a batch run that succeeded, compare the root task's runtime
    /// dump with the plan (as `paddock audit --runtime` does); the exit
    /// status is non-zero on any difference. Implies --batch.
    #[arg(long)]
    pub audit: bool,
    /// Pack this host folder into the image's disk instead of the folder
    /// its description names (a description with one folder disk).
    #[arg(long, value_name = "DIR")]
    pub disk_from: Option<PathBuf>,
}

/// The devices of an image a person can interact with.
#[derive(Clone, Copy, Debug, Default)]
struct Devices {
    com2: bool,
    keyboard: bool,
}

impl Devices {
    fn of(d: &Description) -> Devices {
        let owns = |port: i64| {
            d.components.iter().any(|c| {
                c.io_ports
                    .iter()
                    .any(|r| (*r.first.get_ref()..=*r.last.get_ref()).contains(&port))
            })
        };
        Devices {
            com2: owns(COM2_PORT),
            keyboard: owns(KEYBOARD_PORT),
        }
    }
}

pub fn run(workspace: &Path, args: &SimulateArgs) -> Result<ExitCode> {
    let path = args
        .image
        .clone()
        .unwrap_or_else(|| workspace.join(DEFAULT_IMAGE));
    eprintln!("paddock: building {}", path.display());
    let (description, plan) = image::load_description(&path)?;
    let devices = Devices::of(&description);
    let options = image::BuildOptions {
        disk_from: args.disk_from.clone(),
        ..image::BuildOptions::default()
    };
    let image = image::build_planned_with(workspace, &description, &plan, options)?;
    let extra = Extra {
        icount: args.icount,
        ..Extra::default()
    };
    // Ports are chosen before the boot and printed, so a person can point
    // a browser or curl at them.
    let extra = qemu::with_ports(&image, &extra)?;
    qemu::print_forwards(&extra);
    if !args.batch && !args.audit && std::io::stdin().is_terminal() {
        if devices.com2 || devices.keyboard {
            return bridge(&image, &extra, devices);
        }
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
            attach: Attach {
                com2: devices.com2,
                monitor: false,
            },
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
            if args.audit {
                return Ok(crate::audit::runtime(&plan, &outcome.log, "the console"));
            }
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

/// An interactive session through paddock rather than QEMU's terminal:
/// COM1 and COM2 (tagged) printed as they come; each line read from the
/// terminal sent to COM2 and typed on the keyboard, whichever the image
/// has. Ends on end of input (Ctrl-D) or when QEMU exits.
fn bridge(image: &image::Image, extra: &Extra, devices: Devices) -> Result<ExitCode> {
    let mut session = Session::start(
        image,
        extra,
        Attach {
            com2: devices.com2,
            monitor: devices.keyboard,
        },
    )?;
    let targets = match (devices.com2, devices.keyboard) {
        (true, true) => "sent to COM2 and typed on the PS/2 keyboard",
        (true, false) => "sent to COM2",
        _ => "typed on the PS/2 keyboard",
    };
    eprintln!(
        "paddock: booting {} (interactive): each line you enter is {targets}; \
         COM2's output is tagged {}; Ctrl-D quits",
        image.name,
        COM2_TAG.trim_end()
    );
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    loop {
        match session.next(Instant::now() + Duration::from_millis(50)) {
            Next::Line(Source::Com1, line) => println!("{line}"),
            Next::Line(Source::Com2, line) => println!("{COM2_TAG}{line}"),
            Next::Exited(code) => {
                eprintln!("paddock: QEMU exited (status {code:?})");
                return Ok(ExitCode::from(3));
            }
            Next::Timeout => {}
        }
        let _ = std::io::stdout().flush();
        match lines.try_recv() {
            Ok(line) => {
                if let Some(com2) = session.com2() {
                    com2.write_all(format!("{line}\n").as_bytes())?;
                }
                if let Some(monitor) = session.monitor() {
                    monitor.type_text(&line, KEY_HOLD_MS)?;
                    monitor.type_text("\n", KEY_HOLD_MS)?;
                }
            }
            Err(mpsc::TryRecvError::Empty) => {}
            Err(mpsc::TryRecvError::Disconnected) => {
                eprintln!("paddock: end of input, stopping QEMU");
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
}
