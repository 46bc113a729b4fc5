//! `ring`: one honest endpoint of a `paddock-ring` channel or queue, its
//! operations chosen by the input and interleaved with a hostile peer's
//! writes (also chosen by the input) to any shared word: queue headers,
//! slots and buffer bytes. The honest side must answer with values or
//! errors, never panic, and never touch memory outside the ring, which
//! sits between guard bytes that must come out unchanged.

use std::sync::atomic::Ordering::Relaxed;

use paddock_ring::layout::ChannelLayout;
use paddock_ring::{
    Buf, ByteReader, ByteWriter, Consumer, DataRegion, Descriptor, Producer, Queue, Receiver,
    Sender,
};
use zerocopy::IntoBytes;

use crate::input::Input;

/// Bytes on each side of the ring, filled with [`GUARD`].
const GUARD_BYTES: usize = 256;
const GUARD: u8 = 0xA5;

/// A queue-aligned line of memory.
#[derive(Clone, Copy, zerocopy::IntoBytes, zerocopy::FromBytes, zerocopy::Immutable)]
#[repr(C, align(128))]
struct Line([u8; 128]);

/// The honest endpoint, and the buffers it holds.
enum Honest<'a> {
    Sender(Sender<'a>, Vec<Buf>),
    Receiver(Receiver<'a>, Vec<Buf>),
    Writer(ByteWriter<'a>),
    Reader(ByteReader<'a>),
    Producer(Producer<'a>),
    Consumer(Consumer<'a>),
}

/// Input: a shape byte (slots, buffers, buffer size), a role byte, then
/// operations: a byte with the top bit clear is one of the honest side's
/// calls, with it set a hostile write, each followed by its arguments.
pub fn ring(data: &[u8]) {
    let mut input = Input::new(data);
    let (Some(shape), Some(role)) = (input.byte(), input.byte()) else {
        return;
    };
    let slots = 1u32 << (shape & 3);
    let buffers = 1 + u32::from((shape >> 2) & 7) % slots;
    let buf_size = 64 << ((shape >> 5) & 1);
    let layout = ChannelLayout::new(slots, buf_size, buffers).expect("a valid shape");

    let lines = (2 * GUARD_BYTES + layout.total_bytes()).div_ceil(128);
    let mut mem = vec![Line([0; 128]); lines];
    let bytes = mem.as_mut_bytes();
    let (low, rest) = bytes.split_at_mut(GUARD_BYTES);
    let (ring, high) = rest.split_at_mut(rest.len() - GUARD_BYTES);
    low.fill(GUARD);
    high.fill(GUARD);
    run(ring, layout, role, &mut input);
    assert!(
        low.iter().chain(high.iter()).all(|&b| b == GUARD),
        "memory outside the ring changed"
    );
}

fn run(ring: &mut [u8], l: ChannelLayout, role: u8, input: &mut Input<'_>) {
    let (active, rest) = ring.split_at_mut(l.free_offset());
    let (free, data) = rest.split_at_mut(l.data_offset() - l.free_offset());
    let active = Queue::from_bytes(active, l.slots).expect("an aligned queue");
    let free = Queue::from_bytes(free, l.slots).expect("an aligned queue");
    let region = DataRegion::from_bytes(&mut data[..l.data_bytes()], l.buf_size, l.buffers)
        .expect("a region of the right size");
    let attached = match role % 7 {
        0 => Sender::new(active, free, region).map(|s| Honest::Sender(s, Vec::new())),
        1 => Sender::reattach(active, free, region).map(|s| Honest::Sender(s, Vec::new())),
        2 => Receiver::new(active, free, region).map(|r| Honest::Receiver(r, Vec::new())),
        3 => Sender::new(active, free, region).map(|s| Honest::Writer(ByteWriter::new(s))),
        4 => Receiver::new(active, free, region).map(|r| Honest::Reader(ByteReader::new(r))),
        5 => Producer::new(active)
            .map(Honest::Producer)
            .map_err(Into::into),
        _ => Consumer::new(active)
            .map(Honest::Consumer)
            .map_err(Into::into),
    };
    let mut honest = attached.expect("fresh, zeroed memory attaches");
    while let Some(op) = input.byte() {
        if op & 0x80 != 0 {
            hostile(op, [active, free], region, l, input);
        } else {
            honest.step(op, l, input);
        }
    }
}

/// The peer writes a value to a word of the shared memory.
fn hostile(
    op: u8,
    queues: [Queue<'_>; 2],
    region: DataRegion<'_>,
    l: ChannelLayout,
    input: &mut Input<'_>,
) {
    let q = queues[usize::from(op & 1)];
    match (op >> 1) & 7 {
        0 => q.header().tail.store(input.u32(), Relaxed),
        1 => q.header().head.store(input.u32(), Relaxed),
        2 => q.header().signal_requested.store(input.u32(), Relaxed),
        // Small steps of the indices: what a sloppy or racing peer does.
        3 => {
            let delta = u32::from(input.byte().unwrap_or(1));
            let tail = q.header().tail.load(Relaxed);
            q.header().tail.store(tail.wrapping_add(delta), Relaxed);
        }
        4 => {
            let delta = u32::from(input.byte().unwrap_or(1));
            let head = q.header().head.load(Relaxed);
            q.header().head.store(head.wrapping_add(delta), Relaxed);
        }
        5 | 6 => {
            let index = input.u32() as usize % q.slots().len();
            // Offsets near buffer boundaries are the interesting ones.
            let offset = if op >> 1 & 7 == 5 {
                u32::from(input.byte().unwrap_or(0)) * l.buf_size
            } else {
                input.u32()
            };
            let len = input.u32();
            q.slots()[index].write(Descriptor { offset, len });
        }
        _ => {
            let buffer = u32::from(input.byte().unwrap_or(0)) % l.buffers;
            let at = usize::from(input.byte().unwrap_or(0)) % l.buf_size as usize;
            let value = input.byte().unwrap_or(0);
            let buf = region
                .check(Descriptor {
                    offset: buffer * l.buf_size,
                    len: 0,
                })
                .expect("a buffer of the region");
            region.bytes(&buf)[at].store(value, Relaxed);
        }
    }
}

impl Honest<'_> {
    fn step(&mut self, op: u8, l: ChannelLayout, input: &mut Input<'_>) {
        let mut scratch = [0u8; 256];
        match self {
            Honest::Sender(s, held) => match op % 6 {
                0 => {
                    if let Ok(Some(buf)) = s.alloc() {
                        check_buf(&buf, l);
                        held.push(buf);
                    }
                }
                1 => {
                    let n = usize::from(input.byte().unwrap_or(0));
                    if let Some(buf) = held.last_mut() {
                        let src = input.bytes(n);
                        let copied = s.append(buf, src);
                        assert!(copied <= src.len());
                        check_buf(buf, l);
                    }
                }
                2 => {
                    if let Some(buf) = held.pop() {
                        let _ = s.send(buf);
                    }
                }
                3 => {
                    let _ = s.publish();
                }
                4 => {
                    let _ = s.request_signal();
                }
                _ => {
                    let _ = s.region().buffers();
                }
            },
            Honest::Receiver(r, held) => match op % 6 {
                0 => {
                    if let Ok(Some(buf)) = r.recv() {
                        check_buf(&buf, l);
                        held.push(buf);
                    }
                }
                1 => {
                    let at = u32::from(input.byte().unwrap_or(0));
                    if let Some(buf) = held.last() {
                        let n = r.read(buf, at, &mut scratch);
                        assert!(n <= buf.len() as usize);
                    }
                }
                2 => {
                    if let Some(buf) = held.pop() {
                        let _ = r.give_back(buf);
                    }
                }
                3 => {
                    let _ = r.publish();
                }
                4 => {
                    let _ = r.request_signal();
                }
                _ => {
                    if let Ok(n) = r.waiting() {
                        assert!(n <= l.slots);
                    }
                }
            },
            Honest::Writer(w) => match op % 3 {
                0 => {
                    let n = usize::from(input.byte().unwrap_or(0));
                    let src = input.bytes(n);
                    if let Ok(written) = w.write(src) {
                        assert!(written <= src.len());
                    }
                }
                1 => {
                    let _ = w.flush();
                }
                _ => {
                    let _ = w.request_signal();
                }
            },
            Honest::Reader(r) => match op % 4 {
                0 => {
                    let n = usize::from(input.byte().unwrap_or(0));
                    if let Ok(read) = r.read(&mut scratch[..n]) {
                        assert!(read <= n);
                    }
                }
                1 => {
                    let _ = r.is_full();
                }
                2 => {
                    let _ = r.publish();
                }
                _ => {
                    let _ = r.request_signal();
                }
            },
            Honest::Producer(p) => match op % 6 {
                0 => {
                    let d = Descriptor {
                        offset: input.u32(),
                        len: input.u32(),
                    };
                    let _ = p.push(d);
                }
                1 => {
                    let n = usize::from(input.byte().unwrap_or(0)) % 16;
                    let ds: Vec<Descriptor> = (0..n)
                        .map(|i| Descriptor {
                            offset: i as u32 * l.buf_size,
                            len: 0,
                        })
                        .collect();
                    if let Ok(pushed) = p.push_slice(&ds) {
                        assert!(pushed <= ds.len());
                    }
                }
                2 => {
                    if let Ok(free) = p.free_slots() {
                        assert!(free <= p.capacity());
                    }
                }
                3 => {
                    let _ = p.publish();
                }
                4 => {
                    let _ = p.publish_deferred();
                }
                _ => {
                    let _ = p.settle();
                }
            },
            Honest::Consumer(c) => match op % 5 {
                0 => {
                    let _ = c.pop();
                }
                1 => {
                    let mut out = [Descriptor { offset: 0, len: 0 }; 16];
                    let n = usize::from(input.byte().unwrap_or(0)) % 17;
                    if let Ok(popped) = c.pop_into(&mut out[..n]) {
                        assert!(popped <= n);
                    }
                }
                2 => c.release(),
                3 => {
                    let _ = c.request_signal();
                }
                _ => {
                    if let Ok(n) = c.available() {
                        assert!(n <= c.capacity());
                    }
                }
            },
        }
    }
}

/// A buffer the honest side was handed lies inside the region, on a
/// buffer boundary, and holds at most a buffer.
fn check_buf(buf: &Buf, l: ChannelLayout) {
    assert_eq!(buf.offset() % l.buf_size, 0, "{buf:?}");
    assert!(buf.offset() < l.buf_size * l.buffers, "{buf:?}");
    assert!(
        buf.len() <= buf.capacity() && buf.capacity() == l.buf_size,
        "{buf:?}"
    );
}
