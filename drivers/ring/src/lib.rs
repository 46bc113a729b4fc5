//! Shared-memory descriptor rings between mutually distrusting components.
//!
//! Single-producer/single-consumer queues of buffer descriptors, in the sDDF
//! model: for each direction of a channel, an **active** queue carries filled
//! buffers from the sender to the receiver and a **free** queue carries them
//! back, over a shared **data region** cut into equal buffers. Components
//! use it on seL4 without an allocator; the planner uses [`layout`] for
//! sizes; host tests use all of it.
//!
//! # Contract
//!
//! Who may call what:
//!
//! | handle | held by | may call |
//! | --- | --- | --- |
//! | [`Producer`] | the one component that fills a queue | [`push`](Producer::push), [`publish`](Producer::publish), [`free_slots`](Producer::free_slots) |
//! | [`Consumer`] | the one component that drains a queue | [`pop`](Consumer::pop), [`release`](Consumer::release), [`request_signal`](Consumer::request_signal), [`available`](Consumer::available) |
//! | [`Sender`] | the filling side of a channel: producer of *active*, consumer of *free* | `alloc`, `append`, `send`, `publish`, `request_signal` |
//! | [`Receiver`] | the draining side: consumer of *active*, producer of *free* | `recv`, `read`, `give_back`, `publish`, `request_signal` |
//!
//! The roles are types: a consumer handle has no way to push. One handle per
//! role per queue; the crate cannot stop a second one being made over the
//! same memory, but that only hurts its maker, exactly as a hostile peer
//! would (all shared words are atomics, so it is never undefined
//! behaviour).
//!
//! The caller owns the kernel calls: every `publish` returns [`Notify`]
//! (signal the peer's notification on `Yes`) and every `request_signal`
//! returns [`Idle`] (wait on the notification only on `Sleep`). The wake-up
//! protocol behind this is documented in [`queue`].
//!
//! # Memory layout
//!
//! A queue is a 384-byte [`QueueHeader`](layout::QueueHeader) (tail, signal
//! request and head each in its own 128 bytes) followed by a
//! power-of-two number of 8-byte [`Slot`](layout::Slot)s `(offset, len)`.
//! A data region is `buffers * buf_size` bytes, `buf_size` a multiple of 64.
//! All zero is the valid empty state. [`layout`] has the exact table and the
//! size functions ([`layout::queue_bytes`], [`layout::data_region_bytes`],
//! [`layout::ChannelLayout`]).
//!
//! # Errors
//!
//! - [`PeerError`]: the peer wrote something the protocol forbids: an index
//!   that moved backwards or past what is possible, a descriptor offset off
//!   a buffer boundary or outside the region, a length larger than a buffer,
//!   a buffer handed on twice. Every index and descriptor read from shared
//!   memory is checked before use; nothing the peer writes can make this
//!   crate panic or touch memory outside the ring.
//! - [`PushError::Full`]: no free slot (raw [`Producer`] only; channels turn
//!   it into [`PeerError::QueueOverflow`], since it cannot happen honestly).
//! - [`LayoutError`] / [`AttachError`]: the memory handed to a constructor
//!   does not have the agreed shape; a configuration error.
//!
//! # Example
//!
//! A UART driver sending received bytes to its client (the same shape works
//! for any sender/receiver pair):
//!
//! ```
//! use paddock_ring::{layout::ChannelLayout, ByteReader, ByteWriter, DataRegion, Idle, Queue,
//!                    Receiver, Sender};
//! # #[repr(C, align(128))] struct Page([u8; 4096]);
//! # let mut mem = Box::new(Page([0; 4096]));
//! let l = ChannelLayout::new(8, 64, 8).unwrap();
//! // In a component these come from `Queue::from_raw` / `DataRegion::from_raw`
//! // at the addresses the planner chose; here, from one zeroed block.
//! let (active, rest) = mem.0.split_at_mut(l.free_offset());
//! let (free, data) = rest.split_at_mut(l.data_offset() - l.free_offset());
//! let (active, free) = (Queue::from_bytes(active, 8).unwrap(), Queue::from_bytes(free, 8).unwrap());
//! let region = DataRegion::from_bytes(&mut data[..l.data_bytes()], 64, 8).unwrap();
//!
//! // Driver (on the RX interrupt): copy what the device had, publish once.
//! let mut rx = ByteWriter::new(Sender::new(active, free, region).unwrap());
//! let taken = rx.write(b"hello").unwrap();
//! assert_eq!(taken, 5);
//! if rx.flush().unwrap().is_needed() {
//!     // seL4_Signal(client_notification)
//! }
//!
//! // Client: drain, give buffers back, and sleep only when told it may.
//! let mut client = ByteReader::new(Receiver::new(active, free, region).unwrap());
//! let mut line = [0u8; 16];
//! let n = client.read(&mut line).unwrap();
//! assert_eq!(&line[..n], b"hello");
//! if client.publish().is_needed() {
//!     // seL4_Signal(driver_notification)
//! }
//! match client.request_signal().unwrap() {
//!     Idle::Sleep => { /* seL4_Wait(own_notification), then read again */ }
//!     Idle::MoreWork => { /* read again */ }
//! }
//! ```
#![cfg_attr(not(any(test, feature = "loom")), no_std)]
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod channel;
pub mod copy;
mod error;
pub mod layout;
pub mod queue;
mod raw;
mod region;
mod stream;
mod sync;

pub use channel::{Receiver, Sender};
pub use error::{AttachError, LayoutError, PeerError, PushError};
pub use queue::{Consumer, Descriptor, Idle, Notify, Producer, Queue};
pub use region::{Buf, DataRegion};
pub use stream::{ByteReader, ByteWriter};
