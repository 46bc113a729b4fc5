//! A modelled virtio-blk or virtio-net PCI function and the DMA memory it
//! reaches, for the host tests. Each test file includes it with
//! `mod model;`.
#![allow(dead_code, unused_imports)]

pub mod device;
pub mod memory;
pub mod net;
mod process;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::AtomicU8;

use paddock_virtio::blk::{BlkDevice, BlkError, Interrupts, RequestMemory};
use paddock_virtio::net::{NetDevice, NetError, NetInterrupts};
use paddock_virtio::{Iova, Transport, TransportError};

pub use device::{Bar, Behaviour, Cap, ConfigSpace, Kind, Model, Shared, Tamper};
pub use memory::{QueueParts, DATA_IOVA};

/// Queue entries the tests' driver is built for.
pub const N: usize = 16;
/// Sectors of the modelled disk (64 KiB).
pub const SECTORS: u64 = 128;

/// A modelled device and the memory a driver for it gets.
pub struct Rig {
    pub model: Shared,
    pub queue: QueueParts,
    pub requests: RequestMemory<'static>,
    /// The client's data window (the driver never sees this).
    pub data: &'static [AtomicU8],
}

impl Rig {
    pub fn new(b: Behaviour) -> Rig {
        Rig::with_caps(b, &device::standard_caps())
    }

    pub fn with_caps(b: Behaviour, caps: &[Cap]) -> Rig {
        let mut model = Model::new(b, caps, SECTORS);
        let queue = model.dma.queue(N as u16);
        let slots = model.dma.requests(N);
        let data = model.dma.data();
        let requests = RequestMemory::new(slots, Iova(memory::REQUESTS_IOVA)).unwrap();
        Rig {
            model: Rc::new(RefCell::new(model)),
            queue,
            requests,
            data,
        }
    }

    /// BAR 4 mapped in full; the other BARs not mapped.
    pub fn bars(&self) -> [Option<Bar>; 6] {
        self.bars_of_size(device::BAR_SIZE)
    }

    pub fn bars_of_size(&self, size: u64) -> [Option<Bar>; 6] {
        let mut bars: [Option<Bar>; 6] = Default::default();
        bars[usize::from(device::BAR)] = Some(Bar {
            model: self.model.clone(),
            size,
        });
        bars
    }

    pub fn transport(&self) -> Result<Transport<Bar>, TransportError> {
        Transport::new(&ConfigSpace(self.model.clone()), self.bars())
    }

    /// A driver brought to DRIVER_OK, queue on MSI-X entry 1, configuration
    /// changes on entry 0.
    pub fn blk(&self) -> Result<BlkDevice<'static, Bar, N>, BlkError> {
        self.blk_with(Interrupts {
            config: Some(0),
            queue: Some(1),
        })
    }

    pub fn blk_with(&self, interrupts: Interrupts) -> Result<BlkDevice<'static, Bar, N>, BlkError> {
        BlkDevice::new(
            self.transport()?,
            self.queue.memory,
            self.requests,
            interrupts,
        )
    }

    /// The device status register's value.
    pub fn status(&self) -> u8 {
        self.model.borrow().status
    }

    /// Asserts the driver made no protocol mistake and the device never
    /// reached outside its IOSpace.
    pub fn assert_clean(&self) {
        assert_clean(&self.model);
    }
}

fn assert_clean(model: &Shared) {
    let m = model.borrow();
    assert!(
        m.violations.is_empty(),
        "driver violations: {:?}",
        m.violations
    );
    assert!(m.faults.is_empty(), "device faults: {:?}", m.faults);
}

/// A modelled virtio-net function, its two queues, the two header slots
/// and the client's data window the frames live in.
pub struct NetRig {
    pub model: Shared,
    pub rx: QueueParts,
    pub tx: QueueParts,
    pub headers: RequestMemory<'static>,
    /// The client's data window (the driver never sees this).
    pub data: &'static [AtomicU8],
}

impl NetRig {
    /// `b` with its kind set to net.
    pub fn new(b: Behaviour) -> NetRig {
        let mut model = Model::new(
            Behaviour {
                kind: Kind::Net,
                ..b
            },
            &device::standard_caps(),
            SECTORS,
        );
        let rx = model.dma.queue(N as u16);
        let tx = model.dma.queue_at(N as u16, memory::QUEUE2_IOVA);
        let slots = model.dma.requests(2);
        let data = model.dma.data();
        let headers = RequestMemory::new(slots, Iova(memory::REQUESTS_IOVA)).unwrap();
        NetRig {
            model: Rc::new(RefCell::new(model)),
            rx,
            tx,
            headers,
            data,
        }
    }

    pub fn transport(&self) -> Result<Transport<Bar>, TransportError> {
        let mut bars: [Option<Bar>; 6] = Default::default();
        bars[usize::from(device::BAR)] = Some(Bar {
            model: self.model.clone(),
            size: device::BAR_SIZE,
        });
        Transport::new(&ConfigSpace(self.model.clone()), bars)
    }

    /// A driver brought to DRIVER_OK: configuration changes on MSI-X entry
    /// 0, receive on 1, transmit on 2.
    pub fn net(&self) -> Result<NetDevice<'static, Bar, N>, NetError> {
        NetDevice::new(
            self.transport()?,
            self.rx.memory,
            self.tx.memory,
            self.headers,
            NetInterrupts {
                config: Some(0),
                rx: Some(1),
                tx: Some(2),
            },
        )
    }

    /// The device status register's value.
    pub fn status(&self) -> u8 {
        self.model.borrow().status
    }

    pub fn assert_clean(&self) {
        assert_clean(&self.model);
    }
}
