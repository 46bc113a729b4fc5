//! `virtio-blk`: the isolated block driver. It drives one modern virtio-blk
//! PCI device (found through its own configuration space; its DMA confined
//! by VT-d to the windows of the plan; request completions on the MSI-X
//! entry the plan gives IRQ `queue`, which the root task programmed) and
//! serves up to eight clients over the block protocol (`paddock-blk`).
//! Client `<c>` has the DMA window `<c>` of the device (`dma.blk.<c>`),
//! which this driver never maps: it tells the device the window's IOVA
//! plus the request's offset; the information page and queues in the
//! shared region `<c>-blk-control`; and the channel `<c>-blk`.
//!
//! Every request is checked before the device sees it; a refused one is
//! answered with its status and the driver goes on. A client that breaks
//! the queue protocol is dropped with a message naming it, and the others
//! are served on; a device that breaks the virtqueue's stops the service.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use paddock_blk::{
    ControlLayout, DriverQueues, Geometry, Idle, InfoPage, RequestChecker, MAX_QUEUE_DEPTH,
};
use paddock_runtime::{entry, log, sel4, witness, Component, SymbolKind};
use paddock_virtio::blk::{BlkInfo, SECTOR_BYTES};
use paddock_virtio::MappedRegion;
use paddock_virtio_blk_driver::device::{self, DEFAULT_DEPTH, QUEUE};
use paddock_virtio_blk_driver::memory::{self, client_symbol, CLIENT_WINDOW_PREFIX};
use paddock_virtio_blk_driver::service::MAX_CLIENTS;
use paddock_virtio_blk_driver::{Service, Stop};

entry!(main);

fn main(c: Component) -> ! {
    match start(&c) {
        Ok(mut run) => {
            let why = run.serve();
            log!("stopped serving: {why}");
            for n in 0..run.clients.len() {
                run.withdraw(n);
            }
        }
        Err(e) => log!("stopped: {e}"),
    }
    loop {
        let _ = c.wait();
    }
}

/// What the driver keeps of each client besides its queues.
struct ClientEnd {
    name: &'static str,
    info: InfoPage<'static>,
    signal: sel4::CPtr,
    /// Refusals already reported.
    refused: u64,
}

struct Running {
    c: Component,
    service: Service<'static, MappedRegion, QUEUE>,
    clients: heapless::Vec<ClientEnd, MAX_CLIENTS>,
    irq: sel4::CPtr,
    irq_bit: u64,
    /// The configuration-change IRQ and its badge bit, if planned.
    config_irq: Option<(sel4::CPtr, u64)>,
}

fn start(c: &Component) -> Result<Running, &'static str> {
    let (device, interrupts) = device::bring_up(c)?;
    let info = *device.info();
    let depth = match c.param("queue_depth") {
        None => DEFAULT_DEPTH,
        Some(d) => {
            match u32::try_from(d)
                .ok()
                .filter(|&d| ControlLayout::for_depth(d).is_ok())
            {
                Some(d) => d,
                None => {
                    log!("parameter `queue_depth` = {d}: the block protocol takes 1..={MAX_QUEUE_DEPTH}");
                    return Err("parameter `queue_depth` is out of range");
                }
            }
        }
    };
    let geometry = device::geometry(&info, depth);
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
    if let Some(entry) = interrupts.config {
        log!("configuration changes on MSI-X entry {entry}");
    }
    let mut service: Option<Service<'static, MappedRegion, QUEUE>> = None;
    let mut device = Some(device);
    let mut clients = heapless::Vec::new();
    for s in c.symbols() {
        let Some(name) = s.name.strip_prefix(CLIENT_WINDOW_PREFIX) else {
            continue;
        };
        if s.kind != SymbolKind::Iova || s.name == memory::QUEUES_WINDOW {
            continue;
        }
        let (queues, end) = client(c, name, s.size, geometry, &info)
            .inspect_err(|e| log!("client `{name}`: {e}"))?;
        match (service.as_mut(), device.take()) {
            (None, Some(device)) => service = Some(Service::new(device, queues, s.value)),
            (Some(service), _) => {
                service
                    .add_client(queues, s.value)
                    .ok_or("more clients than the driver serves")?;
            }
            (None, None) => return Err("no device"),
        }
        clients
            .push(end)
            .map_err(|_| "more clients than the driver serves")?;
    }
    let service = service.ok_or("no client: no DMA window `dma.blk.<client>` besides `queues`")?;
    for end in &clients {
        end.info.publish(&geometry);
        sel4::syscall::signal(end.signal);
        log!(
            "serving `{}`: {} requests in flight at most",
            end.name,
            depth
        );
    }
    Ok(Running {
        c: *c,
        service,
        clients,
        irq: c.slot("irq.queue").map_err(|_| "no IRQ `queue`")?,
        irq_bit: c.badge_bit("irq.queue").map_err(|_| "no IRQ `queue`")?,
        config_irq: c
            .slot("irq.config")
            .ok()
            .zip(c.badge_bit("irq.config").ok()),
    })
}

/// Client `name`'s queues (checked against its window of `window_bytes`
/// bytes) and ends.
fn client(
    c: &Component,
    name: &'static str,
    window_bytes: u64,
    geometry: Geometry,
    info: &BlkInfo,
) -> Result<(DriverQueues<'static>, ClientEnd), &'static str> {
    let control = memory::control(c, name, geometry.queue_depth)?;
    let mut checker = RequestChecker::new(geometry, window_bytes)
        .map_err(|_| "the device's geometry is not one the protocol can describe")?;
    if !info.flush {
        checker = checker.without_flush();
    }
    let queues = DriverQueues::new(control.requests, control.responses, checker)
        .map_err(|_| "a client's queues are not usable")?;
    let signal = c
        .slot(&client_symbol("channel.", name, "-blk"))
        .map_err(|_| "no channel `channel.<client>-blk`")?;
    Ok((
        queues,
        ClientEnd {
            name,
            info: control.info,
            signal,
            refused: 0,
        },
    ))
}

impl Running {
    /// Serves until the device breaks its protocol; a client that breaks
    /// its own is dropped and told so, and the others are served on.
    fn serve(&mut self) -> Stop {
        loop {
            match self.service.step() {
                Ok(signal) => {
                    self.report_refusals();
                    self.signal(signal);
                }
                Err(Stop::Client(n, e)) => {
                    self.drop_client(n, e);
                    continue;
                }
                Err(why) => return why,
            }
            match self.service.idle() {
                Ok(Idle::MoreWork) => continue,
                Ok(Idle::Sleep) => {}
                Err(Stop::Client(n, e)) => {
                    self.drop_client(n, e);
                    continue;
                }
                Err(why) => return why,
            }
            // Completions still owed mean the device will interrupt.
            let bits = self.c.wait().unwrap_or(0);
            if bits & self.irq_bit != 0 {
                if let Err(e) = sel4::irq::ack(self.irq) {
                    log!("acknowledging the queue interrupt failed: {e:?}");
                }
            }
            if let Some((irq, bit)) = self.config_irq {
                if bits & bit != 0 {
                    match self.service.refresh_capacity() {
                        Ok(sectors) => log!("configuration change: the device now has {sectors} sectors; clients keep the size they attached with"),
                        Err(e) => log!("configuration change: reading the capacity failed: {e}"),
                    }
                    if let Err(e) = sel4::irq::ack(irq) {
                        log!("acknowledging the configuration interrupt failed: {e:?}");
                    }
                }
            }
        }
    }

    /// Names each client whose requests were refused since the last
    /// report, and how many.
    fn report_refusals(&mut self) {
        for (n, end) in self.clients.iter_mut().enumerate() {
            let refused = self.service.refused(n);
            if refused > end.refused {
                log!(
                    "refused {} malformed requests of `{}` ({refused} so far); serving on",
                    refused - end.refused,
                    end.name
                );
                witness!("refused {refused} of {}", end.name);
                end.refused = refused;
            }
        }
    }

    fn signal(&self, clients: u32) {
        for (n, end) in self.clients.iter().enumerate() {
            if clients & 1 << n != 0 {
                sel4::syscall::signal(end.signal);
            }
        }
    }

    fn drop_client(&self, n: usize, e: paddock_blk::PeerError) {
        let name = self.clients.get(n).map_or("?", |end| end.name);
        log!(
            "dropped client `{name}`: it broke the block protocol ({e}); {} of its requests were refused before",
            self.service.refused(n)
        );
        witness!("dropped {name}: broke");
        self.withdraw(n);
    }

    /// Tells client `n` it is no longer served.
    fn withdraw(&self, n: usize) {
        if let Some(end) = self.clients.get(n) {
            end.info.withdraw();
            sel4::syscall::signal(end.signal);
        }
    }
}
