//! Errors about a description, rendered the way rustc renders its own:
//! `error: ...`, `--> file:line:column`, the offending line with a caret,
//! the other side of a conflict, and a hint.

use crate::description::Span;
use codespan_reporting::diagnostic::{Diagnostic, Label as CsLabel};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Chars, Config};
use std::fmt;
use std::path::{Path, PathBuf};

/// A 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A place in the description and what it has to do with the error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One error: a message, where it is, the other side of a conflict, a hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    pub primary: Option<Label>,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            help: None,
        }
    }

    /// Where the error is, with a short label under the caret.
    pub fn at(mut self, span: Span, label: impl Into<String>) -> Self {
        self.primary = Some(Label {
            span,
            message: label.into(),
        });
        self
    }

    /// The other side of a conflict.
    pub fn also(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: label.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Every error found in one description, with the text they point into.
#[derive(Clone, Debug)]
pub struct Diagnostics {
    path: PathBuf,
    text: String,
    errors: Vec<Error>,
}

impl Diagnostics {
    pub fn new(path: &Path, text: &str, errors: Vec<Error>) -> Self {
        Diagnostics {
            path: path.to_path_buf(),
            text: text.to_string(),
            errors,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn errors(&self) -> &[Error] {
        &self.errors
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Line and column of the start of `span`.
    pub fn position(&self, span: &Span) -> Position {
        position(&self.text, span.start)
    }

    /// Where an error's caret points, if it has one.
    pub fn primary_position(&self, error: &Error) -> Option<Position> {
        error.primary.as_ref().map(|l| self.position(&l.span))
    }

    /// Where an error's secondary labels point.
    pub fn secondary_positions(&self, error: &Error) -> Vec<Position> {
        error
            .secondary
            .iter()
            .map(|l| self.position(&l.span))
            .collect()
    }
}

/// 1-based line and character column of a byte offset.
pub fn position(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    Position { line, column }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = shown_source(&self.text);
        let path = printable(&self.path.display().to_string()).into_owned();
        let file = SimpleFile::new(path.clone(), source.as_ref());
        let config = Config {
            chars: Chars::ascii(),
            ..Config::default()
        };
        for error in &self.errors {
            let mut d = Diagnostic::error().with_message(printable(&error.message));
            let mut labels = Vec::new();
            if let Some(p) = &error.primary {
                labels
                    .push(CsLabel::primary((), p.span.clone()).with_message(printable(&p.message)));
            }
            for s in &error.secondary {
                labels.push(
                    CsLabel::secondary((), s.span.clone()).with_message(printable(&s.message)),
                );
            }
            d = d.with_labels(labels);
            if let Some(h) = &error.help {
                d = d.with_notes(vec![format!("help: {}", printable(h))]);
            }
            let long = error
                .primary
                .iter()
                .chain(&error.secondary)
                .any(|l| self.line_len(l.span.start) > MAX_SHOWN_LINE);
            if error.primary.is_none() || long {
                // Nothing to point at (for example an unreadable file), or
                // a line too long to show: still name the file, and the
                // place, as rustc does.
                writeln!(f, "error: {}", printable(&error.message))?;
                match &error.primary {
                    Some(p) => writeln!(f, "  --> {path}:{}", self.position(&p.span))?,
                    None => writeln!(f, "  --> {path}")?,
                }
                if let Some(h) = &error.help {
                    writeln!(f, "  = help: {}", printable(h))?;
                }
                writeln!(f)?;
                continue;
            }
            let s = term::emit_into_string(&config, &file, &d).map_err(|_| fmt::Error)?;
            f.write_str(&s)?;
        }
        let n = self.errors.len();
        if n > 1 {
            writeln!(f, "error: {} has {n} errors", self.path.display())?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The longest line shown under a message; a longer one (a name of a
/// megabyte) is named by line and column only.
const MAX_SHOWN_LINE: usize = 1024;

/// The longest message, label or hint shown; they repeat names as
/// written, which may be of any length.
const MAX_SHOWN_TEXT: usize = 1024;

impl Diagnostics {
    /// The length in bytes of the line holding `offset`.
    fn line_len(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        let start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let end = self.text[offset..]
            .find('\n')
            .map_or(self.text.len(), |i| offset + i);
        end - start
    }
}

/// Characters a terminal would act on or hide rather than show: controls
/// (escape sequences) and the invisible and direction-changing format
/// characters that can make a line read other than it is.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// `s` with its hidden characters escaped (`\u{1b}`): messages repeat
/// names and paths as written, which may hold anything.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if s.len() > MAX_SHOWN_TEXT {
        let end = (0..=MAX_SHOWN_TEXT)
            .rev()
            .find(|&i| s.is_char_boundary(i))
            .unwrap_or(0);
        return format!("{}...", printable(&s[..end])).into();
    }
    if !s.chars().any(hidden) {
        return s.into();
    }
    s.chars()
        .map(|c| {
            if hidden(c) {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// The source as shown under a message: hidden characters replaced by as
/// many bytes of `?` or U+FFFD, so spans into the text still fit (line
/// ends and tabs stay).
fn shown_source(text: &str) -> std::borrow::Cow<'_, str> {
    let replaced = |c: char| hidden(c) && !matches!(c, '\n' | '\r' | '\t');
    if !text.chars().any(replaced) {
        return text.into();
    }
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if replaced(c) && c.len_utf8() == 3 => shown.push('\u{fffd}'),
            c if replaced(c) => shown.extend(std::iter::repeat_n('?', c.len_utf8())),
            c => shown.push(c),
        }
    }
    shown.into()
}

/// The nearest of `candidates` to `word`, if it is near enough to be a typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1) + usize::from(c.len() > 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Turns a TOML or serde error into a located error, with a suggestion for
/// an unknown field or variant.
pub fn from_toml(e: &toml::de::Error) -> Error {
    let message = e.message().trim().to_string();
    if message == "recursion limit" {
        // The parser stops deep in the text and says not where.
        return Error::new("tables or arrays are nested too deeply")
            .at(0..0, "in this file")
            .help("a description nests tables and arrays a few levels deep only (docs/description.md)");
    }
    let span = e.span().unwrap_or(0..0);
    let (head, tail) = match message.split_once(", expected ") {
        Some((h, t)) => (h.to_string(), Some(t.to_string())),
        None => (message.clone(), None),
    };
    let unknown = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|p| head.strip_prefix(p))
        .and_then(|r| r.strip_suffix('`'));
    match (unknown, tail.clone()) {
        (Some(word), Some(tail)) => {
            let expected: Vec<&str> = tail
                .split('`')
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, s)| s)
                .collect();
            let kind = if head.starts_with("unknown field") {
                "field"
            } else {
                "value"
            };
            let help = match nearest(word, expected.iter().copied()) {
                Some(n) => format!("did you mean `{n}`?"),
                None => format!("expected {tail}"),
            };
            Error::new(head.clone())
                .at(span, format!("unknown {kind}"))
                .help(help)
        }
        _ if mistyped(&head, tail.as_deref()).is_some() => {
            let (message, label) = mistyped(&head, tail.as_deref()).unwrap_or_default();
            Error::new(message).at(span, label)
        }
        _ => {
            let label = if head.starts_with("missing field") {
                "in this table"
            } else {
                "here"
            };
            let missing_system = head == "missing field `system`";
            let mut err = Error::new(head).at(span, label);
            if let Some(t) = tail {
                err = err.help(format!("expected {t}"));
            } else if missing_system {
                // An empty file, or one of comments only.
                err = err.help("a description starts with a [system] table giving at least `name` and `kernel` (docs/description.md)");
            }
            err
        }
    }
}

/// serde's words for a value of the wrong type or range
/// (`invalid type: floating point `1.5``, `expected u64`), said in the
/// description's terms: what the field takes and what was found. `None`
/// for any other error.
fn mistyped(head: &str, expected: Option<&str>) -> Option<(String, &'static str)> {
    let found = head
        .strip_prefix("invalid type: ")
        .or_else(|| head.strip_prefix("invalid value: "))?;
    let expected = match expected? {
        "i64" => "an integer",
        "u64" => "a non-negative integer",
        "u32" => "an integer from 0 to 4294967295",
        "u16" => "an integer from 0 to 65535",
        "u8" => "an integer from 0 to 255",
        "a sequence" => "an array",
        "a map" => "a table",
        t if t.starts_with("struct ") => "a table",
        other => other,
    };
    let integer = expected.contains("integer") || expected.contains("count");
    // TOML integers past 64 bits arrive as i128, which no field takes.
    if let Some(n) = found
        .strip_prefix("integer `")
        .and_then(|r| r.strip_suffix("` as i128"))
    {
        return Some((
            format!("integer {n} does not fit in 64 bits: expected {expected}"),
            "too large",
        ));
    }
    let label = match (integer, found.starts_with("integer")) {
        (true, true) => "out of range",
        (true, false) => "not an integer",
        (false, _) => "wrong type",
    };
    // serde's names for TOML's tables (dates are read as tables too) and
    // arrays.
    let found = match found {
        "map" => "a table or a date",
        "sequence" => "an array",
        other => other,
    };
    Some((format!("expected {expected}, found {found}"), label))
}
