//! Fuzz targets: every parser of input that paddock does not trust, as a
//! plain function of bytes. Each must return (an error value or a result)
//! for every input: a panic, a hang or a read outside the input is a bug.
//! Where the input has places (text), errors must name one, and the
//! targets assert it.
//!
//! The libFuzzer harness in `fuzz/` wraps each function in one binary;
//! `tests/corpus.rs` replays the checked-in corpora through the same
//! functions as ordinary tests. `tools/fuzz` builds and runs the harness.

mod input;

// The timer's clock page and its arithmetic, compiled here from the timer
// crate's own files: `paddock-timer` with the `runtime` feature, which the
// workspace's components turn on, brings the component runtime's panic
// handler, which cannot link beside std. `page.rs` names `crate::clock`.
#[allow(dead_code)]
#[path = "../../../drivers/timer/src/clock.rs"]
mod clock;
#[allow(dead_code)]
#[path = "../../../drivers/timer/src/page.rs"]
mod timer_page;

pub mod blk;
pub mod description;
pub mod elf;
pub mod info_pages;
pub mod net;
pub mod protocol;
pub mod ring;
pub mod runtime_log;
pub mod seeds;
pub mod spec;
pub mod virtio;

pub use blk::blk_queues;
pub use description::description;
pub use elf::elf;
pub use info_pages::info_pages;
pub use net::net_queues;
pub use protocol::{boot_blob, component_info};
pub use ring::ring;
pub use runtime_log::runtime_log;
pub use spec::spec;
pub use virtio::virtio_used;

/// One fuzz target: its name (the harness binary and the corpus folder
/// `fuzz/corpus/<name>/`), its body, and what it feeds.
#[derive(Clone, Copy)]
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
    pub feeds: &'static str,
}

/// Every target, in the order `tools/fuzz all` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "description",
        run: description,
        feeds: "system-description TOML text: parse with spans, validate, plan, encode",
    },
    Target {
        name: "spec",
        run: spec,
        feeds: "the binary spec the root task decodes (paddock_spec::Spec::decode)",
    },
    Target {
        name: "boot-blob",
        run: boot_blob,
        feeds: "the boot blob the root task reads (paddock_protocol::blob::Blob::parse)",
    },
    Target {
        name: "component-info",
        run: component_info,
        feeds: "a component's info page and status pages (paddock_protocol::component)",
    },
    Target {
        name: "info-pages",
        run: info_pages,
        feeds:
            "the network and block info pages and the timer's clock page, as a client reads them",
    },
    Target {
        name: "elf",
        run: elf,
        feeds: "a component program for the root task's ELF loader",
    },
    Target {
        name: "runtime-log",
        run: runtime_log,
        feeds: "a console log: the runtime dump parser and the started line",
    },
    Target {
        name: "ring",
        run: ring,
        feeds: "operations of an honest ring endpoint interleaved with a hostile peer's writes",
    },
    Target {
        name: "virtio-used",
        run: virtio_used,
        feeds: "driver operations on a virtqueue interleaved with a hostile device's writes",
    },
    Target {
        name: "blk-queues",
        run: blk_queues,
        feeds: "the block driver's request and response queues, the client hostile",
    },
    Target {
        name: "net-queues",
        run: net_queues,
        feeds: "the network driver's four queues of a client, the client hostile",
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}
