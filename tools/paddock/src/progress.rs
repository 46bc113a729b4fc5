//! One line per long step on stderr, so a user sees what a build is doing
//! and how long each part took.

use std::io::Write;
use std::time::Instant;

pub struct Step {
    started: Instant,
    finished: bool,
}

impl Step {
    pub fn start(what: String) -> Step {
        eprint!("  {what:<28} ...");
        let _ = std::io::stderr().flush();
        Step {
            started: Instant::now(),
            finished: false,
        }
    }

    pub fn done(mut self, outcome: &str) {
        self.finished = true;
        eprintln!(" {outcome} ({:.1} s)", self.started.elapsed().as_secs_f64());
    }
}

impl Drop for Step {
    /// A step abandoned by an error still ends its line, so the error that
    /// follows starts on a line of its own.
    fn drop(&mut self) {
        if !self.finished {
            eprintln!(" failed");
        }
    }
}
