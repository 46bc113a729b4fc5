//! Shared memory for host tests: zeroed, queue-aligned blocks carved
//! into a channel's queues and data region.
#![allow(dead_code)]

use paddock_ring::layout::ChannelLayout;
use paddock_ring::{DataRegion, Queue};
use zerocopy::IntoBytes;

#[derive(Clone, Copy, zerocopy::IntoBytes, zerocopy::FromBytes, zerocopy::Immutable)]
#[repr(C, align(128))]
struct Line([u8; 128]);

/// A zeroed block of at least `bytes` bytes, aligned as a queue must be
/// (`QUEUE_ALIGN`, 128).
pub struct Mem(Vec<Line>);

impl Mem {
    pub fn new(bytes: usize) -> Self {
        Self(vec![Line([0; 128]); bytes.div_ceil(128)])
    }

    pub fn bytes(&mut self) -> &mut [u8] {
        self.0.as_mut_bytes()
    }
}

/// The queues and region of one channel, over `mem`.
pub fn channel(mem: &mut Mem, l: ChannelLayout) -> (Queue<'_>, Queue<'_>, DataRegion<'_>) {
    let bytes = mem.bytes();
    let (active, rest) = bytes.split_at_mut(l.free_offset());
    let (free, data) = rest.split_at_mut(l.data_offset() - l.free_offset());
    (
        Queue::from_bytes(active, l.slots).unwrap(),
        Queue::from_bytes(free, l.slots).unwrap(),
        DataRegion::from_bytes(&mut data[..l.data_bytes()], l.buf_size, l.buffers).unwrap(),
    )
}

/// One queue of `slots` slots over `mem`.
pub fn queue(mem: &mut Mem, slots: u32) -> Queue<'_> {
    Queue::from_bytes(mem.bytes(), slots).unwrap()
}
