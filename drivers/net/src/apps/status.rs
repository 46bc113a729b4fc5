//! The status snapshot the HTTP server shows, filled by the component, and
//! its rendering as HTML and JSON into fixed-capacity buffers.

use core::fmt::{self, Write};

use heapless::{String, Vec};

use crate::info::NetStats;

/// Most components a snapshot lists.
pub const MAX_COMPONENTS: usize = 16;
/// Most rings a snapshot lists.
pub const MAX_RINGS: usize = 8;
/// Longest name kept (longer ones are cut).
pub const NAME_BYTES: usize = 24;

/// A short name, cut to [`NAME_BYTES`] on a character boundary.
pub type Name = String<NAME_BYTES>;

/// Makes a [`Name`] from `s`, cutting it if it is too long.
pub fn name(s: &str) -> Name {
    let mut n = Name::new();
    for c in s.chars() {
        if n.push(c).is_err() {
            break;
        }
    }
    n
}

/// One component of the system, as the HTTP page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentStatus {
    /// Its name in the system description.
    pub name: Name,
    /// What it is doing: `running`, `restarting`, `failed`...
    pub state: Name,
    /// Restart generation: 0 until its first restart.
    pub generation: u32,
}

/// One ring's counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RingStatus {
    /// The ring's name.
    pub name: Name,
    /// The counters.
    pub stats: NetStats,
}

/// Counters read at the moment `GET /status` is answered, for a
/// benchmark on the host to take differences of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Probe {
    /// The time-stamp counter (under QEMU's `-icount shift=0`, the
    /// guest's instructions).
    pub tsc: u64,
    /// Turns of the idle loop, if the system has one that counts them.
    pub idle_turns: Option<u64>,
}

/// What the component knows about the system, for `GET /` and
/// `GET /status`. The component fills it and updates it as things change
/// ([`NetApps::status_mut`](super::NetApps::status_mut)).
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The system's name.
    pub system: Name,
    /// Milliseconds since the system started.
    pub uptime_ms: u64,
    /// The components.
    pub components: Vec<ComponentStatus, MAX_COMPONENTS>,
    /// The rings.
    pub rings: Vec<RingStatus, MAX_RINGS>,
    /// Read when `GET /status` is answered, if set.
    pub probe: Option<fn() -> Probe>,
}

impl Snapshot {
    /// Adds a component; `false` if the list is full.
    pub fn add_component(&mut self, name_: &str, state: &str, generation: u32) -> bool {
        self.components
            .push(ComponentStatus {
                name: name(name_),
                state: name(state),
                generation,
            })
            .is_ok()
    }

    /// Adds a ring; `false` if the list is full.
    pub fn add_ring(&mut self, name_: &str, stats: NetStats) -> bool {
        self.rings
            .push(RingStatus {
                name: name(name_),
                stats,
            })
            .is_ok()
    }
}

/// What the network services themselves counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceCounters {
    /// HTTP requests answered (any status).
    pub http_requests: u64,
    /// UDP datagrams echoed.
    pub udp_echoed: u64,
    /// Bytes echoed over TCP.
    pub tcp_echoed: u64,
    /// TCP echo connections accepted.
    pub tcp_connections: u64,
}

/// Writes `s` with HTML's special characters escaped.
struct Html<'s>(&'s str);

impl fmt::Display for Html<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '&' => f.write_str("&amp;")?,
                '"' => f.write_str("&quot;")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// Writes `s` as a JSON string, quotes included.
struct Json<'s>(&'s str);

impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

/// The page for `GET /`.
pub fn render_html(
    out: &mut impl Write,
    s: &Snapshot,
    address: &dyn fmt::Display,
    served: &ServiceCounters,
) -> fmt::Result {
    let sys = Html(&s.system);
    write!(
        out,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>paddock: {sys}</title></head>\n<body>\n<h1>paddock: {sys}</h1>\n<p>Up {} s; this client at {address}.</p>\n",
        s.uptime_ms / 1000
    )?;
    out.write_str(
        "<h2>Components</h2>\n<table>\n<tr><th>name</th><th>state</th><th>generation</th></tr>\n",
    )?;
    for c in &s.components {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            Html(&c.name),
            Html(&c.state),
            c.generation
        )?;
    }
    out.write_str("</table>\n<h2>Rings</h2>\n<table>\n<tr><th>name</th><th>rx frames</th><th>rx bytes</th><th>tx frames</th><th>tx bytes</th><th>dropped</th><th>refused</th></tr>\n")?;
    for r in &s.rings {
        let t = &r.stats;
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            Html(&r.name),
            t.rx_frames,
            t.rx_bytes,
            t.tx_frames,
            t.tx_bytes,
            t.rx_dropped,
            t.tx_refused
        )?;
    }
    write!(
        out,
        "</table>\n<p>Served: {} HTTP requests, {} UDP datagrams echoed, {} TCP bytes echoed over {} connections.</p>\n</body></html>\n",
        served.http_requests, served.udp_echoed, served.tcp_echoed, served.tcp_connections
    )
}

/// The document for `GET /status`.
pub fn render_json(
    out: &mut impl Write,
    s: &Snapshot,
    address: &dyn fmt::Display,
    served: &ServiceCounters,
) -> fmt::Result {
    let mut addr = String::<48>::new();
    // An address always fits in 48 bytes; if not, it shows empty.
    let _ = write!(addr, "{address}");
    write!(
        out,
        "{{\"system\":{},\"uptime_ms\":{},\"address\":{},\"components\":[",
        Json(&s.system),
        s.uptime_ms,
        Json(&addr)
    )?;
    for (i, c) in s.components.iter().enumerate() {
        write!(
            out,
            "{}{{\"name\":{},\"state\":{},\"generation\":{}}}",
            if i == 0 { "" } else { "," },
            Json(&c.name),
            Json(&c.state),
            c.generation
        )?;
    }
    out.write_str("],")?;
    if let Some(probe) = s.probe {
        let p = probe();
        write!(out, "\"tsc\":{},", p.tsc)?;
        if let Some(turns) = p.idle_turns {
            write!(out, "\"idle_turns\":{turns},")?;
        }
    }
    out.write_str("\"rings\":[")?;
    for (i, r) in s.rings.iter().enumerate() {
        let t = &r.stats;
        write!(
            out,
            "{}{{\"name\":{},\"rx_frames\":{},\"rx_bytes\":{},\"tx_frames\":{},\"tx_bytes\":{},\"rx_dropped\":{},\"tx_refused\":{}}}",
            if i == 0 { "" } else { "," },
            Json(&r.name),
            t.rx_frames,
            t.rx_bytes,
            t.tx_frames,
            t.tx_bytes,
            t.rx_dropped,
            t.tx_refused
        )?;
    }
    writeln!(
        out,
        "],\"served\":{{\"http_requests\":{},\"udp_echoed\":{},\"tcp_echoed\":{},\"tcp_connections\":{}}}}}",
        served.http_requests, served.udp_echoed, served.tcp_echoed, served.tcp_connections
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_cuts_names() {
        let mut s = Snapshot {
            system: name("<demo> & \"x\""),
            ..Snapshot::default()
        };
        assert!(s.add_component("a-very-long-component-name-indeed", "running", 2));
        assert_eq!(s.components[0].name.len(), NAME_BYTES);
        let mut html = std::string::String::new();
        render_html(&mut html, &s, &"10.0.2.15", &ServiceCounters::default()).unwrap();
        assert!(html.contains("&lt;demo&gt; &amp; &quot;x&quot;"));
        let mut json = std::string::String::new();
        render_json(&mut json, &s, &"10.0.2.15", &ServiceCounters::default()).unwrap();
        assert!(json.starts_with("{\"system\":\"<demo> & \\\"x\\\"\""));
        assert!(json.contains("\"generation\":2"));
    }
}
