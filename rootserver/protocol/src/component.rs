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

/// The IO port of QEMU's debug console (`isa-debugcon`): each byte written
/// there reaches the host's console. Release kernels have no debug
/// console, so a component whose description grants it this port (an
/// `io_port` named [`LOG_PORT_NAME`]) logs there instead; `paddock` adds
/// the device, sharing COM1's console, to an image that grants the port.
pub const LOG_PORT: u16 = 0xE9;
/// The name of the `io_port` range through which a component logs on a
/// release kernel.
pub const LOG_PORT_NAME: &str = "log";
/// Its cap's name on the info page (`io.<name>`, as every IO port cap).
pub const LOG_CAP_NAME: &str = "io.log";

/// Where the system status pages are mapped, read-only, in every
/// component: each component's name and restart generation, kept current
/// by the root task, so peers can tell that a component restarted (and
/// re-attach to what it shares with them).
///
/// Layout: [`STATUS_PAGES`] pages, right below the info page; each page
/// holds [`STATUS_ENTRIES_PER_PAGE`] entries of 40 bytes { generation u64,
/// name [u8; 32] padded with zero bytes }, entry `i` of the system in page
/// `i / STATUS_ENTRIES_PER_PAGE`. No entry straddles two pages, so the root
/// task rewrites one through a one-page window. An entry whose name starts
/// with a zero byte is unused (names are never empty).
pub const STATUS_VADDR: u64 = INFO_VADDR - (STATUS_PAGES * INFO_SIZE) as u64;
/// Pages of the status region: enough for 306 components.
pub const STATUS_PAGES: usize = 3;
/// Bytes of the status region.
pub const STATUS_SIZE: usize = STATUS_PAGES * INFO_SIZE;
const STATUS_ENTRY: usize = 8 + NAME_LEN;
/// Entries one status page holds.
pub const STATUS_ENTRIES_PER_PAGE: usize = INFO_SIZE / STATUS_ENTRY;
/// Components the status pages can list.
pub const MAX_STATUS_ENTRIES: usize = STATUS_PAGES * STATUS_ENTRIES_PER_PAGE;

/// The status page (0-based, below [`STATUS_PAGES`]) that holds entry
/// `index`, or `None` past the last.
pub const fn status_page_of(index: usize) -> Option<usize> {
    if index < MAX_STATUS_ENTRIES {
        Some(index / STATUS_ENTRIES_PER_PAGE)
    } else {
        None
    }
}

/// Writes entry `index` into `page`, the status page that holds it (see
/// [`status_page_of`]). Names longer than [`NAME_LEN`], empty names and
/// indices past the last entry are refused.
pub fn write_status_entry(
    page: &mut [u8],
    index: usize,
    name: &str,
    generation: u64,
) -> Result<(), InfoError> {
    if status_page_of(index).is_none() {
        return Err(InfoError::TooManySymbols(index + 1));
    }
    if page.len() < INFO_SIZE {
        return Err(InfoError::TooShort);
    }
    if name.len() > NAME_LEN || name.is_empty() {
        return Err(InfoError::NameTooLong);
    }
    let at = (index % STATUS_ENTRIES_PER_PAGE) * STATUS_ENTRY;
    put(page, at, &generation.to_le_bytes());
    page[at + 8..at + STATUS_ENTRY].fill(0);
    put(page, at + 8, name.as_bytes());
    Ok(())
}

/// The restart generation of component `name` in the status region
/// `region` (all [`STATUS_PAGES`] pages, in order), if it is listed.
/// Whatever the bytes say, every read stays within the region.
pub fn status_generation(region: &[u8], name: &str) -> Option<u64> {
    if region.len() < STATUS_SIZE || name.is_empty() || name.len() > NAME_LEN {
        return None;
    }
    status_entries(region).find_map(|(listed, generation)| (listed == name).then_some(generation))
}

/// Every component listed in the status region `region`, in order, as
/// (name, restart generation). Entries whose name is empty or not UTF-8
/// are skipped; every read stays within the region.
pub fn status_entries(region: &[u8]) -> impl Iterator<Item = (&str, u64)> {
    let whole = region.len() >= STATUS_SIZE;
    (0..MAX_STATUS_ENTRIES)
        .filter(move |_| whole)
        .filter_map(move |i| {
            let at = (i / STATUS_ENTRIES_PER_PAGE) * INFO_SIZE
                + (i % STATUS_ENTRIES_PER_PAGE) * STATUS_ENTRY;
            let field = region.get(at + 8..at + STATUS_ENTRY)?;
            let len = field.iter().position(|&b| b == 0).unwrap_or(field.len());
            let name = core::str::from_utf8(&field[..len]).ok()?;
            (!name.is_empty()).then(|| (name, u64_at(region, at)))
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
        let mut region = [0u8; STATUS_SIZE];
        let mut write = |index: usize, name: &str, generation: u64| {
            let page = status_page_of(index).ok_or(InfoError::TooShort)?;
            write_status_entry(
                &mut region[page * INFO_SIZE..(page + 1) * INFO_SIZE],
                index,
                name,
                generation,
            )
        };
        write(0, "serial", 0).unwrap();
        write(1, "client", 4).unwrap();
        write(0, "serial", 2).unwrap();
        // The first entry of the second page, and the last one.
        write(STATUS_ENTRIES_PER_PAGE, "c102", 7).unwrap();
        write(MAX_STATUS_ENTRIES - 1, &"x".repeat(NAME_LEN), 9).unwrap();
        assert!(write(MAX_STATUS_ENTRIES, "late", 0).is_err());
        assert!(write(2, "", 0).is_err());
        assert_eq!(status_generation(&region, "serial"), Some(2));
        assert_eq!(status_generation(&region, "client"), Some(4));
        assert_eq!(status_generation(&region, "c102"), Some(7));
        assert_eq!(status_generation(&region, &"x".repeat(NAME_LEN)), Some(9));
        // A prefix of a listed name is not that name.
        assert_eq!(status_generation(&region, "seria"), None);
        assert_eq!(status_generation(&region, "other"), None);
        assert_eq!(status_generation(&region[..INFO_SIZE], "serial"), None);
        // Hostile bytes everywhere stay within the region.
        let hostile = [0xffu8; STATUS_SIZE];
        assert_eq!(status_generation(&hostile, "serial"), None);
        // Listed in order, empty entries skipped; nothing from a short
        // region or from bytes that are not names.
        let long = "x".repeat(NAME_LEN);
        let listed: Vec<(&str, u64)> = status_entries(&region).collect();
        assert_eq!(
            listed,
            [
                ("serial", 2),
                ("client", 4),
                ("c102", 7),
                (long.as_str(), 9)
            ]
        );
        assert_eq!(status_entries(&region[..INFO_SIZE]).count(), 0);
        assert_eq!(status_entries(&hostile).count(), 0);
    }

    #[test]
    fn the_status_pages_lie_right_below_the_info_page() {
        assert_eq!(STATUS_VADDR + STATUS_SIZE as u64, INFO_VADDR);
        assert_eq!(STATUS_VADDR % INFO_SIZE as u64, 0);
        assert_eq!(MAX_STATUS_ENTRIES, 306);
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
