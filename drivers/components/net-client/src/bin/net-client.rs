//! `net-client`: a network server on smoltcp over the isolated virtio-net
//! driver: an address by DHCP, ARP, UDP and TCP echo on port 7, and HTTP
//! on port 80 with a page that shows the running system (its components
//! and their restart generations, the driver's counters for this client).
//! The timer component gives it the time and wakes it for smoltcp's
//! retransmissions and timeouts; the driver's signal wakes it for frames.
#![no_std]
#![no_main]

use paddock_net::apps::{AppStorage, NetApps, NetConfig};
use paddock_net::smoltcp::time::Instant;
use paddock_net::{ClientQueues, Idle, NetLayout, Notify};
use paddock_net_client::{attach, memory};
use paddock_runtime::{entry, log, sel4, Component};
use paddock_timer::runtime::TimerClient;

entry!(main);

/// How often the page's snapshot of the system is taken.
const STATUS_EVERY: paddock_net::smoltcp::time::Duration =
    paddock_net::smoltcp::time::Duration::from_millis(100);

/// The longest the client sleeps without a frame.
const MAX_SLEEP_NS: u64 = 1_000_000_000;

/// The services' buffers: too large for the stack, and they must live as
/// long as the services.
static mut STORAGE: AppStorage<'static> = AppStorage::new();

fn main(c: Component) -> ! {
    if let Err(e) = run(&c) {
        log!("stopped: {e}");
    }
    loop {
        let _ = c.wait();
    }
}

fn run(c: &Component) -> Result<(), &'static str> {
    let mut timer = TimerClient::attach(c)?;
    let m = memory(c, NetLayout::DEFAULT)?;
    let (driver, driver_bit) = (m.driver, m.driver_bit);
    let (mut queues, _) = attach(c, m).map_err(|_| "the driver's info page was refused")?;
    let info = *queues.info();
    let mac = info.mac;
    log!(
        "attached to the network driver (generation {}): MAC {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, MTU {}, {} receive and {} transmit buffers of {} bytes",
        info.generation,
        mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
        info.mtu,
        info.layout.rx_buffers,
        info.layout.tx_buffers,
        info.layout.buf_size
    );
    // SAFETY: the only reference ever made to STORAGE, here, once, before
    // anything else runs in this single-threaded component.
    let storage = unsafe { &mut *core::ptr::addr_of_mut!(STORAGE) };
    let now = |t: &mut TimerClient| Instant::from_micros((t.now_ns() / 1_000) as i64);
    let seed = timer.now_ns() ^ u64::from_le_bytes([mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0, 0]);
    let mut apps = NetApps::new(NetConfig::new(mac, seed), storage, &mut queues, now(&mut timer));
    let timer_bit = timer.badge_bit();
    let mut last_status: Option<Instant> = None;
    loop {
        let t = now(&mut timer);
        if last_status.is_none_or(|l| t >= l + STATUS_EVERY) {
            refresh_status(c, &mut apps, &queues, t);
            last_status = Some(t);
        }
        apps.poll(t, &mut queues);
        while let Some(event) = apps.take_event() {
            log!("{event}");
        }
        if let Some(e) = queues.fault() {
            log!("the driver broke the network protocol: {e}");
            return Err("the driver broke the network protocol");
        }
        if queues.publish() == Notify::Yes {
            sel4::syscall::signal(driver);
        }
        let t = now(&mut timer);
        match apps.poll_delay(t) {
            Some(d) if d.total_micros() == 0 => continue,
            Some(d) => {
                // smoltcp may ask for hours (a DHCP renewal); waking once a
                // second instead costs nothing and keeps the status fresh.
                let wait_ns = (d.total_micros() * 1_000).min(MAX_SLEEP_NS);
                let deadline = timer.now_ns().saturating_add(wait_ns);
                if timer.set_deadline(deadline).is_err() {
                    // Without a deadline the services still run on frames;
                    // retransmissions wait for the next one.
                    log!("the timer refused a deadline");
                }
            }
            None => {}
        }
        match queues.request_signal() {
            Ok(Idle::MoreWork) => continue,
            Ok(Idle::Sleep) => {}
            Err(e) => {
                log!("the driver broke the network protocol: {e}");
                return Err("the driver broke the network protocol");
            }
        }
        let bits = c.wait().unwrap_or(0);
        let _ = bits & (driver_bit | timer_bit);
    }
}

/// What `GET /` shows: every component with its restart generation, and
/// the driver's counters for this client.
fn refresh_status(c: &Component, apps: &mut NetApps<'_>, queues: &ClientQueues<'_>, now: Instant) {
    let stats = queues.driver_stats();
    let status = apps.status_mut();
    status.system = paddock_net::apps::status::name(c.name());
    status.uptime_ms = now.total_millis() as u64;
    status.components.clear();
    for (name, generation) in c.components() {
        status.add_component(name, "running", generation as u32);
    }
    status.rings.clear();
    status.add_ring("net", stats);
}
