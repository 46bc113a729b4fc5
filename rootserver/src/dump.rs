//! The runtime audit: what the root task put in every component's CSpace,
//! printed in a framed, line-based form that `paddock audit --runtime`
//! compares with the plan.
//!
//! On debug kernels every slot is also checked against the kernel's own
//! view (`seL4_DebugCapIdentify` through a [`Views`] window): the cap in the
//! component's slot must be of the same kernel type as the root task's cap
//! it was derived from, and every slot the plan leaves empty must be empty.
//!
//! ```text
//! paddock-dump: begin <system> <components>
//! paddock-dump: cap <component> <slot> <kind> rights=<rwg> badge=<hex> kernel=<ok|mismatch|unchecked>
//! paddock-dump: slots <component> planned=<n> empty=<n> unplanned=<n> kernel=<checked|unchecked>
//! paddock-dump: refused <component>
//! ```
//! A cap whose object belongs to a refused component (a driver whose device
//! is missing) is not made; its line says `kernel=absent`.
//! ```text
//! paddock-dump: end caps=<n> mismatches=<n>
//! ```

use crate::system::System;
use crate::views::Views;
use paddock_protocol::DUMP_PREFIX;
use paddock_spec::{CapKind, CapRecord};
use sel4::CPtr;

/// The kernel's type tag of what `cptr` names (0 when empty), or `None` on
/// a release kernel.
fn kernel_type(cptr: CPtr) -> Option<u64> {
    sel4::debug::cap_identify(cptr).ok()
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
pub fn print(system: &System, views: Option<&Views>) -> u32 {
    let spec = &system.spec;
    println!(
        "{DUMP_PREFIX} begin {} {}",
        spec.system_name(),
        spec.components.len()
    );
    let (mut total, mut mismatches) = (0u32, 0u32);
    for (ci, c) in spec.components.iter().enumerate() {
        let name = spec.str(c.name);
        if system.running[ci].refused {
            println!("{DUMP_PREFIX} refused {name}");
            continue;
        }
        let cnode = system.objects[c.cnode.get() as usize].first;
        let view = views.and_then(|v| v.open(ci, cnode, c.cnode_bits).ok());
        let caps = spec.caps_of(c);
        for cap in caps {
            let found = view.and_then(|v| kernel_type(v | u64::from(cap.slot.get())));
            let absent = source_of(system, cap) == Some(0);
            let verdict = match (
                found,
                source_of(system, cap).and_then(|s| sel4::debug::cap_identify(s).ok()),
            ) {
                _ if absent => "absent",
                (Some(found), Some(expected)) if found == expected && found != 0 => "ok",
                (Some(_), Some(_)) => {
                    mismatches += 1;
                    "mismatch"
                }
                _ => "unchecked",
            };
            let rights = paddock_spec::rights_text(cap.rights);
            println!(
                "{DUMP_PREFIX} cap {name} {} {} rights={} badge={:#x} kernel={verdict}",
                cap.slot.get(),
                paddock_spec::cap_kind_name(cap.kind),
                core::str::from_utf8(&rights).unwrap_or("???"),
                cap.badge.get(),
            );
            total += 1;
        }
        // Every other slot must be empty.
        let (mut empty, mut unplanned) = (0u32, 0u32);
        let checked = view.is_some() && sel4::debug::AVAILABLE;
        if let Some(view) = view.filter(|_| checked) {
            for index in 0..(1u64 << c.cnode_bits) {
                if caps.iter().any(|cap| u64::from(cap.slot.get()) == index) {
                    continue;
                }
                match kernel_type(view | index) {
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
