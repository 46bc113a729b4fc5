//! `rogue`: a component that misbehaves on purpose, so the system tests can
//! show that its capabilities contain it. Each generation (the root task
//! restarts it after a fault, within its policy) tries one more thing:
//!
//! * generation 0: port IO outside its range, every empty slot of its
//!   CSpace, IRQ operations on caps that are not its IRQ handler; then a
//!   read of unmapped memory (a fault);
//! * generation 1: a write to unmapped memory (a fault);
//! * generation 2: signals its witness (to show the rest of the system still
//!   runs), then executes an invalid instruction (a fault that exceeds its
//!   restart limit, so it is stopped).
//!
//! Each check prints `[rogue] check <what>: refused (<error>)` or
//! `... ALLOWED`; only refusals are correct.
#![no_std]
#![no_main]

use paddock_runtime::sel4::{self, CPtr};
use paddock_runtime::{entry, log, Component};

entry!(main);

/// A port the plan does not give the rogue: COM1, the kernel's console.
const FOREIGN_PORT: u16 = 0x3f8;
/// Far from anything mapped (the planned regions start at 512 GiB, the
/// program at 4 MiB).
const UNMAPPED: u64 = 0x4000_0000;

fn report(what: &str, result: Result<(), sel4::Error>) {
    match result {
        Ok(()) => log!("check {what}: ALLOWED"),
        Err(e) => log!("check {what}: refused ({e})"),
    }
}

fn main(c: Component) -> ! {
    log!("generation {}", c.generation());
    match c.generation() {
        0 => {
            port_io(&c);
            empty_slots(&c);
            irqs(&c);
            log!("reading unmapped memory at {UNMAPPED:#x}");
            // SAFETY: deliberately invalid: the read faults, and the root
            // task restarts this component; the value is never used.
            let _ = unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) };
            log!("check unmapped read: ALLOWED");
        }
        1 => {
            log!("writing unmapped memory at {UNMAPPED:#x}");
            // SAFETY: deliberately invalid, as above.
            unsafe { core::ptr::write_volatile(UNMAPPED as *mut u64, 0xdead) };
            log!("check unmapped write: ALLOWED");
        }
        _ => {
            match c.slot("channel.witness") {
                Ok(witness) => sel4::syscall::signal(witness),
                Err(e) => log!("{e}"),
            }
            log!("executing an invalid instruction");
            // SAFETY: ud2 raises #UD, a fault the root task handles.
            unsafe { core::arch::asm!("ud2", options(nomem, nostack)) };
        }
    }
    log!("still running: containment failed");
    loop {
        let _ = c.wait();
    }
}

fn port_io(c: &Component) {
    let own = match c.slot("io.com4") {
        Ok(cap) => cap,
        Err(e) => return log!("{e}"),
    };
    // Inside the range: allowed (the scratch register of COM4).
    match sel4::ioport::in8(own, 0x2ef) {
        Ok(v) => log!("own port 0x2ef reads {v:#x}"),
        Err(e) => log!("own port 0x2ef failed: {e}"),
    }
    report(
        "port 0x3f8 outside its range",
        sel4::ioport::out8(own, FOREIGN_PORT, b'!'),
    );
    report(
        "port read 0x3fd outside its range",
        sel4::ioport::in8(own, FOREIGN_PORT + 5).map(drop),
    );
}

fn planned(c: &Component, slot: CPtr) -> bool {
    c.symbols()
        .any(|s| s.kind == paddock_runtime::SymbolKind::Slot && s.value == slot)
}

/// Every slot the plan leaves empty must hold nothing: invoking it fails,
/// and the kernel identifies it as empty.
fn empty_slots(c: &Component) {
    let bits = c.cnode_bits();
    let (mut refused, mut found) = (0, 0);
    for slot in 0..(1u64 << bits) {
        if planned(c, slot) {
            continue;
        }
        // An IO port read, the most useful thing a stolen cap could do.
        if sel4::ioport::in8(slot, FOREIGN_PORT).is_err() {
            refused += 1;
        }
        if sel4::debug::cap_identify(slot).is_ok_and(|t| t != 0) {
            found += 1;
        }
    }
    log!(
        "check empty slots: {refused} of {} refused, {found} non-empty outside the plan",
        (1u64 << bits)
            - c.symbols()
                .filter(|s| s.kind == paddock_runtime::SymbolKind::Slot)
                .count() as u64
    );
}

fn irqs(c: &Component) {
    let Ok(notification) = c.slot("notification") else {
        return log!("no notification");
    };
    // Its notification is not an IRQ handler.
    report(
        "IRQ ack through a non-handler cap",
        sel4::irq::ack(notification),
    );
    report(
        "IRQ rebind through a non-handler cap",
        sel4::irq::set_notification(notification, notification),
    );
    // Slot 4 is the root task's IRQControl; here it is whatever the plan
    // put there, or nothing.
    report(
        "IRQControl through slot 4",
        sel4::irq::get_ioapic(
            4,
            sel4::cnode::Slot::new(2, 20, c.cnode_bits()),
            0,
            1,
            sel4::irq::Trigger::Edge,
            sel4::irq::Polarity::ActiveHigh,
            40,
        ),
    );
    // Its own IRQ handler works: rebinding it to its own notification is
    // allowed, acking it too.
    if let Ok(own) = c.slot("irq.lpt") {
        match sel4::irq::ack(own) {
            Ok(()) => log!("own IRQ handler acks"),
            Err(e) => log!("own IRQ handler ack failed: {e}"),
        }
    }
}
