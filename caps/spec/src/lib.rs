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
//! * Limits: `decode` refuses a spec with more components, objects, IRQs,
//!   PCI devices or symbols per component than [`limits`] allows, and any
//!   name longer than its field on the root task's pages
//!   ([`DecodeError::TooMany`], [`DecodeError::NameTooLong`]), so the root
//!   task's fixed tables never overflow.
//! * What the root task must still check at boot: that each PCI device exists
//!   (by id or address), that each BAR has at least the planned size, that the
//!   IOMMU has [`Header::io_pt_levels`] levels, that a device's MSI can carry
//!   its planned messages, that the machine routes an INTx device's pin to
//!   its declared line ([`PciRecord::intx_irq`]), that a device untyped
//!   covers each [`ObjectKind::PlatformFrames`] object, and that memory
//!   suffices.
//! * Object kinds are this crate's own numbering ([`ObjectKind`]), not the
//!   kernel's object-type numbers, which move with the kernel configuration.

#![no_std]
#![forbid(unsafe_code)]

mod check;
mod error;
pub mod limits;
pub mod pci_config;

pub use check::msi_block_fits;
pub use error::DecodeError;

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// The first eight bytes of every spec.
pub const MAGIC: [u8; 8] = *b"PADDOCK\0";
/// The record layout version this crate reads and writes. 2: objects name
/// their owner ([`OwnerKind`]); PCI records carry bus mastering and the
/// MSI block; an MSI's `pin` is its message number. 3: a PCI record that
/// signals through INTx names the IRQ record of its declared line
/// ([`PciRecord::intx_irq`]). 4: platform device memory by physical
/// address ([`ObjectKind::PlatformFrames`], [`MapPurpose::DeviceMemory`]).
pub const VERSION: u32 = 4;
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
        /// `count` 4 KiB frames of platform device memory (not behind a
        /// PCI BAR) at physical address `base`, from the device untyped
        /// that covers it.
        PlatformFrames = 12,
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
        /// Badged copy of the root task's endpoint (`object` = the fault
        /// endpoint) through which the holder reads, and may write, its own
        /// PCI function's configuration space; badge per [`pci_config`].
        PciConfig = 6,
        /// Send and grant on a channel's endpoint (`object` = the
        /// endpoint), badged with the holder's component badge: the
        /// holder calls the channel's server. seL4 5.0 makes the reply
        /// cap only for a caller whose cap has grant.
        CallEndpoint = 7,
        /// Receive on a channel's endpoint (`object` = the endpoint): the
        /// holder serves the other end's calls.
        ServeEndpoint = 8,
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
        /// Platform device memory declared by physical address.
        DeviceMemory = 9,
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
    /// What an object belongs to ([`ObjectRecord::owner_kind`]).
    OwnerKind {
        /// The root task (the fault endpoint).
        Root = 0,
        Component = 1,
        Ring = 2,
        Shared = 3,
        /// A PCI device: its BAR frames, DMA buffers, IO page tables.
        Pci = 4,
    }
);

wire_enum!(
    IrqKind {
        IoApic = 1,
        Msi = 2,
        /// An MSI-X table entry: `pin` is the entry number, `pci` the
        /// device; the root task programs the entry with the vector.
        MsiX = 3,
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
    /// An [`OwnerKind`]: what `owner_index` indexes.
    pub owner_kind: u8,
    pub _pad: [u8; 2],
    /// Component whose structure this is, or [`NONE`] for shared objects.
    pub owner: U32,
    pub count: U32,
    pub aux: U32,
    pub aux2: U32,
    /// The owning component, ring, shared region (their declaration order)
    /// or PCI device; [`NONE`] for the root task. Equals `owner` for a
    /// component's object. The root task ignores it; the host reads the
    /// plan back from a spec with it.
    pub owner_index: U32,
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
    /// IOAPIC pin, the MSI handle, or the MSI-X table entry.
    pub pin: U32,
    /// PCI device of an MSI or MSI-X entry, [`NONE`] for IOAPIC.
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
/// The root task turns on bus mastering: the device's DMA is confined by
/// IOSpace windows, or declared unconfined on a system without an IOMMU.
pub const PCI_BUS_MASTER: u8 = 4;
/// The device signals through its INTx pin: the root task leaves its
/// INTx-disable command bit clear. Set for a device without MSI whose
/// driver declares an IOAPIC line (its own, or a shared one), exactly
/// when [`PciRecord::intx_irq`] names that line.
pub const PCI_INTX: u8 = 8;
const PCI_FLAGS: u8 = PCI_HAS_ID | PCI_HAS_ADDRESS | PCI_BUS_MASTER | PCI_INTX;

/// The CPU vector of the kernel's IRQ vector 0: an MSI's data carries
/// 0x30 + the kernel vector.
pub const MSI_CPU_VECTOR_BASE: u32 = 0x30;

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
    /// Kernel vector of MSI message 0. The device's `msi_count` messages
    /// take `msi_vector..msi_vector + msi_count`, inside a block of
    /// `msi_count` rounded up to a power of two N, with
    /// [`MSI_CPU_VECTOR_BASE`] + `msi_vector` a multiple of N.
    pub msi_vector: u8,
    /// MSI messages the plan binds (0: none; at most
    /// [`limits::MAX_MSI_MESSAGES`]).
    pub msi_count: u8,
    /// With [`PCI_INTX`]: the IOAPIC IRQ record of the line the device's
    /// INTx is declared on (the driver's own, or the holder's of a shared
    /// line). The root task refuses to boot when the machine's routing
    /// (ACPI `_PRT`) takes the device's pin elsewhere. [`NONE`] otherwise.
    pub intx_irq: U32,
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

    pub(crate) fn try_str(&self, s: StrRef) -> Option<&'a str> {
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
}

pub(crate) fn range<T>(all: &[T], r: RangeRef) -> &[T] {
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
        Some(CapKind::PciConfig) => "pci-config",
        Some(CapKind::CallEndpoint) => "call-endpoint",
        Some(CapKind::ServeEndpoint) => "serve-endpoint",
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
