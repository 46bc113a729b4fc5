//! virtio 1.x for paddock's isolated drivers: the modern PCI transport, a
//! split virtqueue, and virtio-blk on top.
//!
//! `no_std`, no allocation: a driver component links it as it is, and the
//! host tests (`cargo test -p paddock-virtio`) drive it against a modelled
//! device. `docs/virtio.md` explains the design; in short:
//!
//! - **Transport** ([`Transport`]): the common, notify, ISR and device
//!   structures are found through the function's vendor capabilities
//!   (read through any [`paddock_pci::Config`], so the crate knows nothing
//!   of seL4) and checked against the BAR mappings the caller gives, before
//!   any register is touched. Then the status handshake, 64-bit feature
//!   negotiation (VERSION_1 and ACCESS_PLATFORM required for virtio-blk),
//!   queue set-up with the MSI-X entry read back, DRIVER_OK.
//! - **Registers** go through the [`Mmio`] trait; [`MappedRegion`] is the
//!   volatile implementation over a mapped BAR.
//! - **Virtqueue** ([`Virtqueue`]): over memory the caller maps, whose
//!   IOVAs alone are given to the device. Buffer chains are lists of
//!   [`Segment`]s (IOVA, length) the driver never dereferences: data lives
//!   in a window only the client maps.
//! - **virtio-blk** ([`blk::BlkDevice`]): read, write, flush and GET_ID
//!   requests whose header and status live in driver-owned DMA memory,
//!   checked against the capacity before submission.
//!
//! # The device is untrusted
//!
//! Every value the device writes or reports is checked before it is used:
//! capability fields against configuration space, structure offsets and
//! lengths against the mapped BAR (in 64-bit arithmetic), the notify
//! register's place against the notify structure, queue sizes, MSI-X
//! read-backs, FEATURES_OK, and in the used ring the index, each id and
//! each length ([`queue`] lists the rules). A violation is an error value
//! ([`TransportError`], [`DeviceError`], [`blk::BlkError`]) with a
//! message saying what the device did; never a panic, never an access
//! outside what the driver was given.
//!
//! # Unsafe code
//!
//! One module, `raw.rs`: the volatile register access of [`MappedRegion`]
//! and the constructors that attach to shared memory by address
//! ([`QueueMemory::from_raw`], [`blk::RequestMemory::from_raw`]). The rest
//! of the crate denies unsafe code. Host tests build the same views
//! safely from memory they own (`from_bytes` constructors).
//!
//! # Crates used and not used
//!
//! - `zerocopy` defines every layout the device shares with the driver (the
//!   descriptor table and rings, the request header, the PCI capability,
//!   the common and virtio-blk configuration): its derives refuse padding
//!   and non-`FromBytes` fields, and the `from_bytes` constructors use it
//!   to make typed views of memory without unsafe code.
//! - `volatile` is not used: registers are reached by offset through the
//!   [`Mmio`] trait (so a test can model the device), never through a
//!   typed pointer to a register block, which is what `volatile`'s
//!   `VolatilePtr` and field projections are for. The one place that
//!   touches device memory, [`MappedRegion`], is two `read_volatile`/
//!   `write_volatile` calls after a bounds check, and a wrapper would add
//!   a dependency without removing an `unsafe`.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod blk;
mod error;
mod mmio;
pub mod net;
pub mod queue;
mod raw;
pub mod transport;

pub use error::{DeviceError, LayoutError, SubmitError, TransportError};
pub use mmio::Mmio;
pub use queue::layout::{QueueIovas, QueueMemory};
pub use queue::{Notify, Segment, Used, Virtqueue};
pub use raw::{MappedRegion, Part};
pub use transport::registers::{Features, NO_VECTOR};
pub use transport::{DeviceConfig, Notifier, Structure, StructureKind, Structures, Transport};

/// A device-visible address: where the device reaches memory through its
/// IOSpace (the IOMMU's translation), not where the driver maps it. The
/// only kind of address a device is ever told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Iova(pub u64);

impl Iova {
    /// `self + bytes`, or `None` past the top of the address space.
    pub fn checked_add(self, bytes: u64) -> Option<Iova> {
        self.0.checked_add(bytes).map(Iova)
    }
}

impl core::fmt::Display for Iova {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}
