//! The limits of one system, in one place.
//!
//! The root task holds its tables in fixed-capacity storage (no allocator),
//! and its pages (the info page, the status page) have fixed layouts. Each
//! such capacity is defined here once and used three times:
//! * by host validation (`paddock-caps`), which refuses a description that
//!   exceeds one with an error at the `file:line:column` responsible;
//! * by [`crate::Spec::decode`], which refuses a spec that exceeds one, so
//!   a spec that was not made by the host cannot get further;
//! * by the root task, whose tables are sized by these constants.
//!
//! A system the host accepts therefore never meets a limit at boot. What
//! only the image builder knows (program sizes, root CNode slots) is checked
//! by `paddock build` against the same constants.

use paddock_protocol::component;

/// Components one system may hold. The root task's CSpace views (one top
/// level CNode slot per component, see the root task's `views` module) and
/// the status page are sized for this many.
pub const MAX_COMPONENTS: usize = 256;

/// Kernel objects one spec may list (the root task's object table).
pub const MAX_OBJECTS: usize = 8192;

/// IRQ bindings one system may hold: the kernel has 108 user vectors.
pub const MAX_IRQS: usize = 108;

/// The kernel's IRQ vectors usable by user level on x86_64 (`vector` of
/// `IRQControl_GetIOAPIC` and `GetMSI`): 0..=107.
pub const MAX_IRQ_VECTOR: u8 = 107;

/// PCI functions one system may declare (the root task's device table).
pub const MAX_PCI_DEVICES: usize = 16;

/// Messages one PCI function's MSI capability can carry (Multiple Message
/// Capable is at most 5: 2^5 messages).
pub const MAX_MSI_MESSAGES: usize = 32;

/// Pages of program (ELF segments) one component may load.
pub const MAX_ELF_PAGES: usize = 256;

/// Paging structures (PDPTs, page directories, page tables) one address
/// space may hold, planned regions and program segments together.
pub const MAX_PAGING_TABLES: usize = 96;

/// Longest component name: the info page and the status page hold names of
/// this many bytes.
pub const COMPONENT_NAME_LEN: usize = component::NAME_LEN;

/// Longest name of a symbol on a component's info page (`ring.<name>`,
/// `dma.<device>.<window>`, a parameter's name...).
pub const SYMBOL_NAME_LEN: usize = component::SYMBOL_NAME_LEN;

/// Symbols one component's info page holds.
pub const MAX_SYMBOLS: usize = component::MAX_SYMBOLS;

/// Longest program name: the boot blob's entries hold names of this many
/// bytes.
pub const PROGRAM_NAME_LEN: usize = paddock_protocol::blob::NAME_LEN;

/// Longest system name (printed by the root task, named in the dump).
pub const SYSTEM_NAME_LEN: usize = 64;

/// Slots of the root task's CNode (`CONFIG_ROOT_CNODE_SIZE_BITS` 14 in
/// every kernel configuration paddock builds).
pub const ROOT_CNODE_SLOTS: usize = 1 << 14;

/// Root CNode slots the kernel's initial caps and boot untypeds take before
/// the first empty one (measured: the first empty slot is below 1200 on
/// every configuration with 512 MiB; kept with a margin).
pub const ROOT_SLOTS_RESERVED: usize = 1536;

/// Guest memory, in MiB, that is not available for the plan's objects:
/// the kernel's image and boot data, the root task's image (which holds
/// every program) and its working frames.
pub const MEMORY_RESERVED_MIB: u64 = 48;

/// Whether `name` fits the info and status pages.
pub const fn component_name_fits(name: &str) -> bool {
    name.len() <= COMPONENT_NAME_LEN
}

/// Whether `name` fits a symbol entry of the info page.
pub const fn symbol_name_fits(name: &str) -> bool {
    name.len() <= SYMBOL_NAME_LEN
}
