//! The client's loop, shared by the isolated client and the one with the
//! driver linked in: poll smoltcp, publish to the driver, sleep until a
//! frame, a timer deadline or the driver wakes it.

use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use paddock_net::apps::status::{self, Probe};
use paddock_net::apps::{AppStorage, NetApps, NetConfig};
use paddock_net::smoltcp::time::{Duration, Instant};
use paddock_net::{ClientQueues, Idle, Notify};
use paddock_runtime::{log, Component};
use paddock_timer::runtime::TimerClient;

/// How often the page's snapshot of the system is taken.
const STATUS_EVERY: Duration = Duration::from_millis(100);
/// The longest the client sleeps without a frame: smoltcp may ask for
/// hours (a DHCP renewal); waking once a second costs nothing.
const MAX_SLEEP_NS: u64 = 1_000_000_000;

/// The other end of the client's queues.
pub trait Driver {
    /// Moves frames (the driver linked in); nothing for an isolated one.
    fn step(&mut self) -> Result<(), &'static str>;
    /// The client published and the driver should look.
    fn notify(&mut self);
    /// About to sleep: whether the driver still has work.
    fn idle(&mut self) -> Result<Idle, &'static str>;
    /// The component woke with these badge bits.
    fn woken(&mut self, bits: u64);
}

/// The services' buffers: too large for the stack, and they must live as
/// long as the services.
static mut STORAGE: AppStorage<'static> = AppStorage::new();

/// The idle loop's counter, when the plan shares one (`shared.idle-count`).
static IDLE_TURNS: AtomicPtr<AtomicU64> = AtomicPtr::new(core::ptr::null_mut());

fn probe() -> Probe {
    let turns = IDLE_TURNS.load(Ordering::Relaxed);
    Probe {
        tsc: paddock_timer::tsc::read(),
        // SAFETY: set once from a page-aligned region the root task maps
        // for the component's life; the counter is only read, atomically.
        idle_turns: (!turns.is_null()).then(|| unsafe { &*turns }.load(Ordering::Relaxed)),
    }
}

/// Serves until the driver breaks the protocol.
pub fn serve(
    c: &Component,
    queues: &mut ClientQueues<'static>,
    timer: &mut TimerClient,
    driver: &mut impl Driver,
) -> Result<(), &'static str> {
    if let Ok(r) = c.region("shared.idle-count") {
        IDLE_TURNS.store(r.vaddr as *mut AtomicU64, Ordering::Relaxed);
    }
    let info = *queues.info();
    let mac = info.mac;
    // SAFETY: the only reference ever made to STORAGE, here, once: `serve`
    // runs once per component, which is single-threaded.
    let storage = unsafe { &mut *core::ptr::addr_of_mut!(STORAGE) };
    let instant = |ns: u64| Instant::from_micros((ns / 1_000) as i64);
    let mut mac_word = [0u8; 8];
    mac_word[..6].copy_from_slice(&mac);
    let seed = timer.now_ns() ^ u64::from_le_bytes(mac_word);
    let mut apps = NetApps::new(
        NetConfig::new(mac, seed),
        storage,
        queues,
        instant(timer.now_ns()),
    );
    apps.status_mut().probe = Some(probe);
    let mut last_status: Option<Instant> = None;
    // The deadline the timer holds: set again only when an earlier one is
    // wanted or it has passed, so a turn of the loop does not signal the
    // timer for a deadline it already has (a later one only wakes early).
    let mut armed: Option<u64> = None;
    loop {
        driver.step()?;
        let t = instant(timer.now_ns());
        if last_status.is_none_or(|l| t >= l + STATUS_EVERY) {
            refresh_status(c, &mut apps, queues, t);
            last_status = Some(t);
        }
        apps.poll(t, queues);
        while let Some(event) = apps.take_event() {
            log!("{event}");
        }
        if let Some(e) = queues.fault() {
            log!("the driver broke the network protocol: {e}");
            return Err("the driver broke the network protocol");
        }
        if queues.publish() == Notify::Yes {
            driver.notify();
        }
        let now_ns = timer.now_ns();
        match apps.poll_delay(instant(now_ns)) {
            Some(d) if d.total_micros() == 0 => continue,
            Some(d) => {
                let wait_ns = d.total_micros().saturating_mul(1_000).min(MAX_SLEEP_NS);
                let deadline = now_ns.saturating_add(wait_ns);
                if armed.is_none_or(|a| a <= now_ns || deadline < a) {
                    armed = Some(deadline);
                    if timer.set_deadline(deadline).is_err() {
                        log!("the timer refused a deadline");
                    }
                }
            }
            None => {}
        }
        if driver.idle()? == Idle::MoreWork {
            continue;
        }
        match queues.request_signal() {
            Ok(Idle::MoreWork) => continue,
            Ok(Idle::Sleep) => {}
            Err(e) => {
                log!("the driver broke the network protocol: {e}");
                return Err("the driver broke the network protocol");
            }
        }
        driver.woken(c.wait().unwrap_or(0));
    }
}

/// What `GET /` shows: every component with its restart generation, and
/// the driver's counters for this client.
fn refresh_status(c: &Component, apps: &mut NetApps<'_>, queues: &ClientQueues<'_>, now: Instant) {
    let stats = queues.driver_stats();
    let s = apps.status_mut();
    s.system = status::name(c.name());
    s.uptime_ms = now.total_millis().max(0) as u64;
    s.components.clear();
    for (name, generation) in c.components() {
        s.add_component(name, "running", generation as u32);
    }
    s.rings.clear();
    s.add_ring("net", stats);
}
