//! `edu-intx`: drives one edu device with its MSI off, so the device
//! signals through its INTx pin. It raises `raises` interrupts one after
//! another (the next once the previous has arrived) and judges each
//! delivery on its line by the device's own interrupt status register: set
//! means its device raised it (it clears it there), 0 means another device
//! on a shared line did. It then answers the line: on its own IRQ handler
//! for an unshared pin (`irq.intx`), or through its channel to the line's
//! holder (`channel.<component>-intx`), which sets only its own bit there.
//! With `rogue = 1` it never answers, and it tries to have the root task
//! blame the others: it sends a shared-line report naming every bit, as a
//! line's holder would (the root task must ignore it). After the last of
//! its interrupts it
//! prints its counts and the delay from each raise to its arrival, in TSC
//! ticks.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

#[path = "../shared.rs"]
#[allow(dead_code)] // the copy protocol is the edu-dma driver's
mod shared;

use paddock_component_support::tsc;
use paddock_edu::regs::irq;
use paddock_protocol::line_report::{word, LATE};
use paddock_runtime::sel4::ipc::MessageInfo;
use paddock_runtime::sel4::{self, CPtr};
use paddock_runtime::{entry, log, Component, SymbolKind, FAULT};
use shared::open_device;

entry!(main);

/// How this driver answers its line.
#[derive(Clone, Copy)]
enum Line {
    /// Its own IRQ handler: acknowledge at the kernel.
    Own(CPtr),
    /// The shared line's holder: signal it.
    Holder(CPtr),
}

/// The line's cap and the badge bit it arrives on.
fn line(c: &Component) -> (Line, u64) {
    if let (Ok(slot), Ok(bit)) = (c.slot("irq.intx"), c.badge_bit("irq.intx")) {
        return (Line::Own(slot), bit);
    }
    for s in c.symbols() {
        let holder = s.kind == SymbolKind::Slot
            && s.name
                .strip_prefix("channel.")
                .and_then(|n| n.strip_prefix(c.name()))
                .is_some_and(|n| n == "-intx");
        if holder {
            let bit = c.badge_bit(s.name).unwrap_or_else(|e| panic!("{e}"));
            return (Line::Holder(s.value), bit);
        }
    }
    panic!("neither `irq.intx` nor a channel to a shared line's holder");
}

fn main(c: Component) -> ! {
    let mut edu = open_device(&c);
    let (line, line_bit) = line(&c);
    let raises = c.param("raises").unwrap_or(0);
    let rogue = c.param("rogue").unwrap_or(0) != 0;
    let shared = matches!(line, Line::Holder(_));
    log!(
        "INTx, {} line; raising {raises} interrupts{}",
        if shared { "shared" } else { "own" },
        if rogue {
            "; never answering the line"
        } else {
            ""
        }
    );

    if rogue {
        let root_task = c.slot(FAULT).unwrap_or_else(|e| panic!("{e}"));
        let mut mrs = [0; 4];
        mrs[word::LATE_BITS] = u64::MAX;
        mrs[word::INTERRUPT] = 1;
        sel4::syscall::send(
            root_task,
            MessageInfo::new(LATE, 0, 0, word::COUNT as u64),
            mrs,
        );
    }

    let (mut raised, mut own, mut other) = (0u64, 0u64, 0u64);
    let (mut max_delay, mut total_delay) = (0u64, 0u64);
    let mut raised_at = 0;
    if raises > 0 {
        raised_at = tsc::read();
        edu.raise_interrupt(irq::FACTORIAL);
        raised = 1;
    }
    loop {
        let bits = c.wait().unwrap_or(0);
        if bits & line_bit == 0 {
            continue;
        }
        let now = tsc::read();
        let status = edu.handle_interrupt().raised;
        if status != 0 {
            own += 1;
            let delay = now.wrapping_sub(raised_at);
            max_delay = max_delay.max(delay);
            total_delay += delay;
        } else {
            other += 1;
        }
        if !rogue {
            match line {
                Line::Own(handler) => {
                    if let Err(e) = sel4::irq::ack(handler) {
                        log!("acknowledging the line failed: {e:?}");
                    }
                }
                Line::Holder(holder) => sel4::syscall::signal(holder),
            }
        }
        if status == 0 {
            continue;
        }
        if raised < raises {
            raised_at = tsc::read();
            edu.raise_interrupt(irq::FACTORIAL);
            raised += 1;
        } else if own == raises {
            log!(
                "raised {raised}, received {own} from its device and {other} from other devices on the line; raise to arrival: max {max_delay} TSC ticks, mean {} TSC ticks",
                total_delay / own.max(1)
            );
        }
    }
}
