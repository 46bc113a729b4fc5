//! Naming the late sharers of a shared IOAPIC line
//! (`paddock_protocol::line_report`).
//!
//! A line's holder reports on its fault endpoint cap, so the kernel's badge
//! names it; the report counts only when that component runs the holder
//! program. Each late bit is then looked up in the plan: the sharer is the
//! component whose notification-send cap to the holder's notification
//! carries that bit, and no other component holds such a cap. The holder
//! measures lateness with its own TSC, which no sharer can touch; the root
//! task adds who the late one is, from the plan rather than from anything
//! the holder could name.

use crate::system::System;
use paddock_protocol::line_report::{self as protocol, word};
use paddock_spec::{CapKind, SymbolKind};
use sel4::sys::constants as k;

/// Whether `label` is none of the kernel's fault messages' labels, so a
/// component's report on its fault endpoint can never be taken for one.
pub const fn not_a_fault_label(label: u64) -> bool {
    label != k::Fault_VMFault
        && label != k::Fault_UserException
        && label != k::Fault_UnknownSyscall
        && label != k::Fault_CapFault
        && label != k::Fault_NullFault
}

const _: () = assert!(not_a_fault_label(protocol::LATE));

/// Serves a late report from component `ci`; never replies (the holder
/// sent without waiting).
pub fn serve(system: &mut System, reply: &sel4::syscall::Reply, ci: usize) {
    let spec = system.spec;
    let holder = &spec.components[ci];
    let holder_name = spec.str(holder.name);
    if spec.str(holder.program) != protocol::HOLDER_PROGRAM || reply.info.length() < word::COUNT {
        println!(
            "paddock: `{holder_name}` sent a shared-line report, but it holds no shared line; ignored"
        );
        return;
    }
    let late_bits = reply.mrs[word::LATE_BITS];
    let interrupt = reply.mrs[word::INTERRUPT];
    let param = |name: &str| {
        spec.symbols_of(holder)
            .iter()
            .find(|s| s.kind == SymbolKind::Param as u8 && spec.str(s.name) == name)
            .map(|s| s.value.get())
    };
    let pin = param("pin").unwrap_or(u64::MAX);
    let bound = param("ack_bound_tsc").unwrap_or(0);
    for bit in 0..64 {
        if late_bits & 1 << bit == 0 {
            continue;
        }
        match sharer(system, ci, 1 << bit) {
            Some(si) => {
                let late = &mut system.running[si].late_answers;
                *late = late.saturating_add(1);
                let late = *late;
                println!(
                    "paddock: shared line: `{}` did not answer interrupt {interrupt} of IOAPIC pin {pin} within {bound} TSC ticks ({late} times late); `{holder_name}` acknowledged the line without it",
                    spec.str(spec.components[si].name)
                );
            }
            None => println!(
                "paddock: `{holder_name}` reported bit {bit} late, but no sharer of its line answers on that bit; ignored"
            ),
        }
    }
}

/// The component whose send cap to the notification of component
/// `holder` carries exactly `badge`.
fn sharer(system: &System, holder: usize, badge: u64) -> Option<usize> {
    let spec = system.spec;
    let notification = spec.components[holder].notification.get();
    spec.components.iter().enumerate().find_map(|(si, c)| {
        let answers = spec.caps_of(c).iter().any(|cap| {
            cap.kind == CapKind::NotificationSend as u8
                && cap.object.get() == notification
                && cap.badge.get() == badge
        });
        (si != holder && answers).then_some(si)
    })
}
