//! The badge of a configuration-space cap ([`crate::CapKind::PciConfig`]).
//!
//! The cap is a badged copy of the root task's endpoint, the one faults
//! arrive on. Fault badges are component badges (index + 1, far below bit
//! 26), so bit 27 tells a configuration request from a fault before
//! anything else is looked at; bit 26 says whether the plan lets the holder
//! write; the low bits name the PCI record. A request therefore never
//! carries an address: the kernel stamps the badge, and the driver can
//! only ever name its own device.

/// Set in every configuration-space badge, never in a fault badge.
pub const BADGE: u64 = 1 << 27;
/// Set when the holder may write (through the policy).
pub const WRITE: u64 = 1 << 26;
const INDEX: u64 = (1 << 16) - 1;

/// The badge of PCI record `pci`'s cap.
pub const fn badge(pci: u32, write: bool) -> u64 {
    BADGE | if write { WRITE } else { 0 } | pci as u64 & INDEX
}

/// The PCI record and write permission a badge names, or `None` for a
/// badge that is not a configuration-space badge.
pub const fn decode(badge: u64) -> Option<(usize, bool)> {
    if badge & BADGE == 0 || badge & !(BADGE | WRITE | INDEX) != 0 {
        return None;
    }
    Some(((badge & INDEX) as usize, badge & WRITE != 0))
}

#[cfg(test)]
mod tests {
    #[test]
    fn badges_round_trip_and_never_look_like_a_component() {
        assert_eq!(super::decode(super::badge(3, true)), Some((3, true)));
        assert_eq!(super::decode(super::badge(0, false)), Some((0, false)));
        for component_badge in [1, 2, 256] {
            assert_eq!(super::decode(component_badge), None);
        }
        assert_eq!(super::decode(super::BADGE | 1 << 20), None);
    }
}
