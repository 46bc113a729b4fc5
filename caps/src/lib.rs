//! System descriptions, validation, the capability plan and its audit.
//!
//! The flow is `images/<name>.toml` -> [`parse`] (TOML with spans, a
//! [`Description`]) -> [`validate`] (whole-system rules; a typed
//! [`model::Model`] only when there is no error) -> [`plan::plan`] (every
//! kernel object, slot, mapping and binding, from the model alone) ->
//! [`limits`] (what only the plan can count) -> [`encode::encode`] (the
//! binary spec the root task reads with `paddock-spec`) and
//! [`audit::audit`] (the isolation rules), with [`report`] rendering the
//! result as text, JSON or DOT. Before `paddock build` writes an image,
//! [`spec_check`] runs the rules again on the encoded bytes it is about to
//! embed, and [`image_check`] counts what only the build knows (program
//! sizes, the root task's slots).

pub mod audit;
pub mod description;
pub mod diagnostics;
pub mod encode;
pub mod findings;
pub mod image_check;
pub mod intx;
pub mod limits;
pub mod model;
pub mod plan;
pub mod report;
pub mod spec_check;
pub mod symbols;
pub mod validate;

pub use description::{Component, Description, Source, System};
pub use diagnostics::{Diagnostics, Error, Position};

use std::path::Path;

/// A description that passed validation: as written (for reports and
/// error locations) and as the planner reads it.
#[derive(Clone, Debug)]
pub struct Validated {
    pub description: Description,
    pub model: model::Model,
}

impl AsRef<model::Model> for Validated {
    fn as_ref(&self) -> &model::Model {
        &self.model
    }
}

/// Reads, parses and validates a description, and checks the limits of its
/// plan. On failure the [`Diagnostics`] hold every error found, ready to
/// print on stderr.
pub fn load(path: &Path) -> Result<Validated, Diagnostics> {
    let text = read(path)?;
    parse(path, &text)
}

/// [`load`], also returning the plan (its limits are counted on it), so
/// callers need not plan again.
pub fn load_planned(path: &Path) -> Result<(Description, plan::Plan), Diagnostics> {
    let text = read(path)?;
    parse_planned(path, &text).map(|(v, plan)| (v.description, plan))
}

/// The largest description read: far beyond any real system (the root
/// task's limits keep one to a few thousand lines), small enough that a
/// wrong path (a disk image, `/dev/zero`) is refused before it is held.
pub const MAX_DESCRIPTION_BYTES: u64 = 16 << 20;

fn read(path: &Path) -> Result<String, Diagnostics> {
    use std::io::Read;
    let refuse = |message: String, help: &str| {
        Diagnostics::new(path, "", vec![Error::new(message).help(help)])
    };
    let cannot = |e: std::io::Error| {
        refuse(
            format!("cannot read `{}`: {e}", path.display()),
            "give the path of a system description such as `images/default.toml`",
        )
    };
    if path.is_dir() {
        return Err(refuse(
            format!(
                "`{}` is a directory, not a system description",
                path.display()
            ),
            "give the path of a description file such as `images/default.toml`",
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(cannot)?
        .take(MAX_DESCRIPTION_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_DESCRIPTION_BYTES {
        return Err(refuse(
            format!(
                "`{}` is larger than the {} MiB a system description may be",
                path.display(),
                MAX_DESCRIPTION_BYTES >> 20
            ),
            "is this the description? it should be a TOML file of a few kilobytes",
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        // Point at the first byte that is not UTF-8; the text shown is
        // the same up to there.
        let at = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        Diagnostics::new(
            path,
            &text,
            vec![
                Error::new(format!("`{}` is not UTF-8 text", path.display()))
                    .at(at..at + '\u{fffd}'.len_utf8(), "not UTF-8")
                    .help("TOML is UTF-8: save the file as UTF-8 (a byte order mark is allowed)"),
            ],
        )
    })
}

/// Parses and validates a description held in memory; `path` only names it
/// in messages.
pub fn parse(path: &Path, text: &str) -> Result<Validated, Diagnostics> {
    parse_planned(path, text).map(|(v, _)| v)
}

/// Parse, validate, plan, check the plan's limits.
pub fn parse_planned(path: &Path, text: &str) -> Result<(Validated, plan::Plan), Diagnostics> {
    // A byte order mark (some Windows editors write one) is not part of
    // the text: without it, every span and column is as the user sees it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut description: Description = toml::from_str(text)
        .map_err(|e| Diagnostics::new(path, text, vec![diagnostics::from_toml(&e)]))?;
    description.source = Source {
        path: path.to_path_buf(),
        text: text.to_string(),
    };
    let mut errors = intx::hold_shared_lines(&mut description);
    let model = match validate::validate(&description) {
        Ok(model) if errors.is_empty() => model,
        Ok(_) => return Err(Diagnostics::new(path, text, errors)),
        Err(more) => {
            errors.extend(more);
            return Err(Diagnostics::new(path, text, errors));
        }
    };
    let errors = limits::check_model(&description, &model);
    if !errors.is_empty() {
        return Err(Diagnostics::new(path, text, errors));
    }
    let plan = plan::plan(&model);
    let errors = limits::check(&description, &plan);
    if !errors.is_empty() {
        return Err(Diagnostics::new(path, text, errors));
    }
    Ok((Validated { description, model }, plan))
}

#[cfg(test)]
mod tests {
    use super::*;
    use paddock_kernel::config::KernelConfig;

    fn image(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../images")
            .join(name)
    }

    #[test]
    fn minimal_images_give_their_kernel_configs() {
        let d = load(&image("default.toml")).unwrap();
        assert_eq!(d.description.system.kernel_config(), KernelConfig::DEBUG);
        assert_eq!(d.model.kernel, KernelConfig::DEBUG);
        let r = load(&image("release.toml")).unwrap();
        assert_eq!(r.model.kernel, KernelConfig::RELEASE);
        let i = load(&image("iommu.toml")).unwrap();
        assert_eq!(i.model.kernel, KernelConfig::DEBUG_IOMMU);
        assert_eq!(
            i.description.system.qemu_args(),
            ["-machine", "q35", "-m", "512M", "-device", "intel-iommu"]
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let e = load(Path::new("images/no-such-image.toml")).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("cannot read `images/no-such-image.toml`"),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_field_names_its_place_and_the_nearest_name() {
        let text = "[system]\nname = \"x\"\nkernel = \"debug\"\nmemroy_mib = 3\n";
        let e = parse(Path::new("x.toml"), text).unwrap_err().to_string();
        assert!(e.contains("error: unknown field `memroy_mib`"), "{e}");
        assert!(e.contains("--> x.toml:4:1"), "{e}");
        assert!(e.contains("help: did you mean `memory_mib`?"), "{e}");
    }
}
