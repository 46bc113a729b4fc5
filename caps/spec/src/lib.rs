//! The binary spec of a capability plan: what the root task reads.
//!
//! # Contract
//!
//! The host (`paddock-caps`) validates a system description, plans every
//! kernel object, CSpace slot, mapping, IOSpace mapping and IRQ binding, and
//! encodes that plan in this format. The root task calls [`Spec::decode`]
//! once on the embedded bytes and then only reads: it makes no policy
//! decisions, it executes the records in order.
//!
//! * Layout: a [`Header`] at offset 0, then tables of fixed-size records, then
//!   a string table. Every integer is little-endian and every record has
//!   alignment 1 (zerocopy `Unaligned`), so the bytes can be read in place
//!   from any address without an allocator.
//! * [`Spec::decode`] checks everything before it returns: magic, version,
//!   total length, that each table lies inside the input, every enum value,
//!   every index into another table, every string (in bounds, UTF-8), and each
//!   component's ranges of caps, mappings and symbols. After `decode`
//!   succeeded, the accessors cannot fail and nothing in the spec can make
//!   the root task index out of bounds.
//! * Versioning: [`VERSION`] changes whenever a record changes; a root task
//!   refuses any other version ([`DecodeError::Version`]).
//! * Indices: "component" fields index [`Spec::components`], "object"
//!   fields index [`Spec::objects`], "pci" fields index [`Spec::pci`];
//!   [`NONE`] means "no such reference".
//! * What the root task must still check at boot: that each PCI device exists
//!   (by id or address), that each BAR has at least the planned size, that the
//!   IOMMU has [`Header::io_pt_levels`] levels, and that memory suffices.
//! * Object kinds are this crate's own numbering ([`ObjectKind`]), not the
//!   kernel's object-type numbers, which move with the kernel configuration.

#![no_std]
#![forbid(unsafe_code)]

pub mod limits;

use core::fmt;
use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// The first eight bytes of every spec.
pub const MAGIC: [u8; 8] = *b"PADDOCK\0";
/// The record layout version this crate reads and writes.
pub const VERSION: u32 = 1;
/// "No reference" in an index field.
pub const NONE: u32 = u32::MAX;
/// Number of tables the header describes.
pub const TABLES: usize = 9;

/// Where a table starts (bytes from the start of the spec) and how many
/// records it holds (bytes, for the string table).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct TableRef {
    pub offset: U32,
    pub count: U32,
}

/// The tables, in the order of [`Header::tables`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Table {
    Components = 0,
    Objects = 1,
    Caps = 2,
    Mappings = 3,
    IoMappings = 4,
    Irqs = 5,
    Pci = 6,
    Symbols = 7,
    Strings = 8,
}

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::Components => "components",
            Table::Objects => "objects",
            Table::Caps => "caps",
            Table::Mappings => "mappings",
            Table::IoMappings => "io_mappings",
            Table::Irqs => "irqs",
            Table::Pci => "pci",
            Table::Symbols => "symbols",
            Table::Strings => "strings",
        }
    }
}

/// Header flag: the system needs an IOMMU kernel.
pub const FLAG_IOMMU: u32 = 1;
/// Header flag: the system was planned for a debug kernel.
pub const FLAG_DEBUG: u32 = 2;

#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct Header {
    pub magic: [u8; 8],
    pub version: U32,
    /// Length of the whole spec in bytes; must equal the input's length.
    pub total_len: U32,
    pub flags: U32,
    /// IO page-table levels the plan assumes (VT-d with 39-bit IOVAs: 3).
    pub io_pt_levels: U32,
    /// Lowest virtual address of the planned part of every address space;
    /// the program's ELF segments must lie below it.
    pub layout_base: U64,
    pub system_name: StrRef,
    pub tables: [TableRef; TABLES],
}

/// A string in the string table.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct StrRef {
    pub offset: U32,
    pub len: U32,
}

/// A run of records in another table.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct RangeRef {
    pub first: U32,
    pub count: U32,
}

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $n:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name { $($(#[$vm])* $v = $n),* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            pub fn from_u8(v: u8) -> Option<Self> {
                match v { $($n => Some($name::$v),)* _ => None }
            }
        }
    };
}

wire_enum!(
    /// What the root task creates (or, for device frames, finds).
    ObjectKind {
        Tcb = 1,
        /// `count` = size in bits of slots; guard makes cptrs plain slot numbers.
        CNode = 2,
        /// The PML4 of a component.
        VSpace = 3,
        /// Paging structures covering `base` in the owner's VSpace.
        Pdpt = 4,
        PageDirectory = 5,
        PageTable = 6,
        Notification = 7,
        Endpoint = 8,
        /// `count` 4 KiB frames from untyped memory, zeroed.
        Frames = 9,
        /// `count` 4 KiB frames of BAR `aux2` of PCI device `aux`.
        DeviceFrames = 10,
        /// An IO page table of level `aux2` in the IOSpace of PCI device
        /// `aux`, covering `base`.
        IoPageTable = 11,
    }
);

wire_enum!(
    /// What a component's CSpace slot holds.
    CapKind {
        /// Badged fault endpoint (badge = component badge), set as the TCB's
        /// fault handler.
        FaultEndpoint = 1,
        /// The component's own notification, receive only.
        Notification = 2,
        /// Send right to a peer's notification, badged with one bit.
        NotificationSend = 3,
        /// `object` = index into the IRQ table.
        IrqHandler = 4,
        /// IOPort cap minted with badge `first << 16 | last`.
        IoPort = 5,
        // Never planned for a component; present so that a plan containing
        // them can be represented, decoded and rejected by the audit.
        Untyped = 16,
        IrqControl = 17,
        AsidControl = 18,
        IoPortControl = 19,
        IoSpace = 20,
        Tcb = 21,
        CNode = 22,
        VSpace = 23,
        Frame = 24,
    }
);

wire_enum!(
    /// Why a region is mapped.
    MapPurpose {
        IpcBuffer = 1,
        Stack = 2,
        Heap = 3,
        RingQueues = 4,
        RingData = 5,
        Shared = 6,
        DeviceBar = 7,
        DmaBuffer = 8,
    }
);

wire_enum!(
    /// The symbol kinds a component can look up by name.
    SymbolKind {
        /// `value` = CSpace slot.
        Slot = 1,
        /// `value` = virtual address, `size` = bytes.
        Vaddr = 2,
        /// `value` = the bit of the component's notification badge.
        BadgeBit = 3,
        /// `value` = IOVA of a DMA window of the component's device, `size` = bytes.
        Iova = 4,
        /// `value` = a setting from the description's `params`.
        Param = 5,
    }
);

wire_enum!(
    IrqKind {
        IoApic = 1,
        Msi = 2,
    }
);

wire_enum!(
    RestartKind {
        Never = 0,
        Always = 1,
        Limit = 2,
    }
);

/// Cap rights, as in `seL4_CapRights`.
pub const RIGHT_READ: u8 = 1;
pub const RIGHT_WRITE: u8 = 2;
pub const RIGHT_GRANT: u8 = 4;
pub const RIGHT_GRANT_REPLY: u8 = 8;
/// Mapping rights.
pub const MAP_READ: u8 = 1;
pub const MAP_WRITE: u8 = 2;
pub const MAP_EXECUTE: u8 = 4;

#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ComponentRecord {
    pub name: StrRef,
    /// The program (crate binary) whose ELF the root task loads.
    pub program: StrRef,
    /// Badge of the component's fault endpoint cap; unique, non-zero.
    pub badge: U64,
    pub priority: u8,
    pub restart: u8,
    pub cnode_bits: u8,
    pub _pad: u8,
    pub restart_limit: U32,
    pub tcb: U32,
    pub cnode: U32,
    pub vspace: U32,
    pub notification: U32,
    pub ipc_buffer_object: U32,
    pub _pad2: U32,
    pub ipc_buffer: U64,
    /// Initial stack pointer (top of the stack region).
    pub stack_top: U64,
    pub caps: RangeRef,
    pub mappings: RangeRef,
    pub symbols: RangeRef,
}

#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ObjectRecord {
    pub kind: u8,
    pub _pad: [u8; 3],
    /// Component whose structure this is, or [`NONE`] for shared objects.
    pub owner: U32,
    pub count: U32,
    pub aux: U32,
    pub aux2: U32,
    pub _pad2: U32,
    pub base: U64,
    pub name: StrRef,
}

#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct CapRecord {
    pub component: U32,
    pub slot: U32,
    pub kind: u8,
    pub rights: u8,
    pub _pad: [u8; 2],
    /// An object, or for `IrqHandler` an IRQ record; [`NONE`] for IO ports.
    pub object: U32,
    pub badge: U64,
    pub name: StrRef,
}

#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct MappingRecord {
    pub component: U32,
    pub object: U32,
    pub vaddr: U64,
    /// Pages of the object mapped from its first page; all of it.
    pub pages: U32,
    pub rights: u8,
    pub cached: u8,
    pub purpose: u8,
    pub _pad: u8,
}

#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct IoMappingRecord {
    pub pci: U32,
    pub object: U32,
    pub iova: U64,
    pub pages: U32,
    pub _pad: U32,
}

#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct IrqRecord {
    pub component: U32,
    pub kind: u8,
    /// IOAPIC: 0 edge, 1 level.
    pub level: u8,
    /// IOAPIC: 0 active high, 1 active low.
    pub polarity: u8,
    pub _pad: u8,
    /// IOAPIC pin, or the MSI handle.
    pub pin: U32,
    /// PCI device of an MSI, [`NONE`] for IOAPIC.
    pub pci: U32,
    /// Kernel vector 0..=107 (CPU vector 0x30 + this).
    pub vector: U32,
    /// The notification the handler signals.
    pub notification: U32,
    /// Slot of the IRQHandler cap in the component's CSpace.
    pub slot: U32,
    /// Badge of the notification cap bound to the handler.
    pub badge: U64,
}

pub const PCI_HAS_ID: u8 = 1;
pub const PCI_HAS_ADDRESS: u8 = 2;

#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct PciRecord {
    pub owner: U32,
    pub flags: u8,
    pub bus: u8,
    pub dev: u8,
    pub func: u8,
    pub vendor: U16,
    pub device: U16,
    /// VT-d domain of the device's IOSpace (non-zero, past RMRR domains).
    pub domain: U16,
    pub _pad: U16,
    pub name: StrRef,
}

#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct SymbolRecord {
    pub component: U32,
    pub kind: u8,
    pub _pad: [u8; 3],
    pub value: U64,
    pub size: U64,
    pub name: StrRef,
}

/// Why a spec was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than the header, or than the header's `total_len`.
    Truncated {
        needed: usize,
        len: usize,
    },
    BadMagic,
    Version {
        found: u32,
        expected: u32,
    },
    /// More bytes than `total_len` says.
    TrailingBytes {
        total_len: usize,
        len: usize,
    },
    /// A table does not lie inside the spec.
    TableOutOfBounds {
        table: Table,
    },
    /// A field holds an impossible value (an unknown enum, a bad index, an
    /// unaligned address...).
    BadField {
        table: Table,
        index: u32,
        field: &'static str,
        value: u64,
    },
    /// A string is out of the string table or not UTF-8.
    BadString {
        table: Table,
        index: u32,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::Truncated { needed, len } => {
                write!(f, "spec truncated: needs {needed} bytes, has {len}")
            }
            DecodeError::BadMagic => f.write_str("not a paddock spec (bad magic)"),
            DecodeError::Version { found, expected } => write!(
                f,
                "spec version {found} is not the supported version {expected}: rebuild the image"
            ),
            DecodeError::TrailingBytes { total_len, len } => {
                write!(f, "spec is {total_len} bytes but {len} were given")
            }
            DecodeError::TableOutOfBounds { table } => {
                write!(f, "table `{}` lies outside the spec", table.name())
            }
            DecodeError::BadField {
                table,
                index,
                field,
                value,
            } => write!(
                f,
                "{}[{index}].{field} has the invalid value {value:#x}",
                table.name()
            ),
            DecodeError::BadString { table, index } => {
                write!(f, "{}[{index}] has a bad string", table.name())
            }
        }
    }
}

/// A decoded, fully checked view of spec bytes.
#[derive(Clone, Copy, Debug)]
pub struct Spec<'a> {
    pub header: &'a Header,
    pub components: &'a [ComponentRecord],
    pub objects: &'a [ObjectRecord],
    pub caps: &'a [CapRecord],
    pub mappings: &'a [MappingRecord],
    pub io_mappings: &'a [IoMappingRecord],
    pub irqs: &'a [IrqRecord],
    pub pci: &'a [PciRecord],
    pub symbols: &'a [SymbolRecord],
    strings: &'a [u8],
}

fn table<'a, T: FromBytes + KnownLayout + Immutable + Unaligned>(
    bytes: &'a [u8],
    header: &Header,
    t: Table,
) -> Result<&'a [T], DecodeError> {
    let r = header.tables[t as usize];
    let (offset, count) = (r.offset.get() as usize, r.count.get() as usize);
    let size = core::mem::size_of::<T>();
    let end = count
        .checked_mul(size)
        .and_then(|n| n.checked_add(offset))
        .ok_or(DecodeError::TableOutOfBounds { table: t })?;
    let slice = bytes
        .get(offset..end)
        .ok_or(DecodeError::TableOutOfBounds { table: t })?;
    <[T]>::ref_from_bytes(slice).map_err(|_| DecodeError::TableOutOfBounds { table: t })
}

impl<'a> Spec<'a> {
    /// Checks `bytes` completely and returns a view of them.
    pub fn decode(bytes: &'a [u8]) -> Result<Spec<'a>, DecodeError> {
        let header_len = core::mem::size_of::<Header>();
        if bytes.len() < 8 {
            return Err(DecodeError::Truncated {
                needed: header_len,
                len: bytes.len(),
            });
        }
        if bytes[..8] != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        let (header, _) = Header::ref_from_prefix(bytes).map_err(|_| DecodeError::Truncated {
            needed: header_len,
            len: bytes.len(),
        })?;
        if header.version.get() != VERSION {
            return Err(DecodeError::Version {
                found: header.version.get(),
                expected: VERSION,
            });
        }
        let total = header.total_len.get() as usize;
        if bytes.len() < total {
            return Err(DecodeError::Truncated {
                needed: total,
                len: bytes.len(),
            });
        }
        if bytes.len() > total {
            return Err(DecodeError::TrailingBytes {
                total_len: total,
                len: bytes.len(),
            });
        }
        let spec = Spec {
            header,
            components: table(bytes, header, Table::Components)?,
            objects: table(bytes, header, Table::Objects)?,
            caps: table(bytes, header, Table::Caps)?,
            mappings: table(bytes, header, Table::Mappings)?,
            io_mappings: table(bytes, header, Table::IoMappings)?,
            irqs: table(bytes, header, Table::Irqs)?,
            pci: table(bytes, header, Table::Pci)?,
            symbols: table(bytes, header, Table::Symbols)?,
            strings: table(bytes, header, Table::Strings)?,
        };
        spec.check()?;
        Ok(spec)
    }

    /// A string of this spec. Every `StrRef` reachable from the tables was
    /// checked by `decode`; an unchecked one gives `""`.
    pub fn str(&self, s: StrRef) -> &'a str {
        self.try_str(s).unwrap_or("")
    }

    fn try_str(&self, s: StrRef) -> Option<&'a str> {
        let start = s.offset.get() as usize;
        let end = start.checked_add(s.len.get() as usize)?;
        core::str::from_utf8(self.strings.get(start..end)?).ok()
    }

    pub fn system_name(&self) -> &'a str {
        self.str(self.header.system_name)
    }

    pub fn iommu(&self) -> bool {
        self.header.flags.get() & FLAG_IOMMU != 0
    }

    /// The caps of one component, in slot order.
    pub fn caps_of(&self, c: &ComponentRecord) -> &'a [CapRecord] {
        range(self.caps, c.caps)
    }

    pub fn mappings_of(&self, c: &ComponentRecord) -> &'a [MappingRecord] {
        range(self.mappings, c.mappings)
    }

    pub fn symbols_of(&self, c: &ComponentRecord) -> &'a [SymbolRecord] {
        range(self.symbols, c.symbols)
    }

    /// A component's symbol by kind and name (a name can be both a slot
    /// and a badge bit, as an IRQ is).
    pub fn symbol(
        &self,
        c: &ComponentRecord,
        kind: SymbolKind,
        name: &str,
    ) -> Option<&'a SymbolRecord> {
        self.symbols_of(c)
            .iter()
            .find(|s| s.kind == kind as u8 && self.str(s.name) == name)
    }

    fn check(&self) -> Result<(), DecodeError> {
        let n_components = self.components.len() as u64;
        let n_objects = self.objects.len() as u64;
        let n_pci = self.pci.len() as u64;
        let n_irqs = self.irqs.len() as u64;
        if self.try_str(self.header.system_name).is_none() {
            return Err(DecodeError::BadString {
                table: Table::Components,
                index: NONE,
            });
        }
        let bad = |table, index: usize, field, value: u64| DecodeError::BadField {
            table,
            index: index as u32,
            field,
            value,
        };
        let string = |table, index: usize, s: StrRef| {
            self.try_str(s).map(|_| ()).ok_or(DecodeError::BadString {
                table,
                index: index as u32,
            })
        };
        let index = |table, i: usize, field, value: u32, limit: u64, none_ok: bool| {
            if (none_ok && value == NONE) || u64::from(value) < limit {
                Ok(())
            } else {
                Err(bad(table, i, field, value.into()))
            }
        };
        let within = |table, i: usize, field, r: RangeRef, len: usize| {
            let end = u64::from(r.first.get()) + u64::from(r.count.get());
            if end <= len as u64 {
                Ok(())
            } else {
                Err(bad(table, i, field, end))
            }
        };
        let t = Table::Components;
        for (i, c) in self.components.iter().enumerate() {
            string(t, i, c.name)?;
            string(t, i, c.program)?;
            if RestartKind::from_u8(c.restart).is_none() {
                return Err(bad(t, i, "restart", c.restart.into()));
            }
            if c.priority == u8::MAX {
                return Err(bad(t, i, "priority", c.priority.into()));
            }
            if !(1..=32).contains(&c.cnode_bits) {
                return Err(bad(t, i, "cnode_bits", c.cnode_bits.into()));
            }
            if c.badge.get() == 0 {
                return Err(bad(t, i, "badge", 0));
            }
            for (field, o, kind) in [
                ("tcb", c.tcb, ObjectKind::Tcb),
                ("cnode", c.cnode, ObjectKind::CNode),
                ("vspace", c.vspace, ObjectKind::VSpace),
                ("notification", c.notification, ObjectKind::Notification),
                ("ipc_buffer_object", c.ipc_buffer_object, ObjectKind::Frames),
            ] {
                index(t, i, field, o.get(), n_objects, false)?;
                if self.objects[o.get() as usize].kind != kind as u8 {
                    return Err(bad(t, i, field, o.get().into()));
                }
            }
            within(t, i, "caps", c.caps, self.caps.len())?;
            within(t, i, "mappings", c.mappings, self.mappings.len())?;
            within(t, i, "symbols", c.symbols, self.symbols.len())?;
            for cap in range(self.caps, c.caps) {
                if u64::from(cap.component.get()) != i as u64 {
                    return Err(bad(t, i, "caps", cap.component.get().into()));
                }
                if u64::from(cap.slot.get()) >= 1u64 << c.cnode_bits {
                    return Err(bad(Table::Caps, i, "slot", cap.slot.get().into()));
                }
            }
            for m in range(self.mappings, c.mappings) {
                if u64::from(m.component.get()) != i as u64 {
                    return Err(bad(t, i, "mappings", m.component.get().into()));
                }
            }
            for s in range(self.symbols, c.symbols) {
                if u64::from(s.component.get()) != i as u64 {
                    return Err(bad(t, i, "symbols", s.component.get().into()));
                }
            }
        }
        let t = Table::Objects;
        for (i, o) in self.objects.iter().enumerate() {
            let kind = ObjectKind::from_u8(o.kind).ok_or(bad(t, i, "kind", o.kind.into()))?;
            index(t, i, "owner", o.owner.get(), n_components, true)?;
            string(t, i, o.name)?;
            match kind {
                ObjectKind::Frames | ObjectKind::DeviceFrames if o.count.get() == 0 => {
                    return Err(bad(t, i, "count", 0));
                }
                ObjectKind::DeviceFrames | ObjectKind::IoPageTable => {
                    index(t, i, "aux", o.aux.get(), n_pci, false)?;
                }
                ObjectKind::CNode if !(1..=32).contains(&o.count.get()) => {
                    return Err(bad(t, i, "count", o.count.get().into()));
                }
                _ => {}
            }
        }
        let t = Table::Caps;
        for (i, c) in self.caps.iter().enumerate() {
            index(t, i, "component", c.component.get(), n_components, false)?;
            let kind = CapKind::from_u8(c.kind).ok_or(bad(t, i, "kind", c.kind.into()))?;
            if c.rights & !0xF != 0 {
                return Err(bad(t, i, "rights", c.rights.into()));
            }
            match kind {
                CapKind::IrqHandler => index(t, i, "object", c.object.get(), n_irqs, false)?,
                CapKind::IoPort | CapKind::IrqControl | CapKind::AsidControl => {}
                CapKind::IoPortControl | CapKind::IoSpace | CapKind::Untyped => {}
                _ => index(t, i, "object", c.object.get(), n_objects, false)?,
            }
            if kind == CapKind::IoPort {
                let (first, last) = (c.badge.get() >> 16, c.badge.get() & 0xFFFF);
                if first > 0xFFFF || first > last {
                    return Err(bad(t, i, "badge", c.badge.get()));
                }
            }
            string(t, i, c.name)?;
        }
        let t = Table::Mappings;
        for (i, m) in self.mappings.iter().enumerate() {
            index(t, i, "component", m.component.get(), n_components, false)?;
            index(t, i, "object", m.object.get(), n_objects, false)?;
            if m.vaddr.get() & 0xFFF != 0 || m.vaddr.get() >= 1 << 47 {
                return Err(bad(t, i, "vaddr", m.vaddr.get()));
            }
            let o = &self.objects[m.object.get() as usize];
            if m.pages.get() == 0 || m.pages.get() > o.count.get() {
                return Err(bad(t, i, "pages", m.pages.get().into()));
            }
            if !matches!(
                ObjectKind::from_u8(o.kind),
                Some(ObjectKind::Frames | ObjectKind::DeviceFrames)
            ) {
                return Err(bad(t, i, "object", m.object.get().into()));
            }
            if m.rights & !7 != 0 || m.rights & MAP_READ == 0 {
                return Err(bad(t, i, "rights", m.rights.into()));
            }
            if MapPurpose::from_u8(m.purpose).is_none() {
                return Err(bad(t, i, "purpose", m.purpose.into()));
            }
        }
        let t = Table::IoMappings;
        for (i, m) in self.io_mappings.iter().enumerate() {
            index(t, i, "pci", m.pci.get(), n_pci, false)?;
            index(t, i, "object", m.object.get(), n_objects, false)?;
            if m.iova.get() & 0xFFF != 0 {
                return Err(bad(t, i, "iova", m.iova.get()));
            }
            let o = &self.objects[m.object.get() as usize];
            if o.kind != ObjectKind::Frames as u8
                || m.pages.get() == 0
                || m.pages.get() > o.count.get()
            {
                return Err(bad(t, i, "pages", m.pages.get().into()));
            }
        }
        let t = Table::Irqs;
        for (i, q) in self.irqs.iter().enumerate() {
            index(t, i, "component", q.component.get(), n_components, false)?;
            let kind = IrqKind::from_u8(q.kind).ok_or(bad(t, i, "kind", q.kind.into()))?;
            if q.vector.get() > 107 {
                return Err(bad(t, i, "vector", q.vector.get().into()));
            }
            match kind {
                IrqKind::IoApic if q.pin.get() > 23 || q.level > 1 || q.polarity > 1 => {
                    return Err(bad(t, i, "pin", q.pin.get().into()));
                }
                IrqKind::Msi => index(t, i, "pci", q.pci.get(), n_pci, false)?,
                _ => {}
            }
            index(t, i, "notification", q.notification.get(), n_objects, false)?;
        }
        let t = Table::Pci;
        for (i, p) in self.pci.iter().enumerate() {
            index(t, i, "owner", p.owner.get(), n_components, false)?;
            if p.flags & !3 != 0 || p.flags == 0 || p.dev >= 32 || p.func >= 8 {
                return Err(bad(t, i, "flags", p.flags.into()));
            }
            string(t, i, p.name)?;
        }
        let t = Table::Symbols;
        for (i, s) in self.symbols.iter().enumerate() {
            index(t, i, "component", s.component.get(), n_components, false)?;
            if SymbolKind::from_u8(s.kind).is_none() {
                return Err(bad(t, i, "kind", s.kind.into()));
            }
            string(t, i, s.name)?;
        }
        Ok(())
    }
}

fn range<T>(all: &[T], r: RangeRef) -> &[T] {
    let first = r.first.get() as usize;
    let end = first.saturating_add(r.count.get() as usize);
    all.get(first..end).unwrap_or(&[])
}

/// The name a cap kind has in reports and in the root task's runtime dump
/// (one spelling for both sides, so they can be compared).
pub fn cap_kind_name(kind: u8) -> &'static str {
    match CapKind::from_u8(kind) {
        Some(CapKind::FaultEndpoint) => "fault-endpoint",
        Some(CapKind::Notification) => "notification",
        Some(CapKind::NotificationSend) => "notification-send",
        Some(CapKind::IrqHandler) => "irq-handler",
        Some(CapKind::IoPort) => "io-port",
        Some(CapKind::Untyped) => "untyped",
        Some(CapKind::IrqControl) => "irq-control",
        Some(CapKind::AsidControl) => "asid-control",
        Some(CapKind::IoPortControl) => "io-port-control",
        Some(CapKind::IoSpace) => "io-space",
        Some(CapKind::Tcb) => "tcb",
        Some(CapKind::CNode) => "cnode",
        Some(CapKind::VSpace) => "vspace",
        Some(CapKind::Frame) => "frame",
        None => "unknown",
    }
}

/// Cap rights as three letters, `r`/`w`/`g` or `-` (grant-reply, absent
/// in seL4 5.0, is not shown).
pub fn rights_text(bits: u8) -> [u8; 3] {
    [
        if bits & RIGHT_READ != 0 { b'r' } else { b'-' },
        if bits & RIGHT_WRITE != 0 { b'w' } else { b'-' },
        if bits & RIGHT_GRANT != 0 { b'g' } else { b'-' },
    ]
}
