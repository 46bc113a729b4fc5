//! The component ABI: how a component starts and learns its capabilities.
//!
//! The root task starts every component at its ELF entry with
//! * RSP = the top of its planned stack,
//! * RDI = [`INFO_VADDR`], a read-only page describing the component,
//! * RSI = its IPC buffer's address.
//!
//! The info page holds the component's name, its restart generation, and the
//! plan's symbols for it: each cap's CSpace slot, each region's address and
//! size, and each channel's badge bit, by name. Components look names up at
//! run time, so one program serves every image that uses it, and no slot
//! number is ever typed by hand.
//!
//! Layout (little-endian):
//! ```text
//! 0   magic "PDKINFO\0"
//! 8   version u32, symbol count u32
//! 16  restart generation u64 (0 on first start)
//! 24  name length u32, CNode radix u32 (its CSpace has 2^radix slots)
//! 32  name [u8; 32]
//! 64  symbols: count x 64 bytes { kind u8, name length u8, reserved [u8; 6],
//!                                  value u64, size u64, name [u8; 40] }
//! ```

/// Where the system status page is mapped, read-only, in every component:
/// each component's name and restart generation, kept current by the root
/// task, so peers can tell that a component restarted (and re-attach to
/// what it shares with them).
///
/// Layout: count u32, reserved u32, then count x { name length u8,
/// reserved [u8; 7], generation u64, name [u8; 32] } (48 bytes each).
pub const STATUS_VADDR: u64 = 0x3f_e000;
const STATUS_HEADER: usize = 8;
const STATUS_ENTRY: usize = 48;
/// Components one status page can list.
pub const MAX_STATUS_ENTRIES: usize = (INFO_SIZE - STATUS_HEADER) / STATUS_ENTRY;

/// Writes entry `index` of a status page (and raises its count to cover
/// it). Names longer than [`NAME_LEN`] or indices past the page are
/// refused.
pub fn write_status_entry(
    page: &mut [u8],
    index: usize,
    name: &str,
    generation: u64,
) -> Result<(), InfoError> {
    if index >= MAX_STATUS_ENTRIES || page.len() < INFO_SIZE {
        return Err(InfoError::TooManySymbols(index + 1));
    }
    if name.len() > NAME_LEN {
        return Err(InfoError::NameTooLong);
    }
    let at = STATUS_HEADER + index * STATUS_ENTRY;
    page[at] = name.len() as u8;
    put(page, at + 8, &generation.to_le_bytes());
    page[at + 16..at + 16 + NAME_LEN].fill(0);
    put(page, at + 16, name.as_bytes());
    let count = (u32_at(page, 0) as usize).max(index + 1);
    put(page, 0, &(count as u32).to_le_bytes());
    Ok(())
}

/// The restart generation of component `name` on a status page, if it is
/// listed. Malformed entries are skipped, never trusted.
pub fn status_generation(page: &[u8], name: &str) -> Option<u64> {
    if page.len() < INFO_SIZE {
        return None;
    }
    let count = (u32_at(page, 0) as usize).min(MAX_STATUS_ENTRIES);
    (0..count).find_map(|i| {
        let at = STATUS_HEADER + i * STATUS_ENTRY;
        let len = usize::from(page[at]).min(NAME_LEN);
        (&page[at + 16..at + 16 + len] == name.as_bytes()).then(|| u64_at(page, at + 8))
    })
}

/// Where the info page is mapped in every component.
pub const INFO_VADDR: u64 = 0x3f_f000;
pub const INFO_SIZE: usize = 4096;
pub const MAGIC: [u8; 8] = *b"PDKINFO\0";
pub const VERSION: u32 = 1;
pub const NAME_LEN: usize = 32;
pub const SYMBOL_NAME_LEN: usize = 40;
const HEADER_LEN: usize = 64;
const SYMBOL_LEN: usize = 64;
/// Symbols one page can hold.
pub const MAX_SYMBOLS: usize = (INFO_SIZE - HEADER_LEN) / SYMBOL_LEN;

/// What a symbol's value means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    /// A CSpace slot (a CPtr: components' CNodes are guarded so that slot
    /// numbers are CPtrs).
    Slot,
    /// A virtual address; `size` is the region's length in bytes.
    Vaddr,
    /// A bit of the component's notification badge.
    BadgeBit,
    /// An address as a device sees it through the IOMMU; `size` in bytes.
    Iova,
    /// A setting from the description's `params`.
    Param,
}

impl SymbolKind {
    pub fn code(self) -> u8 {
        match self {
            SymbolKind::Slot => 1,
            SymbolKind::Vaddr => 2,
            SymbolKind::BadgeBit => 3,
            SymbolKind::Iova => 4,
            SymbolKind::Param => 5,
        }
    }
    pub fn from_code(code: u8) -> Option<SymbolKind> {
        match code {
            1 => Some(SymbolKind::Slot),
            2 => Some(SymbolKind::Vaddr),
            3 => Some(SymbolKind::BadgeBit),
            4 => Some(SymbolKind::Iova),
            5 => Some(SymbolKind::Param),
            _ => None,
        }
    }
}

/// One named value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol<'a> {
    pub kind: SymbolKind,
    pub name: &'a str,
    pub value: u64,
    pub size: u64,
}

/// Why an info page was refused or could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfoError {
    TooShort,
    BadMagic,
    Version(u32),
    TooManySymbols(usize),
    NameTooLong,
    BadSymbol(usize),
}

impl core::fmt::Display for InfoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InfoError::TooShort => f.write_str("info page truncated"),
            InfoError::BadMagic => f.write_str("info page has no PDKINFO magic"),
            InfoError::Version(v) => write!(f, "info page version {v}, expected {VERSION}"),
            InfoError::TooManySymbols(n) => {
                write!(f, "{n} symbols, an info page holds {MAX_SYMBOLS}")
            }
            InfoError::NameTooLong => f.write_str("name too long for the info page"),
            InfoError::BadSymbol(i) => write!(f, "info page symbol {i} is malformed"),
        }
    }
}

fn put(page: &mut [u8], at: usize, bytes: &[u8]) {
    page[at..at + bytes.len()].copy_from_slice(bytes);
}

/// Writes an info page (the root task's side). `page` must be at least
/// [`INFO_SIZE`] bytes; it is fully overwritten.
pub fn write_info<'s>(
    page: &mut [u8],
    name: &str,
    cnode_bits: u8,
    generation: u64,
    symbols: impl ExactSizeIterator<Item = Symbol<'s>>,
) -> Result<(), InfoError> {
    if page.len() < INFO_SIZE {
        return Err(InfoError::TooShort);
    }
    if symbols.len() > MAX_SYMBOLS {
        return Err(InfoError::TooManySymbols(symbols.len()));
    }
    if name.len() > NAME_LEN {
        return Err(InfoError::NameTooLong);
    }
    page[..INFO_SIZE].fill(0);
    put(page, 0, &MAGIC);
    put(page, 8, &VERSION.to_le_bytes());
    put(page, 12, &(symbols.len() as u32).to_le_bytes());
    put(page, 16, &generation.to_le_bytes());
    put(page, 24, &(name.len() as u32).to_le_bytes());
    put(page, 28, &u32::from(cnode_bits).to_le_bytes());
    put(page, 32, name.as_bytes());
    for (i, s) in symbols.enumerate() {
        if s.name.len() > SYMBOL_NAME_LEN {
            return Err(InfoError::NameTooLong);
        }
        let at = HEADER_LEN + i * SYMBOL_LEN;
        page[at] = s.kind.code();
        page[at + 1] = s.name.len() as u8;
        put(page, at + 8, &s.value.to_le_bytes());
        put(page, at + 16, &s.size.to_le_bytes());
        put(page, at + 24, s.name.as_bytes());
    }
    Ok(())
}

/// A checked view of an info page (the component's side).
#[derive(Clone, Copy, Debug)]
pub struct Info<'a> {
    page: &'a [u8],
    count: usize,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

impl<'a> Info<'a> {
    pub fn parse(page: &'a [u8]) -> Result<Info<'a>, InfoError> {
        if page.len() < INFO_SIZE {
            return Err(InfoError::TooShort);
        }
        if page[..8] != MAGIC {
            return Err(InfoError::BadMagic);
        }
        let version = u32_at(page, 8);
        if version != VERSION {
            return Err(InfoError::Version(version));
        }
        let count = u32_at(page, 12) as usize;
        if count > MAX_SYMBOLS {
            return Err(InfoError::TooManySymbols(count));
        }
        if u32_at(page, 24) as usize > NAME_LEN {
            return Err(InfoError::NameTooLong);
        }
        let info = Info { page, count };
        core::str::from_utf8(info.name_bytes()).map_err(|_| InfoError::NameTooLong)?;
        for i in 0..count {
            info.symbol(i).ok_or(InfoError::BadSymbol(i))?;
        }
        Ok(info)
    }

    fn name_bytes(&self) -> &'a [u8] {
        let len = u32_at(self.page, 24) as usize;
        &self.page[32..32 + len]
    }

    /// The component's name.
    pub fn name(&self) -> &'a str {
        core::str::from_utf8(self.name_bytes()).unwrap_or("?")
    }

    /// The radix of the component's CNode: its slots are `0..1 << bits`.
    pub fn cnode_bits(&self) -> u8 {
        u32_at(self.page, 28).min(64) as u8
    }

    /// How many times the component has been restarted.
    pub fn generation(&self) -> u64 {
        u64_at(self.page, 16)
    }

    fn symbol(&self, i: usize) -> Option<Symbol<'a>> {
        if i >= self.count {
            return None;
        }
        let at = HEADER_LEN + i * SYMBOL_LEN;
        let kind = SymbolKind::from_code(self.page[at])?;
        let len = usize::from(self.page[at + 1]);
        if len > SYMBOL_NAME_LEN {
            return None;
        }
        let name = core::str::from_utf8(&self.page[at + 24..at + 24 + len]).ok()?;
        Some(Symbol {
            kind,
            name,
            value: u64_at(self.page, at + 8),
            size: u64_at(self.page, at + 16),
        })
    }

    /// Every symbol, in order. `Info` is a copyable view, so the iterator
    /// owns one and lives as long as the page.
    pub fn symbols(self) -> impl Iterator<Item = Symbol<'a>> {
        (0..self.count).filter_map(move |i| self.symbol(i))
    }

    /// The symbol called `name` of kind `kind`.
    pub fn find(&self, kind: SymbolKind, name: &str) -> Option<Symbol<'a>> {
        self.symbols().find(|s| s.kind == kind && s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_pages() {
        let mut page = [0u8; INFO_SIZE];
        write_status_entry(&mut page, 0, "serial", 0).unwrap();
        write_status_entry(&mut page, 1, "client", 4).unwrap();
        write_status_entry(&mut page, 0, "serial", 2).unwrap();
        assert_eq!(status_generation(&page, "serial"), Some(2));
        assert_eq!(status_generation(&page, "client"), Some(4));
        assert_eq!(status_generation(&page, "other"), None);
        assert!(write_status_entry(&mut page, MAX_STATUS_ENTRIES, "x", 0).is_err());
        // A hostile count and name length stay within the page.
        page[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        page[STATUS_HEADER] = 255;
        assert_eq!(status_generation(&page, "serial"), None);
    }

    #[test]
    fn round_trip_and_hostile_pages() {
        let mut page = [0u8; INFO_SIZE];
        let symbols = [
            Symbol {
                kind: SymbolKind::Slot,
                name: "irq",
                value: 12,
                size: 0,
            },
            Symbol {
                kind: SymbolKind::Vaddr,
                name: "rx_data",
                value: 0x80_0000_0000,
                size: 8192,
            },
        ];
        write_info(&mut page, "serial", 8, 3, symbols.iter().copied()).unwrap();
        assert_eq!(Info::parse(&page).unwrap().cnode_bits(), 8);
        let info = Info::parse(&page).unwrap();
        assert_eq!(info.name(), "serial");
        assert_eq!(info.generation(), 3);
        assert_eq!(info.find(SymbolKind::Slot, "irq").unwrap().value, 12);
        assert_eq!(info.find(SymbolKind::Vaddr, "irq"), None);
        assert_eq!(info.find(SymbolKind::Vaddr, "rx_data").unwrap().size, 8192);

        let mut bad = page;
        bad[12] = 200;
        assert_eq!(
            Info::parse(&bad).unwrap_err(),
            InfoError::TooManySymbols(200)
        );
        let mut bad = page;
        bad[HEADER_LEN] = 9;
        assert_eq!(Info::parse(&bad).unwrap_err(), InfoError::BadSymbol(0));
        let mut bad = page;
        bad[HEADER_LEN + 1] = 255;
        assert_eq!(Info::parse(&bad).unwrap_err(), InfoError::BadSymbol(0));
        assert_eq!(Info::parse(&page[..100]).unwrap_err(), InfoError::TooShort);
    }
}
