//! `hpet-timer`: the HPET as an isolated timer driver for up to 8 clients.
//!
//! It maps the HPET by physical address (`mmio.hpet`), routes comparator 0
//! to the IOAPIC pin of its IRQ `comparator` (refused unless the
//! comparator's INT_ROUTE_CAP allows it), calibrates the TSC against the
//! HPET and publishes the clock on every client's page, then serves: each
//! wake-up handles the comparator's interrupt, reads every client's
//! deadline word once (`paddock_timer::server::Server::poll`), and signals
//! each client whose deadline passed or was refused. Clients are the
//! components that share a `shared.<c>-clock` region and a
//! `channel.<c>-timer` channel with it, in the order of its info page.
#![no_std]
#![no_main]

use heapless::Vec;
use paddock_hpet::{Config, Timer, TimerService, Trigger};
use paddock_hpet_timer::mmio::MappedHpet;
use paddock_hpet_timer::stop;
use paddock_runtime::{entry, log, sel4, witness, Component, SymbolKind};
use paddock_timer::runtime::{page, Channel};
use paddock_timer::server::Server;
use paddock_timer::{tsc, ClockPage, Params};

entry!(main);

const MAX_CLIENTS: usize = 8;
/// How long the first calibration measures: long enough for one part in
/// 10^4 with QEMU's 10 ns HPET tick and the reads' jitter.
const CALIBRATION_NS: u64 = 20_000_000;
/// TSC ticks the calibration may take before the HPET is given up on: 20 s
/// at 10 GHz, far past 20 ms on any machine paddock runs on.
const CALIBRATION_TSC_LIMIT: u64 = 200_000_000_000;
/// How often the clock is measured again over the whole run since the
/// start, which makes the slope ever more precise.
const REFRESH_NS: u64 = 1_000_000_000;

struct Client {
    name: &'static str,
    page: ClockPage<'static>,
    channel: Channel,
}

/// `a` and `b` joined in `buf`.
fn join<'b>(buf: &'b mut [u8; 48], a: &str, b: &str) -> Option<&'b str> {
    let end = a.len() + b.len();
    let out = buf.get_mut(..end)?;
    out[..a.len()].copy_from_slice(a.as_bytes());
    out[a.len()..].copy_from_slice(b.as_bytes());
    core::str::from_utf8(out).ok()
}

/// The clients the plan connects: `shared.<c>-clock` with `channel.<c>-timer`.
fn clients(c: &Component) -> Vec<Client, MAX_CLIENTS> {
    let mut out = Vec::new();
    for s in c.symbols() {
        let Some(region) = s.name.strip_prefix("shared.") else {
            continue;
        };
        let Some(name) = region.strip_suffix("-clock") else {
            continue;
        };
        if s.kind != SymbolKind::Vaddr {
            continue;
        }
        let mut buf = [0u8; 48];
        let Some(channel) = join(&mut buf, name, "-timer") else {
            log!("client `{name}` not served: its name is too long");
            continue;
        };
        let (page, channel) = match (page(c, region), Channel::attach(c, channel)) {
            (Ok(p), Ok(ch)) => (p, ch),
            (Err(e), _) | (_, Err(e)) => {
                log!("client `{name}` not served: {e}");
                continue;
            }
        };
        if out
            .push(Client {
                name,
                page,
                channel,
            })
            .is_err()
        {
            log!("client `{name}` not served: at most {MAX_CLIENTS} clients");
        }
    }
    out
}

fn main(c: Component) -> ! {
    let irq = c.slot("irq.comparator").unwrap_or_else(|e| stop(&c, &e));
    let irq_bit = c
        .badge_bit("irq.comparator")
        .unwrap_or_else(|e| stop(&c, &e));
    let notification = c
        .slot(paddock_runtime::NOTIFICATION)
        .unwrap_or_else(|e| stop(&c, &e));
    // The pin of IRQ `comparator`, as the plan routed it.
    let pin = c
        .param("irq.comparator")
        .and_then(|p| u8::try_from(p).ok())
        .unwrap_or_else(|| stop(&c, &"IRQ `comparator` is not an IOAPIC input"));
    // Each expiry and refusal on the console, when asked (the timer's own
    // test reads them); otherwise a busy client would fill the console.
    let report = c.param("report") == Some(1);
    let mut regs = MappedHpet::attach(&c, "mmio.hpet").unwrap_or_else(|e| stop(&c, &e));
    let route_cap = paddock_hpet::TimerCaps::decode(paddock_hpet::HpetRegs::read(
        &mut regs,
        paddock_hpet::regs::timer_config(0),
    ))
    .route_cap;
    log!("comparator 0 may route to IOAPIC inputs {route_cap:#010x}; asked for {pin}");
    let timer = Timer::new(
        regs,
        Config {
            timer: 0,
            ioapic_pin: pin,
            trigger: Trigger::Edge,
        },
    )
    .unwrap_or_else(|e| stop(&c, &e));
    let period = timer.period();
    let mut service = TimerService::<_, MAX_CLIENTS>::new(timer);
    let clients = clients(&c);
    let pages: Vec<ClockPage<'static>, MAX_CLIENTS> = clients.iter().map(|k| k.page).collect();

    // Calibrate: two (TSC, HPET) samples CALIBRATION_NS apart.
    let (tsc0, ns0) = (tsc::read(), service.now_ns());
    while service.now_ns().wrapping_sub(ns0) < CALIBRATION_NS {
        // A counter that does not move would hold the timer here for good.
        if tsc::read().wrapping_sub(tsc0) > CALIBRATION_TSC_LIMIT {
            stop(&c, &"the HPET main counter does not advance");
        }
        core::hint::spin_loop();
    }
    let (tsc1, ns1) = (tsc::read(), service.now_ns());
    let mut params = Params::calibrate(tsc0, ns0, tsc1, ns1).unwrap_or_else(|e| stop(&c, &e));
    for k in clients.iter() {
        k.page.publish(params);
    }
    let mhz = 1_000u128 * (1u128 << 32) / u128::from(params.mult);
    log!(
        "ready: {} clients, HPET period {} fs, IOAPIC pin {pin}, TSC {mhz} MHz by the HPET",
        clients.len(),
        period.femtoseconds()
    );
    // The clock is there: wake every client once.
    for k in clients.iter() {
        k.channel.signal();
    }
    // Let the line through from now on.
    if let Err(e) = sel4::irq::ack(irq) {
        stop(&c, &e);
    }

    let mut server = Server::<MAX_CLIENTS>::new();
    // Wake-ups that expired, answered and refused nothing: signals from a
    // peer with nothing to ask, reported through the root task's record
    // at each power of two from 1024, so a flood is seen by the one it
    // floods.
    let mut idle = 0u64;
    loop {
        let bits = sel4::syscall::wait(notification);
        let mut expired = 0;
        if bits & irq_bit != 0 {
            match service.handle_interrupt() {
                Ok(mask) => expired = mask,
                Err(e) => log!("interrupt: {e:?}"),
            }
            if let Err(e) = sel4::irq::ack(irq) {
                log!("acknowledging the interrupt: {e}");
            }
        }
        let outcome = match server.poll(&mut service, &pages, expired) {
            Ok(o) => o,
            Err(e) => {
                log!("serving the deadlines: {e:?}");
                continue;
            }
        };
        if expired == 0 && outcome.signal() == 0 && outcome.refused == 0 {
            idle += 1;
            if idle >= 1024 && idle.is_power_of_two() {
                witness!("idle wake-ups {idle}");
            }
        }
        let now = service.now_ns();
        for (i, k) in clients.iter().enumerate() {
            let bit = 1u64 << i;
            if outcome.signal() & bit != 0 {
                k.channel.signal();
            }
        }
        for (i, k) in clients.iter().enumerate() {
            let bit = 1u64 << i;
            if report && outcome.expired & bit != 0 {
                log!("expired {} at {now}", k.name);
            }
            if outcome.refused & bit != 0 {
                witness!("refused {}", k.name);
            }
            if report && outcome.refused & bit != 0 {
                log!(
                    "refused {}: deadline too far ahead, answered at {now}",
                    k.name
                );
            }
        }
        if now.wrapping_sub(params.ns_base) >= REFRESH_NS {
            let (tsc, ns) = (tsc::read(), service.now_ns());
            match Params::calibrate(tsc0, ns0, tsc, ns) {
                Ok(p) => {
                    params = p;
                    for k in clients.iter() {
                        k.page.publish(params);
                    }
                }
                Err(e) => log!("recalibrating: {e}"),
            }
        }
    }
}
