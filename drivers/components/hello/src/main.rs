//! `hello`: reports what the root task gave it, then waits on its
//! notification and logs every signal, forever.
#![no_std]
#![no_main]

use paddock_runtime::{entry, log, Component};

entry!(main);

/// Components whose restart generation is reported on each signal, when the
/// system has them.
const PEERS_TO_REPORT: [&str; 3] = ["rogue", "alpha", "beta"];

fn main(c: Component) -> ! {
    log!(
        "started, generation {}, {} symbols",
        c.generation(),
        c.symbols().count()
    );
    for s in c.symbols() {
        log!(
            "  {:?} {} = {:#x} ({} bytes)",
            s.kind,
            s.name,
            s.value,
            s.size
        );
    }
    loop {
        match c.wait() {
            Ok(bits) => {
                log!("signalled: badge bits {bits:#x}");
                for peer in PEERS_TO_REPORT {
                    if let Some(g) = c.generation_of(peer) {
                        log!("  `{peer}` is at generation {g}");
                    }
                }
            }
            Err(e) => panic!("{e}"),
        }
    }
}
