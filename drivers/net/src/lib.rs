//! A network protocol in shared memory between an isolated network driver
//! and its clients, in the sDDF tradition; smoltcp's `Device` over it; and
//! small network services that need no heap.
//!
//! # The parts
//!
//! | part | memory | written by | read by |
//! | --- | --- | --- | --- |
//! | info page ([`InfoPage`], [`NetInfo`], [`NetStats`]) | control region | driver | client |
//! | rx active / rx free queues | control region | driver / client | client / driver |
//! | tx active / tx free queues | control region | client / driver | driver / client |
//! | data window ([`Window`]): rx buffers, then tx buffers | a DMA window mapped by the client only | device (rx), client (tx) | client (rx), device (tx) |
//!
//! Per client, the control region (`<c>-net-control`, mapped read-write by
//! both) holds the info page and four paddock-ring queues at the offsets of
//! [`NetLayout`], one function of the buffer counts and size that both
//! sides and the planner use. The data window (`dma.net.<c>`) is mapped by
//! the client alone: the driver knows it by shape
//! ([`paddock_ring::DataRegion::unmapped`]) and hands the device
//! `window IOVA + `[`DmaBuf::window_offset`].
//!
//! # Who calls what
//!
//! | side | type | does |
//! | --- | --- | --- |
//! | driver | [`InfoPage::publish`] / [`InfoPage::withdraw`] | says what the interface is, and whether it is served |
//! | driver | [`DriverQueues`] | RX: [`take_free_rx`](DriverQueues::take_free_rx), [`complete_rx`](DriverQueues::complete_rx); TX: [`next_tx`](DriverQueues::next_tx), [`complete_tx`](DriverQueues::complete_tx); [`publish`](DriverQueues::publish), [`request_signal`](DriverQueues::request_signal) |
//! | client | [`ClientQueues`] | frames in and out, and smoltcp's [`Device`](smoltcp::phy::Device) |
//! | client | [`apps::NetApps`] | DHCP, UDP and TCP echo on port 7, HTTP on port 80, over a `ClientQueues` |
//!
//! # Errors
//!
//! - [`PeerError`]: the other side broke the queue protocol (garbage
//!   indices, offsets outside the window, a buffer given back or sent
//!   twice, flooding). It names the queue and what was wrong; the driver
//!   drops that client and serves the others. Never a panic or an
//!   out-of-bounds access.
//! - A TX frame of a length outside [`MIN_FRAME`]`..=`[`MAX_FRAME`] is not
//!   a protocol break: it is refused, counted and returned ([`Refusal`]).
//! - [`SetupError`], [`InfoError`]: memory of the wrong shape, or an info
//!   page that is garbage, not published, or for another layout.
//!
//! # Example
//!
//! ```
//! use paddock_net::{ClientQueues, Control, DriverQueues, NetInfo, NetLayout, Window};
//! # #[repr(C, align(128))] struct Mem<const N: usize>([u8; N]);
//! let layout = NetLayout::for_buffers(4, 4, 2048).unwrap();
//! # let mut control_mem = Box::new(Mem([0; 8192]));
//! # let mut window_mem = Box::new(Mem([0; 16384]));
//! // In components these come from `Control::from_raw` / `Window::from_raw`.
//! let control = Control::from_bytes(&mut control_mem.0, layout).unwrap();
//!
//! // Driver: attach, then say what the interface is.
//! let mut driver = DriverQueues::new(control).unwrap();
//! driver.info().publish(&NetInfo { mac: [2, 0, 0, 0, 0, 1], mtu: 1500, layout, generation: 1 });
//!
//! // Client: attach (checking the page) and send a frame.
//! let window = Window::from_bytes(&mut window_mem.0, layout).unwrap();
//! let mut client = ClientQueues::attach(control, window).unwrap();
//! assert!(client.send_frame(&[0xff; 60]).unwrap());
//! if client.publish().is_needed() { /* seL4_Signal(driver) */ }
//!
//! // Driver: the frame's place in the window, for the device.
//! let frame = driver.next_tx().unwrap().unwrap();
//! assert_eq!((frame.window_offset(), frame.len()), (layout.tx_data_offset() as u32, 60));
//! // ... the device sends window IOVA + offset ...
//! driver.complete_tx(frame).unwrap();
//! // RX: an empty buffer for the device, then the frame it wrote.
//! let buf = driver.take_free_rx().unwrap().unwrap();
//! driver.complete_rx(buf, 64).unwrap();
//! if driver.publish().is_needed() { /* seL4_Signal(client) */ }
//! assert_eq!(client.recv_frame(&mut [0; 1514]).unwrap(), Some(64));
//! ```
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod apps;
mod client;
mod driver;
mod error;
mod info;
mod layout;
mod raw;

pub use client::{ClientQueues, NetRxToken, NetTxToken};
pub use driver::{DmaBuf, DriverQueues, Refusal};
pub use error::{PeerError, QueueId, SetupError};
pub use info::{
    InfoError, InfoPage, LinkState, NetInfo, NetStats, INFO_BYTES, INFO_MAGIC, INFO_VERSION,
    MAX_MTU, MIN_MTU,
};
pub use layout::{
    Control, NetLayout, Window, DEFAULT_BUFFERS, DEFAULT_BUF_SIZE, MAX_BUFFERS, MAX_FRAME,
    MIN_FRAME,
};
/// The queue answers shared with `paddock-ring`.
pub use paddock_ring::{Idle, LayoutError, Notify};
/// The smoltcp these types implement `Device` for.
pub use smoltcp;
