//! Booting an image in QEMU: the command line, and a runner that watches the
//! serial console for the root task's sentinels.

use crate::image::Image;
use anyhow::{Context, Result};
use paddock_protocol::{FAILURE_SENTINEL, SUCCESS_SENTINEL};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
}

/// The full argument list (program first).
pub fn command_line(image: &Image, console: Console) -> Vec<String> {
    command_line_with(image, console, &Extra::default())
}

pub fn command_line_with(image: &Image, console: Console, extra: &Extra) -> Vec<String> {
    let mut args: Vec<String> = vec![QEMU.into(), "-cpu".into(), CPU.into(), "-nographic".into()];
    match console {
        Console::Interactive => args.extend(["-serial".into(), "mon:stdio".into()]),
        Console::Batch => {
            args.extend(["-serial", "stdio", "-monitor", "none"].map(String::from));
        }
    }
    args.extend(image.machine_args.iter().cloned());
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
    let args = command_line_with(image, Console::Interactive, extra);
    eprintln!("  quit QEMU with Ctrl-A X");
    Command::new(&args[0])
        .args(&args[1..])
        .status()
        .with_context(|| format!("starting {QEMU}"))
}

/// How a batch run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The success sentinel appeared after this long.
    Success(Duration),
    /// The failure sentinel appeared.
    Failure,
    /// Neither sentinel within the time limit.
    Timeout,
    /// QEMU exited before either sentinel.
    Exited(Option<i32>),
}

/// The result of a batch run: the verdict and everything the guest printed.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub verdict: Verdict,
    pub log: String,
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
}

impl Default for BatchOptions<'_> {
    fn default() -> Self {
        BatchOptions {
            timeout: Duration::from_secs(120),
            extra: Extra::default(),
            echo: true,
            until: Vec::new(),
            on_line: None,
        }
    }
}

enum Event {
    Line(String),
    Closed,
}

/// Boots the image without a terminal and watches COM1 until a sentinel,
/// the time limit, or QEMU's exit.
pub fn run_batch(image: &Image, mut options: BatchOptions) -> Result<Outcome> {
    check_installed()?;
    let args = command_line_with(image, Console::Batch, &options.extra);
    let started = Instant::now();
    let mut child = Command::new(&args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {QEMU}"))?;
    let (tx, rx) = mpsc::channel();
    forward_lines(child.stdout.take().context("QEMU stdout")?, tx.clone());
    forward_lines(child.stderr.take().context("QEMU stderr")?, tx);

    let deadline = started + options.timeout;
    let mut log = String::new();
    let mut open_streams = 2;
    let mut awaited: Vec<&str> = options.until.iter().map(String::as_str).collect();
    if awaited.is_empty() {
        awaited.push(SUCCESS_SENTINEL);
    }
    let verdict = loop {
        let now = Instant::now();
        if now >= deadline {
            break Verdict::Timeout;
        }
        match rx.recv_timeout(deadline - now) {
            Ok(Event::Line(line)) => {
                if options.echo {
                    println!("{line}");
                    let _ = std::io::stdout().flush();
                }
                log.push_str(&line);
                log.push('\n');
                if let Some(f) = options.on_line.as_mut() {
                    f(&line);
                }
                if line.contains(FAILURE_SENTINEL) {
                    break Verdict::Failure;
                }
                awaited.retain(|text| !line.contains(text));
                if awaited.is_empty() {
                    break Verdict::Success(started.elapsed());
                }
            }
            Ok(Event::Closed) => {
                open_streams -= 1;
                if open_streams == 0 {
                    break Verdict::Exited(child.wait().ok().and_then(|s| s.code()));
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => break Verdict::Timeout,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Verdict::Exited(child.wait().ok().and_then(|s| s.code()))
            }
        }
    };
    stop(&mut child);
    Ok(Outcome { verdict, log })
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Splits a stream into lines (dropping the serial's carriage returns) and
/// sends them on; a partial last line is sent when the stream closes.
fn forward_lines(stream: impl Read + Send + 'static, tx: mpsc::Sender<Event>) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.trim_end_matches(['\n', '\r']).replace('\r', "");
                    if tx.send(Event::Line(line)).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(Event::Closed);
    });
}
