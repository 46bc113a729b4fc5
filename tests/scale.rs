//! The largest system: as many components as `paddock_spec::limits`
//! allows (small ones: `hello` with a one-page stack, no heap, a 16-slot
//! CSpace, in a ring of channels), generated under `target/`, built,
//! booted; the root task must start every one and the runtime audit must
//! match. Also, on a release kernel, that the observations work without
//! the debug syscalls.

use paddock::image::BuildOptions;
use paddock::qemu::{BatchOptions, Extra, Outcome};
use paddock::runtime_audit;
use paddock_protocol::started::Started;
use paddock_spec::limits::MAX_COMPONENTS;
use paddock_tests::{boot_succeeding, workspace};
use std::path::PathBuf;
use std::time::Duration;

/// A description of `n` small `hello` components, each with a channel to
/// the next (a ring), written under `target/scale/`.
fn generate(n: usize, kernel: &str) -> PathBuf {
    let name = format!("scale-{n}-{kernel}");
    let mut text =
        format!("[system]\nname = \"{name}\"\nkernel = \"{kernel}\"\nmemory_mib = 512\n");
    for i in 1..=n {
        text += &format!(
            "\n[[component]]\nname = \"c{i}\"\nprogram = \"hello\"\npriority = 100\n\
             stack_size = 4096\nheap_size = 0\ncnode_size_bits = 4\n"
        );
    }
    if n > 1 {
        for i in 1..=n {
            let next = i % n + 1;
            text += &format!("\n[[channel]]\nname = \"link{i}\"\nends = [\"c{i}\", \"c{next}\"]\n");
        }
    }
    let dir = workspace().join("target/scale");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn boot(path: &std::path::Path, icount: bool) -> Outcome {
    boot_succeeding(
        path,
        BuildOptions::default(),
        BatchOptions {
            timeout: Duration::from_secs(240),
            echo: false,
            extra: Extra {
                icount,
                ..Extra::default()
            },
            ..BatchOptions::default()
        },
    )
}

fn audit(path: &std::path::Path, log: &str) -> runtime_audit::Comparison {
    let (_, plan) = paddock_caps::load_planned(path).unwrap_or_else(|d| panic!("{d}"));
    let dump = runtime_audit::parse(log).unwrap_or_else(|e| panic!("{e}"));
    let result = runtime_audit::compare(&plan, &dump);
    assert!(result.matches(), "{:#?}", result.differences);
    assert_eq!(result.compared, plan.caps.len());
    result
}

#[test]
fn the_largest_system_boots_and_matches_its_plan() {
    let path = generate(MAX_COMPONENTS, "debug");
    let outcome = boot(&path, true);
    let started = match Started::find(&outcome.log) {
        Some(Ok(started)) => started,
        Some(Err(e)) => panic!("{e}:\n{}", outcome.log),
        None => panic!("no started line:\n{}", outcome.log),
    };
    assert_eq!(started.components, MAX_COMPONENTS as u64, "{started:?}");
    assert_eq!(started.refused, 0, "{started:?}");
    let result = audit(&path, &outcome.log);
    assert_eq!(result.kernel_checked, result.compared);
    // Under -icount the TSC counts guest instructions.
    eprintln!(
        "{MAX_COMPONENTS} components: {} guest instructions of root task work, {} more for the runtime audit; {} KiB of kernel objects, {} root slots left\n  {}",
        started.work_ticks,
        started.audit_ticks,
        started.kernel_kib,
        started.slots_left,
        runtime_audit::facts_summary(&result)
    );
}

#[test]
fn a_release_kernel_observes_without_debug_syscalls() {
    let path = generate(8, "release");
    let outcome = boot(&path, false);
    assert!(
        outcome.log.contains("console COM1 through the IOPort cap"),
        "{}",
        outcome.log
    );
    let result = audit(&path, &outcome.log);
    // No cap type can be identified, but every signal is observed: the
    // write right of each notification cap, the badge of each send cap.
    assert_eq!(result.kernel_checked, 0);
    assert_eq!(result.observed.get("write"), Some(&(3 * 8)));
    assert_eq!(result.observed.get("badge"), Some(&(2 * 8)));
    assert_eq!(result.recorded.get("type"), Some(&result.compared));
    eprintln!("release: {}", runtime_audit::facts_summary(&result));
}
