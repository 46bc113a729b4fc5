//! Lines tagged with the component's name, through the kernel's debug
//! console. Release kernels have none: there a component logs through its
//! IOPort cap on QEMU's debug console ([`LOG_PORT`]) if its description
//! grants it that port (an `io_port` named `log`), and is silent
//! otherwise.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use paddock_protocol::component::{LOG_CAP_NAME, LOG_PORT};
use sel4::CPtr;

/// The component's name, set once at start.
static NAME: AtomicPtr<&'static str> = AtomicPtr::new(core::ptr::null_mut());

pub(crate) fn set_name(name: &'static &'static str) {
    NAME.store(name as *const _ as *mut _, Ordering::Relaxed);
}

fn name() -> &'static str {
    let p = NAME.load(Ordering::Relaxed);
    if p.is_null() {
        "component"
    } else {
        // SAFETY: only `set_name` stores here, from a `&'static &'static str`.
        unsafe { *p }
    }
}

/// The slot of the component's `io.log` cap, 0 (the null slot) when it
/// has none or the kernel has a debug console.
static LOG_CAP: AtomicU64 = AtomicU64::new(0);

/// Picks the release kernel's log path: the `io.log` cap, if the plan
/// gave the component one.
pub(crate) fn set_log_cap(component: &crate::Component) {
    if sel4::debug::AVAILABLE {
        return;
    }
    if let Ok(slot) = component.slot(LOG_CAP_NAME) {
        LOG_CAP.store(slot, Ordering::Relaxed);
    }
}

struct Console;

impl Console {
    fn put(cap: CPtr, b: u8) -> fmt::Result {
        if sel4::debug::AVAILABLE {
            return sel4::debug::put_char(b).map_err(|_| fmt::Error);
        }
        if cap == 0 {
            return Err(fmt::Error);
        }
        // A cap that does not cover the port is refused by the kernel:
        // the log stops, the component goes on.
        sel4::ioport::out8(cap, LOG_PORT, b).map_err(|_| fmt::Error)
    }
}

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let cap = LOG_CAP.load(Ordering::Relaxed);
        s.bytes().try_for_each(|b| Console::put(cap, b))
    }
}

/// Prints `[name] message` and a newline.
pub fn line(args: fmt::Arguments) {
    let _ = writeln!(Console, "[{}] {}", name(), args);
}

/// Logs a line tagged with the component's name.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::log::line(format_args!($($arg)*))
    };
}
