//! `virtio-net`: the isolated network driver. It drives one modern
//! virtio-net PCI device (found through its own configuration space; its
//! DMA confined by VT-d to the windows of the plan; frames received and
//! sent on the MSI-X entries the plan gives IRQs `rx` and `tx`, which the
//! root task programmed) and serves up to eight clients over the network
//! protocol (`paddock-net`). Client `<c>` has the DMA window `<c>` of the
//! device (`dma.net.<c>`), its control region `<c>-net-control` and the
//! channel `<c>-net`. The first client has the device's MAC address; the
//! others get locally administered addresses made from it.
//!
//! Every frame a client queues is checked before the device sees it; a
//! refused one is given back and the driver goes on. A client that breaks
//! the queue protocol is dropped with a message naming it, and the others
//! are served on; a device that breaks the virtqueue's stops the service.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use paddock_net::{Control, DriverQueues, NetInfo, NetLayout};
use paddock_runtime::{entry, log, sel4, witness, Component, SymbolKind};
use paddock_virtio_net_driver::device;
use paddock_virtio_net_driver::memory::{self, client_symbol, CLIENT_WINDOW_PREFIX};
use paddock_virtio_net_driver::service::{Client, Pool, MAX_CLIENTS};
use paddock_virtio_net_driver::{Service, Stop};

entry!(main);

fn main(c: Component) -> ! {
    match start(&c) {
        Ok(mut run) => {
            let why = run.serve();
            log!("stopped serving: {why}");
            for n in 0..run.names.len() {
                run.service.drop_client(n);
                run.signal(1 << n);
            }
        }
        Err(e) => log!("stopped: {e}"),
    }
    loop {
        let _ = c.wait();
    }
}

struct Running {
    c: Component,
    service: Service,
    names: heapless::Vec<&'static str, MAX_CLIENTS>,
    signals: heapless::Vec<sel4::CPtr, MAX_CLIENTS>,
    irqs: heapless::Vec<(sel4::CPtr, u64), 3>,
    refused: [u64; MAX_CLIENTS],
}

/// Client `n`'s address: the device's own for the first, then locally
/// administered variants of it.
fn client_mac(device: [u8; 6], n: usize) -> [u8; 6] {
    let mut mac = device;
    if n > 0 {
        mac[0] |= 0x02;
        mac[5] ^= n as u8;
    }
    mac
}

fn start(c: &Component) -> Result<Running, &'static str> {
    let (device, interrupts) = device::bring_up(c)?;
    let info = *device.info();
    let m = info.mac;
    log!(
        "virtio-net: MAC {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, link {}, queues of {} entries, receive on MSI-X entry {}, transmit on {}",
        m[0], m[1], m[2], m[3], m[4], m[5],
        match info.link_up {
            Some(true) => "up",
            Some(false) => "down",
            None => "not reported",
        },
        device::QUEUE,
        interrupts.rx.unwrap_or(0),
        interrupts.tx.unwrap_or(0)
    );
    let (pool, pool_iova) = memory::bytes(c, memory::RX_WINDOW)?;
    let mut service = Service::new(
        device,
        Pool {
            bytes: pool,
            iova: pool_iova,
        },
    )
    .map_err(|e| {
        log!("posting receive buffers: {e}");
        "the device took no receive buffers"
    })?;
    let mut names = heapless::Vec::new();
    let mut signals = heapless::Vec::new();
    for s in c.symbols() {
        let Some(name) = s.name.strip_prefix(CLIENT_WINDOW_PREFIX) else {
            continue;
        };
        if s.kind != SymbolKind::Iova
            || s.name == memory::QUEUES_WINDOW
            || s.name == memory::RX_WINDOW
        {
            continue;
        }
        let n = names.len();
        let mac = client_mac(info.mac, n);
        let client = client(c, name, mac)?;
        client.queues.info().publish(&NetInfo {
            mac,
            mtu: paddock_net::MAX_MTU,
            layout: *client.queues.layout(),
            generation: c.generation() as u32,
        });
        service
            .add_client(client)
            .ok_or("more clients than the driver serves")?;
        let signal = c
            .slot(&client_symbol("channel.", name, "-net"))
            .map_err(|_| "no channel `channel.<client>-net`")?;
        names
            .push(name)
            .map_err(|_| "more clients than the driver serves")?;
        signals
            .push(signal)
            .map_err(|_| "more clients than the driver serves")?;
        sel4::syscall::signal(signal);
        log!(
            "serving `{name}` as {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            mac[0],
            mac[1],
            mac[2],
            mac[3],
            mac[4],
            mac[5]
        );
    }
    if names.is_empty() {
        return Err("no client: no DMA window `dma.net.<client>` besides `queues` and `pool`");
    }
    let mut irqs = heapless::Vec::new();
    for irq in ["irq.rx", "irq.tx", "irq.config"] {
        if let (Ok(slot), Ok(bit)) = (c.slot(irq), c.badge_bit(irq)) {
            let _ = irqs.push((slot, bit));
        }
    }
    Ok(Running {
        c: *c,
        service,
        names,
        signals,
        irqs,
        refused: [0; MAX_CLIENTS],
    })
}

/// Client `name`'s queues, over its control region and its window.
fn client(c: &Component, name: &'static str, mac: [u8; 6]) -> Result<Client, &'static str> {
    let layout = NetLayout::DEFAULT;
    let region = c
        .region(&client_symbol("shared.", name, "-net-control"))
        .map_err(|_| "no control region `shared.<client>-net-control`")?;
    // SAFETY: the root task mapped the region read-write for the
    // component's life; this component reaches it only through the atomic
    // views `from_raw` makes; the client may write anything there.
    let control =
        unsafe { Control::from_raw(region.vaddr as *mut u8, region.size as usize, layout) }
            .map_err(|_| "a control region is too small for the network layout")?;
    let queues = DriverQueues::new(control).map_err(|_| "a client's queues are not usable")?;
    let (window, iova) = memory::bytes(c, &client_symbol("dma.net.", name, ""))?;
    Client::new(queues, window, iova, mac)
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
                Ok(paddock_net::Idle::MoreWork) => continue,
                Ok(paddock_net::Idle::Sleep) => {}
                Err(Stop::Client(n, e)) => {
                    self.drop_client(n, e);
                    continue;
                }
                Err(why) => return why,
            }
            let bits = self.c.wait().unwrap_or(0);
            for &(irq, bit) in &self.irqs {
                if bits & bit != 0 {
                    if let Err(e) = sel4::irq::ack(irq) {
                        log!("acknowledging an interrupt failed: {e:?}");
                    }
                }
            }
        }
    }

    /// Names each client whose frames were refused since the last report.
    fn report_refusals(&mut self) {
        for n in 0..self.names.len() {
            let Some(refusal) = self.service.take_refusal(n) else {
                continue;
            };
            let total = self.service.clients()[n].queues.refused();
            log!(
                "refused {} frames of `{}` ({total} so far; latest: {refusal}); serving on",
                total - self.refused[n],
                self.names[n]
            );
            witness!("refused {total} of {}", self.names[n]);
            self.refused[n] = total;
        }
    }

    fn signal(&self, clients: u32) {
        for (n, signal) in self.signals.iter().enumerate() {
            if clients & 1 << n != 0 {
                sel4::syscall::signal(*signal);
            }
        }
    }

    fn drop_client(&mut self, n: usize, e: paddock_net::PeerError) {
        let name = self.names.get(n).copied().unwrap_or("?");
        log!("dropped client `{name}`: it broke the network protocol ({e}); serving the others on");
        witness!("dropped {name}: broke");
        self.service.drop_client(n);
        self.signal(1 << n);
    }
}
