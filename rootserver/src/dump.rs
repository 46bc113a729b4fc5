//! The runtime audit: what the root task put in every component's CSpace,
//! printed in a framed, line-based form that `paddock audit --runtime`
//! compares with the plan.
//!
//! On debug kernels every slot is also checked against the kernel's own
//! view: the cap in the component's slot must be of the same kernel type as
//! the root task's cap it was derived from, and every slot the plan leaves
//! empty must be empty. The check copies each slot to a scratch slot of the
//! root CNode (a CPtr cannot reach into another CNode), asks
//! `seL4_DebugCapIdentify`, and deletes the copy.
//!
//! ```text
//! paddock-dump: begin <system> <components>
//! paddock-dump: cap <component> <slot> <kind> rights=<rwg> badge=<hex> kernel=<ok|mismatch|unchecked>
//! paddock-dump: slots <component> planned=<n> empty=<n> unplanned=<n> kernel=<checked|unchecked>
//! paddock-dump: end caps=<n> mismatches=<n>
//! ```

use crate::slots::Slots;
use crate::system::System;
use paddock_protocol::DUMP_PREFIX;
use paddock_spec::{CapKind, CapRecord, RIGHT_GRANT, RIGHT_READ, RIGHT_WRITE};
use sel4::cnode::Slot;
use sel4::{CPtr, CapRights};

/// The kernel's type tag of the cap in a component's slot (0 when empty),
/// or `None` on a release kernel.
fn kernel_type_of(scratch: CPtr, slot: Slot) -> Option<u64> {
    if !sel4::debug::AVAILABLE {
        return None;
    }
    if sel4::cnode::copy(Slots::slot(scratch), slot, CapRights::ALL).is_err() {
        // Nothing to copy: the slot is empty (or holds a cap that cannot be
        // copied, which the plan never places).
        return Some(0);
    }
    let tag = sel4::debug::cap_identify(scratch).ok();
    let _ = sel4::cnode::delete(Slots::slot(scratch));
    tag
}

fn kind_name(kind: u8) -> &'static str {
    match CapKind::from_u8(kind) {
        Some(CapKind::FaultEndpoint) => "fault-endpoint",
        Some(CapKind::Notification) => "notification",
        Some(CapKind::NotificationSend) => "notification-send",
        Some(CapKind::IrqHandler) => "irq-handler",
        Some(CapKind::IoPort) => "io-port",
        _ => "other",
    }
}

fn rights_text(r: u8) -> [u8; 3] {
    [
        if r & RIGHT_READ != 0 { b'r' } else { b'-' },
        if r & RIGHT_WRITE != 0 { b'w' } else { b'-' },
        if r & RIGHT_GRANT != 0 { b'g' } else { b'-' },
    ]
}

/// The root task's cap that a component's cap was made from, to compare
/// kernel types with.
fn source_of(system: &System, cap: &CapRecord) -> Option<CPtr> {
    match CapKind::from_u8(cap.kind)? {
        CapKind::IoPort => Some(sel4::bootinfo::init_cap::IOPort),
        CapKind::IrqHandler => system.irq_handlers.get(cap.object.get() as usize).copied(),
        _ => system
            .objects
            .get(cap.object.get() as usize)
            .map(|o| o.first),
    }
}

/// Prints the dump; returns the number of mismatches the kernel check
/// found (always 0 on release kernels, which cannot check).
pub fn print(system: &System, slots: &mut Slots) -> u32 {
    let spec = &system.spec;
    let Ok(scratch) = slots.take(1) else {
        println!("{DUMP_PREFIX} error no slot left for the kernel check");
        return 1;
    };
    println!(
        "{DUMP_PREFIX} begin {} {}",
        spec.system_name(),
        spec.components.len()
    );
    let (mut total, mut mismatches) = (0u32, 0u32);
    for c in spec.components {
        let name = spec.str(c.name);
        let cnode = system.objects[c.cnode.get() as usize].first;
        let caps = spec.caps_of(c);
        for cap in caps {
            let slot = Slot::new(cnode, u64::from(cap.slot.get()), c.cnode_bits);
            let verdict = match (
                kernel_type_of(scratch, slot),
                source_of(system, cap).and_then(|s| sel4::debug::cap_identify(s).ok()),
            ) {
                (Some(found), Some(expected)) if found == expected && found != 0 => "ok",
                (Some(_), Some(_)) => {
                    mismatches += 1;
                    "mismatch"
                }
                _ => "unchecked",
            };
            let rights = rights_text(cap.rights);
            println!(
                "{DUMP_PREFIX} cap {name} {} {} rights={} badge={:#x} kernel={verdict}",
                cap.slot.get(),
                kind_name(cap.kind),
                core::str::from_utf8(&rights).unwrap_or("???"),
                cap.badge.get(),
            );
            total += 1;
        }
        // Every other slot must be empty.
        let (mut empty, mut unplanned) = (0u32, 0u32);
        let checked = sel4::debug::AVAILABLE;
        if checked {
            for index in 0..(1u64 << c.cnode_bits) {
                if caps.iter().any(|cap| u64::from(cap.slot.get()) == index) {
                    continue;
                }
                match kernel_type_of(scratch, Slot::new(cnode, index, c.cnode_bits)) {
                    Some(0) | None => empty += 1,
                    Some(_) => unplanned += 1,
                }
            }
        }
        mismatches += unplanned;
        println!(
            "{DUMP_PREFIX} slots {name} planned={} empty={empty} unplanned={unplanned} kernel={}",
            caps.len(),
            if checked { "checked" } else { "unchecked" }
        );
    }
    println!("{DUMP_PREFIX} end caps={total} mismatches={mismatches}");
    mismatches
}
