//! Booting an image in QEMU: the command line, and a runner that watches the
//! serial console for the root task's sentinels ([`run_batch`]) on top of
//! a [`Session`], which can also attach COM2 and the monitor.

mod keys;
pub mod network;
mod session;

use crate::image::Image;
use anyhow::{Context, Result};
use paddock_protocol::component::LOG_PORT;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

pub use keys::key_for;
pub use session::{Attach, Monitor, Next, Session, Source, Verdict, COM2_TAG};

pub const QEMU: &str = "qemu-system-x86_64";

/// A CPU model TCG emulates faithfully that seL4 5.0 accepts: 1 GiB pages
/// (the kernel stops without them), and none of the features TCG
/// implements only in part. `enforce` makes QEMU refuse rather than drop a
/// feature silently.
pub const CPU: &str = "Nehalem,-vme,+pdpe1gb,-xsave,-xsaveopt,-xsavec,-fsgsbase,-invpcid,enforce";

/// How the guest's COM1 reaches the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Console {
    /// COM1 and the QEMU monitor multiplexed on the terminal (Ctrl-A X
    /// quits, Ctrl-A C switches to the monitor).
    Interactive,
    /// COM1 on stdout, no monitor, stdin unused: for scripts and tests.
    Batch,
}

/// Extra knobs of a run.
#[derive(Clone, Debug, Default)]
pub struct Extra {
    /// Deterministic instruction counting (`-icount shift=0,sleep=off`):
    /// the guest's TSC then counts instructions.
    pub icount: bool,
    /// More arguments, appended as given.
    pub args: Vec<String>,
    /// COM2 on this unix socket, which QEMU connects to (someone must be
    /// listening). Without one COM2 still exists, unconnected
    /// (`-serial null`), so a driver finds its UART.
    pub com2: Option<PathBuf>,
    /// The human monitor on this unix socket, which QEMU connects to.
    pub monitor: Option<PathBuf>,
    /// The image's networks with the host ports of this run; `None`: as
    /// the description says, host ports it leaves open left to QEMU.
    pub networks: Option<Vec<network::Network>>,
    /// The root task's record (`paddock_protocol::record`) into this file.
    /// Without one the record's port decodes nothing and its bytes are
    /// dropped.
    pub record: Option<PathBuf>,
}

/// The full argument list (program first).
pub fn command_line(image: &Image, console: Console) -> Vec<String> {
    command_line_with(image, console, &Extra::default())
}

pub fn command_line_with(image: &Image, console: Console, extra: &Extra) -> Vec<String> {
    let mut args: Vec<String> = vec![QEMU.into(), "-cpu".into(), CPU.into(), "-nographic".into()];
    if image.debug_console {
        // COM1 and the debug console a component logs on share one
        // multiplexed chardev, so both reach the same console and the
        // same log; `mon:stdio` is this with the monitor added.
        let monitor = match console {
            Console::Interactive => ["-mon", "chardev=com1,mode=readline"],
            Console::Batch => ["-monitor", "none"],
        };
        args.extend(
            [
                "-chardev",
                "stdio,id=com1,mux=on",
                "-serial",
                "chardev:com1",
            ]
            .map(String::from),
        );
        args.extend(monitor.map(String::from));
        args.extend([
            "-device".into(),
            format!("isa-debugcon,iobase={LOG_PORT:#x},chardev=com1"),
        ]);
    } else {
        match console {
            Console::Interactive => args.extend(["-serial".into(), "mon:stdio".into()]),
            Console::Batch => {
                args.extend(["-serial", "stdio", "-monitor", "none"].map(String::from));
            }
        }
    }
    // `-serial` arguments are COM1, COM2, ... in order.
    match &extra.com2 {
        Some(path) => args.extend([
            "-chardev".into(),
            format!("socket,id=com2,path={}", path.display()),
            "-serial".into(),
            "chardev:com2".into(),
        ]),
        None => args.extend(["-serial".into(), "null".into()]),
    }
    if let Some(path) = &extra.record {
        args.extend([
            "-chardev".into(),
            format!("file,id=record,path={}", path.display()),
            "-device".into(),
            format!(
                "isa-debugcon,iobase={:#x},chardev=record",
                paddock_protocol::record::PORT
            ),
        ]);
    }
    if let Some(path) = &extra.monitor {
        args.extend([
            "-chardev".into(),
            format!("socket,id=monitor,path={}", path.display()),
            "-mon".into(),
            "chardev=monitor,mode=readline".into(),
        ]);
    }
    args.extend(image.machine_args.iter().cloned());
    for net in extra.networks.as_ref().unwrap_or(&image.networks) {
        args.extend(net.args());
    }
    if extra.icount {
        args.extend(["-icount".into(), "shift=0,sleep=off".into()]);
    }
    args.extend(["-kernel".into(), image.kernel.display().to_string()]);
    args.extend(["-initrd".into(), image.rootserver.display().to_string()]);
    args.extend(extra.args.iter().cloned());
    args
}

/// Quotes an argument list for a POSIX shell.
pub fn shell_command(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./,:=+@%".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks that QEMU can be started, with a message that says what to do.
pub fn check_installed() -> Result<()> {
    Command::new(QEMU)
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .map(drop)
        .with_context(|| {
            format!("{QEMU} not found: install Debian's qemu-system-x86 (./simulate and ./test do)")
        })
}

/// Runs an interactive session on the terminal; returns QEMU's exit status.
pub fn run_interactive(image: &Image, extra: &Extra) -> Result<std::process::ExitStatus> {
    check_installed()?;
    let extra = with_ports(image, extra)?;
    let args = command_line_with(image, Console::Interactive, &extra);
    eprintln!("  quit QEMU with Ctrl-A X");
    Command::new(&args[0])
        .args(&args[1..])
        .status()
        .with_context(|| format!("starting {QEMU}"))
}

/// `extra` with a host port chosen for every forward (unless it has its
/// networks already).
pub fn with_ports(image: &Image, extra: &Extra) -> Result<Extra> {
    let mut extra = extra.clone();
    if extra.networks.is_none() {
        extra.networks = Some(network::choose_ports(image)?);
    }
    Ok(extra)
}

/// One line per forwarded port, `forward tcp/80 -> 127.0.0.1:34567`.
pub fn print_forwards(extra: &Extra) {
    for net in extra.networks.iter().flatten() {
        for f in &net.forwards {
            println!("{f}");
        }
    }
}

/// The result of a batch run: the verdict, everything the guest printed
/// on its console, and the root task's record.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub verdict: Verdict,
    pub log: String,
    /// What the root task wrote to its record (`paddock_protocol::record`):
    /// its own lines and the witness reports it vouches for, and nothing
    /// any component printed.
    pub record: String,
}

/// Options of a batch run.
pub struct BatchOptions<'a> {
    pub timeout: Duration,
    pub extra: Extra,
    /// Echo guest output to this process's stdout as it arrives.
    pub echo: bool,
    /// Succeed once a line containing each of these texts has appeared,
    /// instead of on the system's success sentinel (for runs that watch
    /// what components do after the system is up). The failure sentinel
    /// still ends the run.
    pub until: Vec<String>,
    /// Called with each complete line as it arrives, for callers that
    /// react to what the system prints.
    pub on_line: Option<&'a mut dyn FnMut(&str)>,
    /// Consoles to attach besides COM1; COM2's lines join the log tagged
    /// [`COM2_TAG`].
    pub attach: Attach,
}

impl Default for BatchOptions<'_> {
    fn default() -> Self {
        BatchOptions {
            timeout: Duration::from_secs(120),
            extra: Extra::default(),
            echo: true,
            until: Vec::new(),
            on_line: None,
            attach: Attach::default(),
        }
    }
}

/// Boots the image without a terminal and watches COM1 until a sentinel,
/// the time limit, or QEMU's exit.
pub fn run_batch(image: &Image, options: BatchOptions) -> Result<Outcome> {
    let mut session = Session::start(image, &options.extra, options.attach)?;
    let deadline = session.started() + options.timeout;
    let until: Vec<&str> = options.until.iter().map(String::as_str).collect();
    let verdict = session.wait_for(&until, deadline, options.echo, options.on_line);
    let (log, record) = session.stop_with_record();
    Ok(Outcome {
        verdict,
        log,
        record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use paddock_kernel::config::KernelConfig;

    fn image(debug_console: bool) -> Image {
        Image {
            name: "t".into(),
            dir: "d".into(),
            kernel: "k".into(),
            rootserver: "r".into(),
            config: KernelConfig::RELEASE,
            machine_args: vec![],
            disks: vec![],
            networks: vec![],
            debug_console,
        }
    }

    /// The arguments that follow `flag`, in order.
    fn values<'a>(args: &'a [String], flag: &str) -> Vec<&'a str> {
        args.windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].as_str())
            .collect()
    }

    #[test]
    fn the_debug_console_shares_com1s_console() {
        for (console, monitor) in [
            (Console::Batch, ("-monitor", "none")),
            (Console::Interactive, ("-mon", "chardev=com1,mode=readline")),
        ] {
            let args = command_line(&image(true), console);
            assert_eq!(values(&args, "-chardev"), ["stdio,id=com1,mux=on"]);
            assert_eq!(values(&args, "-serial"), ["chardev:com1", "null"]);
            assert_eq!(values(&args, monitor.0), [monitor.1]);
            assert_eq!(
                values(&args, "-device"),
                ["isa-debugcon,iobase=0xe9,chardev=com1"]
            );
        }
    }

    #[test]
    fn without_a_log_port_com1_is_plain_stdio() {
        let batch = command_line(&image(false), Console::Batch);
        assert_eq!(values(&batch, "-serial"), ["stdio", "null"]);
        assert!(values(&batch, "-device").is_empty());
        let interactive = command_line(&image(false), Console::Interactive);
        assert_eq!(values(&interactive, "-serial"), ["mon:stdio", "null"]);
    }
}
