//! What the block clients share: attaching to the driver by the plan's
//! names, and the kernel calls the client library needs. A client `<c>`
//! of a block driver has the control region `shared.<c>-blk-control`, the channel
//! `channel.<c>-blk` and the data window `<c>` of the driver's device
//! (`dma.<device>.<c>`), which it maps and the driver does not.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

use paddock_blk::{Control, ControlLayout, DataWindow, DriverSignal, Geometry, InfoError};
use paddock_runtime::{sel4, Component, SymbolKind};

use paddock_component_support::names::symbol;

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
            AttachError::Layout => {
                f.write_str("the control region does not hold the driver's queues")
            }
        }
    }
}

/// Waits for the driver's information page, then attaches to the queues
/// of the depth it states (the page sits at the start of the region
/// whatever the depth).
pub fn attach(c: &Component) -> Result<Attached, AttachError> {
    // This component's name as a client: the `<c>` of `shared.<c>-blk-control`.
    let (client, region) = c
        .symbols()
        .find_map(|s| {
            let name = s
                .name
                .strip_prefix("shared.")?
                .strip_suffix("-blk-control")?;
            let region = paddock_runtime::Region {
                vaddr: s.value,
                size: s.size,
            };
            (s.kind == SymbolKind::Vaddr).then_some((name, region))
        })
        .ok_or(AttachError::Missing(
            "control region `shared.<client>-blk-control`",
        ))?;
    let data = c
        .symbols()
        .find(|s| {
            s.kind == SymbolKind::Vaddr
                && s.name.starts_with("dma.")
                && s.name.rsplit('.').next() == Some(client)
        })
        .map(|s| paddock_runtime::Region {
            vaddr: s.value,
            size: s.size,
        })
        .ok_or(AttachError::Missing("data window `dma.<device>.<client>`"))?;
    let channel_name = symbol("channel.", client, "-blk");
    let mut channel = Channel {
        c: *c,
        driver: c
            .slot(&channel_name)
            .map_err(|_| AttachError::Missing("channel `<client>-blk`"))?,
        bit: c
            .badge_bit(&channel_name)
            .map_err(|_| AttachError::Missing("channel `<client>-blk`"))?,
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
    let geometry = control(1)?
        .info
        .wait_ready(&mut channel)
        .map_err(AttachError::Info)?;
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
