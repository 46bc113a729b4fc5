//! Names: well formed, unique where they must be, and short enough for the
//! root task's pages and the boot blob.

use super::*;
use paddock_spec::limits::{COMPONENT_NAME_LEN, PROGRAM_NAME_LEN};
use std::collections::BTreeMap;

impl Validator<'_> {
    /// Names are identifiers, so they can be used in symbols and file
    /// names: lower-case ASCII letters, digits, `-` and `_`, letter first.
    pub(super) fn name(&mut self, what: &str, name: &str, span: Span) -> bool {
        let ok = name.len() <= NAME_LEN
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !ok {
            // A name of any length may come here: show its start only.
            let message = match name.char_indices().nth(NAME_LEN) {
                Some((end, _)) => {
                    format!("invalid {what} `{}...`: {} bytes", &name[..end], name.len())
                }
                None => format!("invalid {what} `{name}`"),
            };
            self.push(
                Error::new(message)
                    .at(span, "not a valid name")
                    .help(format!("use at most {NAME_LEN} lower-case ASCII letters, digits, `-` or `_`, starting with a letter")),
            );
        }
        ok
    }

    pub(super) fn names(&mut self) {
        let d = self.d;
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for c in &d.components {
            // The info page and the status page hold a component's name in
            // a fixed field.
            if self.name("component name", c.name(), c.name.span())
                && c.name().len() > COMPONENT_NAME_LEN
            {
                self.push(
                    Error::new(format!(
                        "component name `{}` is {} bytes, longer than the {COMPONENT_NAME_LEN} a component's info page holds",
                        c.name(),
                        c.name().len()
                    ))
                    .at(c.name.span(), "too long")
                    .help(format!("use at most {COMPONENT_NAME_LEN} characters")),
                );
            }
            // The boot blob names each program in a fixed field, and the
            // build looks it up as a binary of a workspace package.
            let program = c.program();
            let binary = !program.is_empty()
                && program
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            let shown = match program.char_indices().nth(NAME_LEN) {
                Some((end, _)) => format!("{}...", &program[..end]),
                None => program.to_string(),
            };
            if !binary {
                self.push(
                    Error::new(format!("invalid program name `{shown}`"))
                        .at(c.program.span(), "not a binary's name")
                        .help("name the binary of a workspace package: ASCII letters, digits, `-` or `_`"),
                );
            } else if program.len() > PROGRAM_NAME_LEN {
                self.push(
                    Error::new(format!(
                        "program name `{shown}` is {} bytes, longer than the {PROGRAM_NAME_LEN} the boot blob holds",
                        program.len()
                    ))
                    .at(c.program.span(), "too long")
                    .help(format!("name the binary with at most {PROGRAM_NAME_LEN} characters")),
                );
            }
            for key in c.params.keys() {
                self.name("parameter name", key.get_ref(), key.span());
            }
            if let Some(first) = seen.insert(c.name(), c.name.span()) {
                self.push(
                    Error::new(format!("duplicate component name `{}`", c.name()))
                        .at(c.name.span(), "declared again here")
                        .also(first, "first declared here")
                        .help("give each component its own name"),
                );
            }
            // A component's device resources share one namespace: each
            // becomes a name on the component's info page.
            let mut local: BTreeMap<&str, Span> = BTreeMap::new();
            let mut names: Vec<(&str, &Spanned<String>)> = vec![];
            names.extend(c.io_ports.iter().map(|p| ("IO port range", &p.name)));
            names.extend(c.irqs.iter().map(|i| ("IRQ", &i.name)));
            names.extend(c.mmio.iter().map(|m| ("device memory", &m.name)));
            for p in &c.pci_devices {
                names.push(("PCI device", &p.name));
                names.extend(p.dma.iter().map(|w| ("DMA window", &w.name)));
            }
            for (what, n) in names {
                self.name(&format!("{what} name"), s(n), n.span());
                if let Some(first) = local.insert(s(n), n.span()) {
                    self.push(
                        Error::new(format!(
                            "duplicate resource name `{}` in component `{}`",
                            s(n),
                            c.name()
                        ))
                        .at(n.span(), "declared again here")
                        .also(first, "first declared here")
                        .help("IO port ranges, IRQs, PCI devices, DMA windows and device memory of one component need distinct names"),
                    );
                }
            }
        }
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        let conns = d
            .rings
            .iter()
            .map(|r| ("ring", &r.name))
            .chain(d.channels.iter().map(|c| ("channel", &c.name)))
            .chain(d.shared.iter().map(|s| ("shared region", &s.name)));
        for (what, n) in conns {
            self.name(&format!("{what} name"), s(n), n.span());
            if let Some(first) = seen.insert(s(n), n.span()) {
                self.push(
                    Error::new(format!("duplicate connection name `{}`", s(n)))
                        .at(n.span(), "declared again here")
                        .also(first, "first declared here")
                        .help("rings, channels and shared regions share one namespace"),
                );
            }
        }
    }
}
