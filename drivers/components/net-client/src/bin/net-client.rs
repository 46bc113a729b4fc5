//! `net-client`: a network server on smoltcp over the isolated virtio-net
//! driver: an address by DHCP, ARP, UDP and TCP echo on port 7, and HTTP
//! on port 80 with a page that shows the running system (its components
//! and their restart generations, the driver's counters for this client).
//! The timer component gives it the time and wakes it for smoltcp's
//! retransmissions and timeouts; the driver's signal wakes it for frames.
#![no_std]
#![no_main]

use paddock_net::{Idle, NetLayout};
use paddock_net_client::serve::{serve, Driver};
use paddock_net_client::{attach, log_attached, memory};
use paddock_runtime::{entry, sel4, Component};
use paddock_timer::runtime::TimerClient;

entry!(main);

fn main(c: Component) -> ! {
    c.finish(run(&c))
}

/// The driver in its own component: signalled through the channel.
struct Isolated(sel4::CPtr);

impl Driver for Isolated {
    fn step(&mut self) -> Result<(), &'static str> {
        Ok(())
    }
    fn notify(&mut self) {
        sel4::syscall::signal(self.0);
    }
    fn idle(&mut self) -> Result<Idle, &'static str> {
        Ok(Idle::Sleep)
    }
    fn woken(&mut self, _bits: u64) {}
}

fn run(c: &Component) -> Result<(), &'static str> {
    let mut timer = TimerClient::attach(c)?;
    let m = memory(c, NetLayout::DEFAULT)?;
    let (driver, _) = m.driver.ok_or("no channel `channel.<self>-net`")?;
    let (mut queues, _) = attach(c, m).map_err(|_| "the driver's info page was refused")?;
    log_attached(&queues);
    serve(c, &mut queues, &mut timer, &mut Isolated(driver))
}
