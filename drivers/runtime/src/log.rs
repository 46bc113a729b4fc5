//! Lines tagged with the component's name, through the kernel's debug
//! console. Release kernels have no debug console; there a component's log
//! is silent and its output must go through a driver.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicPtr, Ordering};

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

struct DebugConsole;

impl Write for DebugConsole {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if sel4::debug::put_char(b).is_err() {
                return Err(fmt::Error);
            }
        }
        Ok(())
    }
}

/// Prints `[name] message` and a newline.
pub fn line(args: fmt::Arguments) {
    let _ = writeln!(DebugConsole, "[{}] {}", name(), args);
}

/// Logs a line tagged with the component's name.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::log::line(format_args!($($arg)*))
    };
}
