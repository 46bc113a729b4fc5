//! `paddock audit`: the capability plan of a system description, checked
//! against the isolation rules and reported as text, JSON or DOT.

use clap::{Args, ValueEnum};
use paddock_caps::{audit, report};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum Format {
    /// A readable report: caps per component, holders per resource, rules.
    #[default]
    Text,
    /// The same as JSON (schema in docs/audit.md).
    Json,
    /// A Graphviz graph of components, devices, rings and channels.
    Dot,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// The system description to audit.
    pub image: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Compare a booted system's runtime dump (a captured console log of
    /// the image) with the plan, instead of reporting the plan.
    #[arg(long, value_name = "LOG")]
    pub runtime: Option<PathBuf>,
}

/// Exit status: 0 when every rule holds, 1 when a rule fails (each failure
/// is also named on stderr), 2 when the description is invalid.
pub fn run(args: &AuditArgs) -> anyhow::Result<ExitCode> {
    let (description, plan) = match paddock_caps::load_planned(&args.image) {
        Ok(d) => d,
        Err(diagnostics) => {
            eprint!("{diagnostics}");
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(log) = &args.runtime {
        let text = std::fs::read_to_string(log)
            .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", log.display()))?;
        return Ok(runtime(&plan, &text, &log.display().to_string()));
    }
    let result = audit::audit(&description, &plan);
    match args.format {
        Format::Text => print!("{}", report::text(&description, &plan, &result)),
        Format::Json => print!("{}", report::json_text(&description, &plan, &result)),
        Format::Dot => print!("{}", report::dot(&description, &plan)),
    }
    if result.passed() {
        return Ok(ExitCode::SUCCESS);
    }
    for (rule, v) in result.violations() {
        eprintln!(
            "error: isolation rule `{rule}` fails: {}: {}: {}",
            v.component.as_deref().unwrap_or("-"),
            v.item,
            v.message
        );
    }
    Ok(ExitCode::from(1))
}

/// Prints the runtime comparison of a console log with the plan; exit
/// status 0 when they match, 1 when anything differs.
pub fn runtime(plan: &paddock_caps::plan::Plan, log: &str, source: &str) -> ExitCode {
    crate::runtime_audit::report(plan, log, source)
}
