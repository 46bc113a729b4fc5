//! `irq-mux`: the holder of one shared IOAPIC line, added by the planner
//! for every pin that several drivers declare `shared = true`
//! (`caps/src/intx.rs`, docs/platform.md "Shared interrupt lines").
//!
//! It holds the line's IRQ handler (`irq.line`) and one channel per
//! sharer. On each interrupt it signals every sharer, then waits for their
//! answers, each on the sharer's own badge bit: polling its notification
//! and yielding while the line is pending (seL4 5.0 without MCS has no
//! receive timeout), bounded by its own TSC reading. When every sharer has
//! answered, or the bound (`ack_bound_tsc`) has passed, it acknowledges the
//! line; in the second case it reports the late sharers' bits to the root
//! task, which names them from the plan
//! (`paddock_protocol::line_report`). A sharer's answer can only set its
//! own bit, so no sharer can answer for another.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use paddock_component_support::tsc;
use paddock_irq_mux::{Line, Step};
use paddock_protocol::line_report::{word, LATE};
use paddock_runtime::sel4::ipc::MessageInfo;
use paddock_runtime::sel4::{self, CPtr};
use paddock_runtime::{entry, log, Component, SymbolKind, FAULT, NOTIFICATION};

entry!(main);

/// Sharers one holder serves: one channel bit each, and a notification
/// badge has 27 bits (one is the line's), so validation's badge-room check
/// never gives a holder more than this.
const MAX_SHARERS: usize = 32;
const CHANNEL_PREFIX: &str = "channel.";

/// One sharer: the cap that signals it, and the bit its answers set in
/// this component's notification.
#[derive(Clone, Copy)]
struct Sharer {
    signal: CPtr,
    bit: u64,
}

fn main(c: Component) -> ! {
    let irq = c.slot("irq.line").unwrap_or_else(|e| panic!("{e}"));
    let irq_bit = c.badge_bit("irq.line").unwrap_or_else(|e| panic!("{e}"));
    let bound = c.param("ack_bound_tsc").unwrap_or(0);
    let pin = c.param("pin").unwrap_or(0);
    let notification = c.slot(NOTIFICATION).unwrap_or_else(|e| panic!("{e}"));
    let root_task = c.slot(FAULT).unwrap_or_else(|e| panic!("{e}"));

    let mut sharers: [Option<Sharer>; MAX_SHARERS] = [None; MAX_SHARERS];
    let mut n = 0;
    for s in c.symbols() {
        if !s.name.starts_with(CHANNEL_PREFIX) || s.kind != SymbolKind::BadgeBit {
            continue;
        }
        if n == MAX_SHARERS {
            log!("more than {MAX_SHARERS} channels: the rest are not served");
            break;
        }
        let signal = c.slot(s.name).unwrap_or_else(|e| panic!("{e}"));
        let bit = c.badge_bit(s.name).unwrap_or_else(|e| panic!("{e}"));
        sharers[n] = Some(Sharer { signal, bit });
        n += 1;
    }
    let mut line = Line::new(n, bound).unwrap_or_else(|e| panic!("{e}"));
    log!("holds IOAPIC pin {pin} for {n} sharers; acknowledgement bound {bound} TSC ticks");

    let mut delivered = 0u64;
    // A late report waits for one more look at the notification: the line
    // is often raised again as soon as it is acknowledged, and that
    // interrupt is forwarded before the (slow) console line is printed.
    let mut report: Option<(u64, u64)> = None;
    loop {
        let bits = if line.pending() || report.is_some() {
            sel4::syscall::poll(notification)
        } else {
            c.wait().unwrap_or(0)
        };
        let now = tsc::read();
        let mut acks = 0u64;
        for (i, s) in sharers.iter().take(n).enumerate() {
            if let Some(s) = s {
                if bits & s.bit != 0 {
                    acks |= 1 << i;
                }
            }
        }
        // Answers first: those that arrive with the interrupt belong to the
        // previous one (the line stays masked until acknowledged), and
        // `Line` drops answers while idle.
        let mut step = line.answered(acks, now);
        if bits & irq_bit != 0 {
            delivered += 1;
            let to = line.raised(now);
            for (i, s) in sharers.iter().take(n).enumerate() {
                if let (Some(s), true) = (s, to & (1 << i) != 0) {
                    sel4::syscall::signal(s.signal);
                }
            }
            step = line.step(now);
        }
        match step {
            Step::Idle => {}
            Step::Wait { .. } => sel4::syscall::yield_now(),
            Step::Acknowledge => acknowledge(irq),
            Step::Late { late } => {
                acknowledge(irq);
                report = Some((late, delivered));
                sel4::syscall::yield_now();
                continue;
            }
        }
        if let Some((late, interrupt)) = report.take() {
            // The late sharers' bits in this component's notification:
            // the root task knows from the plan whose they are.
            let bits = sharers
                .iter()
                .take(n)
                .enumerate()
                .filter(|&(i, _)| late & (1 << i) != 0)
                .filter_map(|(_, s)| s.map(|s| s.bit))
                .fold(0, |all, bit| all | bit);
            let mut mrs = [0; 4];
            mrs[word::LATE_BITS] = bits;
            mrs[word::INTERRUPT] = interrupt;
            sel4::syscall::send(
                root_task,
                MessageInfo::new(LATE, 0, 0, word::COUNT as u64),
                mrs,
            );
        }
    }
}

fn acknowledge(irq: CPtr) {
    if let Err(e) = sel4::irq::ack(irq) {
        log!("acknowledging the line failed: {e:?}");
    }
}
