//! Seed inputs for the fuzz targets: `fuzz-seeds OUT [LOG...]` writes
//! `OUT/<target>/seed-<n>` for every target, and each console log given
//! (a `./simulate --batch` run) as a `runtime-log` seed too.
//! `fuzz-seeds --list` prints every target and what it feeds.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args_os().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: fuzz-seeds OUT [LOG...] | fuzz-seeds --list");
        std::process::exit(2);
    };
    if out.as_os_str() == "--list" {
        for target in paddock_fuzz_targets::TARGETS {
            println!("{:<15} {}", target.name, target.feeds);
        }
        return Ok(());
    }
    let logs: Vec<PathBuf> = args.map(PathBuf::from).collect();
    for target in paddock_fuzz_targets::TARGETS {
        let dir = out.join(target.name);
        std::fs::create_dir_all(&dir)?;
        let mut seeds = paddock_fuzz_targets::seeds::seeds(target.name);
        if target.name == "runtime-log" {
            for log in &logs {
                seeds.push(std::fs::read(log)?);
            }
        }
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:03}")), seed)?;
        }
        println!("{}: {} seeds", target.name, seeds.len());
    }
    Ok(())
}
