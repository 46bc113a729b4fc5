//! What the block clients share: attaching to the driver by the plan's
//! names (the control region `blk-control`, the data window `dma.blk.data`,
//! the channel `blk-client`), and the kernel calls the client library
//! needs.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

use paddock_blk::{Control, ControlLayout, DataWindow, DriverSignal, Geometry, InfoError};
use paddock_runtime::{sel4, Component};

/// The control region shared with the driver.
pub const CONTROL: &str = "shared.blk-control";
/// The data window: mapped here, reached by the device, never mapped by
/// the driver.
pub const DATA_WINDOW: &str = "dma.blk.data";
/// The channel to the driver.
pub const CHANNEL: &str = "channel.blk-client";

/// Signals the driver through the channel; waits on this component's
/// notification until the channel's bit is set.
pub struct Channel {
    c: Component,
    driver: sel4::CPtr,
    bit: u64,
}

impl DriverSignal for Channel {
    fn signal_driver(&mut self) {
        sel4::syscall::signal(self.driver);
    }

    fn wait_for_driver(&mut self) {
        while self.c.wait().unwrap_or(0) & self.bit == 0 {}
    }
}

/// The driver's end: queues, data window and channel, once the driver has
/// published its information page.
pub struct Attached {
    pub control: Control<'static>,
    pub window: DataWindow<'static>,
    pub channel: Channel,
    pub geometry: Geometry,
}

/// Why a client could not attach.
#[derive(Debug)]
pub enum AttachError {
    Missing(&'static str),
    Info(InfoError),
    Layout,
}

impl core::fmt::Display for AttachError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AttachError::Missing(what) => write!(f, "the plan gives this component no {what}"),
            AttachError::Info(e) => write!(f, "the driver's information page: {e}"),
            AttachError::Layout => f.write_str("the control region does not hold the driver's queues"),
        }
    }
}

/// Waits for the driver's information page, then attaches to the queues
/// of the depth it states (the page sits at the start of the region
/// whatever the depth).
pub fn attach(c: &Component) -> Result<Attached, AttachError> {
    let region = c.region(CONTROL).map_err(|_| AttachError::Missing("shared region `blk-control`"))?;
    let data = c.region(DATA_WINDOW).map_err(|_| AttachError::Missing("data window `dma.blk.data`"))?;
    let mut channel = Channel {
        c: *c,
        driver: c.slot(CHANNEL).map_err(|_| AttachError::Missing("channel `blk-client`"))?,
        bit: c.badge_bit(CHANNEL).map_err(|_| AttachError::Missing("channel `blk-client`"))?,
    };
    let control = |depth| {
        let layout = ControlLayout::for_depth(depth).map_err(|_| AttachError::Layout)?;
        // SAFETY: the root task mapped the region read-write for the
        // component's life; it is reached only through the atomics these
        // views make (two views over it are two sets of atomics), and the
        // driver may write anything there: that is what the checks are
        // for.
        unsafe { Control::from_raw(region.vaddr as *mut u8, region.size as usize, layout) }
            .map_err(|_| AttachError::Layout)
    };
    let geometry = control(1)?.info.wait_ready(&mut channel).map_err(AttachError::Info)?;
    let control = control(geometry.queue_depth)?;
    // SAFETY: the data window is mapped read-write here for the
    // component's life and reached only through the view made here; the
    // device (and so the driver) may write it at any time, hence atomics.
    let window = unsafe { DataWindow::from_raw(data.vaddr as *mut u8, data.size as usize) }
        .map_err(|_| AttachError::Layout)?;
    Ok(Attached {
        control,
        window,
        channel,
        geometry,
    })
}
