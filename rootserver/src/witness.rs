//! Witness reports: a component's observation, put in the root task's
//! record under the name the kernel's badge proves
//! ([`paddock_protocol::record`]).

use crate::system::System;
use paddock_protocol::record::{self, WITNESS_BYTES, WITNESS_PREFIX};

// A report must never be taken for one of the kernel's fault messages, nor
// for a shared line's report.
const _: () = assert!(
    crate::line_report::not_a_fault_label(record::WITNESS)
        && record::WITNESS != paddock_protocol::line_report::LATE
);

/// Prints the report of component `ci`; never replies (the witness sent
/// without waiting). Bytes outside printable ASCII are shown as `?`, so a
/// report cannot end the line early or draw anything on a terminal.
pub fn serve(system: &System, reply: &sel4::syscall::Reply, ci: usize) {
    let spec = system.spec;
    let name = spec.str(spec.components[ci].name);
    let mut text = [0u8; WITNESS_BYTES];
    let n = record::decode_witness(&reply.mrs, &mut text);
    for b in &mut text[..n] {
        if !(b' '..=b'~').contains(b) {
            *b = b'?';
        }
    }
    // Printable ASCII, so valid UTF-8.
    let text = core::str::from_utf8(&text[..n]).unwrap_or("?");
    println!("{WITNESS_PREFIX} `{name}`: {text}");
}
