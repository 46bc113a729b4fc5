//! `virtio-blk`: the isolated block driver. It drives one modern virtio-blk
//! PCI device (found through its own configuration space; its DMA confined
//! by VT-d to the windows of the plan; request completions on the MSI-X
//! entry the plan gives IRQ `queue`, which the root task programmed) and
//! serves one client over the block protocol (`paddock-blk`): the
//! information page and queues in the shared region `blk-control`, the data
//! in the client's DMA window `data`, which this driver never maps: it
//! tells the device the window's IOVA plus the request's offset.
//!
//! Every request is checked before the device sees it; a refused one is
//! answered with its status and the driver goes on. A client that breaks
//! the queue protocol, or a device that breaks the virtqueue's, stops the
//! service with a message naming which.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use paddock_blk::{DriverQueues, Geometry, Idle, RequestChecker};
use paddock_runtime::{entry, log, sel4, Component};
use paddock_virtio::blk::{BlkDevice, Interrupts, SECTOR_BYTES};
use paddock_virtio::{MappedRegion, Transport};
use paddock_virtio_blk_driver::{memory, Service, Stop};

entry!(main);

/// Virtqueue entries (the device may offer fewer).
const QUEUE: usize = 128;
/// Requests one client may have in flight.
const DEPTH: u32 = 32;
/// Most blocks one request moves: 64 KiB.
const MAX_BLOCKS: u32 = 128;
/// The client's end of the channel.
const CLIENT: &str = "channel.blk-client";

fn main(c: Component) -> ! {
    match start(&c) {
        Ok(mut run) => {
            let why = run.serve();
            log!("stopped serving: {why}");
            run.withdraw();
        }
        Err(e) => log!("stopped: {e}"),
    }
    loop {
        let _ = c.wait();
    }
}

struct Running {
    c: Component,
    service: Service<'static, MappedRegion, QUEUE>,
    info: paddock_blk::InfoPage<'static>,
    irq: sel4::CPtr,
    irq_bit: u64,
    client: sel4::CPtr,
}

fn start(c: &Component) -> Result<Running, &'static str> {
    let config = c.pci_config("blk").map_err(|_| "no configuration access to `blk`")?;
    let transport = Transport::new(&config, memory::bars(c)).map_err(|e| {
        log!("the device's virtio structures: {e}");
        "no usable virtio transport"
    })?;
    let entry = |irq: &str| c.param(irq).and_then(|e| u16::try_from(e).ok());
    let interrupts = Interrupts {
        config: None,
        queue: Some(entry("irq.queue").ok_or("no MSI-X entry for IRQ `queue`")?),
    };
    let (queue, requests) = memory::queue(c, QUEUE as u16)?;
    let device = BlkDevice::<_, QUEUE>::new(transport, queue, requests, interrupts).map_err(|e| {
        log!("bringing the device up: {e}");
        "the device did not come up"
    })?;
    let info = *device.info();
    let control = memory::control(c, DEPTH)?;
    let data = c.iova(memory::DATA_WINDOW).map_err(|_| "no IOVA for the client's `data` window")?;
    let geometry = Geometry {
        capacity_blocks: info.capacity,
        block_size: SECTOR_BYTES as u32,
        queue_depth: DEPTH,
        max_blocks_per_request: MAX_BLOCKS,
        read_only: info.read_only,
    };
    let mut checker = RequestChecker::new(geometry, data.size).map_err(|_| "the device's geometry is not one the protocol can describe")?;
    if !info.flush {
        checker = checker.without_flush();
    }
    let queues = DriverQueues::new(control.requests, control.responses, checker)
        .map_err(|_| "the control region's queues are not usable")?;
    let irq = c.slot("irq.queue").map_err(|_| "no IRQ `queue`")?;
    let irq_bit = c.badge_bit("irq.queue").map_err(|_| "no IRQ `queue`")?;
    let client = c.slot(CLIENT).map_err(|_| "no channel `blk-client`")?;
    log!(
        "virtio-blk: {} sectors of {} bytes (logical block {} bytes){}{}, queue of {} entries, completions on MSI-X entry {}",
        info.capacity,
        SECTOR_BYTES,
        info.blk_size.unwrap_or(SECTOR_BYTES as u32),
        if info.read_only { ", read-only" } else { "" },
        if info.flush { ", flush" } else { "" },
        QUEUE,
        interrupts.queue.unwrap_or(0)
    );
    control.info.publish(&geometry);
    sel4::syscall::signal(client);
    Ok(Running {
        c: *c,
        service: Service::new(device, queues, data.vaddr),
        info: control.info,
        irq,
        irq_bit,
        client,
    })
}

impl Running {
    /// Serves until the client or the device breaks its protocol.
    fn serve(&mut self) -> Stop {
        loop {
            match self.service.step() {
                Ok(true) => sel4::syscall::signal(self.client),
                Ok(false) => {}
                Err(why) => return why,
            }
            match self.service.idle() {
                Ok(Idle::MoreWork) => continue,
                Ok(Idle::Sleep) => {}
                Err(why) => return why,
            }
            // Completions still owed mean the device will interrupt.
            let bits = self.c.wait().unwrap_or(0);
            if bits & self.irq_bit != 0 {
                if let Err(e) = sel4::irq::ack(self.irq) {
                    log!("acknowledging the queue interrupt failed: {e:?}");
                }
            }
        }
    }

    /// Tells the client the device is gone.
    fn withdraw(&self) {
        self.info.withdraw();
        sel4::syscall::signal(self.client);
    }
}
