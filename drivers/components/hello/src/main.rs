//! `hello`: reports what the root task gave it, greets each peer it shares
//! a channel with (one signal through the channel's send cap), then waits
//! on its notification and logs every signal by the channel whose badge
//! bit it carries, forever. On each signal it also puts the generations of
//! the peers it watches in the root task's record, as a witness.
#![no_std]
#![no_main]

use paddock_runtime::{entry, log, witness, Component, SymbolKind};

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
    for s in c.symbols() {
        if s.kind == SymbolKind::Slot && s.name.starts_with("channel.") {
            log!("signalling `{}`", s.name);
            paddock_runtime::sel4::syscall::signal(s.value);
        }
    }
    loop {
        match c.wait() {
            Ok(bits) => {
                log!("signalled: badge bits {bits:#x}");
                for s in c.symbols() {
                    if s.kind == SymbolKind::BadgeBit && s.value < 64 && bits & (1 << s.value) != 0
                    {
                        log!("  woken by `{}`", s.name);
                    }
                }
                for peer in PEERS_TO_REPORT {
                    if let Some(g) = c.generation_of(peer) {
                        log!("  `{peer}` is at generation {g}");
                        witness!("{peer} at generation {g}");
                    }
                }
            }
            Err(e) => panic!("{e}"),
        }
    }
}
