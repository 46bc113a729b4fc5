//! One negative fixture per description error: each file under
//! `tests/fixtures/errors/` starts with the message it must produce and
//! where (`# error:`, `# at: line:column`, and `# also: line:column` for the
//! other side of a conflict). The first error reported must match exactly.
//!
//! `PADDOCK_BLESS=1 cargo test --test caps_fixtures` rewrites the headers
//! from the current output, for review in the diff.

use paddock_caps::{parse, Diagnostics};
use std::fs;
use std::path::{Path, PathBuf};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/errors");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

struct Expected {
    message: String,
    at: String,
    also: Vec<String>,
}

fn header(text: &str) -> Expected {
    let mut e = Expected {
        message: String::new(),
        at: String::new(),
        also: vec![],
    };
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        if let Some(m) = line.strip_prefix("# error: ") {
            e.message = m.to_string();
        } else if let Some(a) = line.strip_prefix("# at: ") {
            e.at = a.to_string();
        } else if let Some(a) = line.strip_prefix("# also: ") {
            e.also.push(a.to_string());
        }
    }
    e
}

fn actual(d: &Diagnostics) -> Expected {
    let first = &d.errors()[0];
    Expected {
        message: first.message.clone(),
        at: d
            .primary_position(first)
            .map_or("none".into(), |p| p.to_string()),
        also: d
            .secondary_positions(first)
            .iter()
            .map(|p| p.to_string())
            .collect(),
    }
}

#[test]
fn every_fixture_gives_its_error_at_its_place() {
    let bless = std::env::var_os("PADDOCK_BLESS").is_some();
    let mut failures = vec![];
    let files = fixtures();
    assert!(files.len() >= 60, "fixtures missing: {}", files.len());
    for path in files {
        let text = fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let diags = match parse(Path::new(&name), &text) {
            Ok(_) => {
                failures.push(format!("{name}: no error"));
                continue;
            }
            Err(d) => d,
        };
        let got = actual(&diags);
        if bless {
            let body: String = text
                .lines()
                .skip_while(|l| {
                    l.starts_with("# error:") || l.starts_with("# at:") || l.starts_with("# also:")
                })
                .map(|l| format!("{l}\n"))
                .collect();
            let mut head = format!("# error: {}\n# at: {}\n", got.message, got.at);
            for a in &got.also {
                head.push_str(&format!("# also: {a}\n"));
            }
            // The header's line count must not change, or the positions
            // it records would move: bless only rewrites fixtures whose
            // header already has the right number of lines.
            let old_lines = text.lines().take_while(|l| l.starts_with("# ")).count();
            if old_lines == 2 + got.also.len() {
                fs::write(&path, head + &body).unwrap();
            } else {
                failures.push(format!("{name}: header needs {} lines", 2 + got.also.len()));
            }
            continue;
        }
        let want = header(&text);
        if want.message != got.message || want.at != got.at || want.also != got.also {
            failures.push(format!(
                "{name}:\n  want {:?} at {} also {:?}\n  got  {:?} at {} also {:?}\n{diags}",
                want.message, want.at, want.also, got.message, got.at, got.also
            ));
        }
        // The rendered form carries the message and the location too.
        let rendered = diags.to_string();
        let expected_head = format!("error: {}\n", got.message);
        let expected_loc = format!("--> {name}:{}", got.at);
        if !rendered.starts_with(&expected_head) || !rendered.contains(&expected_loc) {
            failures.push(format!(
                "{name}: rendered form lacks message or location:\n{rendered}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fixture_messages_are_distinct() {
    let mut seen = std::collections::BTreeMap::new();
    for path in fixtures() {
        let m = header(&fs::read_to_string(&path).unwrap()).message;
        if let Some(other) = seen.insert(m.clone(), path.clone()) {
            panic!(
                "{} and {} both expect {m:?}",
                other.display(),
                path.display()
            );
        }
    }
}
