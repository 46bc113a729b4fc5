//! `hello`: reports what the root task gave it, then waits on its
//! notification and logs every signal, forever.
#![no_std]
#![no_main]

use paddock_runtime::{entry, log, Component};

entry!(main);

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
            Ok(bits) => log!("signalled: badge bits {bits:#x}"),
            Err(e) => panic!("{e}"),
        }
    }
}
