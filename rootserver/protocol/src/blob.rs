//! The boot blob: the files the root task needs at boot (the system's spec
//! and each component's program), packed by `paddock build` and linked into
//! the root task's read-only data.
//!
//! Layout (all integers little-endian):
//! ```text
//! header   magic "PDKBLOB\0" (8 bytes), version u32, entry count u32
//! entries  count x { kind u32, name length u32, offset u64, length u64,
//!                    name [u8; 32] (UTF-8, zero padded) }
//! files    each at a 16-byte aligned offset from the blob's start
//! ```
//! The root task trusts nothing in it: every offset and length is checked
//! against the blob before use.

/// First bytes of every blob.
pub const MAGIC: [u8; 8] = *b"PDKBLOB\0";
/// Bumped on any layout change; a root task refuses other versions.
pub const VERSION: u32 = 1;
/// Longest file name an entry holds.
pub const NAME_LEN: usize = 32;
/// Files start at multiples of this, so typed views of them are aligned.
pub const FILE_ALIGN: usize = 16;

const HEADER_LEN: usize = 16;
const ENTRY_LEN: usize = 24 + NAME_LEN;

/// What an entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The binary spec of the system's capability plan (`paddock-spec`).
    Spec,
    /// A component's program, an ELF64 executable.
    Program,
}

impl Kind {
    fn code(self) -> u32 {
        match self {
            Kind::Spec => 1,
            Kind::Program => 2,
        }
    }
    fn from_code(code: u32) -> Option<Kind> {
        match code {
            1 => Some(Kind::Spec),
            2 => Some(Kind::Program),
            _ => None,
        }
    }
}

/// Why a blob was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobError {
    TooShort,
    BadMagic,
    Version {
        found: u32,
    },
    /// Entry `index` is malformed: unknown kind, bad name, or a file range
    /// outside the blob.
    BadEntry {
        index: usize,
    },
}

impl core::fmt::Display for BlobError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BlobError::TooShort => f.write_str("boot blob truncated"),
            BlobError::BadMagic => f.write_str("boot blob has no PDKBLOB magic"),
            BlobError::Version { found } => {
                write!(
                    f,
                    "boot blob version {found}, this root task reads {VERSION}"
                )
            }
            BlobError::BadEntry { index } => write!(f, "boot blob entry {index} is malformed"),
        }
    }
}

/// A checked view of a blob.
#[derive(Clone, Copy, Debug)]
pub struct Blob<'a> {
    bytes: &'a [u8],
    count: usize,
}

/// One file of a blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct File<'a> {
    pub kind: Kind,
    pub name: &'a str,
    pub data: &'a [u8],
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

impl<'a> Blob<'a> {
    /// Checks the header and every entry.
    pub fn parse(bytes: &'a [u8]) -> Result<Blob<'a>, BlobError> {
        if bytes.len() < HEADER_LEN {
            return Err(BlobError::TooShort);
        }
        if bytes[..8] != MAGIC {
            return Err(BlobError::BadMagic);
        }
        let version = u32_at(bytes, 8).ok_or(BlobError::TooShort)?;
        if version != VERSION {
            return Err(BlobError::Version { found: version });
        }
        let count = u32_at(bytes, 12).ok_or(BlobError::TooShort)? as usize;
        let table_end = count
            .checked_mul(ENTRY_LEN)
            .and_then(|n| n.checked_add(HEADER_LEN))
            .ok_or(BlobError::TooShort)?;
        if table_end > bytes.len() {
            return Err(BlobError::TooShort);
        }
        let blob = Blob { bytes, count };
        for index in 0..count {
            blob.entry(index).ok_or(BlobError::BadEntry { index })?;
        }
        Ok(blob)
    }

    fn entry(&self, index: usize) -> Option<File<'a>> {
        if index >= self.count {
            return None;
        }
        let at = HEADER_LEN + index * ENTRY_LEN;
        let b = self.bytes;
        let kind = Kind::from_code(u32_at(b, at)?)?;
        let name_len = u32_at(b, at + 4)? as usize;
        let offset = usize::try_from(u64_at(b, at + 8)?).ok()?;
        let len = usize::try_from(u64_at(b, at + 16)?).ok()?;
        if name_len > NAME_LEN || offset % FILE_ALIGN != 0 {
            return None;
        }
        let name = core::str::from_utf8(b.get(at + 24..at + 24 + name_len)?).ok()?;
        let data = b.get(offset..offset.checked_add(len)?)?;
        Some(File { kind, name, data })
    }

    /// All files, in order.
    pub fn files(&self) -> impl Iterator<Item = File<'a>> + '_ {
        (0..self.count).filter_map(move |i| self.entry(i))
    }

    /// The spec (the first file of kind [`Kind::Spec`]).
    pub fn spec(&self) -> Option<&'a [u8]> {
        self.files().find(|f| f.kind == Kind::Spec).map(|f| f.data)
    }

    /// The program called `name`.
    pub fn program(&self, name: &str) -> Option<&'a [u8]> {
        self.files()
            .find(|f| f.kind == Kind::Program && f.name == name)
            .map(|f| f.data)
    }
}

/// Why files could not be packed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackError {
    /// File `index` has a name longer than [`NAME_LEN`] bytes.
    NameTooLong { index: usize },
}

impl core::fmt::Display for PackError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PackError::NameTooLong { index } => {
                write!(f, "file {index} has a name longer than {NAME_LEN} bytes")
            }
        }
    }
}

/// Counts what it appends, for the padding between files.
struct Out<'o, E: Extend<u8>> {
    out: &'o mut E,
    len: usize,
}

impl<E: Extend<u8>> Out<'_, E> {
    fn put(&mut self, bytes: &[u8]) {
        self.out.extend(bytes.iter().copied());
        self.len += bytes.len();
    }
    fn pad_to(&mut self, at: usize) {
        while self.len < at {
            self.put(&[0]);
        }
    }
}

/// Where each file goes: after the table, each start aligned.
fn file_offsets<'f>(files: &'f [(Kind, &str, &[u8])]) -> impl Iterator<Item = usize> + 'f {
    let mut next = HEADER_LEN + files.len() * ENTRY_LEN;
    files.iter().map(move |(_, _, data)| {
        let at = next.next_multiple_of(FILE_ALIGN);
        next = at + data.len();
        at
    })
}

/// Packs files into a blob, appending its bytes to `out` (the host side;
/// `out` is typically a `Vec<u8>`, kept generic so this crate needs no
/// allocator).
pub fn pack(files: &[(Kind, &str, &[u8])], out: &mut impl Extend<u8>) -> Result<(), PackError> {
    if let Some(index) = files.iter().position(|(_, n, _)| n.len() > NAME_LEN) {
        return Err(PackError::NameTooLong { index });
    }
    let mut out = Out { out, len: 0 };
    out.put(&MAGIC);
    out.put(&VERSION.to_le_bytes());
    out.put(&(files.len() as u32).to_le_bytes());
    for ((kind, name, data), at) in files.iter().zip(file_offsets(files)) {
        out.put(&kind.code().to_le_bytes());
        out.put(&(name.len() as u32).to_le_bytes());
        out.put(&(at as u64).to_le_bytes());
        out.put(&(data.len() as u64).to_le_bytes());
        let mut padded = [0u8; NAME_LEN];
        padded[..name.len()].copy_from_slice(name.as_bytes());
        out.put(&padded);
    }
    for ((_, _, data), at) in files.iter().zip(file_offsets(files)) {
        out.pad_to(at);
        out.put(data);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut blob = std::vec::Vec::new();
        pack(
            &[
                (Kind::Spec, "spec", b"SPEC"),
                (Kind::Program, "serial-16550", b"\x7fELF..."),
            ],
            &mut blob,
        )
        .unwrap();
        let parsed = Blob::parse(&blob).unwrap();
        assert_eq!(parsed.spec(), Some(&b"SPEC"[..]));
        assert_eq!(parsed.program("serial-16550"), Some(&b"\x7fELF..."[..]));
        assert_eq!(parsed.program("other"), None);
        assert!(parsed.files().all(
            |f| (f.data.as_ptr() as usize - blob.as_ptr() as usize).is_multiple_of(FILE_ALIGN)
        ));
    }

    #[test]
    fn hostile_blobs_are_refused() {
        let mut good = std::vec::Vec::new();
        pack(&[(Kind::Program, "p", b"data")], &mut good).unwrap();
        let too_long = [(Kind::Program, "x".repeat(40), &b""[..])];
        let files: std::vec::Vec<_> = too_long
            .iter()
            .map(|(k, n, d)| (*k, n.as_str(), *d))
            .collect();
        assert_eq!(
            pack(&files, &mut std::vec::Vec::new()),
            Err(PackError::NameTooLong { index: 0 })
        );
        assert_eq!(Blob::parse(&good[..10]).unwrap_err(), BlobError::TooShort);
        let mut bad = good.clone();
        bad[0] = b'X';
        assert_eq!(Blob::parse(&bad).unwrap_err(), BlobError::BadMagic);
        let mut bad = good.clone();
        bad[8] = 9;
        assert_eq!(
            Blob::parse(&bad).unwrap_err(),
            BlobError::Version { found: 9 }
        );
        // A file length running past the end.
        let mut bad = good.clone();
        bad[HEADER_LEN + 16..HEADER_LEN + 24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(
            Blob::parse(&bad).unwrap_err(),
            BlobError::BadEntry { index: 0 }
        );
        // An entry count far beyond the blob.
        let mut bad = good.clone();
        bad[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Blob::parse(&bad).unwrap_err(), BlobError::TooShort);
        // An unknown kind.
        let mut bad = good;
        bad[HEADER_LEN] = 7;
        assert_eq!(
            Blob::parse(&bad).unwrap_err(),
            BlobError::BadEntry { index: 0 }
        );
    }
}
