//! The runtime audit: what a booted root task says it built (its
//! `paddock-dump:` lines, see `rootserver/src/dump.rs` and
//! `docs/audit.md`) against the plan of the same description.
//!
//! A dump names the SHA-256 of the spec its root task decoded; a dump of
//! another spec is refused before anything else is compared. Then every
//! difference is named with its component and cap or mapping: a cap
//! missing, extra, of another kind or type, with other rights or badge, a
//! signal that arrives with another badge or through a cap that should
//! refuse it, an IO port range wider or narrower than planned, a mapping
//! whose frames are not its object's, a slot the kernel found occupied
//! outside the plan. Each fact compared is counted as observed (the root
//! task asked the kernel) or only recorded (the root task says what it
//! minted).

mod compare;
mod msix;
mod parse;
#[cfg(test)]
mod tests;

pub use compare::{compare, dumped_purpose, spec_digest, Comparison};
pub use parse::{parse, Dump, Source};

use paddock_caps::plan::Plan;
use std::process::ExitCode;

/// `kind n, kind n, ...` of a tally.
fn tally_text(tally: &std::collections::BTreeMap<&'static str, usize>) -> String {
    tally
        .iter()
        .map(|(what, n)| format!("{what} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line on how much of the comparison rests on the kernel's word.
pub fn facts_summary(result: &Comparison) -> String {
    format!(
        "{} facts observed through the kernel ({}), {} only recorded by the root task ({})",
        result.observed_total(),
        tally_text(&result.observed),
        result.recorded_total(),
        tally_text(&result.recorded)
    )
}

/// Compares the dump in a console log with the plan and reports it:
/// differences on stderr, the summary on stdout. Exit status 0 when they
/// match, 1 when anything differs or the log holds no readable dump.
pub fn report(plan: &Plan, log: &str, source: &str) -> ExitCode {
    let dump = match parse(log) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {source}: {e}");
            return ExitCode::from(1);
        }
    };
    let result = compare(plan, &dump);
    for d in &result.differences {
        eprintln!("error: runtime audit of `{}`: {d}", plan.name);
    }
    if result.other_spec {
        eprintln!(
            "runtime audit of `{}`: refused: the dump is not of this description's spec",
            plan.name
        );
        return ExitCode::from(1);
    }
    let facts = facts_summary(&result);
    if result.matches() {
        println!(
            "runtime audit of `{}`: {} caps in {} components match the plan; {facts}",
            plan.name,
            result.compared,
            plan.components.len(),
        );
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "runtime audit of `{}`: {} differences from the plan; {facts}",
            plan.name,
            result.differences.len()
        );
        ExitCode::from(1)
    }
}
