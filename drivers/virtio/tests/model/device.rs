//! A modelled virtio-blk or virtio-net PCI function (modern only): a
//! configuration space whose vendor capabilities place the structures in
//! BAR 4 (as QEMU does), common configuration registers that enforce the
//! handshake and record every protocol mistake the driver makes, a disk in
//! a `Vec<u8>` or a wire of frames, and a processor that walks the
//! available rings through the IOVA table and writes the used rings.
//! `Behaviour` picks the kind and makes it refuse, lie or misbehave.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::Ordering;

use paddock_virtio::blk::config::offsets as blk;
use paddock_virtio::queue::layout::flags;
use paddock_virtio::transport::registers::{common, status};
use paddock_virtio::{Features, Mmio, NO_VECTOR};

use super::memory::Dma;
use super::net::net_config;

pub const BAR: u8 = 4;
pub const BAR_SIZE: u64 = 0x4000;
pub const COMMON_AT: u64 = 0x0000;
pub const ISR_AT: u64 = 0x1000;
pub const DEVICE_AT: u64 = 0x2000;
pub const NOTIFY_AT: u64 = 0x3000;
pub const WINDOW: u64 = 0x1000;
pub const MULTIPLIER: u32 = 4;

/// One vendor capability as the model's configuration space states it.
#[derive(Clone, Copy, Debug)]
pub struct Cap {
    pub cfg_type: u8,
    pub bar: u8,
    pub offset: u32,
    pub length: u32,
    pub cap_len: u8,
    pub multiplier: u32,
}

impl Cap {
    pub fn new(cfg_type: u8, offset: u64) -> Cap {
        Cap {
            cfg_type,
            bar: BAR,
            offset: offset as u32,
            length: WINDOW as u32,
            cap_len: if cfg_type == 2 { 20 } else { 16 },
            multiplier: MULTIPLIER,
        }
    }
}

/// QEMU's layout: common, ISR, device, notify, 4 KiB each in BAR 4.
pub fn standard_caps() -> Vec<Cap> {
    vec![
        Cap::new(1, COMMON_AT),
        Cap::new(3, ISR_AT),
        Cap::new(4, DEVICE_AT),
        Cap::new(2, NOTIFY_AT),
    ]
}

/// A used-ring lie, told once on the next completion.
#[derive(Clone, Copy, Debug)]
pub enum Tamper {
    /// `used.idx` advances by this many more than it wrote.
    UsedIdxJump(u16),
    /// The entry carries this id instead of the head.
    UsedId(u32),
    /// The entry is written twice.
    CompleteTwice,
    /// The entry's length is the chain's writable bytes plus this.
    LenExtra(u32),
    /// The entry's length is exactly this (for virtio-net, fewer bytes
    /// than the header it must write).
    Len(u32),
}

/// Which device the function is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// virtio-blk (1af4:1042): one request queue.
    Blk,
    /// virtio-net (1af4:1041): receive queue 0, transmit queue 1.
    Net,
}

impl Kind {
    /// Queues the function has.
    pub fn queues(self) -> u16 {
        match self {
            Kind::Blk => 1,
            Kind::Net => 2,
        }
    }
}

pub struct Behaviour {
    pub kind: Kind,
    /// `num_queues` reads this instead of the kind's count (the queues
    /// themselves stay).
    pub num_queues: Option<u16>,
    pub device_features: u64,
    pub keep_features_ok: bool,
    /// Status reads that still show the old status after a reset.
    pub reset_reads: u32,
    pub queue_max: u16,
    pub notify_off: u16,
    pub msix_entries: u16,
    /// Process a queue as soon as it is notified.
    pub auto_process: bool,
    /// Requests touching this sector fail with IOERR.
    pub io_error_sector: Option<u64>,
    /// Write this status instead of the real one.
    pub status_override: Option<u8>,
    /// Complete without writing the status byte.
    pub skip_status: bool,
    pub get_id: bool,
    /// The used ring's NO_NOTIFY flag.
    pub no_notify: bool,
    /// `config_generation` changes on every read.
    pub unstable_generation: bool,
    pub tamper: Option<Tamper>,
}

pub const BLK_FEATURES: u64 = (1 << 32) | (1 << 33) | (1 << 2) | (1 << 6) | (1 << 9);

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            kind: Kind::Blk,
            num_queues: None,
            device_features: BLK_FEATURES,
            keep_features_ok: true,
            reset_reads: 0,
            queue_max: 16,
            notify_off: 0,
            msix_entries: 2,
            auto_process: true,
            io_error_sector: None,
            status_override: None,
            skip_status: false,
            get_id: true,
            no_notify: false,
            unstable_generation: false,
            tamper: None,
        }
    }
}

#[derive(Clone, Copy, Default, Debug)]
pub struct QueueRegs {
    pub size: u16,
    pub msix: u16,
    pub enable: u16,
    pub desc: u64,
    pub driver: u64,
    pub device: u64,
    pub last_avail: u16,
    pub used_idx: u16,
}

pub struct Model {
    pub config: [u8; 256],
    pub b: Behaviour,
    pub status: u8,
    pub generation: u8,
    device_feature_select: u32,
    driver_feature_select: u32,
    pub driver_features: u64,
    pub msix_config: u16,
    queue_select: u16,
    /// Per queue; a blk function uses only the first.
    pub queues: [QueueRegs; 2],
    reset_reads_left: u32,
    pub capacity: u64,
    pub seg_max: u32,
    pub blk_size: u32,
    pub disk: Vec<u8>,
    pub dma: Dma,
    /// Protocol mistakes the driver made; tests expect none.
    pub violations: Vec<String>,
    /// Accesses the device could not make through its IOSpace.
    pub faults: Vec<String>,
    pub notifications: u32,
    pub requests: u32,
    pub flushes: u32,
    pub id: [u8; 20],
    /// `struct virtio_net_config`: mac, status, max_virtqueue_pairs, mtu.
    pub net_config: [u8; 12],
    /// Frames the transmit queue put on the wire, oldest first.
    pub wire: Vec<Vec<u8>>,
    /// Frames from the wire waiting for a receive buffer.
    pub inbound: VecDeque<Vec<u8>>,
}

/// Every queue's registers as a reset leaves them.
fn reset_queues() -> [QueueRegs; 2] {
    [QueueRegs {
        msix: NO_VECTOR,
        ..QueueRegs::default()
    }; 2]
}

pub type Shared = Rc<RefCell<Model>>;

impl Model {
    pub fn new(b: Behaviour, caps: &[Cap], sectors: u64) -> Model {
        let mut config = [0u8; 256];
        let device_id: u16 = match b.kind {
            Kind::Blk => 0x1042,
            Kind::Net => 0x1041,
        };
        config[0..2].copy_from_slice(&0x1af4u16.to_le_bytes());
        config[2..4].copy_from_slice(&device_id.to_le_bytes());
        config[0x06] = 1 << 4;
        config[0x34] = 0x40;
        // An MSI-X capability first, as QEMU has, so the walk must skip it;
        // then the vendor capabilities, 20 bytes apart.
        config[0x40] = paddock_pci::CAP_MSIX;
        for (i, c) in caps.iter().enumerate() {
            let at = CAPS_AT + 20 * i;
            config[at] = paddock_pci::CAP_VENDOR;
            config[at + 2] = c.cap_len;
            config[at + 3] = c.cfg_type;
            config[at + 4] = c.bar;
            config[at + 8..at + 12].copy_from_slice(&c.offset.to_le_bytes());
            config[at + 12..at + 16].copy_from_slice(&c.length.to_le_bytes());
            config[at + 16..at + 20].copy_from_slice(&c.multiplier.to_le_bytes());
        }
        link_capabilities(&mut config);
        Model {
            config,
            b,
            status: 0,
            generation: 0,
            device_feature_select: 0,
            driver_feature_select: 0,
            driver_features: 0,
            msix_config: NO_VECTOR,
            queue_select: 0,
            queues: reset_queues(),
            reset_reads_left: 0,
            capacity: sectors,
            seg_max: 8,
            blk_size: 4096,
            disk: vec![0; (sectors * 512) as usize],
            dma: Dma::default(),
            violations: Vec::new(),
            faults: Vec::new(),
            notifications: 0,
            requests: 0,
            flushes: 0,
            id: *b"paddock-model-disk\0\0",
            net_config: net_config(),
            wire: Vec::new(),
            inbound: VecDeque::new(),
        }
    }

    pub(super) fn violation(&mut self, what: String) {
        self.violations.push(what);
    }

    fn reset(&mut self) {
        self.status = 0;
        self.driver_features = 0;
        self.msix_config = NO_VECTOR;
        self.queues = reset_queues();
        self.reset_reads_left = self.b.reset_reads;
    }

    fn read_status(&mut self) -> u8 {
        if self.reset_reads_left > 0 {
            self.reset_reads_left -= 1;
            return status::ACKNOWLEDGE;
        }
        self.status
    }

    fn write_status(&mut self, new: u8) {
        if new == 0 {
            return self.reset();
        }
        let old = self.status;
        if new & old != old && new & status::FAILED == 0 {
            self.violation(format!("status {new:#x} clears bits of {old:#x}"));
        }
        let needs = [
            (status::DRIVER, status::ACKNOWLEDGE),
            (status::FEATURES_OK, status::DRIVER),
            (status::DRIVER_OK, status::FEATURES_OK),
        ];
        for (bit, before) in needs {
            if new & bit != 0 && new & before == 0 {
                self.violation(format!("status {new:#x} sets {bit:#x} without {before:#x}"));
            }
        }
        let mut kept = new;
        if new & status::FEATURES_OK != 0 && old & status::FEATURES_OK == 0 {
            let unoffered = self.driver_features & !self.b.device_features;
            if unoffered != 0 {
                self.violation(format!("driver accepted unoffered features {unoffered:#x}"));
            }
            let modern = self.driver_features & Features::VERSION_1.0 != 0;
            if !self.b.keep_features_ok || !modern || unoffered != 0 {
                kept &= !status::FEATURES_OK;
            }
        }
        self.status = kept;
    }

    fn queue_writable(&mut self, what: &str) -> bool {
        let ok = self.status & status::FEATURES_OK != 0 && self.status & status::DRIVER_OK == 0;
        if !ok {
            self.violation(format!("{what} written in status {:#x}", self.status));
        }
        ok && self.selected().is_some()
    }

    /// The selected queue's registers, if the function has that queue.
    fn selected(&mut self) -> Option<&mut QueueRegs> {
        let index = usize::from(self.queue_select);
        match index < usize::from(self.b.kind.queues()) {
            true => self.queues.get_mut(index),
            false => None,
        }
    }

    /// Where queue `index` is notified: QEMU gives each queue its own
    /// register, so a driver notifying the wrong one is seen.
    fn notify_off(&self, index: u16) -> u16 {
        self.b.notify_off.wrapping_add(index)
    }

    fn common_read(&mut self, at: u64, width: u8) -> u64 {
        // A queue the function lacks reads as size 0, the rest as reset.
        let selected = self.selected().copied();
        let exists = selected.is_some();
        let q = selected.unwrap_or(reset_queues()[0]);
        let (value, expected) = match at {
            common::DEVICE_FEATURE_SELECT => (self.device_feature_select.into(), 4),
            common::DEVICE_FEATURE => {
                let shift = 32 * self.device_feature_select.min(2);
                (
                    (self.b.device_features.checked_shr(shift).unwrap_or(0)) as u32 as u64,
                    4,
                )
            }
            common::DRIVER_FEATURE_SELECT => (self.driver_feature_select.into(), 4),
            common::MSIX_CONFIG => (self.msix_config.into(), 2),
            common::NUM_QUEUES => (self.b.num_queues.unwrap_or(self.b.kind.queues()).into(), 2),
            common::DEVICE_STATUS => (self.read_status().into(), 1),
            common::CONFIG_GENERATION => {
                if self.b.unstable_generation {
                    self.generation = self.generation.wrapping_add(1);
                }
                (self.generation.into(), 1)
            }
            common::QUEUE_SELECT => (self.queue_select.into(), 2),
            common::QUEUE_SIZE if exists => (
                if q.size == 0 {
                    self.b.queue_max
                } else {
                    q.size
                }
                .into(),
                2,
            ),
            common::QUEUE_MSIX_VECTOR => (q.msix.into(), 2),
            common::QUEUE_ENABLE => (q.enable.into(), 2),
            common::QUEUE_NOTIFY_OFF => (self.notify_off(self.queue_select).into(), 2),
            _ => (0, width),
        };
        if width != expected {
            self.violation(format!("common register {at:#x} read {width} bytes wide"));
        }
        value
    }

    fn common_write(&mut self, at: u64, width: u8, value: u64) {
        let expected = match at {
            common::DEVICE_FEATURE_SELECT => {
                self.device_feature_select = value as u32;
                4
            }
            common::DRIVER_FEATURE_SELECT => {
                self.driver_feature_select = value as u32;
                4
            }
            common::DRIVER_FEATURE => {
                if self.status & status::FEATURES_OK != 0 {
                    self.violation("driver features written after FEATURES_OK".into());
                }
                match self.driver_feature_select {
                    0 => self.driver_features = self.driver_features & !0xffff_ffff | value,
                    1 => self.driver_features = self.driver_features & 0xffff_ffff | value << 32,
                    s => self.violation(format!("driver feature select {s}")),
                }
                4
            }
            common::MSIX_CONFIG => {
                self.msix_config = self.vector(value as u16);
                2
            }
            common::DEVICE_STATUS => {
                self.write_status(value as u8);
                1
            }
            common::QUEUE_SELECT => {
                self.queue_select = value as u16;
                2
            }
            common::QUEUE_SIZE => {
                let size = value as u16;
                if self.queue_writable("queue_size") {
                    if !size.is_power_of_two() || size > self.b.queue_max {
                        self.violation(format!("queue size {size} written"));
                    }
                    self.queues[usize::from(self.queue_select)].size = size;
                }
                2
            }
            common::QUEUE_MSIX_VECTOR => {
                if self.queue_writable("queue_msix_vector") {
                    self.queues[usize::from(self.queue_select)].msix = self.vector(value as u16);
                }
                2
            }
            common::QUEUE_ENABLE => {
                if self.queue_writable("queue_enable") {
                    let q = &mut self.queues[usize::from(self.queue_select)];
                    q.enable = value as u16;
                    let (device, size) = (q.device, q.size);
                    if self.b.no_notify {
                        if let Ok(used) = self.dma.used(device, size) {
                            used.flags.store(flags::NO_NOTIFY, Ordering::Relaxed);
                        }
                    }
                }
                2
            }
            a @ (0x20 | 0x24 | 0x28 | 0x2c | 0x30 | 0x34) => {
                if self.queue_writable("a queue address") {
                    let q = &mut self.queues[usize::from(self.queue_select)];
                    let field = match a & !7 {
                        common::QUEUE_DESC => &mut q.desc,
                        common::QUEUE_DRIVER => &mut q.driver,
                        _ => &mut q.device,
                    };
                    let shift = if a & 4 == 0 { 0 } else { 32 };
                    *field = *field & !(0xffff_ffff << shift) | value << shift;
                }
                4
            }
            _ => {
                self.violation(format!("write to read-only common register {at:#x}"));
                width
            }
        };
        if width != expected {
            self.violation(format!(
                "common register {at:#x} written {width} bytes wide"
            ));
        }
    }

    /// A vector the device has, or NO_VECTOR (QEMU's behaviour).
    fn vector(&self, v: u16) -> u16 {
        if v < self.b.msix_entries {
            v
        } else {
            NO_VECTOR
        }
    }

    fn device_read(&mut self, at: u64, width: u8) -> u64 {
        if self.b.kind == Kind::Net {
            return self.net_device_read(at, width);
        }
        match (at, width) {
            (blk::CAPACITY, 4) => self.capacity & 0xffff_ffff,
            (0x04, 4) => self.capacity >> 32,
            (blk::SEG_MAX, 4) => self.seg_max.into(),
            (blk::BLK_SIZE, 4) => self.blk_size.into(),
            _ => {
                self.violation(format!("device configuration read of {width} at {at:#x}"));
                0
            }
        }
    }

    fn notify(&mut self, at: u64, value: u64) {
        self.notifications += 1;
        let index = value as u16;
        let expected = u64::from(self.notify_off(index)) * u64::from(MULTIPLIER);
        if at != expected || index >= self.b.kind.queues() {
            self.violation(format!(
                "notify {value} at {at:#x}, queue {index}'s register is {expected:#x}"
            ));
            return;
        }
        let enabled = self.queues[usize::from(index)].enable == 1;
        if self.status & status::DRIVER_OK == 0 || !enabled {
            self.violation(format!("notified in status {:#x}", self.status));
        } else if self.b.auto_process {
            self.process_queue(index, usize::MAX);
        }
    }

    fn read(&mut self, at: u64, width: u8) -> u64 {
        match at / WINDOW * WINDOW {
            COMMON_AT => self.common_read(at - COMMON_AT, width),
            ISR_AT => 0,
            DEVICE_AT => self.device_read(at - DEVICE_AT, width),
            _ => 0,
        }
    }

    fn write(&mut self, at: u64, width: u8, value: u64) {
        match at / WINDOW * WINDOW {
            COMMON_AT => self.common_write(at - COMMON_AT, width, value),
            NOTIFY_AT if width == 2 => self.notify(at - NOTIFY_AT, value),
            _ => self.violation(format!("write of {width} bytes at BAR offset {at:#x}")),
        }
    }
}

/// Where the first vendor capability is.
pub const CAPS_AT: usize = 0x4c;

/// Chains the MSI-X capability at 0x40 to the vendor capabilities from
/// [`CAPS_AT`], 20 bytes apart.
fn link_capabilities(config: &mut [u8; 256]) {
    let mut starts = vec![0x40usize];
    let mut at = CAPS_AT;
    while at + 20 <= 256 {
        if config[at] == paddock_pci::CAP_VENDOR {
            starts.push(at);
            at += 20;
        } else {
            break;
        }
    }
    for pair in starts.windows(2) {
        config[pair[0] + 1] = pair[1] as u8;
    }
    if let Some(&last) = starts.last() {
        config[last + 1] = 0;
    }
}

/// The model's BAR 4, as the driver maps it.
pub struct Bar {
    pub model: Shared,
    pub size: u64,
}

impl Mmio for Bar {
    fn size(&self) -> u64 {
        self.size
    }
    fn read8(&self, offset: u64) -> u8 {
        self.model.borrow_mut().read(offset, 1) as u8
    }
    fn read16(&self, offset: u64) -> u16 {
        self.model.borrow_mut().read(offset, 2) as u16
    }
    fn read32(&self, offset: u64) -> u32 {
        self.model.borrow_mut().read(offset, 4) as u32
    }
    fn write8(&self, offset: u64, value: u8) {
        self.model.borrow_mut().write(offset, 1, value.into())
    }
    fn write16(&self, offset: u64, value: u16) {
        self.model.borrow_mut().write(offset, 2, value.into())
    }
    fn write32(&self, offset: u64, value: u32) {
        self.model.borrow_mut().write(offset, 4, value.into())
    }
}

/// The model's configuration space, as the root task would serve it.
pub struct ConfigSpace(pub Shared);

impl paddock_pci::Config for ConfigSpace {
    fn read(&self, offset: u16, width: u8) -> Result<u32, paddock_pci::Error> {
        let at = usize::from(offset);
        if !matches!(width, 1 | 2 | 4) || at % usize::from(width) != 0 {
            return Err(paddock_pci::Error::BadWidth);
        }
        let model = self.0.borrow();
        let bytes = model
            .config
            .get(at..at + usize::from(width))
            .ok_or(paddock_pci::Error::OutOfRange)?;
        Ok(bytes.iter().rev().fold(0, |v, &b| v << 8 | u32::from(b)))
    }

    fn write(&self, _: u16, _: u8, _: u32) -> Result<(), paddock_pci::Error> {
        Err(paddock_pci::Error::ReadOnly)
    }
}
