//! Error values of the transport and the virtqueue. Nothing a device
//! writes or reports can make this crate panic or touch memory it was not
//! given: it is one of these values, and the component decides what to do
//! (log it, reset the device, ask for a restart).

use core::fmt;

use crate::transport::StructureKind;
use crate::Iova;

/// Finding, checking or setting up the device failed. After an error from
/// [`Transport::negotiate`](crate::Transport::negotiate) or a later set-up
/// step the transport has already set the device's FAILED status bit;
/// `OutOfOrder` is the exception: it touches nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// A configuration-space read failed (the root task's answer).
    Config(paddock_pci::Error),
    /// The device has no usable capability of this type.
    MissingStructure(StructureKind),
    /// A vendor capability's `cap_len` is shorter than its fields.
    CapabilityTooShort {
        /// Offset of the capability in configuration space.
        at: u8,
        /// The `cap_len` it claims.
        cap_len: u8,
        /// Bytes its type needs.
        needed: u8,
    },
    /// A vendor capability's fields would run past configuration space.
    CapabilityPastConfigSpace {
        /// Offset of the capability in configuration space.
        at: u8,
        /// Bytes its type needs.
        needed: u8,
    },
    /// A structure is in a BAR the caller did not map.
    BarNotMapped {
        /// Which structure.
        kind: StructureKind,
        /// The BAR its capability names.
        bar: u8,
    },
    /// A structure reaches past the end of the mapped BAR.
    StructurePastBar {
        /// Which structure.
        kind: StructureKind,
        /// Its BAR.
        bar: u8,
        /// Its offset in the BAR.
        offset: u32,
        /// Its length.
        length: u32,
        /// Bytes of the BAR that are mapped.
        bar_size: u64,
    },
    /// A structure is shorter than its registers.
    StructureTooShort {
        /// Which structure.
        kind: StructureKind,
        /// Its length.
        length: u32,
        /// The fewest bytes it can have.
        minimum: u64,
    },
    /// A structure's offset is not aligned as virtio 1.x requires.
    StructureMisaligned {
        /// Which structure.
        kind: StructureKind,
        /// Its offset in the BAR.
        offset: u32,
        /// The alignment required.
        alignment: u64,
    },
    /// `notify_off_multiplier` is neither 0 nor a power of two of at least
    /// 2, so notify registers could be misaligned.
    NotifyMultiplierInvalid(u32),
    /// The device still reports a non-zero status after being reset.
    ResetTimeout {
        /// The last status read.
        status: u8,
    },
    /// The device lacks features the driver requires.
    MissingFeatures {
        /// What the device offers.
        offered: crate::Features,
        /// Required bits it does not offer.
        missing: crate::Features,
    },
    /// The device cleared FEATURES_OK: it does not accept the driver's
    /// subset of its features.
    FeaturesNotAccepted {
        /// What the driver accepted.
        accepted: crate::Features,
        /// The status read back.
        status: u8,
    },
    /// The device set DEVICE_NEEDS_RESET.
    DeviceNeedsReset {
        /// The status read.
        status: u8,
    },
    /// A step was called out of the handshake's order.
    OutOfOrder {
        /// The step.
        step: &'static str,
        /// What must come first.
        requires: &'static str,
    },
    /// The queue index is not below the device's `num_queues`.
    QueueIndexOutOfRange {
        /// Queue index.
        queue: u16,
        /// The device's `num_queues`.
        num_queues: u16,
    },
    /// The device's maximum size for the queue is 0: it is unavailable.
    QueueUnavailable {
        /// Queue index.
        queue: u16,
    },
    /// The device's maximum size for the queue is not a power of two,
    /// which a split virtqueue must be.
    QueueSizeNotPowerOfTwo {
        /// Queue index.
        queue: u16,
        /// The size the device reported.
        size: u16,
    },
    /// The device did not keep the queue size the driver wrote.
    QueueSizeNotKept {
        /// Queue index.
        queue: u16,
        /// Size written.
        written: u16,
        /// Size read back.
        read: u16,
    },
    /// The device did not keep an MSI-X vector (table entry) the driver
    /// wrote; it reads back [`NO_VECTOR`](crate::NO_VECTOR) when it has
    /// no such entry.
    MsixVectorRefused {
        /// The queue, or `None` for configuration changes.
        queue: Option<u16>,
        /// The entry written.
        vector: u16,
        /// What the device reads back.
        read: u16,
    },
    /// The queue's notify register (`queue_notify_off` times the
    /// multiplier, computed without overflow) lies outside the notify
    /// structure.
    NotifyOutOfRange {
        /// Queue index.
        queue: u16,
        /// The device's `queue_notify_off`.
        notify_off: u16,
        /// The device's `notify_off_multiplier`.
        multiplier: u32,
        /// Length of the notify structure.
        length: u32,
    },
    /// A device-configuration read reaches past its structure (or the
    /// device has none).
    DeviceConfigOutOfRange {
        /// Offset of the field.
        offset: u64,
        /// Its width.
        width: u8,
        /// Length of the device configuration structure.
        length: u64,
    },
    /// `config_generation` kept changing while the configuration was read.
    ConfigNeverStable,
    /// The queue memory is not fit for the queue.
    Layout(LayoutError),
}

impl From<paddock_pci::Error> for TransportError {
    fn from(e: paddock_pci::Error) -> Self {
        Self::Config(e)
    }
}

impl From<LayoutError> for TransportError {
    fn from(e: LayoutError) -> Self {
        Self::Layout(e)
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Config(e) => write!(f, "reading configuration space: {e}"),
            Self::MissingStructure(kind) => {
                write!(f, "the device has no usable {} capability", kind.name())
            }
            Self::CapabilityTooShort { at, cap_len, needed } => write!(
                f,
                "vendor capability at {at:#x} is {cap_len} bytes long, its fields need {needed}"
            ),
            Self::CapabilityPastConfigSpace { at, needed } => write!(
                f,
                "vendor capability at {at:#x} would need {needed} bytes, past the end of configuration space"
            ),
            Self::BarNotMapped { kind, bar } => write!(
                f,
                "the {} structure is in BAR {bar}, which is not mapped",
                kind.name()
            ),
            Self::StructurePastBar { kind, bar, offset, length, bar_size } => write!(
                f,
                "the {} structure ({length:#x} bytes at {offset:#x}) reaches past the {bar_size:#x} mapped bytes of BAR {bar}",
                kind.name()
            ),
            Self::StructureTooShort { kind, length, minimum } => write!(
                f,
                "the {} structure is {length} bytes long, at least {minimum} are needed",
                kind.name()
            ),
            Self::StructureMisaligned { kind, offset, alignment } => write!(
                f,
                "the {} structure's offset {offset:#x} is not a multiple of {alignment}",
                kind.name()
            ),
            Self::NotifyMultiplierInvalid(m) => write!(
                f,
                "notify_off_multiplier {m:#x} is neither 0 nor a power of two of at least 2"
            ),
            Self::ResetTimeout { status } => {
                write!(f, "the device did not finish its reset (status {status:#x})")
            }
            Self::MissingFeatures { offered, missing } => write!(
                f,
                "the device offers features {offered} without the required {missing} (VERSION_1 is bit 32, ACCESS_PLATFORM bit 33)"
            ),
            Self::FeaturesNotAccepted { accepted, status } => write!(
                f,
                "the device did not keep FEATURES_OK for features {accepted} (status {status:#x})"
            ),
            Self::DeviceNeedsReset { status } => {
                write!(f, "the device needs a reset (status {status:#x})")
            }
            Self::OutOfOrder { step, requires } => {
                write!(f, "{step} before {requires}")
            }
            Self::QueueIndexOutOfRange { queue, num_queues } => {
                write!(f, "queue {queue} does not exist: the device has {num_queues}")
            }
            Self::QueueUnavailable { queue } => {
                write!(f, "queue {queue} is unavailable (maximum size 0)")
            }
            Self::QueueSizeNotPowerOfTwo { queue, size } => write!(
                f,
                "queue {queue}: maximum size {size} is not a power of two"
            ),
            Self::QueueSizeNotKept { queue, written, read } => write!(
                f,
                "queue {queue}: size {written} written, {read} read back"
            ),
            Self::MsixVectorRefused { queue, vector, read } => {
                match queue {
                    Some(q) => write!(f, "queue {q}")?,
                    None => f.write_str("configuration changes")?,
                }
                write!(f, ": MSI-X entry {vector} refused (read back {read:#x})")
            }
            Self::NotifyOutOfRange { queue, notify_off, multiplier, length } => write!(
                f,
                "queue {queue}: notify register at {notify_off} x {multiplier:#x} lies outside the {length:#x}-byte notify structure"
            ),
            Self::DeviceConfigOutOfRange { offset, width, length } => write!(
                f,
                "device configuration field of {width} bytes at {offset:#x} is past its {length}-byte structure"
            ),
            Self::ConfigNeverStable => {
                f.write_str("the device configuration kept changing while it was read")
            }
            Self::Layout(e) => e.fmt(f),
        }
    }
}

/// Memory handed over for a queue or for request headers does not have the
/// shape the device will be told it has. A configuration error, found
/// before the device learns any address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// A queue size that is not a power of two in 1..=32768.
    BadQueueSize {
        /// The size.
        size: usize,
    },
    /// The parts of one queue have different capacities.
    MismatchedParts {
        /// Descriptors.
        descriptors: usize,
        /// Available ring entries.
        available: usize,
        /// Used ring entries.
        used: usize,
    },
    /// Memory too small for what was asked of it.
    TooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        given: usize,
    },
    /// An address (virtual or IOVA) lacks the alignment its part needs.
    Misaligned {
        /// Which part.
        part: &'static str,
        /// The address.
        address: u64,
        /// The alignment needed.
        alignment: u64,
    },
    /// An IOVA range wraps past the top of the address space.
    IovaWraps {
        /// Which part.
        part: &'static str,
        /// Its IOVA.
        iova: Iova,
    },
    /// Fewer request slots than the queue can have chains.
    TooFewRequestSlots {
        /// Slots given.
        slots: usize,
        /// The queue's size.
        queue_size: u16,
    },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BadQueueSize { size } => {
                write!(f, "queue size {size} is not a power of two in 1..=32768")
            }
            Self::MismatchedParts { descriptors, available, used } => write!(
                f,
                "queue parts disagree: {descriptors} descriptors, {available} available entries, {used} used entries"
            ),
            Self::TooSmall { needed, given } => {
                write!(f, "{given} bytes given, {needed} needed")
            }
            Self::Misaligned { part, address, alignment } => {
                write!(f, "{part} at {address:#x} is not {alignment}-byte aligned")
            }
            Self::IovaWraps { part, iova } => {
                write!(f, "{part} at IOVA {iova} wraps past the top of the address space")
            }
            Self::TooFewRequestSlots { slots, queue_size } => write!(
                f,
                "{slots} request slots for a queue of {queue_size}: one per descriptor is needed"
            ),
        }
    }
}

/// A buffer chain could not be added. Nothing was written to shared memory
/// and the queue is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubmitError {
    /// The chain has no segments.
    Empty,
    /// A segment of length 0.
    ZeroLength {
        /// Its position in the chain.
        index: usize,
    },
    /// A segment whose IOVA range wraps past the top of the address space.
    SegmentWraps {
        /// Its position in the chain.
        index: usize,
        /// Its IOVA.
        iova: Iova,
        /// Its length.
        len: u32,
    },
    /// More segments than the queue has descriptors: it can never fit.
    ChainTooLong {
        /// Descriptors needed.
        descriptors: usize,
        /// The queue's size.
        queue_size: u16,
    },
    /// Not enough free descriptors now; completions free them.
    NoFreeDescriptors {
        /// Descriptors needed.
        needed: usize,
        /// Descriptors free.
        free: u16,
    },
    /// The writable segments add up to more than a used length can report.
    WritableTooLong {
        /// Their total.
        bytes: u64,
    },
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Empty => f.write_str("empty buffer chain"),
            Self::ZeroLength { index } => write!(f, "segment {index} has length 0"),
            Self::SegmentWraps { index, iova, len } => write!(
                f,
                "segment {index} ({len} bytes at IOVA {iova}) wraps past the top of the address space"
            ),
            Self::ChainTooLong { descriptors, queue_size } => write!(
                f,
                "a chain of {descriptors} segments cannot fit a queue of {queue_size}"
            ),
            Self::NoFreeDescriptors { needed, free } => {
                write!(f, "{needed} descriptors needed, {free} free")
            }
            Self::WritableTooLong { bytes } => write!(
                f,
                "{bytes} writable bytes: more than a used length (u32) can report"
            ),
        }
    }
}

/// The device wrote something into the used ring that the protocol
/// forbids. Nothing was consumed: the queue's own state is as it was before
/// the call, and the same error is reported again until the device is
/// reset. A device that does this is broken or hostile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceError {
    /// `used.idx` claims more completions than there are chains in flight
    /// (or moved backwards, which looks the same).
    UsedIdxAhead {
        /// The index read.
        used_idx: u16,
        /// The next entry the driver expects.
        last_used: u16,
        /// Chains made available and not completed.
        in_flight: u16,
    },
    /// A used entry's id is not a descriptor index.
    UsedIdOutOfRange {
        /// The id read.
        id: u32,
        /// The queue's size.
        queue_size: u16,
    },
    /// A used entry's id is a descriptor inside a chain, not its head.
    UsedIdNotHead {
        /// The id read.
        id: u32,
    },
    /// A used entry's id is a descriptor that is free or not yet made
    /// available.
    UsedIdNotInFlight {
        /// The id read.
        id: u32,
    },
    /// A used entry's id is the head of a chain already completed.
    UsedIdCompletedTwice {
        /// The id read.
        id: u32,
    },
    /// A used entry claims more bytes written than the chain has writable.
    UsedLenTooLarge {
        /// The id read.
        id: u32,
        /// The length read.
        len: u32,
        /// Writable bytes of the chain.
        writable: u32,
    },
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::UsedIdxAhead { used_idx, last_used, in_flight } => write!(
                f,
                "device's used index {used_idx} is more than the {in_flight} chains in flight past {last_used}"
            ),
            Self::UsedIdOutOfRange { id, queue_size } => write!(
                f,
                "device completed descriptor {id}, outside the queue of {queue_size}"
            ),
            Self::UsedIdNotHead { id } => write!(
                f,
                "device completed descriptor {id}, which is inside a chain, not its head"
            ),
            Self::UsedIdNotInFlight { id } => write!(
                f,
                "device completed descriptor {id}, which heads no chain it was given"
            ),
            Self::UsedIdCompletedTwice { id } => write!(
                f,
                "device completed the chain at descriptor {id} twice"
            ),
            Self::UsedLenTooLarge { id, len, writable } => write!(
                f,
                "device reports {len} bytes written to the chain at descriptor {id}, which has {writable} writable"
            ),
        }
    }
}

/// `From` each of the transport's and queue's errors for a device's error
/// type, whose variants `Transport`, `Layout`, `Submit` and `Device` wrap
/// them: one definition for every device on the transport.
macro_rules! wraps_transport_errors {
    ($device_error:ty) => {
        impl From<$crate::error::TransportError> for $device_error {
            fn from(e: $crate::error::TransportError) -> Self {
                Self::Transport(e)
            }
        }

        impl From<$crate::error::LayoutError> for $device_error {
            fn from(e: $crate::error::LayoutError) -> Self {
                Self::Layout(e)
            }
        }

        impl From<$crate::error::SubmitError> for $device_error {
            fn from(e: $crate::error::SubmitError) -> Self {
                Self::Submit(e)
            }
        }

        impl From<$crate::error::DeviceError> for $device_error {
            fn from(e: $crate::error::DeviceError) -> Self {
                Self::Device(e)
            }
        }
    };
}
pub(crate) use wraps_transport_errors;
