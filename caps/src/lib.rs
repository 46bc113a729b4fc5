//! System descriptions, validation, the capability plan and its audit.
//!
//! The flow is `images/<name>.toml` -> [`load`] (parse with spans, then
//! whole-system [`validate`]) -> [`plan::plan`] (every kernel object, slot,
//! mapping and binding) -> [`encode::encode`] (the binary spec the root task
//! reads with `paddock-spec`) and [`audit::audit`] (the isolation rules),
//! with [`report`] rendering the result as text, JSON or DOT.

pub mod audit;
pub mod description;
pub mod diagnostics;
pub mod encode;
pub mod plan;
pub mod report;
pub mod validate;

pub use description::{Component, Description, Source, System};
pub use diagnostics::{Diagnostics, Error, Position};

use std::path::Path;

/// Reads, parses and validates a description. On failure the
/// [`Diagnostics`] hold every error found, ready to print on stderr.
pub fn load(path: &Path) -> Result<Description, Diagnostics> {
    load_planned(path).map(|(description, _)| description)
}

/// [`load`], also returning the plan that validation computed (its limits
/// can only be counted on the plan), so callers need not plan again.
pub fn load_planned(path: &Path) -> Result<(Description, plan::Plan), Diagnostics> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostics::new(
            path,
            "",
            vec![Error::new(format!("cannot read `{}`: {e}", path.display()))
                .help("give the path of a system description such as `images/default.toml`")],
        )
    })?;
    parse_planned(path, &text)
}

/// Parses and validates a description held in memory; `path` only names it
/// in messages.
pub fn parse(path: &Path, text: &str) -> Result<Description, Diagnostics> {
    parse_planned(path, text).map(|(description, _)| description)
}

fn parse_planned(path: &Path, text: &str) -> Result<(Description, plan::Plan), Diagnostics> {
    let mut description: Description = toml::from_str(text)
        .map_err(|e| Diagnostics::new(path, text, vec![diagnostics::from_toml(&e)]))?;
    description.source = Source {
        path: path.to_path_buf(),
        text: text.to_string(),
    };
    let errors = validate::validate(&description);
    if !errors.is_empty() {
        return Err(Diagnostics::new(path, text, errors));
    }
    // Limits that only the plan can count.
    let plan = plan::plan(&description);
    let errors = validate::validate_plan(&description, &plan);
    if errors.is_empty() {
        Ok((description, plan))
    } else {
        Err(Diagnostics::new(path, text, errors))
    }
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
        assert_eq!(d.system.kernel_config(), KernelConfig::DEBUG);
        let r = load(&image("release.toml")).unwrap();
        assert_eq!(r.system.kernel_config(), KernelConfig::RELEASE);
        let i = load(&image("iommu.toml")).unwrap();
        assert_eq!(i.system.kernel_config(), KernelConfig::DEBUG_IOMMU);
        assert_eq!(
            i.system.qemu_args(),
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
