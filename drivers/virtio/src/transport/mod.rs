//! The virtio 1.x modern PCI transport: the structures checked against the
//! BARs the caller mapped, the status handshake, feature negotiation,
//! queue set-up and notification.
//!
//! The handshake (virtio 1.x, 3.1.1), each step a method:
//!
//! 1. [`negotiate`](Transport::negotiate): reset (wait for status 0),
//!    ACKNOWLEDGE, DRIVER, read the 64 feature bits, refuse a device
//!    without the required ones, accept only the offered bits the driver
//!    knows, FEATURES_OK, and read the status back: a device that clears
//!    FEATURES_OK does not accept the subset.
//! 2. [`setup_queue`](Transport::setup_queue) for each queue, and
//!    [`set_config_vector`](Transport::set_config_vector).
//! 3. [`driver_ok`](Transport::driver_ok).
//!
//! An error at any step after the reset sets FAILED before it is returned.
//! MSI-X: the root task programs the table; the driver only writes the
//! index of a table entry into `queue_msix_vector` or `msix_config` and
//! reads it back, since a device without that entry reads back
//! [`NO_VECTOR`].

pub mod registers;
mod structures;

pub use structures::{Structure, StructureKind, Structures};

use paddock_pci::Config;

use crate::error::TransportError;
use crate::mmio::Mmio;
use crate::queue::layout::QueueMemory;
use crate::queue::Virtqueue;
use registers::{common, status, Features, NO_VECTOR};

/// How many status reads a reset may take before the device is given up.
const RESET_POLLS: u32 = 1000;
/// How many times a device-configuration read is retried while the
/// generation changes under it.
const GENERATION_RETRIES: u32 = 64;

/// A structure after it was checked to lie within its mapped BAR.
#[derive(Clone, Copy, Debug)]
struct Window {
    bar: usize,
    offset: u64,
    length: u64,
}

/// How far the handshake has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Found,
    FeaturesOk,
    DriverOk,
    Failed,
}

/// Where a queue's notify register is: what
/// [`Transport::notify`](Transport::notify) writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Notifier {
    /// The queue's index, the value written.
    pub queue: u16,
    /// Offset of the register within the notify structure, checked to lie
    /// inside it.
    pub offset: u64,
}

/// A modern virtio PCI function whose structures lie within the BARs the
/// caller mapped.
pub struct Transport<M: Mmio> {
    bars: [Option<M>; 6],
    common: Window,
    notify: Window,
    notify_off_multiplier: u32,
    isr: Window,
    device: Option<Window>,
    phase: Phase,
}

impl<M: Mmio> Transport<M> {
    /// Finds the structures through the vendor capabilities of `config` and
    /// checks them against `bars` (index = BAR number; `None` for a BAR the
    /// plan does not map into this driver).
    pub fn new(config: &impl Config, bars: [Option<M>; 6]) -> Result<Self, TransportError> {
        Self::from_structures(&Structures::find(config)?, bars)
    }

    /// Checks structures already found: each must be in a mapped BAR, end
    /// within the mapping (computed in 64 bits: a 32-bit offset plus a
    /// 32-bit length cannot wrap), be long enough for its registers and be
    /// aligned as virtio 1.x requires; the notify multiplier must be 0 or a
    /// power of two of at least 2. Nothing is written to the device.
    pub fn from_structures(
        found: &Structures,
        bars: [Option<M>; 6],
    ) -> Result<Self, TransportError> {
        let window = |kind: StructureKind, s: Structure| -> Result<Window, TransportError> {
            let bar = bars
                .get(usize::from(s.bar))
                .and_then(Option::as_ref)
                .ok_or(TransportError::BarNotMapped { kind, bar: s.bar })?;
            let (offset, length) = (u64::from(s.offset), u64::from(s.length));
            if offset + length > bar.size() {
                return Err(TransportError::StructurePastBar {
                    kind,
                    bar: s.bar,
                    offset: s.offset,
                    length: s.length,
                    bar_size: bar.size(),
                });
            }
            if length < kind.minimum_length() {
                return Err(TransportError::StructureTooShort {
                    kind,
                    length: s.length,
                    minimum: kind.minimum_length(),
                });
            }
            if !offset.is_multiple_of(kind.alignment()) {
                return Err(TransportError::StructureMisaligned {
                    kind,
                    offset: s.offset,
                    alignment: kind.alignment(),
                });
            }
            Ok(Window {
                bar: usize::from(s.bar),
                offset,
                length,
            })
        };
        let common = window(StructureKind::Common, found.common)?;
        let notify = window(StructureKind::Notify, found.notify)?;
        let isr = window(StructureKind::Isr, found.isr)?;
        let device = match found.device {
            Some(s) => Some(window(StructureKind::Device, s)?),
            None => None,
        };
        let m = found.notify_off_multiplier;
        if m != 0 && (m < 2 || !m.is_power_of_two()) {
            return Err(TransportError::NotifyMultiplierInvalid(m));
        }
        Ok(Self {
            bars,
            common,
            notify,
            notify_off_multiplier: m,
            isr,
            device,
            phase: Phase::Found,
        })
    }

    /// The BAR mapping of a checked window. Every window was built from a
    /// mapped BAR in `from_structures`, so this always finds one; the
    /// `Option` only keeps the access free of panics.
    fn bar(&self, w: Window) -> Option<&M> {
        self.bars.get(w.bar).and_then(Option::as_ref)
    }

    fn common_read8(&self, field: u64) -> u8 {
        self.bar(self.common)
            .map_or(u8::MAX, |b| b.read8(self.common.offset + field))
    }
    fn common_read16(&self, field: u64) -> u16 {
        self.bar(self.common)
            .map_or(u16::MAX, |b| b.read16(self.common.offset + field))
    }
    fn common_read32(&self, field: u64) -> u32 {
        self.bar(self.common)
            .map_or(u32::MAX, |b| b.read32(self.common.offset + field))
    }
    fn common_write8(&self, field: u64, value: u8) {
        if let Some(b) = self.bar(self.common) {
            b.write8(self.common.offset + field, value)
        }
    }
    fn common_write16(&self, field: u64, value: u16) {
        if let Some(b) = self.bar(self.common) {
            b.write16(self.common.offset + field, value)
        }
    }
    fn common_write32(&self, field: u64, value: u32) {
        if let Some(b) = self.bar(self.common) {
            b.write32(self.common.offset + field, value)
        }
    }
    fn common_write64(&self, field: u64, value: u64) {
        if let Some(b) = self.bar(self.common) {
            b.write64(self.common.offset + field, value)
        }
    }

    /// The device status register.
    pub fn status(&self) -> u8 {
        self.common_read8(common::DEVICE_STATUS)
    }

    fn set_status(&self, bits: u8) {
        self.common_write8(common::DEVICE_STATUS, bits);
    }

    /// Tells the device the driver has given up on it (status FAILED).
    pub fn fail(&mut self) {
        let current = self.status();
        self.set_status(current | status::FAILED);
        self.phase = Phase::Failed;
    }

    fn failing<T>(&mut self, e: TransportError) -> Result<T, TransportError> {
        self.fail();
        Err(e)
    }

    /// Resets the device and waits (a bounded number of reads) for its
    /// status to read 0, as virtio 1.x requires before re-initialising.
    pub fn reset(&mut self) -> Result<(), TransportError> {
        self.set_status(0);
        let mut last = 0;
        for _ in 0..RESET_POLLS {
            last = self.status();
            if last == 0 {
                self.phase = Phase::Found;
                return Ok(());
            }
            core::hint::spin_loop();
        }
        self.failing(TransportError::ResetTimeout { status: last })
    }

    /// The 64 feature bits the device offers.
    pub fn device_features(&self) -> Features {
        self.common_write32(common::DEVICE_FEATURE_SELECT, 0);
        let low = self.common_read32(common::DEVICE_FEATURE);
        self.common_write32(common::DEVICE_FEATURE_SELECT, 1);
        let high = self.common_read32(common::DEVICE_FEATURE);
        Features(u64::from(high) << 32 | u64::from(low))
    }

    /// Steps 1-5 of the handshake (see the module documentation). Accepts
    /// the offered bits of `known` (which should include `required`) and
    /// returns them.
    pub fn negotiate(
        &mut self,
        known: Features,
        required: Features,
    ) -> Result<Features, TransportError> {
        self.reset()?;
        self.set_status(status::ACKNOWLEDGE);
        self.set_status(status::ACKNOWLEDGE | status::DRIVER);
        let offered = self.device_features();
        let missing = required.difference(offered);
        if !missing.is_empty() {
            return self.failing(TransportError::MissingFeatures { offered, missing });
        }
        let accepted = offered.intersection(known.union(required));
        self.common_write32(common::DRIVER_FEATURE_SELECT, 0);
        self.common_write32(common::DRIVER_FEATURE, accepted.0 as u32);
        self.common_write32(common::DRIVER_FEATURE_SELECT, 1);
        self.common_write32(common::DRIVER_FEATURE, (accepted.0 >> 32) as u32);
        self.set_status(status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK);
        let read = self.status();
        if read & status::DEVICE_NEEDS_RESET != 0 {
            return self.failing(TransportError::DeviceNeedsReset { status: read });
        }
        if read & status::FEATURES_OK == 0 {
            return self.failing(TransportError::FeaturesNotAccepted {
                accepted,
                status: read,
            });
        }
        self.phase = Phase::FeaturesOk;
        Ok(accepted)
    }

    fn require_features_ok(&mut self, step: &'static str) -> Result<(), TransportError> {
        match self.phase {
            Phase::FeaturesOk => Ok(()),
            Phase::DriverOk => Err(TransportError::OutOfOrder {
                step,
                requires: "negotiation, and it must come before DRIVER_OK",
            }),
            Phase::Found | Phase::Failed => Err(TransportError::OutOfOrder {
                step,
                requires: "a successful negotiation",
            }),
        }
    }

    /// How many queues the device has.
    pub fn num_queues(&self) -> u16 {
        self.common_read16(common::NUM_QUEUES)
    }

    /// Sets up queue `queue` over `memory` (virtio 1.x, 4.1.5.1.3): the
    /// device's maximum size must be a non-zero power of two; the queue
    /// gets the smaller of it and the memory's capacity (and `N`), read
    /// back; the device is told the three IOVAs; `vector` (an MSI-X table
    /// entry, or `None` for no interrupt) is written and read back; the
    /// notify register's place is computed without overflow and checked to
    /// lie in the notify structure; then the queue is enabled.
    pub fn setup_queue<'a, const N: usize>(
        &mut self,
        queue: u16,
        memory: QueueMemory<'a>,
        vector: Option<u16>,
    ) -> Result<(Virtqueue<'a, N>, Notifier), TransportError> {
        self.require_features_ok("setting up a queue")?;
        match self.try_setup_queue(queue, memory, vector) {
            Ok(ready) => Ok(ready),
            Err(e) => self.failing(e),
        }
    }

    fn try_setup_queue<'a, const N: usize>(
        &mut self,
        queue: u16,
        memory: QueueMemory<'a>,
        vector: Option<u16>,
    ) -> Result<(Virtqueue<'a, N>, Notifier), TransportError> {
        let num_queues = self.num_queues();
        if queue >= num_queues {
            return Err(TransportError::QueueIndexOutOfRange { queue, num_queues });
        }
        self.common_write16(common::QUEUE_SELECT, queue);
        let max = self.common_read16(common::QUEUE_SIZE);
        if max == 0 {
            return Err(TransportError::QueueUnavailable { queue });
        }
        if !max.is_power_of_two() {
            return Err(TransportError::QueueSizeNotPowerOfTwo { queue, size: max });
        }
        let limit = u16::try_from(N).unwrap_or(u16::MAX);
        let size = max.min(memory.capacity()).min(prev_power_of_two(limit));
        let virtqueue = Virtqueue::new(memory, size)?;
        self.common_write16(common::QUEUE_SIZE, size);
        let read = self.common_read16(common::QUEUE_SIZE);
        if read != size {
            return Err(TransportError::QueueSizeNotKept {
                queue,
                written: size,
                read,
            });
        }
        let iovas = memory.iovas();
        self.common_write64(common::QUEUE_DESC, iovas.descriptors.0);
        self.common_write64(common::QUEUE_DRIVER, iovas.available.0);
        self.common_write64(common::QUEUE_DEVICE, iovas.used.0);
        let written = vector.unwrap_or(NO_VECTOR);
        self.common_write16(common::QUEUE_MSIX_VECTOR, written);
        let read = self.common_read16(common::QUEUE_MSIX_VECTOR);
        if read != written {
            return Err(TransportError::MsixVectorRefused {
                queue: Some(queue),
                vector: written,
                read,
            });
        }
        let notify_off = self.common_read16(common::QUEUE_NOTIFY_OFF);
        let multiplier = self.notify_off_multiplier;
        // At most 2^16 * 2^32: no overflow in 64 bits.
        let offset = u64::from(notify_off) * u64::from(multiplier);
        if offset + 2 > self.notify.length {
            return Err(TransportError::NotifyOutOfRange {
                queue,
                notify_off,
                multiplier,
                length: self.notify.length as u32,
            });
        }
        self.common_write16(common::QUEUE_ENABLE, 1);
        Ok((virtqueue, Notifier { queue, offset }))
    }

    /// Routes configuration-change events to MSI-X table entry `vector`
    /// (`None`: no interrupt), and checks the device kept it.
    pub fn set_config_vector(&mut self, vector: Option<u16>) -> Result<(), TransportError> {
        self.require_features_ok("setting the configuration vector")?;
        let written = vector.unwrap_or(NO_VECTOR);
        self.common_write16(common::MSIX_CONFIG, written);
        let read = self.common_read16(common::MSIX_CONFIG);
        if read != written {
            return self.failing(TransportError::MsixVectorRefused {
                queue: None,
                vector: written,
                read,
            });
        }
        Ok(())
    }

    /// The last step: the driver is ready (status DRIVER_OK).
    pub fn driver_ok(&mut self) -> Result<(), TransportError> {
        self.require_features_ok("DRIVER_OK")?;
        self.set_status(
            status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK | status::DRIVER_OK,
        );
        let read = self.status();
        if read & status::DEVICE_NEEDS_RESET != 0 {
            return self.failing(TransportError::DeviceNeedsReset { status: read });
        }
        self.phase = Phase::DriverOk;
        Ok(())
    }

    /// Tells the device a queue has new chains.
    pub fn notify(&self, notifier: Notifier) {
        if let Some(b) = self.bar(self.notify) {
            b.write16(self.notify.offset + notifier.offset, notifier.queue);
        }
    }

    /// Reads (and so clears) the ISR status byte: bit 0 a queue interrupt,
    /// bit 1 a configuration change. Only meaningful with INTx; with MSI-X
    /// each event has its own entry.
    pub fn read_isr(&self) -> u8 {
        self.bar(self.isr).map_or(0, |b| b.read8(self.isr.offset))
    }

    /// The configuration generation counter.
    pub fn config_generation(&self) -> u8 {
        self.common_read8(common::CONFIG_GENERATION)
    }

    /// Runs `read` on the device configuration until the generation counter
    /// is the same before and after (bounded), so a multi-field value is
    /// read consistently (virtio 1.x, 2.5.1).
    pub fn read_device_config<T>(
        &self,
        mut read: impl FnMut(&DeviceConfig<'_, M>) -> Result<T, TransportError>,
    ) -> Result<T, TransportError> {
        let view = DeviceConfig { transport: self };
        for _ in 0..GENERATION_RETRIES {
            let before = self.config_generation();
            let value = read(&view)?;
            if self.config_generation() == before {
                return Ok(value);
            }
        }
        Err(TransportError::ConfigNeverStable)
    }
}

/// The device-specific configuration, every read checked against the
/// structure's length.
pub struct DeviceConfig<'t, M: Mmio> {
    transport: &'t Transport<M>,
}

impl<M: Mmio> DeviceConfig<'_, M> {
    /// Bytes of the device configuration structure (0 if it has none).
    pub fn len(&self) -> u64 {
        self.transport.device.map_or(0, |w| w.length)
    }

    /// The structure is absent or empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn at(&self, offset: u64, width: u8) -> Result<(&M, u64), TransportError> {
        let out = TransportError::DeviceConfigOutOfRange {
            offset,
            width,
            length: self.len(),
        };
        let w = self.transport.device.ok_or(out)?;
        let end = offset.checked_add(width.into()).ok_or(out)?;
        if end > w.length || !offset.is_multiple_of(width.into()) {
            return Err(out);
        }
        let bar = self.transport.bar(w).ok_or(out)?;
        Ok((bar, w.offset + offset))
    }

    /// The byte at `offset`.
    pub fn read8(&self, offset: u64) -> Result<u8, TransportError> {
        self.at(offset, 1).map(|(b, at)| b.read8(at))
    }
    /// The word at `offset`.
    pub fn read16(&self, offset: u64) -> Result<u16, TransportError> {
        self.at(offset, 2).map(|(b, at)| b.read16(at))
    }
    /// The dword at `offset`.
    pub fn read32(&self, offset: u64) -> Result<u32, TransportError> {
        self.at(offset, 4).map(|(b, at)| b.read32(at))
    }
    /// The qword at `offset`, as two dword reads (see [`Mmio::read64`]).
    pub fn read64(&self, offset: u64) -> Result<u64, TransportError> {
        self.at(offset, 8).map(|(b, at)| b.read64(at))
    }
}

/// The largest power of two at most `n` (`n` > 0).
fn prev_power_of_two(n: u16) -> u16 {
    1 << (15 - n.max(1).leading_zeros())
}
