//! Witness reports: short observations put in the root task's record under
//! this component's name (`paddock_protocol::record`), which no component
//! can write directly or report for another.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU64, Ordering};
use paddock_protocol::record::{encode_witness, WITNESS, WITNESS_BYTES};

/// The component's fault endpoint slot, the way to the root task; 0 (the
/// null slot) until the runtime has read the info page.
static ROOT_TASK: AtomicU64 = AtomicU64::new(0);

pub(crate) fn set_root_task(component: &crate::Component) {
    if let Ok(slot) = component.slot(crate::FAULT) {
        ROOT_TASK.store(slot, Ordering::Relaxed);
    }
}

/// Text cut to what one report carries.
struct Report {
    bytes: [u8; WITNESS_BYTES],
    len: usize,
}

impl Write for Report {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            let Some(slot) = self.bytes.get_mut(self.len) else {
                return Ok(());
            };
            *slot = b;
            self.len += 1;
        }
        Ok(())
    }
}

/// Sends `args` (its first [`WITNESS_BYTES`] bytes) to the root task as a
/// witness report; does not wait. Nothing is sent before the runtime has
/// started, or by a component without a fault endpoint.
pub fn report(args: fmt::Arguments) {
    let root_task = ROOT_TASK.load(Ordering::Relaxed);
    if root_task == 0 {
        return;
    }
    let mut text = Report {
        bytes: [0; WITNESS_BYTES],
        len: 0,
    };
    let _ = text.write_fmt(args);
    // Cut on a character boundary, so the text stays UTF-8.
    let mut len = text.len;
    while core::str::from_utf8(&text.bytes[..len]).is_err() {
        len -= 1;
    }
    let text = core::str::from_utf8(&text.bytes[..len]).unwrap_or("");
    sel4::syscall::send(
        root_task,
        sel4::ipc::MessageInfo::new(WITNESS, 0, 0, 4),
        encode_witness(text),
    );
}

/// Puts a line in the root task's record, under this component's name, as
/// `paddock: witness `<name>`: <text>` (at most
/// [`WITNESS_BYTES`](paddock_protocol::record::WITNESS_BYTES) bytes of it).
#[macro_export]
macro_rules! witness {
    ($($arg:tt)*) => {
        $crate::witness::report(format_args!($($arg)*))
    };
}
