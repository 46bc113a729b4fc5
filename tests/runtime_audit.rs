//! For every image under `images/`: boot it, take the root task's runtime
//! dump from the console, and compare it with the plan of the same
//! description. Any difference fails, naming it.

use paddock::qemu::Verdict;
use paddock::runtime_audit;
use paddock_tests::{boot, workspace};
use std::time::Duration;

#[test]
fn every_image_is_built_exactly_as_planned() {
    let mut images: Vec<String> = std::fs::read_dir(workspace().join("images"))
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            (path.extension()? == "toml").then(|| path.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    images.sort();
    assert!(images.len() >= 5, "too few images: {images:?}");
    let mut failures = Vec::new();
    for name in &images {
        let path = workspace().join("images").join(format!("{name}.toml"));
        let (description, plan) =
            paddock_caps::load_planned(&path).unwrap_or_else(|d| panic!("{d}"));
        let outcome =
            boot(name, Duration::from_secs(120)).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        if !matches!(outcome.verdict, Verdict::Success(_)) {
            failures.push(format!("{name}: {:?}\n{}", outcome.verdict, outcome.log));
            continue;
        }
        let dump = runtime_audit::parse(&outcome.log).unwrap_or_else(|e| panic!("{name}: {e}"));
        let result = runtime_audit::compare(&plan, &dump);
        if !result.matches() {
            failures.push(format!("{name}: {:#?}", result.differences));
            continue;
        }
        // Debug kernels check every cap in the kernel's own view.
        if description.system.kernel == paddock_kernel::config::Flavour::Debug {
            assert_eq!(result.kernel_checked, plan.caps.len(), "{name}");
        }
        // Every kernel observes signals, IO port edges and frames.
        assert!(
            plan.caps.is_empty() || result.observed_total() > 0,
            "{name}"
        );
        eprintln!(
            "{name}: {} caps match the plan ({} types checked by the kernel); {}",
            result.compared,
            result.kernel_checked,
            runtime_audit::facts_summary(&result)
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
