//! `description`: a system description as the user writes it, through
//! the whole host pipeline (TOML with spans, whole-system validation, the
//! plan and its limits), fed as text, not through a file.

use std::path::Path;

use paddock_caps::Diagnostics;

/// Parses, validates and plans `data` as a description. A description
/// that plans must encode to a spec that decodes; one that does not must
/// say where each of its errors is, inside the text.
pub fn description(data: &[u8]) {
    // The description is read as UTF-8 text; other bytes never reach the
    // parser (`std::fs::read_to_string` refuses them).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match paddock_caps::parse_planned(Path::new("fuzz.toml"), text) {
        Ok((_, plan)) => {
            let spec = paddock_caps::encode::encode(&plan);
            if let Err(e) = paddock_spec::Spec::decode(&spec) {
                panic!("a planned description encodes to a spec that does not decode: {e:?}");
            }
        }
        Err(diagnostics) => check_located(text, &diagnostics),
    }
}

/// Every error points into the text, and the report renders.
fn check_located(text: &str, diagnostics: &Diagnostics) {
    assert!(!diagnostics.is_empty(), "an error report without errors");
    for error in diagnostics.errors() {
        let Some(primary) = &error.primary else {
            panic!("error without a place: {}", error.message);
        };
        for label in std::iter::once(primary).chain(&error.secondary) {
            let span = &label.span;
            assert!(
                span.start <= span.end && span.end <= text.len(),
                "span {span:?} outside the {} bytes of text: {}",
                text.len(),
                error.message
            );
        }
        let at = diagnostics.position(&primary.span);
        assert!(at.line >= 1 && at.column >= 1);
    }
    // Rendering slices the text at every span: it must not panic either.
    let rendered = diagnostics.to_string();
    assert!(rendered.contains("fuzz.toml"), "{rendered}");
}
