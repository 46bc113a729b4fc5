//! `net-client-linked`: the same smoltcp server as `net-client`, with the
//! virtio-net driver's logic (paddock_virtio_net_driver: bring-up, the
//! receive pool, the copy to the client, transmit from its window) linked
//! into the same component instead of isolated in its own. The two ends
//! share the same control region and window through the same queues, as
//! in the isolated system: only the component boundary differs, which is
//! what the network benchmark measures.
#![no_std]
#![no_main]

use paddock_net::{DriverQueues, Idle, NetInfo, NetLayout};
use paddock_net_client::serve::{serve, Driver};
use paddock_net_client::{attach, log_attached, memory, own_symbol};
use paddock_runtime::{entry, log, sel4, Component};
use paddock_timer::runtime::TimerClient;
use paddock_virtio_net_driver::memory as driver_memory;
use paddock_virtio_net_driver::service::{Client, Pool};
use paddock_virtio_net_driver::{device, Service, Stop};

entry!(main);

fn main(c: Component) -> ! {
    c.finish(run(&c))
}

/// The driver in this component: run between the client's polls.
struct Linked {
    service: Service,
    irqs: heapless::Vec<(sel4::CPtr, u64), 3>,
}

impl Driver for Linked {
    fn step(&mut self) -> Result<(), &'static str> {
        match self.service.step() {
            Ok(_) => Ok(()),
            Err(Stop::Client(_, e)) => {
                log!("the client broke the network protocol: {e}");
                Err("the client broke the network protocol")
            }
            Err(Stop::Device(e)) => {
                log!("the device broke the protocol: {e}");
                Err("the device broke the protocol")
            }
        }
    }
    fn notify(&mut self) {}
    fn idle(&mut self) -> Result<Idle, &'static str> {
        // The client's frames are sent at the next step; sleeping before
        // would leave them queued until the next interrupt.
        self.service
            .idle()
            .map_err(|_| "the client broke the network protocol")
    }
    fn woken(&mut self, bits: u64) {
        for &(irq, bit) in &self.irqs {
            if bits & bit != 0 {
                if let Err(e) = sel4::irq::ack(irq) {
                    log!("acknowledging an interrupt failed: {e:?}");
                }
            }
        }
    }
}

fn run(c: &Component) -> Result<(), &'static str> {
    let mut timer = TimerClient::attach(c)?;
    let (dev, _) = device::bring_up(c)?;
    let mac = dev.info().mac;
    let (pool, pool_iova) = driver_memory::bytes(c, driver_memory::RX_WINDOW)?;
    let mut service = Service::new(
        dev,
        Pool {
            bytes: pool,
            iova: pool_iova,
        },
    )
    .map_err(|_| "the device took no receive buffers")?;
    let layout = NetLayout::DEFAULT;
    let m = memory(c, layout)?;
    let queues = DriverQueues::new(m.control).map_err(|_| "the queues are not usable")?;
    queues.info().publish(&NetInfo {
        mac,
        mtu: paddock_net::MAX_MTU,
        layout,
        generation: c.generation() as u32,
    });
    let (window, iova) = driver_memory::bytes(c, &own_symbol(c, "dma.net.", ""))?;
    service
        .add_client(Client::new(queues, window, iova, mac)?)
        .ok_or("no room for the client")?;
    let (mut client, _) = attach(c, m).map_err(|_| "the info page was refused")?;
    log_attached(&client);
    let mut irqs = heapless::Vec::new();
    for irq in ["irq.rx", "irq.tx", "irq.config"] {
        if let (Ok(slot), Ok(bit)) = (c.slot(irq), c.badge_bit(irq)) {
            let _ = irqs.push((slot, bit));
        }
    }
    serve(c, &mut client, &mut timer, &mut Linked { service, irqs })
}
