//! Deliberate build errors, to show that the runtime audit catches them.
//!
//! Compiled in only with the cargo feature `audit-injection`, which
//! `paddock build --inject-audit-faults` alone turns on (nothing in a
//! system description reaches it); such images build into their own
//! folders, and the root task says so loudly at boot. With the feature on,
//! the root task builds the system as planned except for four things, each
//! chosen from the spec alone so the same ones go wrong on every boot:
//! * the first notification-send cap is minted with [`WRONG_BADGE_BIT`]
//!   flipped in its badge;
//! * the first IO port range of more than one port is minted one port
//!   short at its end (narrowed);
//! * the next IO port range is minted one port longer at its end, or at
//!   its start when it ends at 0xFFFF (widened);
//! * the second party's mapping of the first ring object (queues or data)
//!   that two parties map gets a frame of its own as its first page.
//!
//! Without the feature every function here returns what the plan says.

use paddock_spec::{CapKind, CapRecord, MapPurpose, Spec};
use sel4::Word;

/// Whether this root task was built to get things wrong.
pub const ON: bool = cfg!(feature = "audit-injection");

/// The badge bit flipped on the mis-badged cap: the highest a planned
/// channel bit can be below the root task's own (bit 27).
pub const WRONG_BADGE_BIT: Word = 1 << 26;

/// Prints the boot line that makes an injecting root task impossible to
/// mistake for a real one.
pub fn announce() {
    if ON {
        println!(
            "paddock: AUDIT FAULT INJECTION IS ON: this root task builds the system wrong on \
             purpose (a test build; never use it for a real system)"
        );
    }
}

fn cap_index(spec: &Spec, wanted: impl Fn(&CapRecord) -> bool) -> Option<usize> {
    spec.caps.iter().position(wanted)
}

/// Names cap `index` for the injection's own lines.
struct CapName<'a, 's>(&'a Spec<'s>, usize);

impl core::fmt::Display for CapName<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Some(cap) = self.0.caps.get(self.1) else {
            return write!(f, "cap {}", self.1);
        };
        let component = self
            .0
            .components
            .get(cap.component.get() as usize)
            .map_or("?", |c| self.0.str(c.name));
        write!(f, "`{component}` slot {}", cap.slot.get())
    }
}

/// The badge to mint cap `index` of `spec.caps` with.
pub fn send_badge(spec: &Spec, index: usize, badge: Word) -> Word {
    if !ON || cap_index(spec, |c| c.kind == CapKind::NotificationSend as u8) != Some(index) {
        return badge;
    }
    let wrong = badge ^ WRONG_BADGE_BIT;
    println!(
        "paddock: injected: {} minted with badge {wrong:#x}, planned {badge:#x}",
        CapName(spec, index)
    );
    wrong
}

/// The port range (`first << 16 | last`) to mint IO port cap `index` of
/// `spec.caps` with.
pub fn port_range(spec: &Spec, index: usize, range: Word) -> Word {
    if !ON {
        return range;
    }
    let bounds = |r: Word| ((r >> 16) & 0xffff, r & 0xffff);
    let is_port = |c: &CapRecord| c.kind == CapKind::IoPort as u8;
    let narrowed = cap_index(spec, |c| {
        let (first, last) = bounds(c.badge.get());
        is_port(c) && first < last
    });
    let widened = spec
        .caps
        .iter()
        .enumerate()
        .position(|(i, c)| is_port(c) && Some(i) != narrowed);
    let (first, last) = bounds(range);
    let changed = if narrowed == Some(index) {
        first << 16 | (last - 1)
    } else if widened == Some(index) && last < 0xffff {
        first << 16 | (last + 1)
    } else if widened == Some(index) && first > 0 {
        (first - 1) << 16 | last
    } else {
        return range;
    };
    println!(
        "paddock: injected: {} minted for ports {:#x}..={:#x}, planned {first:#x}..={last:#x}",
        CapName(spec, index),
        changed >> 16,
        changed & 0xffff
    );
    changed
}

/// Whether mapping `index` of `spec.mappings` gets a frame of its own as
/// its first page instead of its object's.
pub fn stray_mapping(spec: &Spec, index: usize) -> bool {
    if !ON {
        return false;
    }
    let ring = |purpose: u8| {
        matches!(
            MapPurpose::from_u8(purpose),
            Some(MapPurpose::RingQueues | MapPurpose::RingData)
        )
    };
    let target = spec.mappings.iter().enumerate().position(|(i, m)| {
        ring(m.purpose)
            && spec.mappings[..i]
                .iter()
                .any(|earlier| earlier.object.get() == m.object.get())
    });
    if target != Some(index) {
        return false;
    }
    let m = &spec.mappings[index];
    let component = spec
        .components
        .get(m.component.get() as usize)
        .map_or("?", |c| spec.str(c.name));
    println!(
        "paddock: injected: `{component}` maps a stray frame as the first page at {:#x}",
        m.vaddr.get()
    );
    true
}
