//! Asking the host C compiler what seL4's C headers mean.
//!
//! Object types, error codes, the bootinfo layout and most constants are
//! defined in C headers under `#ifdef CONFIG_*`, with enumerators that count
//! on from each other across files and packed structs. Rather than
//! re-implement C, paddock lets gcc evaluate them:
//! * [`CCompiler::preprocess`] resolves the `#if`s, and [`enum_members`] /
//!   [`struct_fields`] then read which names exist from the result;
//! * [`CCompiler::evaluate`] compiles `const long long x = <expr>;` for each
//!   expression with `-S` and reads the folded value back from the assembly.
//!   Nothing is linked or run, so no host libc headers are involved
//!   (`-nostdinc -ffreestanding`), and the values are exactly what the
//!   compiler computes for x86_64 (the host and the seL4 user ABI are both
//!   x86_64 SysV; the bootinfo structs are packed anyway).

use anyhow::{bail, ensure, Context, Result};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Flags for every use: seL4's headers are freestanding and 64-bit.
const BASE_FLAGS: &[&str] = &["-nostdinc", "-ffreestanding", "-m64", "-std=gnu11", "-w"];

/// The host C compiler: `$PADDOCK_CC` when set, otherwise `gcc`.
#[derive(Clone, Debug)]
pub struct CCompiler {
    program: PathBuf,
}

/// The output of one compiler run and the files it read.
#[derive(Clone, Debug, Default)]
pub struct Probed<T> {
    pub value: T,
    /// Every header the compiler opened (from its `-MD` dependency file).
    pub inputs: BTreeSet<PathBuf>,
}

impl CCompiler {
    pub fn find() -> Result<CCompiler> {
        let program = std::env::var_os("PADDOCK_CC")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("gcc"));
        let works = Command::new(&program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        ensure!(
            works,
            "the C compiler `{}` could not be run: paddock evaluates seL4's C headers with it \
             (install gcc, e.g. `apt-get install gcc`, or name another in PADDOCK_CC)",
            program.display()
        );
        Ok(CCompiler { program })
    }

    /// Runs the preprocessor on `source` (C, or a `.bf` file's text, which
    /// the kernel build preprocesses as C too) and returns its output
    /// without line markers.
    pub fn preprocess(
        &self,
        work: &Path,
        name: &str,
        source: &str,
        includes: &[PathBuf],
    ) -> Result<Probed<String>> {
        let input = write_input(work, name, source)?;
        let output = work.join(format!("{name}.i"));
        self.run(
            work,
            name,
            &input,
            includes,
            &["-E", "-P", "-x", "c"],
            &output,
        )?;
        let text =
            fs::read_to_string(&output).with_context(|| format!("reading {}", output.display()))?;
        Ok(Probed {
            value: text,
            inputs: read_deps(&work.join(format!("{name}.d")))?,
        })
    }

    /// The names of every macro defined after preprocessing `source`.
    pub fn defined_macros(
        &self,
        work: &Path,
        name: &str,
        source: &str,
        includes: &[PathBuf],
    ) -> Result<BTreeSet<String>> {
        let input = write_input(work, name, source)?;
        let output = work.join(format!("{name}.macros"));
        self.run(
            work,
            name,
            &input,
            includes,
            &["-E", "-dM", "-x", "c"],
            &output,
        )?;
        let text =
            fs::read_to_string(&output).with_context(|| format!("reading {}", output.display()))?;
        Ok(text
            .lines()
            .filter_map(|l| l.strip_prefix("#define "))
            .filter_map(|l| l.split([' ', '(']).next())
            .map(str::to_string)
            .collect())
    }

    /// Values of integer constant expressions, evaluated after `prelude`
    /// (which includes the headers that define them).
    pub fn evaluate(
        &self,
        work: &Path,
        name: &str,
        prelude: &str,
        exprs: &[String],
        includes: &[PathBuf],
    ) -> Result<Probed<Vec<i64>>> {
        let mut source = String::from(prelude);
        source.push_str("\n/* One constant per expression; read back from the assembly. */\n");
        for (i, expr) in exprs.iter().enumerate() {
            source.push_str(&format!(
                "const long long paddock_probe_{i} = (long long)({expr});\n"
            ));
        }
        let input = write_input(work, name, &source)?;
        let output = work.join(format!("{name}.s"));
        self.run(work, name, &input, includes, &["-S", "-O0"], &output)?;
        let asm =
            fs::read_to_string(&output).with_context(|| format!("reading {}", output.display()))?;
        let values = read_probes(&asm, exprs.len())
            .with_context(|| format!("reading the constants of {}", output.display()))?;
        Ok(Probed {
            value: values,
            inputs: read_deps(&work.join(format!("{name}.d")))?,
        })
    }

    fn run(
        &self,
        work: &Path,
        name: &str,
        input: &Path,
        includes: &[PathBuf],
        mode: &[&str],
        output: &Path,
    ) -> Result<()> {
        let mut cmd = Command::new(&self.program);
        cmd.args(BASE_FLAGS).args(mode);
        for dir in includes {
            cmd.arg("-I").arg(dir);
        }
        cmd.arg("-MD")
            .arg("-MF")
            .arg(work.join(format!("{name}.d")))
            .arg("-o")
            .arg(output)
            .arg(input);
        let result = cmd
            .output()
            .with_context(|| format!("running {}", self.program.display()))?;
        if !result.status.success() {
            let stderr = String::from_utf8_lossy(&result.stderr);
            let shown: Vec<&str> = stderr.lines().take(40).collect();
            bail!(
                "{} failed on {} (kept for inspection):\n{}",
                self.program.display(),
                input.display(),
                shown.join("\n")
            );
        }
        Ok(())
    }
}

fn write_input(work: &Path, name: &str, source: &str) -> Result<PathBuf> {
    fs::create_dir_all(work).with_context(|| format!("creating {}", work.display()))?;
    let path = work.join(format!("{name}.c"));
    fs::write(&path, source).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The prerequisites listed in a make-style dependency file.
fn read_deps(path: &Path) -> Result<BTreeSet<PathBuf>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let body = text.split_once(": ").map_or("", |(_, rest)| rest);
    Ok(body
        .split_whitespace()
        .filter(|t| *t != "\\")
        .map(PathBuf::from)
        .collect())
}

/// Reads `paddock_probe_<i>:` followed by `.quad <v>` (or `.zero 8` for 0)
/// from gcc's assembly.
fn read_probes(asm: &str, count: usize) -> Result<Vec<i64>> {
    let mut values = vec![None; count];
    let mut lines = asm.lines();
    while let Some(line) = lines.next() {
        let Some(index) = line
            .trim()
            .strip_prefix("paddock_probe_")
            .and_then(|l| l.strip_suffix(':'))
        else {
            continue;
        };
        let index: usize = index.parse().context("bad probe label")?;
        let data = lines.next().unwrap_or("").trim();
        let mut words = data.split_whitespace();
        let value = match (words.next(), words.next()) {
            (Some(".quad"), Some(v)) => v.parse::<i64>().ok(),
            (Some(".zero"), Some("8")) => Some(0),
            _ => None,
        };
        let slot = values.get_mut(index).context("probe index out of range")?;
        *slot = Some(value.with_context(|| format!("unexpected data `{data}` for probe {index}"))?);
    }
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| v.with_context(|| format!("probe {i} missing from the assembly")))
        .collect()
}

/// A minimal C token: identifiers and numbers whole, everything else one
/// character at a time. Enough to find declarations in preprocessed text.
fn tokens(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if text[i..].starts_with("/*") {
            // Comments survive in some preprocessed output (`-C`), and an
            // apostrophe in one must not start a character literal.
            i = text[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |end| i + 2 + end + 2);
        } else if text[i..].starts_with("//") || (c == b'#' && at_line_start(bytes, i)) {
            // Line comments, and the line markers (`# 35 "file.h"`) that
            // preprocessing leaves wherever it dropped lines.
            i = text[i..].find('\n').map_or(bytes.len(), |end| i + end);
        } else if c.is_ascii_alphanumeric() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(&text[start..i]);
        } else if c == b'"' || c == b'\'' {
            // Skip string and character literals whole.
            let start = i;
            i += 1;
            while i < bytes.len() && bytes[i] != c {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            out.push(&text[start..i]);
        } else {
            let len = text[i..].chars().next().map_or(1, char::len_utf8);
            out.push(&text[i..i + len]);
            i += len;
        }
    }
    out
}

/// Whether only blanks precede position `i` on its line.
fn at_line_start(bytes: &[u8], i: usize) -> bool {
    bytes[..i]
        .iter()
        .rev()
        .take_while(|b| **b != b'\n')
        .all(|b| *b == b' ' || *b == b'\t')
}

/// Index of the bracket matching the one at `open` (`{`, `(` or `[`).
fn matching_forward(toks: &[&str], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match *t {
            "{" | "(" | "[" => depth += 1,
            "}" | ")" | "]" => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Index of the bracket opening the one that closes at `close`.
fn matching_backward(toks: &[&str], close: usize) -> Option<usize> {
    let mut depth = 0usize;
    for i in (0..=close).rev() {
        match toks[i] {
            "}" | ")" | "]" => depth += 1,
            "{" | "(" | "[" => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits `toks` at `sep` tokens outside brackets.
fn split_top<'a>(toks: &[&'a str], sep: &str) -> Vec<Vec<&'a str>> {
    let mut parts = vec![Vec::new()];
    let mut depth = 0i32;
    for t in toks {
        match *t {
            "{" | "(" | "[" => depth += 1,
            "}" | ")" | "]" => depth -= 1,
            _ => {}
        }
        if depth == 0 && *t == sep {
            parts.push(Vec::new());
        } else {
            parts.last_mut().expect("never empty").push(*t);
        }
    }
    parts.retain(|p| !p.is_empty());
    parts
}

/// The enumerators, in order, of the enum (in preprocessed C) that declares
/// `member`. Padding entries of `SEL4_FORCE_LONG_ENUM` are left out.
pub fn enum_members(text: &str, member: &str) -> Result<Vec<String>> {
    let toks = tokens(text);
    for (i, t) in toks.iter().enumerate() {
        if *t != member || i == 0 || !matches!(toks[i - 1], "{" | ",") {
            continue;
        }
        // Walk back to the unmatched `{` this enumerator sits in.
        let mut depth = 0i32;
        let mut open = None;
        for j in (0..i).rev() {
            match toks[j] {
                "}" | ")" => depth += 1,
                "(" => depth -= 1,
                "{" if depth == 0 => {
                    open = Some(j);
                    break;
                }
                "{" => depth -= 1,
                _ => {}
            }
        }
        let Some(open) = open else { continue };
        let is_enum = toks[..open].iter().rev().take(2).any(|t| *t == "enum");
        if !is_enum {
            continue;
        }
        let close = matching_forward(&toks, open).context("unterminated enum")?;
        let names = split_top(&toks[open + 1..close], ",")
            .into_iter()
            .map(|entry| entry[0].to_string())
            .filter(|name| !name.starts_with("_enum_pad_"))
            .collect();
        return Ok(names);
    }
    bail!("no enum declares `{member}`")
}

/// The enumerators, in order, of `enum <tag> { .. }` (in preprocessed C).
pub fn enum_by_tag(text: &str, tag: &str) -> Result<Vec<String>> {
    let toks = tokens(text);
    let open = (2..toks.len())
        .find(|&i| toks[i] == "{" && toks[i - 1] == tag && toks[i - 2] == "enum")
        .with_context(|| format!("no `enum {tag}` found"))?;
    let close = matching_forward(&toks, open).context("unterminated enum")?;
    Ok(split_top(&toks[open + 1..close], ",")
        .into_iter()
        .map(|entry| entry[0].to_string())
        .filter(|name| !name.starts_with("_enum_pad_"))
        .collect())
}

/// The field names, in order, of the struct (in preprocessed C) named
/// `name`: either `struct name { .. }` or `typedef struct { .. } name;`
/// (attributes such as `packed` between `}` and the name are allowed).
pub fn struct_fields(text: &str, name: &str) -> Result<Vec<String>> {
    let toks = tokens(text);
    let mut body = None;
    for (i, t) in toks.iter().enumerate() {
        if *t != name {
            continue;
        }
        if i > 0 && toks[i - 1] == "struct" && toks.get(i + 1) == Some(&"{") {
            let close = matching_forward(&toks, i + 1).context("unterminated struct")?;
            body = Some((i + 2, close));
            break;
        }
        if toks.get(i + 1) == Some(&";") {
            // Skip `__attribute__((..))` groups back to the closing brace.
            let mut j = i;
            while j > 0 && toks[j - 1] == ")" {
                let open = matching_backward(&toks, j - 1).context("unbalanced attribute")?;
                if open == 0 || toks[open - 1] != "__attribute__" {
                    break;
                }
                j = open - 1;
            }
            if j > 0 && toks[j - 1] == "}" {
                let open = matching_backward(&toks, j - 1).context("unbalanced struct")?;
                if toks[..open].iter().rev().take(2).any(|t| *t == "struct") {
                    body = Some((open + 1, j - 1));
                    break;
                }
            }
        }
    }
    let (start, end) = body.with_context(|| format!("no struct `{name}` found"))?;
    let mut fields = Vec::new();
    for decl in split_top(&toks[start..end], ";") {
        ensure!(
            !decl.contains(&"{"),
            "struct `{name}` has a nested definition, which is not supported"
        );
        let declarators = split_top(&decl, ",");
        for (k, declarator) in declarators.iter().enumerate() {
            // Drop array bounds; the name is the last identifier left.
            let mut kept = Vec::new();
            let mut depth = 0;
            for t in declarator {
                match *t {
                    "[" => depth += 1,
                    "]" => depth -= 1,
                    _ if depth == 0 => kept.push(*t),
                    _ => {}
                }
            }
            let field = kept
                .iter()
                .rev()
                .find(|t| t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
                .with_context(|| format!("unreadable field declaration in struct `{name}`"))?;
            ensure!(
                k == 0 || kept.len() == 1,
                "unreadable declarator list in `{name}`"
            );
            fields.push(field.to_string());
        }
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: &str = r#"
        /* The kernel's preprocessed output keeps comments: don't trip. */
        typedef unsigned long seL4_Word; // it's a word
        typedef enum api_object { seL4_A, seL4_B = 4,
# 12 "objecttype.h"
          seL4_C, seL4_Count } t;
        enum { seL4_X_IP, seL4_X_Len, _enum_pad_seL4_X = (1ULL << ((sizeof(long)*8) - 1)) - 1, } m;
        static int f(void) { return seL4_A + (seL4_B, 1); }
        typedef struct { seL4_Word start; seL4_Word end; } __attribute__((packed)) Region;
        typedef struct { seL4_Word a; Region r[3]; unsigned char x, y; char *p; } __attribute__((packed)) Info;
        typedef struct Buf_ { seL4_Word tag; seL4_Word msg[120]; } Buf __attribute__((aligned(8)));
    "#;

    #[test]
    fn finds_enumerators_wherever_the_member_is_used() {
        assert_eq!(
            enum_members(C, "seL4_C").unwrap(),
            ["seL4_A", "seL4_B", "seL4_C", "seL4_Count"]
        );
        assert_eq!(
            enum_members(C, "seL4_X_Len").unwrap(),
            ["seL4_X_IP", "seL4_X_Len"]
        );
        assert!(enum_members(C, "seL4_Missing").is_err());
        assert_eq!(
            enum_by_tag(C, "api_object").unwrap(),
            ["seL4_A", "seL4_B", "seL4_C", "seL4_Count"]
        );
        assert!(enum_by_tag(C, "Region").is_err());
    }

    #[test]
    fn finds_struct_fields() {
        assert_eq!(struct_fields(C, "Region").unwrap(), ["start", "end"]);
        assert_eq!(struct_fields(C, "Info").unwrap(), ["a", "r", "x", "y", "p"]);
        assert_eq!(struct_fields(C, "Buf_").unwrap(), ["tag", "msg"]);
        assert!(struct_fields(C, "Nope").is_err());
    }

    #[test]
    fn reads_folded_constants() {
        let asm = "paddock_probe_1:\n\t.quad\t-1\n\t.globl x\npaddock_probe_0:\n\t.zero\t8\n";
        assert_eq!(read_probes(asm, 2).unwrap(), [0, -1]);
        assert!(read_probes(asm, 3).is_err());
    }

    #[test]
    fn reads_dependency_files() {
        let dir = std::env::temp_dir().join(format!("paddock-deps-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.d");
        fs::write(&path, "x.o: x.c /a/b.h \\\n /c/d.h\n").unwrap();
        let deps = read_deps(&path).unwrap();
        assert!(deps.contains(Path::new("/c/d.h")) && deps.len() == 3);
        fs::remove_dir_all(&dir).unwrap();
    }
}
