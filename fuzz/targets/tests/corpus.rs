//! Replays every checked-in corpus (`fuzz/corpus/<target>/`) and every
//! seed through its target, as an ordinary test: what the fuzzer once
//! found must stay fixed, without the fuzzer.

use std::path::Path;

use paddock_fuzz_targets::{seeds, TARGETS};

#[test]
fn every_corpus_file_passes_its_target() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let mut replayed = 0;
    for target in TARGETS {
        let dir = corpus.join(target.name);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        assert!(!files.is_empty(), "{} has no inputs", dir.display());
        for file in files {
            let data = std::fs::read(&file).unwrap();
            eprintln!("{}", file.display());
            (target.run)(&data);
            replayed += 1;
        }
    }
    assert!(replayed > 0);
}

#[test]
fn every_seed_passes_its_target() {
    for target in TARGETS {
        let seeds = seeds::seeds(target.name);
        assert!(!seeds.is_empty(), "no seeds for {}", target.name);
        for seed in seeds {
            (target.run)(&seed);
        }
    }
}

#[test]
fn the_empty_input_passes_every_target() {
    for target in TARGETS {
        (target.run)(&[]);
    }
}
