//! `blk-bench-linked`: the storage measurement with the driver's logic
//! linked into the client (see the library). One program holds the
//! virtio-blk device (its BARs, its `queues` DMA window, its MSI-X
//! interrupt) and the client's data window, brings the device up as the
//! isolated driver does, and runs the driver's `Service` where the client
//! would wait for the driver: the control region's queues are the same,
//! in the program's own heap, and no notification crosses an address
//! space. The service sleeps only for the device's interrupt, which it
//! acknowledges as the isolated driver does.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use paddock_blk::{
    BlockClient, Control, ControlLayout, DataWindow, DriverQueues, DriverSignal, Idle,
    RequestChecker,
};
use paddock_blk_bench::{heap, run, stop, Buffers, IdleCount, Params};
use paddock_runtime::{entry, log, sel4, Component};
use paddock_virtio::blk::SECTOR_BYTES;
use paddock_virtio::MappedRegion;
use paddock_virtio_blk_driver::device::{self, DEFAULT_DEPTH, QUEUE};
use paddock_virtio_blk_driver::Service;

entry!(main);

/// The data window: mapped here, as it is in the isolated driver's client.
const DATA_WINDOW: &str = "dma.blk.data";

/// The client's wait for the driver, with the driver in the same thread:
/// run the service until it has answered, sleeping only while the device
/// owes completions.
struct Linked {
    c: Component,
    service: Service<'static, MappedRegion, QUEUE>,
    irq: sel4::CPtr,
    irq_bit: u64,
    /// Service steps taken, and waits for the device's interrupt.
    steps: u64,
    sleeps: u64,
}

impl DriverSignal for Linked {
    /// Nothing to wake: the next wait runs the service.
    fn signal_driver(&mut self) {}

    fn wait_for_driver(&mut self) {
        loop {
            self.steps += 1;
            match self.service.step() {
                Ok(clients) if clients != 0 => return,
                Ok(_) => {}
                Err(why) => stop(&self.c, &why),
            }
            match self.service.idle() {
                Ok(Idle::MoreWork) => continue,
                Ok(Idle::Sleep) => {}
                Err(why) => stop(&self.c, &why),
            }
            self.sleeps += 1;
            let bits = self.c.wait().unwrap_or(0);
            if bits & self.irq_bit != 0 {
                if let Err(e) = sel4::irq::ack(self.irq) {
                    log!("acknowledging the queue interrupt failed: {e:?}");
                }
            }
        }
    }
}

fn main(c: Component) -> ! {
    let params = Params::of(&c);
    let layout =
        ControlLayout::for_depth(DEFAULT_DEPTH).unwrap_or_else(|_| stop(&c, &"no control layout"));
    let (control_mem, rest) = heap(&c, layout.total_bytes()).unwrap_or_else(|e| stop(&c, &e));
    let buffers = Buffers::carve(rest, &params).unwrap_or_else(|e| stop(&c, &e));
    let control = Control::from_bytes(control_mem, layout)
        .unwrap_or_else(|_| stop(&c, &"the control region does not fit the heap"));
    let client = start(&c, control).unwrap_or_else(|e| stop(&c, &e));
    match run("linked", client, buffers, &params, &IdleCount::of(&c)) {
        Ok(mut client) => {
            let linked = client.signal_mut();
            let s = linked.service.stats;
            log!(
                "linked: the service took {} reads, {} writes, {} flushes ({} bytes), {} device errors, in {} steps and {} waits for the device",
                s.reads,
                s.writes,
                s.flushes,
                s.bytes,
                s.device_errors,
                linked.steps,
                linked.sleeps
            );
        }
        Err(e) => stop(&c, &e),
    }
    log!("done");
    loop {
        let _ = c.wait();
    }
}

/// Brings the device up as the isolated driver does, and attaches both
/// ends of the control region's queues.
fn start(
    c: &Component,
    control: Control<'static>,
) -> Result<BlockClient<'static, Linked>, &'static str> {
    let (device, interrupts) = device::bring_up(c)?;
    let info = *device.info();
    log!(
        "virtio-blk: {} sectors of {} bytes{}{}, queue of {} entries, completions on MSI-X entry {}, driver logic linked in",
        info.capacity,
        SECTOR_BYTES,
        if info.read_only { ", read-only" } else { "" },
        if info.flush { ", flush" } else { "" },
        QUEUE,
        interrupts.queue.unwrap_or(0)
    );
    let data = c
        .region(DATA_WINDOW)
        .map_err(|_| "no data window `dma.blk.data`")?;
    let data_iova = c
        .iova(DATA_WINDOW)
        .map_err(|_| "no IOVA for the data window")?;
    // SAFETY: the root task mapped the data window read-write here for the
    // component's life; it is reached only through the view made here (and
    // by the device, hence atomics).
    let window = unsafe { DataWindow::from_raw(data.vaddr as *mut u8, data.size as usize) }
        .map_err(|_| "the data window is not usable")?;
    let geometry = device::geometry(&info, DEFAULT_DEPTH);
    let mut checker = RequestChecker::new(geometry, data_iova.size)
        .map_err(|_| "the device's geometry is not one the protocol can describe")?;
    if !info.flush {
        checker = checker.without_flush();
    }
    let queues = DriverQueues::new(control.requests, control.responses, checker)
        .map_err(|_| "the control region's queues are not usable")?;
    control.info.publish(&geometry);
    let signal = Linked {
        c: *c,
        service: Service::new(device, queues, data_iova.vaddr),
        irq: c.slot("irq.queue").map_err(|_| "no IRQ `queue`")?,
        irq_bit: c.badge_bit("irq.queue").map_err(|_| "no IRQ `queue`")?,
        steps: 0,
        sleeps: 0,
    };
    BlockClient::new(
        control.requests,
        control.responses,
        geometry,
        window,
        signal,
    )
    .map_err(|_| "the client's end of the queues is not usable")
}
