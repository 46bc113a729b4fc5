//! The root task's console. Debug kernels print through
//! `seL4_DebugPutChar`; release kernels have no debug syscalls, so the root
//! task drives COM1 itself through its IOPort capability. Every line also
//! goes to the record ([`paddock_protocol::record`]), a port no component
//! can write, except while the boot dump prints.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};
use paddock_protocol::record;
use sel4::bootinfo::init_cap;

/// Whether printed bytes go to the record too.
static RECORDING: AtomicBool = AtomicBool::new(true);

/// Stops or resumes copying the console to the record: the boot dump,
/// printed before any component runs, is left out of it (it is long, and
/// a byte to the record costs a system call).
pub fn set_recording(on: bool) {
    RECORDING.store(on, Ordering::Relaxed);
}

const COM1: u16 = 0x3f8;
/// Line status register: bit 5 set when the transmit holding register can
/// take a byte.
const COM1_LSR: u16 = COM1 + 5;
const LSR_THR_EMPTY: u8 = 1 << 5;

pub fn backend_name() -> &'static str {
    if sel4::debug::AVAILABLE {
        "seL4_DebugPutChar"
    } else {
        "COM1 through the IOPort cap"
    }
}

fn put_byte(b: u8) {
    if RECORDING.load(Ordering::Relaxed) {
        // No device there (another machine model) is not an error worth
        // stopping for: the console still has the line.
        let _ = sel4::ioport::out8(init_cap::IOPort, record::PORT, b);
    }
    if sel4::debug::put_char(b).is_ok() {
        return;
    }
    // Bounded wait: a missing UART must not hang the root task forever.
    for _ in 0..100_000 {
        match sel4::ioport::in8(init_cap::IOPort, COM1_LSR) {
            Ok(lsr) if lsr & LSR_THR_EMPTY != 0 => break,
            Ok(_) => continue,
            Err(_) => return,
        }
    }
    let _ = sel4::ioport::out8(init_cap::IOPort, COM1, b);
}

pub fn print_str(s: &str) {
    for b in s.bytes() {
        if b == b'\n' {
            put_byte(b'\r');
        }
        put_byte(b);
    }
}

struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        print_str(s);
        Ok(())
    }
}

pub fn print_fmt(args: fmt::Arguments) {
    let _ = Console.write_fmt(args);
}

#[macro_export]
macro_rules! println {
    () => {
        $crate::console::print_str("\n")
    };
    ($($arg:tt)*) => {{
        $crate::console::print_fmt(format_args!($($arg)*));
        $crate::console::print_str("\n");
    }};
}
