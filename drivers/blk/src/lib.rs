//! A block protocol in shared memory between an isolated block driver and
//! its client, in the sDDF tradition, and a client library that gives
//! embedded-sdmmc a [`BlockDevice`](embedded_sdmmc::BlockDevice).
//!
//! # The parts
//!
//! | part | memory | written by | read by |
//! | --- | --- | --- | --- |
//! | storage-information page ([`StorageInfo`], [`InfoPage`]) | control region | driver | client |
//! | request queue ([`Request`] records) | control region | client (tail, records), driver (head) | driver |
//! | response queue ([`Response`] records) | control region | driver (tail, records), client (head) | client |
//! | data window ([`DataWindow`]) | a DMA window mapped by the client only | client, device | client, device |
//!
//! The control region (a `[[shared]]` region both map read-write) holds the
//! page and the two queues at the offsets of [`ControlLayout`]. The data
//! window is a `[[component.pci.dma]]` window with `mapped_by = [client]`:
//! the driver never maps it. A request names its data as a byte offset
//! into the window; the driver checks it ([`RequestChecker`]) and tells the
//! device `window IOVA + offset` ([`Accepted::iova`]). The driver's CPU
//! never touches the client's data.
//!
//! # Records
//!
//! Little-endian, no padding, any bytes a valid record (zerocopy derives);
//! `op` and `status` are decoded with [`Op::from_wire`] and
//! [`Status::from_wire`], which refuse unknown values.
//!
//! [`Request`], 32 bytes:
//!
//! | offset | size | field | meaning |
//! | --- | --- | --- | --- |
//! | 0 | 4 | `op` | 1 Read, 2 Write, 3 Flush |
//! | 4 | 4 | `id` | `0..queue_depth`, echoed in the response |
//! | 8 | 8 | `block` | first device block |
//! | 16 | 4 | `count` | blocks, `1..=max_blocks_per_request` (ignored for Flush) |
//! | 20 | 4 | `reserved` | zero, ignored |
//! | 24 | 8 | `offset` | byte offset of the data in the client's window |
//!
//! [`Response`], 16 bytes:
//!
//! | offset | size | field | meaning |
//! | --- | --- | --- | --- |
//! | 0 | 4 | `id` | the request's id |
//! | 4 | 4 | `status` | a [`Status`] (table below) |
//! | 8 | 4 | `blocks_done` | blocks transferred: `count` on Ok, fewer on IoError, 0 on refusals |
//! | 12 | 4 | `reserved` | zero, ignored |
//!
//! [`StorageInfo`], 64 bytes at offset 0 of the control region:
//!
//! | offset | size | field | meaning |
//! | --- | --- | --- | --- |
//! | 0 | 4 | `magic` | `PBLK` ([`INFO_MAGIC`]) |
//! | 4 | 4 | `version` | [`INFO_VERSION`] (1) |
//! | 8 | 4 | `ready` | 1 once the rest is valid; stored last, with Release |
//! | 12 | 4 | `read_only` | 0 or 1 |
//! | 16 | 8 | `capacity_blocks` | blocks on the device |
//! | 24 | 4 | `block_size` | power of two, 512..=65536 |
//! | 28 | 4 | `queue_depth` | `1..=`[`MAX_QUEUE_DEPTH`] |
//! | 32 | 4 | `max_blocks_per_request` | at least 1 |
//! | 36 | 28 | `reserved` | zero |
//!
//! Statuses:
//!
//! | value | status | meaning |
//! | --- | --- | --- |
//! | 0 | `Ok` | every block done |
//! | 1 | `IoError` | the device failed |
//! | 2 | `Unsupported` | the device cannot do it (flush without a cache flush) |
//! | 3 | `ReadOnly` | refused: write or flush on a read-only device |
//! | 4 | `UnknownId` | refused: id not below the queue depth |
//! | 5 | `IdInFlight` | refused: the id was submitted twice; the first stays in flight |
//! | 6 | `OffsetOutsideWindow` | refused: data not inside the window |
//! | 7 | `ZeroCount` | refused: zero blocks |
//! | 8 | `TooLarge` | refused: count above the per-request maximum |
//! | 9 | `OutOfRange` | refused: blocks past the capacity |
//! | 10 | `BadOp` | refused: unknown op |
//!
//! # Queues
//!
//! Fixed-capacity single-producer/single-consumer rings of records
//! ([`RecordQueue`], [`RecordProducer`], [`RecordConsumer`]) with
//! `paddock-ring`'s header, index protocol, hostile-peer checks and
//! signal suppression; the [`queue`] module says why they are not
//! `paddock-ring`'s own queues, and gives the layout.
//!
//! # Who calls what
//!
//! | side | type | does |
//! | --- | --- | --- |
//! | driver | [`InfoPage::publish`] | describes the device, then signals the client |
//! | driver | [`DriverQueues`] | pops requests, answers refusals itself, yields [`Accepted`] ones; [`complete`](DriverQueues::complete) answers them |
//! | driver | [`RequestChecker`] / [`InFlight`] | the checks behind `DriverQueues`, usable alone |
//! | client | [`BlockClient`] | `read`, `write`, `flush` by block, pipelined over the queue depth |
//! | client | [`SdmmcDevice`] | embedded-sdmmc's `BlockDevice` over a `BlockClient`, with a read-ahead cache ([`ReadAhead`]) if given one |
//! | client | [`DriverSignal`] | the two kernel calls the client needs: signal the driver, wait for it |
//!
//! # Errors
//!
//! - [`PeerError`]: a queue index the peer wrote
//!   is impossible (backwards, or past what can have been produced or
//!   consumed). Never a panic or an out-of-bounds access.
//! - A refused request becomes its [`Status`]; the driver goes on serving.
//! - [`BlockError`]: what a client call reports: the driver's non-Ok
//!   status with the first block not done, a call the client refuses
//!   before sending, or a [`ProtocolViolation`] by the driver (after which
//!   the client stops).
//! - [`SetupError`], [`InfoError`]: attaching to memory of the wrong shape,
//!   or an information page that is garbage or not ready.
//!
//! # Example
//!
//! ```
//! use paddock_blk::{BlockClient, Control, ControlLayout, DataWindow, DriverQueues, DriverSignal,
//!                   Geometry, RequestChecker, Status};
//! # #[repr(C, align(128))] struct Page([u8; 4096]);
//! # let (mut control_mem, mut window_mem) = (Box::new(Page([0; 4096])), Box::new(Page([0; 4096])));
//! let layout = ControlLayout::for_depth(4).unwrap();
//! // In components these come from `Control::from_raw` / `DataWindow::from_raw`.
//! let control = Control::from_bytes(&mut control_mem.0, layout).unwrap();
//! let window = DataWindow::from_bytes(&mut window_mem.0).unwrap();
//!
//! // Driver: describe the device.
//! let geometry = Geometry { capacity_blocks: 64, block_size: 512, queue_depth: 4,
//!                           max_blocks_per_request: 8, read_only: false };
//! control.info.publish(&geometry);
//! let checker = RequestChecker::new(geometry, window.len() as u64).unwrap();
//! let mut driver = DriverQueues::new(control.requests, control.responses, checker).unwrap();
//!
//! // Client: on seL4, `signal_driver` is seL4_Signal and `wait_for_driver`
//! // seL4_Wait. Here the "wait" runs the driver, which serves reads with
//! // zeros (a device would DMA to window IOVA + offset).
//! struct Inline<'d, 'a>(&'d mut DriverQueues<'a>);
//! impl DriverSignal for Inline<'_, '_> {
//!     fn signal_driver(&mut self) {}
//!     fn wait_for_driver(&mut self) {
//!         while let Some(req) = self.0.next_request().unwrap() {
//!             self.0.complete(req.id, Status::Ok, req.count).unwrap();
//!         }
//!         let _ = self.0.publish();
//!     }
//! }
//! let mut client = BlockClient::attach(control, window, Inline(&mut driver)).unwrap();
//! let mut buf = [0xffu8; 1024];
//! client.read(10, &mut buf).unwrap();
//! assert!(buf.iter().all(|&b| b == 0));
//! ```
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod checker;
mod client;
mod driver;
mod error;
mod info;
mod layout;
pub mod queue;
mod raw;
mod record;
mod sdmmc;
mod window;

pub use checker::{Accepted, InFlight, NotInFlight, RequestChecker};
pub use client::{BlockClient, DriverSignal};
pub use driver::{CompleteError, DriverQueues};
pub use error::{BlockError, ProtocolViolation, SetupError};
pub use info::{Geometry, InfoError, InfoPage, MAX_BLOCK_SIZE, MAX_QUEUE_DEPTH, MIN_BLOCK_SIZE};
pub use layout::{Control, ControlLayout};
/// The queue answers and errors shared with `paddock-ring`.
pub use paddock_ring::{Idle, LayoutError, Notify, PeerError, PushError};
pub use queue::{record_queue_bytes, Record, RecordConsumer, RecordProducer, RecordQueue};
pub use record::{
    Op, Request, Response, Status, StorageInfo, INFO_BYTES, INFO_MAGIC, INFO_VERSION,
    REQUEST_BYTES, RESPONSE_BYTES,
};
pub use sdmmc::{ReadAhead, ReadAheadStats, SdmmcDevice, MAX_READ_AHEAD_LINES};
pub use window::DataWindow;

/// The embedded-sdmmc this crate implements `BlockDevice` for.
pub use embedded_sdmmc;
