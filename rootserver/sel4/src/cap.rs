//! Capability pointers, rights and cap data words.

use crate::Word;

/// An address in the caller's CSpace.
pub type CPtr = Word;

/// `seL4_CapRights_t`: write is bit 0, read bit 1, grant bit 2
/// (`shared_types_64.bf`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapRights(pub Word);

impl CapRights {
    pub const NONE: CapRights = CapRights(0);
    pub const WRITE: CapRights = CapRights(1);
    pub const READ: CapRights = CapRights(2);
    pub const GRANT: CapRights = CapRights(4);
    pub const READ_WRITE: CapRights = CapRights(3);
    pub const ALL: CapRights = CapRights(7);

    pub const fn new(read: bool, write: bool, grant: bool) -> CapRights {
        CapRights((write as Word) | (read as Word) << 1 | (grant as Word) << 2)
    }
    pub const fn can_read(self) -> bool {
        self.0 & 2 != 0
    }
    pub const fn can_write(self) -> bool {
        self.0 & 1 != 0
    }
}

/// Largest badge a 5.0 `seL4_CapData_t` can carry (its Badge block,
/// `types_64.bf`: 28 bits).
pub const MAX_BADGE: Word = (1 << crate::sys::constants::BadgeBits) - 1;

/// Cap data that sets a badge (tag 0 of `seL4_CapData_t`). `None` when the
/// badge does not fit in 28 bits.
pub const fn badge_data(badge: Word) -> Option<Word> {
    if badge > MAX_BADGE {
        None
    } else {
        Some(badge)
    }
}

/// Cap data that sets a CNode guard (tag 1 of `seL4_CapData_t`): guard value
/// in bits 8..26, guard size in bits 2..8.
pub const fn guard_data(guard: Word, guard_size: Word) -> Word {
    const GUARD_MASK: Word = (1 << crate::sys::constants::GuardBits) - 1;
    1 << 31 | (guard & GUARD_MASK) << 8 | (guard_size & 0x3f) << 2
}

/// Cap data narrowing an IO port cap to `first..=last`.
pub const fn ioport_range_data(first: u16, last: u16) -> Word {
    (first as Word) << 16 | last as Word
}

/// Cap data making an IOSpace cap for one PCI function in one VT-d domain.
pub const fn iospace_data(domain: u16, bus: u8, dev: u8, func: u8) -> Word {
    (domain as Word) << 16 | (bus as Word) << 8 | ((dev as Word) & 0x1f) << 3 | (func as Word) & 7
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_bits_follow_the_bitfield() {
        assert_eq!(CapRights::new(true, true, false), CapRights::READ_WRITE);
        assert_eq!(CapRights::new(true, true, true), CapRights::ALL);
        assert!(CapRights::READ.can_read() && !CapRights::READ.can_write());
    }

    #[test]
    fn cap_data_words() {
        assert_eq!(ioport_range_data(0x2f8, 0x2ff), 0x02f8_02ff);
        assert_eq!(iospace_data(1, 0, 4, 0), 0x1_0020);
        assert_eq!(badge_data(1 << 28), None);
        assert_eq!(guard_data(0, 52), 1 << 31 | 52 << 2);
    }
}
