//! Configuration-space access for a driver: the request protocol and the
//! write policy the root task applies.
//!
//! A driver whose description declares `config = "read"` or
//! `"read-write"` on a PCI device holds a badged endpoint cap to the root
//! task (`pci.<device>` on its info page). The badge names the device, so a
//! request carries no address: a driver can only ever name its own
//! function. The root task answers each `seL4_Call`:
//!
//! ```text
//! request  label READ  (1), MR0 offset, MR1 width (1, 2 or 4)
//!          label WRITE (2), MR0 offset, MR1 width, MR2 value
//! reply    label 0: done, MR0 the value read (0 for a write)
//!          label = an `Error` code, MR0 the policy row for `Refused`
//! ```
//!
//! Offsets are bounded to the function's 256 bytes (the 0xCF8 mechanism
//! reaches no further) and aligned to the width. Reads of any register are
//! allowed; writes are checked against [`ROWS`], the documented policy:
//! everything the root task set or relies on (where the device decodes,
//! masters and interrupts, and the capability list it walked) stays the
//! root task's.
//!
//! Both sides use this module, and the policy is a pure function
//! ([`check_write`]) so every row is tested on the host.

/// Request labels.
pub const READ: u64 = 1;
pub const WRITE: u64 = 2;

/// Configuration space reachable through ports 0xCF8/0xCFC.
pub const SPACE: u32 = 256;

/// Why a request failed: the reply's label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The write would change a register of policy row `Row`.
    Refused(Row),
    /// `offset + width` is beyond the function's 256 bytes.
    OutOfRange,
    /// A width other than 1, 2 or 4, or an offset not aligned to it.
    BadWidth,
    /// A write through a cap the plan made read-only.
    ReadOnly,
    /// Not a request of this protocol (label or length).
    BadRequest,
    /// The root task could not reach the device's configuration space.
    Unavailable,
}

impl Error {
    /// The reply label and MR0 of this error.
    pub fn encode(self) -> (u64, u64) {
        match self {
            Error::Refused(row) => (1, row as u64),
            Error::OutOfRange => (2, 0),
            Error::BadWidth => (3, 0),
            Error::ReadOnly => (4, 0),
            Error::BadRequest => (5, 0),
            Error::Unavailable => (6, 0),
        }
    }

    /// The error a reply's label and MR0 name (`None` for label 0);
    /// an unknown code is [`Error::BadRequest`], never a panic.
    pub fn decode(label: u64, mr0: u64) -> Option<Error> {
        Some(match label {
            0 => return None,
            1 => Error::Refused(Row::from_index(mr0).unwrap_or(Row::Header)),
            2 => Error::OutOfRange,
            3 => Error::BadWidth,
            4 => Error::ReadOnly,
            6 => Error::Unavailable,
            _ => Error::BadRequest,
        })
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Refused(row) => write!(f, "refused by the root task: {}", row.name()),
            Error::OutOfRange => f.write_str("beyond the function's 256 bytes"),
            Error::BadWidth => f.write_str("width not 1, 2 or 4, or offset not aligned to it"),
            Error::ReadOnly => f.write_str("the plan grants read access only"),
            Error::BadRequest => f.write_str("not a configuration-space request"),
            Error::Unavailable => f.write_str("configuration space unavailable"),
        }
    }
}

/// The rows of the write policy, in offset order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Row {
    Identity = 0,
    Command = 1,
    Status = 2,
    Header = 3,
    Bars = 4,
    ExpansionRom = 5,
    CapabilityPointer = 6,
    Interrupt = 7,
    CapabilityHeader = 8,
    PowerManagement = 9,
    Msi = 10,
    PciExpress = 11,
    MsiX = 12,
    OtherCapability = 13,
    VendorCapability = 14,
    DeviceSpecific = 15,
}

/// One row of the policy: where, who, and why.
#[derive(Clone, Copy, Debug)]
pub struct RowInfo {
    pub row: Row,
    pub registers: &'static str,
    pub owner: &'static str,
    pub why: &'static str,
}

/// The policy, as documented (docs/platform.md prints the same table).
pub const ROWS: [RowInfo; 16] = [
    RowInfo { row: Row::Identity, registers: "0x00-0x03 vendor and device id", owner: "root task", why: "the identity the root task matched the declaration against" },
    RowInfo { row: Row::Command, registers: "0x04-0x05 command", owner: "split", why: "bits 0-2 (IO and memory decode, bus master), 8 (SERR#) and 10 (INTx disable) are the root task's: where the device decodes, whether it masters the bus, how it interrupts; the driver may change the others (parity response, write-and-invalidate...)" },
    RowInfo { row: Row::Status, registers: "0x06-0x07 status", owner: "driver", why: "write-1-to-clear error bits of the device's own log; nothing in it is set by the root task" },
    RowInfo { row: Row::Header, registers: "0x08-0x0f, 0x28-0x2f, 0x35-0x3b class, cache line, latency, header type, BIST, CardBus CIS, subsystem, reserved", owner: "root task", why: "identity and bus-wide timing; a BIST may reset the function's configuration" },
    RowInfo { row: Row::Bars, registers: "0x10-0x27 BARs", owner: "root task", why: "where the device decodes: the frames the plan maps were checked against them" },
    RowInfo { row: Row::ExpansionRom, registers: "0x30-0x33 expansion ROM", owner: "root task", why: "a second decode window and its enable" },
    RowInfo { row: Row::CapabilityPointer, registers: "0x34 capabilities pointer", owner: "root task", why: "the list the root task walked to find what it protects" },
    RowInfo { row: Row::Interrupt, registers: "0x3c-0x3f interrupt line, pin, min grant, max latency", owner: "root task", why: "interrupt routing is the plan's" },
    RowInfo { row: Row::CapabilityHeader, registers: "id and next pointer of every capability", owner: "root task", why: "the list itself" },
    RowInfo { row: Row::PowerManagement, registers: "power management capability (id 0x01), 8 bytes", owner: "root task", why: "a D3hot to D0 transition may reset BARs, command and MSI" },
    RowInfo { row: Row::Msi, registers: "MSI capability (id 0x05), all of it", owner: "root task", why: "address and data select the CPU vector the plan bound; enable and mask decide whether it fires" },
    RowInfo { row: Row::PciExpress, registers: "PCI Express capability (id 0x10), 60 bytes", owner: "root task", why: "function-level reset and link control would undo the root task's set-up" },
    RowInfo { row: Row::MsiX, registers: "MSI-X capability (id 0x11), 12 bytes", owner: "root task", why: "enable, function mask and where the table lives" },
    RowInfo { row: Row::OtherCapability, registers: "the body of any other capability", owner: "root task", why: "unknown semantics: refused until a row says otherwise" },
    RowInfo { row: Row::VendorCapability, registers: "the body of a vendor-specific capability (id 0x09)", owner: "root task", why: "read-only for drivers: virtio's PCI configuration access window (cfg_type 5) would let a driver reach any BAR of its device through it, the MSI-X table's included; its structures are read here and used through the driver's own BAR mappings" },
    RowInfo { row: Row::DeviceSpecific, registers: "0x40-0xff outside every capability", owner: "driver", why: "device-specific registers" },
];

impl Row {
    pub fn from_index(i: u64) -> Option<Row> {
        ROWS.get(usize::try_from(i).ok()?).map(|r| r.row)
    }

    pub fn info(self) -> &'static RowInfo {
        &ROWS[self as usize]
    }

    /// A short name for report lines.
    pub fn name(self) -> &'static str {
        match self {
            Row::Identity => "vendor/device id",
            Row::Command => "command decode/bus-master/SERR/INTx bits",
            Row::Status => "status",
            Row::Header => "header",
            Row::Bars => "BAR",
            Row::ExpansionRom => "expansion ROM",
            Row::CapabilityPointer => "capabilities pointer",
            Row::Interrupt => "interrupt line/pin",
            Row::CapabilityHeader => "capability header",
            Row::PowerManagement => "power management capability",
            Row::Msi => "MSI capability",
            Row::PciExpress => "PCI Express capability",
            Row::MsiX => "MSI-X capability",
            Row::OtherCapability => "unlisted capability",
            Row::VendorCapability => "vendor-specific capability",
            Row::DeviceSpecific => "device-specific",
        }
    }
}

/// Command bits the root task keeps: IO space, memory space, bus master,
/// SERR# enable, INTx disable.
pub const COMMAND_ROOT_BITS: u16 = 0b111 | 1 << 8 | 1 << 10;

pub const CAP_PM: u8 = 0x01;
pub const CAP_MSI: u8 = 0x05;
pub const CAP_VENDOR: u8 = 0x09;
pub const CAP_EXPRESS: u8 = 0x10;
pub const CAP_MSIX: u8 = 0x11;

/// Capabilities recorded per function; a longer list is recorded as
/// `overflow` and every byte past the header then counts as an unlisted
/// capability (refused).
pub const MAX_CAPS: usize = 16;

/// One capability structure found in the list: where, which, how long.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capability {
    pub offset: u8,
    pub id: u8,
    /// Bytes of the structure, header included (at least 2).
    pub len: u8,
}

/// A function's capability list as the root task walked it at boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    pub caps: [Capability; MAX_CAPS],
    pub count: usize,
    pub overflow: bool,
}

impl Layout {
    pub fn push(&mut self, c: Capability) {
        match self.caps.get_mut(self.count) {
            Some(slot) => {
                *slot = c;
                self.count += 1;
            }
            None => self.overflow = true,
        }
    }

    pub fn caps(&self) -> &[Capability] {
        &self.caps[..self.count.min(MAX_CAPS)]
    }
}

/// Bytes of an MSI capability with message control `control`: 10, plus 4
/// for a 64-bit address, plus 10 for per-vector masking (mask, pending).
pub fn msi_len(control: u16) -> u8 {
    10 + if control & 1 << 7 != 0 { 4 } else { 0 } + if control & 1 << 8 != 0 { 10 } else { 0 }
}

/// Bytes of a capability of `id` (`control`: its bytes 2-3), as far as
/// the policy needs to know it.
pub fn capability_len(id: u8, control: u16) -> u8 {
    match id {
        CAP_PM => 8,
        CAP_MSI => msi_len(control),
        CAP_EXPRESS => 60,
        CAP_MSIX => 12,
        // Vendor-specific: byte 2 is the length.
        CAP_VENDOR => (control as u8).max(3),
        // Unknown: the header only; its body falls under `OtherCapability`
        // up to the next structure (see `row_of`).
        _ => 2,
    }
}

/// The row byte `offset` belongs to.
pub fn row_of(layout: &Layout, offset: u32) -> Row {
    match offset {
        0x00..=0x03 => Row::Identity,
        0x04..=0x05 => Row::Command,
        0x06..=0x07 => Row::Status,
        0x10..=0x27 => Row::Bars,
        0x30..=0x33 => Row::ExpansionRom,
        0x34 => Row::CapabilityPointer,
        0x3c..=0x3f => Row::Interrupt,
        0x08..=0x0f | 0x28..=0x2f | 0x35..=0x3b => Row::Header,
        _ => capability_row(layout, offset),
    }
}

fn capability_row(layout: &Layout, offset: u32) -> Row {
    if layout.overflow {
        return Row::OtherCapability;
    }
    for c in layout.caps() {
        let start = u32::from(c.offset);
        if offset == start || offset == start + 1 {
            return Row::CapabilityHeader;
        }
        if offset >= start && offset < start + u32::from(c.len) {
            return match c.id {
                CAP_PM => Row::PowerManagement,
                CAP_MSI => Row::Msi,
                CAP_EXPRESS => Row::PciExpress,
                CAP_MSIX => Row::MsiX,
                CAP_VENDOR => Row::VendorCapability,
                _ => Row::OtherCapability,
            };
        }
    }
    // An unknown capability's body has no known length: everything from its
    // header to the next structure (or the end) is treated as its body.
    let unknown_before = layout.caps().iter().any(|c| {
        !matches!(c.id, CAP_PM | CAP_MSI | CAP_EXPRESS | CAP_MSIX | CAP_VENDOR)
            && u32::from(c.offset) < offset
            && !layout
                .caps()
                .iter()
                .any(|n| u32::from(n.offset) > u32::from(c.offset) && u32::from(n.offset) <= offset)
    });
    if unknown_before {
        Row::OtherCapability
    } else {
        Row::DeviceSpecific
    }
}

/// Checks the width and bounds of an access.
pub fn check_access(offset: u64, width: u64) -> Result<(u8, u8), Error> {
    if !matches!(width, 1 | 2 | 4) {
        return Err(Error::BadWidth);
    }
    if offset.saturating_add(width) > u64::from(SPACE) {
        return Err(Error::OutOfRange);
    }
    if !offset.is_multiple_of(width) {
        return Err(Error::BadWidth);
    }
    Ok((offset as u8, width as u8))
}

/// Whether writing `value` (`width` bytes at `offset`, already checked by
/// [`check_access`]) is allowed, given the `current` value there: each
/// byte's row must be the driver's, and in the command register only the
/// driver's bits may change. The first refusing row is returned.
pub fn check_write(
    layout: &Layout,
    offset: u8,
    width: u8,
    current: u32,
    value: u32,
) -> Result<(), Error> {
    for i in 0..u32::from(width) {
        let at = u32::from(offset) + i;
        let byte = |v: u32| (v >> (8 * i)) as u8;
        let row = row_of(layout, at);
        let ok = match row {
            Row::Command => {
                let root = (COMMAND_ROOT_BITS >> (8 * (at - 4))) as u8;
                (byte(current) ^ byte(value)) & root == 0
            }
            Row::Status | Row::DeviceSpecific => true,
            _ => false,
        };
        if !ok {
            return Err(Error::Refused(row));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// edu's list: MSI (64-bit, no masking) at 0x40; plus, for the other
    /// rows, PM at 0x50, PCIe at 0x60, MSI-X at 0xa0, vendor at 0xb0
    /// (length 8) and an unknown id 0x13 at 0xc0.
    fn layout() -> Layout {
        let mut l = Layout::default();
        for (offset, id, control) in [
            (0x40, CAP_MSI, 1u16 << 7),
            (0x50, CAP_PM, 0),
            (0x60, CAP_EXPRESS, 0),
            (0xa0, CAP_MSIX, 0),
            (0xb0, CAP_VENDOR, 8),
            (0xc0, 0x13, 0),
        ] {
            l.push(Capability {
                offset,
                id,
                len: capability_len(id, control),
            });
        }
        l
    }

    fn write(offset: u8, width: u8, current: u32, value: u32) -> Result<(), Error> {
        check_write(&layout(), offset, width, current, value)
    }

    fn refused(offset: u8, width: u8, row: Row) {
        assert_eq!(
            write(offset, width, 0, 0xffff_ffff >> (32 - 8 * u32::from(width))),
            Err(Error::Refused(row)),
            "offset {offset:#x}"
        );
    }

    #[test]
    fn every_root_row_refuses() {
        refused(0x00, 4, Row::Identity);
        refused(0x08, 4, Row::Header);
        refused(0x0c, 1, Row::Header);
        refused(0x0f, 1, Row::Header);
        refused(0x2c, 4, Row::Header);
        refused(0x38, 4, Row::Header);
        for bar in (0x10..0x28).step_by(4) {
            refused(bar, 4, Row::Bars);
        }
        refused(0x30, 4, Row::ExpansionRom);
        refused(0x34, 1, Row::CapabilityPointer);
        refused(0x3c, 1, Row::Interrupt);
        refused(0x3d, 1, Row::Interrupt);
        refused(0x40, 2, Row::CapabilityHeader);
        refused(0x61, 1, Row::CapabilityHeader);
        refused(0x44, 4, Row::Msi);
        refused(0x4c, 2, Row::Msi);
        refused(0x54, 2, Row::PowerManagement);
        refused(0x64, 4, Row::PciExpress);
        refused(0x98, 4, Row::PciExpress);
        refused(0xa4, 4, Row::MsiX);
        refused(0xa8, 4, Row::MsiX);
        refused(0xc4, 4, Row::OtherCapability);
        refused(0xfc, 4, Row::OtherCapability);
    }

    #[test]
    fn command_keeps_the_root_tasks_bits() {
        let current = 0x0406; // memory, bus master, INTx disable
        for bit in [0, 1, 2, 8, 10] {
            assert_eq!(
                write(0x04, 2, current, current ^ 1 << bit),
                Err(Error::Refused(Row::Command)),
                "bit {bit}"
            );
        }
        for bit in [3, 4, 5, 6, 7, 9] {
            assert_eq!(write(0x04, 2, current, current ^ 1 << bit), Ok(()));
        }
        // The high byte alone, INTx disable unchanged.
        assert_eq!(write(0x05, 1, 0x04, 0x04), Ok(()));
        assert_eq!(
            write(0x05, 1, 0x04, 0x00),
            Err(Error::Refused(Row::Command))
        );
        // A dword at 0x04 covers command and status.
        assert_eq!(write(0x04, 4, 0x0406, 0xf900_0406), Ok(()));
    }

    #[test]
    fn a_vendor_capability_is_read_only() {
        // virtio's configuration access window (cfg_type 5) selects a BAR
        // and an offset: written, it would reach the MSI-X table.
        assert_eq!(
            write(0xb4, 4, 0, 0xdead_beef),
            Err(Error::Refused(Row::VendorCapability))
        );
    }

    #[test]
    fn driver_rows_allow() {
        assert_eq!(write(0x06, 2, 0, 0xf900), Ok(()));
        assert_eq!(write(0x4e, 2, 0, 0x1234), Ok(()), "after the 14-byte MSI");
        // Not covered by any capability: after the vendor one, before
        // the unknown one.
        assert_eq!(write(0xb8, 4, 0, 1), Ok(()));
        let empty = Layout::default();
        assert_eq!(check_write(&empty, 0x80, 4, 0, 1), Ok(()));
    }

    #[test]
    fn an_overflowing_list_refuses_the_whole_device_area() {
        let mut l = Layout::default();
        for i in 0..=MAX_CAPS {
            l.push(Capability {
                offset: 0x40 + 4 * i as u8,
                id: CAP_VENDOR,
                len: 4,
            });
        }
        assert!(l.overflow);
        assert_eq!(
            check_write(&l, 0xf0, 4, 0, 1),
            Err(Error::Refused(Row::OtherCapability))
        );
    }

    #[test]
    fn msi_lengths() {
        assert_eq!(msi_len(0), 10);
        assert_eq!(msi_len(1 << 7), 14);
        assert_eq!(msi_len(1 << 8), 20);
        assert_eq!(msi_len(1 << 7 | 1 << 8), 24);
    }

    #[test]
    fn accesses_are_bounded_and_aligned() {
        assert_eq!(check_access(0xfc, 4), Ok((0xfc, 4)));
        assert_eq!(check_access(0xff, 1), Ok((0xff, 1)));
        assert_eq!(check_access(0x100, 1), Err(Error::OutOfRange));
        assert_eq!(check_access(0xfe, 4), Err(Error::OutOfRange));
        assert_eq!(check_access(u64::MAX, 4), Err(Error::OutOfRange));
        assert_eq!(check_access(0x02, 4), Err(Error::BadWidth));
        assert_eq!(check_access(0x00, 3), Err(Error::BadWidth));
    }

    #[test]
    fn errors_round_trip() {
        for e in [
            Error::Refused(Row::Msi),
            Error::OutOfRange,
            Error::BadWidth,
            Error::ReadOnly,
            Error::BadRequest,
            Error::Unavailable,
        ] {
            let (label, mr0) = e.encode();
            assert_eq!(Error::decode(label, mr0), Some(e));
        }
        assert_eq!(Error::decode(0, 0), None);
        assert_eq!(Error::decode(99, 0), Some(Error::BadRequest));
    }

    #[test]
    fn rows_are_listed_in_order() {
        for (i, r) in ROWS.iter().enumerate() {
            assert_eq!(r.row as usize, i);
        }
    }
}
