//! The ACPI tables the root task reads, as bytes: the RSDP, the RSDT or
//! XSDT that lists the others, the FADT (which points at the DSDT), the
//! DSDT itself and the MADT (where each IOAPIC's GSIs start).
//!
//! Everything here is pure: the tables are read through [`Memory`], so the
//! walk runs on the host against fake physical memory. Every length is
//! checked against the bytes actually read and bounded before anything is
//! allocated, every checksum is verified, and every failure is an
//! [`AcpiError`] naming the table and its address, never a panic.

use super::{AcpiError, MemoryError};
use alloc::vec::Vec;

/// The RSDP's signature, on a 16-byte boundary.
pub const RSDP_SIGNATURE: &[u8; 8] = b"RSD PTR ";
/// Bytes of the ACPI 1.0 RSDP (the part its checksum covers).
const RSDP_V1_LEN: usize = 20;
/// Bytes of the ACPI 2.0 RSDP (its extended checksum covers them all).
const RSDP_V2_LEN: usize = 36;
/// Bytes of every system description table's header.
pub const HEADER_LEN: usize = 36;
/// The longest table copied. QEMU's q35 DSDT is about 8 KiB; firmware of
/// real machines reaches a few hundred KiB. Anything longer is refused
/// rather than allocated.
pub const MAX_TABLE_LEN: u32 = 256 * 1024;

/// Reads physical memory: the root task maps device frames
/// (`super::phys`); host tests use a buffer.
pub trait Memory {
    fn read(&mut self, paddr: u64, buf: &mut [u8]) -> Result<(), MemoryError>;
}

/// A table signature, printable.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 4]);

impl Signature {
    pub const RSDT: Signature = Signature(*b"RSDT");
    pub const XSDT: Signature = Signature(*b"XSDT");
    pub const FADT: Signature = Signature(*b"FACP");
    pub const DSDT: Signature = Signature(*b"DSDT");
    pub const MADT: Signature = Signature(*b"APIC");
}

impl core::fmt::Display for Signature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for &b in &self.0 {
            let c = if b.is_ascii_graphic() { b as char } else { '?' };
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl core::fmt::Debug for Signature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{self}")
    }
}

/// The sum of `bytes` modulo 256: zero for a valid ACPI structure.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, &b| sum.wrapping_add(b))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// What the RSDP says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rsdp {
    pub revision: u8,
    pub oem: [u8; 6],
    pub rsdt: u32,
    /// The XSDT's address (revision 2 and later, when non-zero).
    pub xsdt: Option<u64>,
}

impl Rsdp {
    /// Parses an RSDP at `paddr` from `bytes` (at least 20 bytes; 36 for
    /// revision 2 and later). `None` when the signature or the ACPI 1.0
    /// checksum is wrong: not an RSDP, keep looking. A revision 2 RSDP
    /// whose extended part is cut off or fails its checksum is an error.
    pub fn parse(bytes: &[u8], paddr: u64) -> Option<Result<Rsdp, AcpiError>> {
        let v1 = bytes.get(..RSDP_V1_LEN)?;
        if &v1[..8] != RSDP_SIGNATURE || checksum(v1) != 0 {
            return None;
        }
        let mut oem = [0; 6];
        oem.copy_from_slice(&v1[9..15]);
        let revision = v1[15];
        let rsdt = u32_at(v1, 16)?;
        if revision < 2 {
            return Some(Ok(Rsdp {
                revision,
                oem,
                rsdt,
                xsdt: None,
            }));
        }
        let bad = AcpiError::RsdpChecksum { paddr };
        let Some(v2) = bytes.get(..RSDP_V2_LEN) else {
            return Some(Err(bad));
        };
        // The length field must cover the 2.0 structure; the checksum
        // covers exactly the structure.
        if u32_at(v2, 20) != Some(RSDP_V2_LEN as u32) || checksum(v2) != 0 {
            return Some(Err(bad));
        }
        let xsdt = u64_at(v2, 24).filter(|&a| a != 0);
        Some(Ok(Rsdp {
            revision,
            oem,
            rsdt,
            xsdt,
        }))
    }

    pub fn oem_text(&self) -> &str {
        core::str::from_utf8(&self.oem)
            .map(|s| s.trim_end_matches([' ', '\0']))
            .unwrap_or("?")
    }
}

/// Looks for the RSDP in `area` (physical memory from `base`), on 16-byte
/// boundaries as the ACPI specification places it: its address and
/// contents, or why none is there.
pub fn find_rsdp(area: &[u8], base: u64) -> Result<(u64, Rsdp), AcpiError> {
    for at in (0..area.len()).step_by(16) {
        if let Some(found) = Rsdp::parse(&area[at..], base + at as u64) {
            return found.map(|r| (base + at as u64, r));
        }
    }
    Err(AcpiError::NoRsdp {
        from: base,
        to: base + area.len() as u64,
    })
}

/// A table copied out of physical memory, checked: signature, length
/// within [`HEADER_LEN`]..=[`MAX_TABLE_LEN`], checksum.
pub struct Table {
    pub paddr: u64,
    pub bytes: Vec<u8>,
}

impl Table {
    pub fn signature(&self) -> Signature {
        let mut s = [0; 4];
        s.copy_from_slice(&self.bytes[..4]);
        Signature(s)
    }

    /// The bytes after the header (the AML of a DSDT, the entries of an
    /// RSDT).
    pub fn body(&self) -> &[u8] {
        &self.bytes[HEADER_LEN..]
    }
}

/// Reads the header at `paddr`: the table's signature and length.
pub fn read_header(mem: &mut impl Memory, paddr: u64) -> Result<(Signature, u32), AcpiError> {
    let mut header = [0u8; HEADER_LEN];
    mem.read(paddr, &mut header)
        .map_err(|error| AcpiError::Read {
            paddr,
            len: HEADER_LEN,
            error,
        })?;
    let mut s = [0; 4];
    s.copy_from_slice(&header[..4]);
    // In bounds: the header is 36 bytes.
    Ok((Signature(s), u32_at(&header, 4).unwrap_or(0)))
}

/// Copies the table at `paddr` into the root task's heap, checking that it
/// is a `wanted` table, that its length is sane and bounded and that its
/// checksum is zero.
pub fn read_table(
    mem: &mut impl Memory,
    paddr: u64,
    wanted: Signature,
) -> Result<Table, AcpiError> {
    let (found, len) = read_header(mem, paddr)?;
    if found != wanted {
        return Err(AcpiError::Signature {
            paddr,
            wanted,
            found,
        });
    }
    if !(HEADER_LEN as u32..=MAX_TABLE_LEN).contains(&len) {
        return Err(AcpiError::Length {
            table: wanted,
            paddr,
            len,
        });
    }
    let len = len as usize;
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(len)
        .map_err(|_| AcpiError::NoHeap { table: wanted, len })?;
    bytes.resize(len, 0);
    mem.read(paddr, &mut bytes)
        .map_err(|error| AcpiError::Read { paddr, len, error })?;
    // The length read twice must agree: memory that changes under the
    // reader is not a table.
    if u32_at(&bytes, 4) != Some(len as u32) {
        return Err(AcpiError::Length {
            table: wanted,
            paddr,
            len: u32_at(&bytes, 4).unwrap_or(0),
        });
    }
    let sum = checksum(&bytes);
    if sum != 0 {
        return Err(AcpiError::Checksum {
            table: wanted,
            paddr,
            sum,
        });
    }
    Ok(Table { paddr, bytes })
}

/// The physical addresses of the tables an RSDT (4-byte entries) or XSDT
/// (8-byte entries) lists.
pub fn entries(root: &Table) -> impl Iterator<Item = u64> + '_ {
    let wide = root.signature() == Signature::XSDT;
    let size = if wide { 8 } else { 4 };
    root.body().chunks_exact(size).map(move |e| {
        if wide {
            u64_at(e, 0).unwrap_or(0)
        } else {
            u32_at(e, 0).map_or(0, u64::from)
        }
    })
}

/// The DSDT's address in a FADT: `X_DSDT` (offset 140) when the table is
/// long enough to have it and it is set, otherwise `DSDT` (offset 40).
pub fn dsdt_address(fadt: &Table) -> Option<u64> {
    let x = u64_at(&fadt.bytes, 140).filter(|&a| a != 0);
    let legacy = u32_at(&fadt.bytes, 40).filter(|&a| a != 0).map(u64::from);
    x.or(legacy)
}

/// One I/O APIC of the MADT (entry type 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoApic {
    pub id: u8,
    pub address: u32,
    /// The first global system interrupt its pins take.
    pub gsi_base: u32,
}

/// Most I/O APICs recorded (seL4 5.0 on pc99 uses the first one).
pub const MAX_IOAPICS: usize = 8;

/// The I/O APICs a MADT lists, in its order: the kernel numbers them in
/// the same order (`IRQControl_GetIOAPIC`'s `ioapic` argument). An entry
/// whose length runs past the table, or is below two bytes, is an error.
pub fn ioapics(madt: &Table) -> Result<heapless::Vec<IoApic, MAX_IOAPICS>, AcpiError> {
    // Local APIC address and flags, then the entries.
    const FIRST_ENTRY: usize = HEADER_LEN + 8;
    const TYPE_IOAPIC: u8 = 1;
    let bad = |at: usize| AcpiError::MadtEntry {
        paddr: madt.paddr,
        offset: at,
    };
    let bytes = &madt.bytes;
    let mut found = heapless::Vec::new();
    let mut at = FIRST_ENTRY;
    while at < bytes.len() {
        let (Some(&kind), Some(&len)) = (bytes.get(at), bytes.get(at + 1)) else {
            return Err(bad(at));
        };
        let len = usize::from(len);
        let Some(entry) = bytes.get(at..at + len).filter(|_| len >= 2) else {
            return Err(bad(at));
        };
        if kind == TYPE_IOAPIC {
            let (Some(address), Some(gsi_base)) = (u32_at(entry, 4), u32_at(entry, 8)) else {
                return Err(bad(at));
            };
            found
                .push(IoApic {
                    id: entry[2],
                    address,
                    gsi_base,
                })
                .map_err(|_| AcpiError::TooManyIoApics)?;
        }
        at += len;
    }
    Ok(found)
}

/// Where a global system interrupt arrives: the I/O APIC (its index in
/// MADT order) whose range starts closest below it, and the pin.
pub fn gsi_to_pin(ioapics: &[IoApic], gsi: u32) -> Option<(usize, u32)> {
    ioapics
        .iter()
        .enumerate()
        .filter(|(_, a)| a.gsi_base <= gsi)
        .max_by_key(|(_, a)| a.gsi_base)
        .map(|(i, a)| (i, gsi - a.gsi_base))
}

/// The tables the routing needs, copied and checked.
pub struct Tables {
    pub rsdp_paddr: u64,
    pub rsdp: Rsdp,
    /// The RSDT or XSDT.
    pub root: Table,
    pub dsdt: Table,
    pub ioapics: heapless::Vec<IoApic, MAX_IOAPICS>,
}

/// From the RSDP (found at `rsdp_paddr`) to the DSDT and the MADT's
/// I/O APICs: the XSDT when the RSDP gives one, otherwise the RSDT.
pub fn walk(mem: &mut impl Memory, rsdp_paddr: u64, rsdp: Rsdp) -> Result<Tables, AcpiError> {
    let root = match rsdp.xsdt {
        Some(xsdt) => read_table(mem, xsdt, Signature::XSDT)?,
        None => read_table(mem, rsdp.rsdt.into(), Signature::RSDT)?,
    };
    // The tables the root lists, by signature (headers only; a table
    // listed twice counts once, at its first entry).
    let (mut fadt, mut madt) = (None, None);
    for paddr in entries(&root) {
        if paddr == 0 {
            continue;
        }
        let (signature, _) = read_header(mem, paddr)?;
        if signature == Signature::FADT && fadt.is_none() {
            fadt = Some(paddr);
        } else if signature == Signature::MADT && madt.is_none() {
            madt = Some(paddr);
        }
    }
    let missing = |table| AcpiError::Missing {
        table,
        root: root.signature(),
    };
    let fadt = read_table(mem, fadt.ok_or(missing(Signature::FADT))?, Signature::FADT)?;
    let madt = read_table(mem, madt.ok_or(missing(Signature::MADT))?, Signature::MADT)?;
    let ioapics = ioapics(&madt)?;
    if ioapics.is_empty() {
        return Err(AcpiError::NoIoApic);
    }
    let dsdt = dsdt_address(&fadt).ok_or(AcpiError::NoDsdt { fadt: fadt.paddr })?;
    let dsdt = read_table(mem, dsdt, Signature::DSDT)?;
    Ok(Tables {
        rsdp_paddr,
        rsdp,
        root,
        dsdt,
        ioapics,
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use alloc::vec;

    /// Physical memory made of byte runs at addresses.
    #[derive(Default)]
    pub struct FakeMemory {
        pub runs: Vec<(u64, Vec<u8>)>,
    }

    impl FakeMemory {
        pub fn put(&mut self, paddr: u64, bytes: Vec<u8>) {
            self.runs.push((paddr, bytes));
        }
    }

    impl Memory for FakeMemory {
        fn read(&mut self, paddr: u64, buf: &mut [u8]) -> Result<(), MemoryError> {
            for (base, bytes) in &self.runs {
                let Some(off) = paddr.checked_sub(*base) else {
                    continue;
                };
                if let Some(src) = bytes.get(off as usize..off as usize + buf.len()) {
                    buf.copy_from_slice(src);
                    return Ok(());
                }
            }
            Err(MemoryError::Unbacked)
        }
    }

    /// A table with a correct length and checksum.
    pub fn table(signature: &[u8; 4], revision: u8, body: &[u8]) -> Vec<u8> {
        let mut t = vec![0u8; HEADER_LEN];
        t[..4].copy_from_slice(signature);
        t[4..8].copy_from_slice(&((HEADER_LEN + body.len()) as u32).to_le_bytes());
        t[8] = revision;
        t[10..16].copy_from_slice(b"PADDCK");
        t.extend_from_slice(body);
        fix_checksum(&mut t, 9);
        t
    }

    fn fix_checksum(bytes: &mut [u8], at: usize) {
        bytes[at] = 0;
        bytes[at] = 0u8.wrapping_sub(checksum(bytes));
    }

    pub fn rsdp_v1(rsdt: u32) -> Vec<u8> {
        let mut r = vec![0u8; RSDP_V1_LEN];
        r[..8].copy_from_slice(RSDP_SIGNATURE);
        r[9..15].copy_from_slice(b"BOCHS ");
        r[16..20].copy_from_slice(&rsdt.to_le_bytes());
        fix_checksum(&mut r, 8);
        r
    }

    fn rsdp_v2(rsdt: u32, xsdt: u64) -> Vec<u8> {
        let mut r = vec![0u8; RSDP_V2_LEN];
        r[..8].copy_from_slice(RSDP_SIGNATURE);
        r[15] = 2;
        r[16..20].copy_from_slice(&rsdt.to_le_bytes());
        r[20..24].copy_from_slice(&(RSDP_V2_LEN as u32).to_le_bytes());
        r[24..32].copy_from_slice(&xsdt.to_le_bytes());
        fix_checksum(&mut r[..RSDP_V1_LEN], 8);
        fix_checksum(&mut r, 32);
        r
    }

    pub fn madt(ioapics: &[(u8, u32, u32)]) -> Vec<u8> {
        let mut body = vec![0u8; 8];
        body[..4].copy_from_slice(&0xfee0_0000u32.to_le_bytes());
        // A local APIC entry first, as firmware lists them.
        body.extend_from_slice(&[0, 8, 0, 0, 1, 0, 0, 0]);
        for &(id, address, gsi_base) in ioapics {
            body.extend_from_slice(&[1, 12, id, 0]);
            body.extend_from_slice(&address.to_le_bytes());
            body.extend_from_slice(&gsi_base.to_le_bytes());
        }
        table(b"APIC", 1, &body)
    }

    pub fn fadt(dsdt: u32, x_dsdt: Option<u64>) -> Vec<u8> {
        let mut body = vec![0u8; if x_dsdt.is_some() { 244 } else { 116 } - HEADER_LEN];
        body[40 - HEADER_LEN..44 - HEADER_LEN].copy_from_slice(&dsdt.to_le_bytes());
        if let Some(x) = x_dsdt {
            body[140 - HEADER_LEN..148 - HEADER_LEN].copy_from_slice(&x.to_le_bytes());
        }
        table(b"FACP", 1, &body)
    }

    fn rsdt(entries: &[u32]) -> Vec<u8> {
        let body: Vec<u8> = entries.iter().flat_map(|e| e.to_le_bytes()).collect();
        table(b"RSDT", 1, &body)
    }

    /// A machine laid out as SeaBIOS lays out q35's: the DSDT lowest, the
    /// RSDT last, the RSDP in the BIOS area.
    fn machine() -> FakeMemory {
        let mut m = FakeMemory::default();
        m.put(0x1000, table(b"DSDT", 1, &[0x10, 0x20]));
        m.put(0x2000, fadt(0x1000, None));
        m.put(0x3000, madt(&[(0, 0xfec0_0000, 0)]));
        m.put(0x3800, table(b"HPET", 1, &[0; 20]));
        m.put(0x4000, rsdt(&[0x2000, 0x3800, 0x3000]));
        m
    }

    #[test]
    fn checksums_sum_to_zero() {
        assert_eq!(checksum(&[]), 0);
        assert_eq!(checksum(&[0xff, 0x01]), 0);
        assert_eq!(checksum(&[0x80, 0x81]), 1);
    }

    #[test]
    fn the_rsdp_is_found_on_a_16_byte_boundary_with_a_valid_checksum() {
        let mut area = vec![0u8; 0x200];
        // A signature off the boundary and one with a bad checksum are
        // passed over.
        area[0x08..0x08 + 20].copy_from_slice(&rsdp_v1(0x4000));
        let mut broken = rsdp_v1(0x5000);
        broken[8] ^= 1;
        area[0x40..0x40 + 20].copy_from_slice(&broken);
        area[0x100..0x100 + 20].copy_from_slice(&rsdp_v1(0x4000));
        let (at, rsdp) = find_rsdp(&area, 0xe0000).unwrap();
        assert_eq!(at, 0xe0100);
        assert_eq!(rsdp.rsdt, 0x4000);
        assert_eq!(rsdp.xsdt, None);
        assert_eq!(rsdp.oem_text(), "BOCHS");
        assert_eq!(
            find_rsdp(&area[..0x100], 0xe0000),
            Err(AcpiError::NoRsdp {
                from: 0xe0000,
                to: 0xe0100
            })
        );
    }

    #[test]
    fn a_revision_2_rsdp_gives_the_xsdt_and_its_extended_checksum_is_checked() {
        let r = rsdp_v2(0x4000, 0x1_0000_0000);
        let parsed = Rsdp::parse(&r, 0xf0000).unwrap().unwrap();
        assert_eq!(parsed.xsdt, Some(0x1_0000_0000));
        let mut bad = r.clone();
        bad[30] ^= 0x40;
        assert_eq!(
            Rsdp::parse(&bad, 0xf0000),
            Some(Err(AcpiError::RsdpChecksum { paddr: 0xf0000 }))
        );
        // Cut off after the 1.0 part.
        assert_eq!(
            Rsdp::parse(&r[..24], 0xf0000),
            Some(Err(AcpiError::RsdpChecksum { paddr: 0xf0000 }))
        );
    }

    #[test]
    fn the_walk_finds_the_dsdt_and_the_ioapics_through_the_rsdt() {
        let mut m = machine();
        let rsdp = Rsdp::parse(&rsdp_v1(0x4000), 0xf0000).unwrap().unwrap();
        let t = walk(&mut m, 0xf0000, rsdp).unwrap();
        assert_eq!(t.root.signature(), Signature::RSDT);
        assert_eq!(t.dsdt.paddr, 0x1000);
        assert_eq!(t.dsdt.body(), &[0x10, 0x20]);
        assert_eq!(
            t.ioapics.as_slice(),
            &[IoApic {
                id: 0,
                address: 0xfec0_0000,
                gsi_base: 0
            }]
        );
    }

    #[test]
    fn the_walk_prefers_the_xsdt_and_x_dsdt() {
        let mut m = machine();
        m.put(0x5000, table(b"DSDT", 2, &[0x99]));
        m.put(0x6000, fadt(0x1000, Some(0x5000)));
        let body: Vec<u8> = [0x6000u64, 0x3000]
            .iter()
            .flat_map(|e| e.to_le_bytes())
            .collect();
        m.put(0x7000, table(b"XSDT", 1, &body));
        let rsdp = Rsdp::parse(&rsdp_v2(0x4000, 0x7000), 0xf0000)
            .unwrap()
            .unwrap();
        let t = walk(&mut m, 0xf0000, rsdp).unwrap();
        assert_eq!(t.root.signature(), Signature::XSDT);
        assert_eq!(t.dsdt.paddr, 0x5000);
    }

    #[test]
    fn a_bad_checksum_a_wrong_signature_or_a_bad_length_is_named() {
        let rsdp = Rsdp::parse(&rsdp_v1(0x4000), 0xf0000).unwrap().unwrap();
        let mut m = machine();
        m.runs[0].1[20] ^= 1; // the DSDT's bytes
        assert!(matches!(
            walk(&mut m, 0xf0000, rsdp),
            Err(AcpiError::Checksum {
                table: Signature::DSDT,
                paddr: 0x1000,
                ..
            })
        ));
        let mut m = machine();
        m.runs[1].1 = fadt(0x3000, None); // the FADT points at the MADT
        assert!(matches!(
            walk(&mut m, 0xf0000, rsdp),
            Err(AcpiError::Signature {
                paddr: 0x3000,
                wanted: Signature::DSDT,
                found: Signature::MADT
            })
        ));
        // A length below the header, or past the bound, is refused before
        // anything is allocated.
        for len in [10u32, MAX_TABLE_LEN + 1] {
            let mut m = machine();
            m.runs[0].1[4..8].copy_from_slice(&len.to_le_bytes());
            assert!(matches!(
                walk(&mut m, 0xf0000, rsdp),
                Err(AcpiError::Length {
                    table: Signature::DSDT,
                    ..
                })
            ));
        }
        // A length past what memory holds is an unreadable table.
        let mut m = machine();
        m.runs[0].1[4..8].copy_from_slice(&4096u32.to_le_bytes());
        assert!(matches!(
            walk(&mut m, 0xf0000, rsdp),
            Err(AcpiError::Read { paddr: 0x1000, .. })
        ));
    }

    #[test]
    fn missing_tables_are_named() {
        let rsdp = Rsdp::parse(&rsdp_v1(0x4000), 0xf0000).unwrap().unwrap();
        let mut m = machine();
        m.runs[4].1 = rsdt(&[0x2000]);
        assert_eq!(
            walk(&mut m, 0xf0000, rsdp).err(),
            Some(AcpiError::Missing {
                table: Signature::MADT,
                root: Signature::RSDT
            })
        );
        let mut m = machine();
        m.runs[2].1 = madt(&[]);
        assert_eq!(walk(&mut m, 0xf0000, rsdp).err(), Some(AcpiError::NoIoApic));
        let mut m = machine();
        m.runs[1].1 = fadt(0, None);
        assert_eq!(
            walk(&mut m, 0xf0000, rsdp).err(),
            Some(AcpiError::NoDsdt { fadt: 0x2000 })
        );
    }

    #[test]
    fn a_madt_entry_running_past_the_table_is_an_error() {
        let mut bytes = madt(&[(0, 0xfec0_0000, 0)]);
        let last = bytes.len() - 12;
        bytes[last + 1] = 40;
        let t = Table {
            paddr: 0x3000,
            bytes,
        };
        assert_eq!(
            ioapics(&t).err(),
            Some(AcpiError::MadtEntry {
                paddr: 0x3000,
                offset: last
            })
        );
        let mut bytes = madt(&[]);
        bytes.extend_from_slice(&[1, 0]);
        let t = Table {
            paddr: 0x3000,
            bytes,
        };
        assert!(ioapics(&t).is_err());
    }

    #[test]
    fn a_gsi_lands_on_the_ioapic_whose_range_starts_closest_below() {
        let apics = [
            IoApic {
                id: 0,
                address: 0xfec0_0000,
                gsi_base: 0,
            },
            IoApic {
                id: 1,
                address: 0xfec0_1000,
                gsi_base: 24,
            },
        ];
        assert_eq!(gsi_to_pin(&apics, 20), Some((0, 20)));
        assert_eq!(gsi_to_pin(&apics, 24), Some((1, 0)));
        assert_eq!(gsi_to_pin(&apics, 30), Some((1, 6)));
        assert_eq!(gsi_to_pin(&apics[1..], 3), None);
        assert_eq!(gsi_to_pin(&[], 3), None);
    }
}
