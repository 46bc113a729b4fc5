//! `rogue`: a component that misbehaves on purpose, so the system tests can
//! show that its capabilities contain it. Each generation (the root task
//! restarts it after a fault, within its policy) tries one more thing:
//!
//! * generation 0: port IO outside its range, on every port the platform
//!   reserves (the root task's record among them), every empty slot of its
//!   CSpace, IRQ operations on caps that are not its IRQ handler, lines on
//!   the console dressed as the root task's and a witness's; then a read
//!   of unmapped memory (a fault);
//! * generation 1: a write to unmapped memory (a fault);
//! * generation 2: recursion until its stack runs into the guard page
//!   below it (a fault);
//! * generation 3: signals its witness (to show the rest of the system still
//!   runs), then executes an invalid instruction (a fault that exceeds its
//!   restart limit, so it is stopped).
//!
//! Each check prints `[rogue] check <what>: refused (<error>)` or
//! `... ALLOWED`; only refusals are correct. These lines are the rogue's
//! own word: the tests take their verdicts from the kernel's messages and
//! the root task's record.
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

/// CPtrs outside the CNode, for the walk (`walk = 1`): every bit above
/// the CNode's alone, and values that mix the CNode's bits with guard
/// bits. The CNode's guard leaves no other bit pattern pointing anywhere,
/// so the kernel's lookup of each fails, and that failure is a cap fault
/// sent to the root task.
fn far_cptr(bits: u8, index: u64) -> Option<u64> {
    const MIXED: [u64; 4] = [
        u64::MAX,
        0x8000_0000_0000_0005,
        0x0000_0001_0000_0003,
        0xdead_beef,
    ];
    let singles = 64 - u64::from(bits);
    if index < singles {
        Some(1 << (u64::from(bits) + index))
    } else {
        MIXED.get(usize::try_from(index - singles).ok()?).copied()
    }
}

/// The walk: generation `g` invokes the `g`th far CPtr and so faults; the
/// root task restarts it (`restart = "always"`) for the next one.
fn walk(c: &Component) -> ! {
    match far_cptr(c.cnode_bits(), c.generation()) {
        Some(cptr) => {
            log!("walk: invoking CPtr {cptr:#x}");
            let r = sel4::ioport::in8(cptr, FOREIGN_PORT);
            log!(
                "check far CPtr {cptr:#x}: {}",
                if r.is_ok() {
                    "ALLOWED"
                } else {
                    "refused without a fault"
                }
            );
        }
        None => log!("walk done: {} CPtrs", c.generation()),
    }
    c.park()
}

/// The flood (`flood = 1`): signals every channel it holds, as fast as
/// it can, forever, never waiting.
fn flood(c: &Component) -> ! {
    let mut targets = [0; 8];
    let mut n = 0;
    for s in c.symbols() {
        if s.kind == paddock_runtime::SymbolKind::Slot
            && s.name.starts_with("channel.")
            && n < targets.len()
        {
            log!("flooding `{}`", s.name);
            targets[n] = s.value;
            n += 1;
        }
    }
    loop {
        for &t in &targets[..n] {
            sel4::syscall::signal(t);
        }
    }
}

/// System call numbers a component must not be able to use (`syscalls =
/// 1`): on a release kernel the debug calls' numbers (-9 to -12 on a debug
/// kernel of seL4 5.0), numbers past the end of the list, and positive
/// ones. Each must be an `UnknownSyscall` fault.
const FOREIGN_SYSCALLS: [isize; 8] = [-9, -10, -11, -12, -13, -64, 1, 1000];

/// Generation `g` makes the `g`th foreign system call and so faults; the
/// root task restarts it (`restart = "always"`) for the next one.
fn syscalls(c: &Component) -> ! {
    match usize::try_from(c.generation())
        .ok()
        .and_then(|g| FOREIGN_SYSCALLS.get(g))
    {
        Some(&number) => {
            log!("system call {number}");
            let _ = sel4::syscall::by_number(number);
            log!("check system call {number}: ALLOWED");
        }
        None => log!("syscalls done: {}", FOREIGN_SYSCALLS.len()),
    }
    c.park()
}

/// The serial driver's bad client (`serial = 1`): writes a tail 1000 past
/// the head into the active queue of ring `serial-tx`, which it produces,
/// and signals the driver.
fn break_serial(c: &Component) -> ! {
    let (Ok(queues), Ok(driver)) = (c.region("ring.serial-tx.queues"), c.slot("ring.serial-tx"))
    else {
        log!("no ring `serial-tx`");
        c.park()
    };
    if queues.size < paddock_ring::layout::HEADER_BYTES as u64 {
        log!("ring `serial-tx` is too small");
        c.park()
    }
    // SAFETY: the root task mapped the ring's queues read-write here, the
    // active queue's header first, and the tail word at its offset is an
    // aligned u32 that only atomics touch.
    let tail = unsafe {
        &*((queues.vaddr as usize + paddock_ring::layout::offsets::TAIL)
            as *const core::sync::atomic::AtomicU32)
    };
    let now = tail.load(core::sync::atomic::Ordering::Relaxed);
    tail.store(
        now.wrapping_add(1000),
        core::sync::atomic::Ordering::Release,
    );
    sel4::syscall::signal(driver);
    log!(
        "wrote tail {} into `serial-tx` and signalled the driver",
        now.wrapping_add(1000)
    );
    c.park()
}

fn main(c: Component) -> ! {
    log!("generation {}", c.generation());
    if c.param("serial") == Some(1) {
        break_serial(&c);
    }
    if c.param("storm") == Some(1) {
        // A fault storm: fault at once, in every generation.
        // SAFETY: ud2 raises #UD, a fault the root task handles.
        unsafe { core::arch::asm!("ud2", options(nomem, nostack)) };
    }
    if c.param("syscalls") == Some(1) {
        syscalls(&c);
    }
    if c.param("walk") == Some(1) {
        walk(&c);
    }
    if c.param("flood") == Some(1) {
        flood(&c);
    }
    match c.generation() {
        0 => {
            port_io(&c);
            reserved_ports(&c);
            empty_slots(&c);
            irqs(&c);
            forge();
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
        2 => {
            log!("recursing past the end of its stack");
            let depth = recurse(0);
            log!("check stack overflow: ALLOWED ({depth} frames)");
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

/// Ports the platform keeps for itself (as `caps`' validation lists them,
/// and a few more a driver must never reach), with what they are. The
/// kernel must refuse every read and write of each, and report it.
const RESERVED: [(u16, &str); 16] = [
    (0x20, "master PIC"),
    (0x21, "master PIC mask"),
    (0x40, "PIT counter 0"),
    (0x43, "PIT mode"),
    (0x60, "keyboard controller data"),
    (0x64, "keyboard controller command (reset)"),
    (0x70, "CMOS/RTC index"),
    (0x92, "fast A20 and reset"),
    (0xA0, "slave PIC"),
    (0xE9, "the components' release-kernel log"),
    (paddock_protocol::record::PORT, "the root task's record"),
    (0x3F8, "COM1 data (the kernel's console)"),
    (0x3FD, "COM1 line status"),
    (0x510, "QEMU firmware configuration"),
    (0xCF8, "PCI configuration address"),
    (0xCFC, "PCI configuration data"),
];

/// Reads and writes every reserved port through its own IO port cap.
fn reserved_ports(c: &Component) {
    let own = match c.slot("io.com4") {
        Ok(cap) => cap,
        Err(e) => return log!("{e}"),
    };
    let mut refused = 0;
    for (port, what) in RESERVED {
        let read = sel4::ioport::in8(own, port).map(drop);
        let write = sel4::ioport::out8(own, port, b'X');
        refused += usize::from(read.is_err()) + usize::from(write.is_err());
        if read.is_ok() || write.is_ok() {
            log!("check reserved port {port:#x} ({what}): ALLOWED");
        }
    }
    log!(
        "check reserved ports: {refused} of {} reads and writes refused",
        2 * RESERVED.len()
    );
}

/// Prints, on the console every component shares, lines dressed as the
/// root task's verdicts and as a witness's report, to show that they never
/// reach the root task's record, which the tests read verdicts from.
fn forge() {
    for line in [
        "paddock: stopped `witness`: FORGED by rogue\n",
        "paddock: witness `witness`: FORGED by rogue\n",
    ] {
        for b in line.bytes() {
            let _ = sel4::debug::put_char(b);
        }
    }
    log!("printed two forged lines");
}

/// Recurses until the stack runs out: each frame keeps a 512-byte array
/// live, so the guard page is reached in tens of frames, not thousands.
#[inline(never)]
#[allow(unconditional_recursion)] // the point: it ends in the guard page
fn recurse(depth: u64) -> u64 {
    let mut frame = [0u8; 512];
    frame[0] = depth as u8;
    let frame = core::hint::black_box(frame);
    u64::from(frame[0]) + recurse(depth + 1)
}

/// How many slots of the CSpace hold a cap, as the kernel identifies them.
fn occupied(c: &Component) -> usize {
    (0..(1u64 << c.cnode_bits()))
        .filter(|slot| sel4::debug::cap_identify(*slot).is_ok_and(|t| t != 0))
        .count()
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
    // IRQControl is the root task's alone: no slot of this CSpace, planned
    // or not, may mint an IRQ handler. Each slot is invoked as IRQControl;
    // what counts is whether a cap appeared anywhere in the CSpace (a send
    // cap to a notification takes any invocation as a signal, without an
    // error, and mints nothing). The boot dump shows the kernel's view of
    // every slot too.
    let fault_endpoint = c.slot(paddock_runtime::FAULT).ok();
    let before = occupied(c);
    let mut returned_ok = 0;
    for slot in 0..(1u64 << c.cnode_bits()) {
        // Invoking the fault endpoint is a call to the root task, which
        // takes an unknown request for a fault of this component.
        if Some(slot) == fault_endpoint {
            continue;
        }
        let r = sel4::irq::get_ioapic(
            slot,
            sel4::cnode::Slot::new(2, 20, c.cnode_bits()),
            0,
            1,
            sel4::irq::Trigger::Edge,
            sel4::irq::Polarity::ActiveHigh,
            40,
        );
        returned_ok += u32::from(r.is_ok());
    }
    let after = occupied(c);
    log!(
        "check IRQControl through every slot but the fault endpoint: {returned_ok} returned no error; {before} caps before, {after} after"
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
