//! What network clients share: attaching to the driver from the plan's
//! names (`shared.<self>-net-control`, `dma.net.<self>`,
//! `channel.<self>-net`) and waiting until it serves.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod serve;

use paddock_net::{ClientQueues, Control, InfoError, NetLayout, SetupError, Window};
use paddock_runtime::{log, sel4, Component};

use paddock_component_support::names::{symbol, Name};

/// `<prefix><self><suffix>`.
pub fn own_symbol(c: &Component, prefix: &str, suffix: &str) -> Name {
    symbol(prefix, c.name(), suffix)
}

/// The memory of this client's end: its control region and its window.
pub struct Memory {
    pub control: Control<'static>,
    pub window: Window<'static>,
    /// The driver's notification and this side's badge bit for it: none
    /// when the driver is linked in.
    pub driver: Option<(sel4::CPtr, u64)>,
}

/// Maps this client's control region and window with `layout`.
pub fn memory(c: &Component, layout: NetLayout) -> Result<Memory, &'static str> {
    let control = c
        .region(&own_symbol(c, "shared.", "-net-control"))
        .map_err(|_| "no control region `shared.<self>-net-control`")?;
    let window = c
        .region(&own_symbol(c, "dma.net.", ""))
        .map_err(|_| "no data window `dma.net.<self>`")?;
    let channel = own_symbol(c, "channel.", "-net");
    // SAFETY: the root task mapped both regions read-write for the
    // component's life; this component reaches them only through the
    // atomic views `from_raw` makes; the driver and the device may write
    // anything there, which is what the checks are for.
    let (control, window) = unsafe {
        (
            Control::from_raw(control.vaddr as *mut u8, control.size as usize, layout),
            Window::from_raw(window.vaddr as *mut u8, window.size as usize, layout),
        )
    };
    Ok(Memory {
        control: control.map_err(|_| "the control region does not fit the network layout")?,
        window: window.map_err(|_| "the data window does not fit the network layout")?,
        driver: c.slot(&channel).ok().zip(c.badge_bit(&channel).ok()),
    })
}

/// Attaches once the driver has published its info page, waiting for its
/// signal while it has not (bits of other sources that arrive meanwhile
/// are returned, so the caller loses no wake-up).
pub fn attach(c: &Component, m: Memory) -> Result<(ClientQueues<'static>, u64), SetupError> {
    let mut pending = 0;
    loop {
        match ClientQueues::attach(m.control, m.window) {
            // Not published yet, or withdrawn while the driver restarts:
            // wait for its signal. A page that changed while read: again.
            Err(SetupError::Info(InfoError::Changing)) => {}
            Err(SetupError::Info(InfoError::NotReady | InfoError::Withdrawn)) => {
                let bits = c.wait().unwrap_or(0);
                pending |= bits & !m.driver.map_or(0, |(_, bit)| bit);
            }
            Ok(queues) => return Ok((queues, pending)),
            Err(e) => {
                log!("attaching to the network driver: {e}");
                return Err(e);
            }
        }
    }
}

/// Logs what the driver published.
pub fn log_attached(queues: &ClientQueues<'_>) {
    let info = queues.info();
    let mac = info.mac;
    log!(
        "attached to the network driver (generation {}): MAC {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, MTU {}, {} receive and {} transmit buffers of {} bytes",
        info.generation,
        mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
        info.mtu,
        info.layout.rx_buffers,
        info.layout.tx_buffers,
        info.layout.buf_size
    );
}
