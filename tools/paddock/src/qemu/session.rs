//! A running QEMU with its consoles attached: COM1 as lines on stdout, and
//! optionally COM2 and the human monitor on unix sockets, so a caller can
//! type into the guest's second UART and onto its PS/2 keyboard.
//!
//! QEMU connects to sockets this side listens on (created before QEMU
//! starts), so there is no polling for a socket to appear and no window
//! in which guest output is lost.

use super::{check_installed, command_line_with, Console, Extra, QEMU};
use anyhow::{bail, Context, Result};
use paddock_protocol::{FAILURE_SENTINEL, SUCCESS_SENTINEL};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::image::Image;

/// The tag of COM2's lines in a session's log.
pub const COM2_TAG: &str = "[com2] ";

/// How long QEMU may take to connect to the sockets.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// Which extra consoles a session attaches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attach {
    /// COM2, as lines (tagged [`COM2_TAG`] in the log) and an input stream.
    pub com2: bool,
    /// The QEMU monitor, for `sendkey`.
    pub monitor: bool,
}

/// How a wait ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The awaited lines (by default the success sentinel) appeared after
    /// this long.
    Success(Duration),
    /// The failure sentinel appeared.
    Failure,
    /// Not everything awaited within the time limit.
    Timeout,
    /// QEMU exited first.
    Exited(Option<i32>),
}

/// Where a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// COM1 (the kernel's console and the components' `log!`), or QEMU's
    /// own messages.
    Com1,
    /// The guest's COM2.
    Com2,
}

/// The next thing that happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    Line(Source, String),
    Exited(Option<i32>),
    Timeout,
}

enum Event {
    Line(Source, String),
    /// One of QEMU's output streams closed.
    Closed,
}

/// A booted QEMU. Dropping it stops QEMU.
pub struct Session {
    child: Child,
    events: mpsc::Receiver<Event>,
    open_streams: usize,
    exited: Option<Option<i32>>,
    started: Instant,
    log: String,
    com2: Option<UnixStream>,
    monitor: Option<Monitor>,
    dir: Option<SocketDir>,
    forwards: Vec<super::network::Forward>,
}

impl Session {
    /// Starts QEMU on `image` with COM1 on its stdout (as `Console::Batch`
    /// does) and the consoles `attach` asks for.
    pub fn start(image: &Image, extra: &Extra, attach: Attach) -> Result<Session> {
        check_installed()?;
        let mut extra = super::with_ports(image, extra)?;
        let mut listeners = Vec::new();
        // Always: the record goes to a file in it.
        let dir = {
            let dir = SocketDir::new()?;
            extra.record = Some(dir.0.join("record.log"));
            for (wanted, name) in [(attach.com2, "com2"), (attach.monitor, "monitor")] {
                if !wanted {
                    continue;
                }
                let path = dir.0.join(format!("{name}.sock"));
                let listener = UnixListener::bind(&path)
                    .with_context(|| format!("listening on {}", path.display()))?;
                listener.set_nonblocking(true)?;
                match name {
                    "com2" => extra.com2 = Some(path),
                    _ => extra.monitor = Some(path),
                }
                listeners.push((name, listener));
            }
            Some(dir)
        };
        let args = command_line_with(image, Console::Batch, &extra);
        let forwards = extra
            .networks
            .iter()
            .flatten()
            .flat_map(|n| n.forwards.iter().cloned())
            .collect();
        let started = Instant::now();
        let mut child = Command::new(&args[0])
            .args(&args[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {QEMU}"))?;
        let (tx, events) = mpsc::channel();
        forward_lines(
            child.stdout.take().context("QEMU stdout")?,
            Source::Com1,
            tx.clone(),
            true,
        );
        forward_lines(
            child.stderr.take().context("QEMU stderr")?,
            Source::Com1,
            tx.clone(),
            true,
        );
        let mut session = Session {
            child,
            events,
            open_streams: 2,
            exited: None,
            started,
            log: String::new(),
            com2: None,
            monitor: None,
            dir,
            forwards,
        };
        for (name, listener) in listeners {
            let stream = session.accept(name, &listener)?;
            if name == "com2" {
                forward_lines(stream.try_clone()?, Source::Com2, tx.clone(), false);
                session.com2 = Some(stream);
            } else {
                session.monitor = Some(Monitor::new(stream)?);
            }
        }
        Ok(session)
    }

    /// Waits for QEMU to connect to `listener`.
    fn accept(&mut self, name: &str, listener: &UnixListener) -> Result<UnixStream> {
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false)?;
                    return Ok(stream);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e).with_context(|| format!("accepting QEMU's {name}")),
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Collect what QEMU said about it.
                std::thread::sleep(Duration::from_millis(100));
                while let Ok(Event::Line(_, l)) = self.events.try_recv() {
                    self.log.push_str(&l);
                    self.log.push('\n');
                }
                bail!(
                    "{QEMU} exited ({status}) before connecting its {name}:\n{}",
                    self.log
                );
            }
            if Instant::now() >= deadline {
                bail!("{QEMU} did not connect its {name} within {CONNECT_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The ports forwarded from the host into the guest in this run.
    pub fn forwards(&self) -> &[super::network::Forward] {
        &self.forwards
    }

    /// The host port forwarded to the guest's `protocol`/`guest` port.
    pub fn host_port(&self, protocol: &str, guest: u16) -> Option<u16> {
        self.forwards
            .iter()
            .find(|f| f.protocol == protocol && f.guest == guest)
            .map(|f| f.host)
    }

    /// When QEMU was started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Everything seen so far: COM1 lines, and COM2 lines tagged
    /// [`COM2_TAG`].
    pub fn log(&self) -> &str {
        &self.log
    }

    /// A writer into COM2 (what the guest's UART receives), if attached.
    pub fn com2(&mut self) -> Option<&mut UnixStream> {
        self.com2.as_mut()
    }

    /// A second handle on COM2's input, e.g. for a writer thread.
    pub fn com2_writer(&self) -> Result<UnixStream> {
        self.com2
            .as_ref()
            .context("this session has no COM2 attached")?
            .try_clone()
            .context("cloning the COM2 socket")
    }

    /// The QEMU monitor, if attached.
    pub fn monitor(&mut self) -> Option<&mut Monitor> {
        self.monitor.as_mut()
    }

    /// The next line, or QEMU's exit, or nothing before `deadline`. Lines
    /// are added to the log.
    pub fn next(&mut self, deadline: Instant) -> Next {
        loop {
            if let Some(code) = self.exited {
                return Next::Exited(code);
            }
            let now = Instant::now();
            if now >= deadline {
                return Next::Timeout;
            }
            match self.events.recv_timeout(deadline - now) {
                Ok(Event::Line(source, line)) => {
                    if source == Source::Com2 {
                        self.log.push_str(COM2_TAG);
                    }
                    self.log.push_str(&line);
                    self.log.push('\n');
                    return Next::Line(source, line);
                }
                Ok(Event::Closed) => {
                    self.open_streams -= 1;
                    if self.open_streams == 0 {
                        self.exited = Some(self.child.wait().ok().and_then(|s| s.code()));
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => return Next::Timeout,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.exited = Some(self.child.wait().ok().and_then(|s| s.code()));
                }
            }
        }
    }

    /// Reads lines until one containing each of `until` has appeared (the
    /// success sentinel if `until` is empty), the failure sentinel, QEMU's
    /// exit, or `deadline`. COM2 lines are matched with their tag, so
    /// `[com2] echo: hi` waits for `echo: hi` on COM2. `echo` prints each
    /// line; `on_line` sees each (tagged) line.
    pub fn wait_for(
        &mut self,
        until: &[&str],
        deadline: Instant,
        echo: bool,
        mut on_line: Option<&mut dyn FnMut(&str)>,
    ) -> Verdict {
        let mut awaited: Vec<&str> = until.to_vec();
        if awaited.is_empty() {
            awaited.push(SUCCESS_SENTINEL);
        }
        loop {
            let line = match self.next(deadline) {
                Next::Line(Source::Com1, line) => line,
                Next::Line(Source::Com2, line) => format!("{COM2_TAG}{line}"),
                Next::Exited(code) => return Verdict::Exited(code),
                Next::Timeout => return Verdict::Timeout,
            };
            if echo {
                println!("{line}");
                let _ = std::io::stdout().flush();
            }
            if let Some(f) = on_line.as_mut() {
                f(&line);
            }
            if line.contains(FAILURE_SENTINEL) {
                return Verdict::Failure;
            }
            awaited.retain(|text| !line.contains(text));
            if awaited.is_empty() {
                return Verdict::Success(self.started.elapsed());
            }
        }
    }

    /// Stops QEMU and returns the log.
    pub fn stop(self) -> String {
        self.stop_with_record().0
    }

    /// Stops QEMU and returns the log and the root task's record (empty if
    /// QEMU wrote none).
    pub fn stop_with_record(mut self) -> (String, String) {
        self.kill();
        let record = self.record();
        (std::mem::take(&mut self.log), record)
    }

    /// What the root task has written to its record so far, lossily as
    /// UTF-8, carriage returns dropped.
    pub fn record(&self) -> String {
        let Some(dir) = &self.dir else {
            return String::new();
        };
        match std::fs::read(dir.0.join("record.log")) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).replace('\r', ""),
            Err(_) => String::new(),
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.kill();
        drop(self.dir.take());
    }
}

/// QEMU's human monitor over a socket. Its output (prompts, echoed
/// commands) is read and thrown away, so QEMU never blocks writing it.
pub struct Monitor {
    stream: UnixStream,
}

impl Monitor {
    fn new(stream: UnixStream) -> Result<Monitor> {
        let mut output = stream.try_clone()?;
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while matches!(output.read(&mut buf), Ok(n) if n > 0) {}
        });
        Ok(Monitor { stream })
    }

    /// Sends one monitor command.
    pub fn command(&mut self, command: &str) -> Result<()> {
        self.stream
            .write_all(format!("{command}\n").as_bytes())
            .context("writing to the QEMU monitor")
    }

    /// Presses and releases `key` (a `sendkey` name such as `a`, `shift-a`
    /// or `ret`), held for `hold_ms`. QEMU queues key events with their
    /// delays, so keys sent back to back arrive in order.
    pub fn send_key(&mut self, key: &str, hold_ms: u32) -> Result<()> {
        self.command(&format!("sendkey {key} {hold_ms}"))
    }

    /// Types `text` key by key; characters without a key are skipped.
    /// Returns the number of keys sent.
    pub fn type_text(&mut self, text: &str, hold_ms: u32) -> Result<usize> {
        let mut sent = 0;
        for c in text.chars() {
            if let Some(key) = super::keys::key_for(c) {
                self.send_key(&key, hold_ms)?;
                sent += 1;
            }
        }
        Ok(sent)
    }
}

/// A private folder for the sockets, removed when dropped.
struct SocketDir(PathBuf);

impl SocketDir {
    fn new() -> Result<SocketDir> {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        // Short: socket paths are limited to about 100 bytes.
        let path = std::env::temp_dir().join(format!(
            "paddock-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(SocketDir(path))
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Splits a stream into lines (dropping the serial's carriage returns) and
/// sends them on; a partial last line is sent when the stream closes, and
/// then `Closed` if `counted`.
fn forward_lines(
    stream: impl Read + Send + 'static,
    source: Source,
    tx: mpsc::Sender<Event>,
    counted: bool,
) {
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
                    if tx.send(Event::Line(source, line)).is_err() {
                        return;
                    }
                }
            }
        }
        if counted {
            let _ = tx.send(Event::Closed);
        }
    });
}
