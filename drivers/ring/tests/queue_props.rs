//! Property tests: random sequences of operations on a producer/consumer
//! pair (and on the byte-stream layer) against a `VecDeque` model.
#![cfg(not(feature = "loom"))]

mod common;

use std::collections::VecDeque;

use paddock_ring::layout::{queue_bytes, ChannelLayout};
use paddock_ring::{
    ByteReader, ByteWriter, Consumer, Descriptor, Idle, Notify, Producer, PushError, Receiver,
    Sender,
};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Push(u32, u32),
    Publish,
    Pop,
    Release,
    RequestSignal,
    FreeSlots,
    Available,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<u32>(), any::<u32>()).prop_map(|(o, l)| Op::Push(o, l)),
        2 => Just(Op::Publish),
        4 => Just(Op::Pop),
        1 => Just(Op::Release),
        1 => Just(Op::RequestSignal),
        1 => Just(Op::FreeSlots),
        1 => Just(Op::Available),
    ]
}

/// What both ends should observe, computed without shared memory.
#[derive(Default)]
struct Model {
    unpublished: Vec<Descriptor>,
    published: VecDeque<Descriptor>,
    /// Popped but not yet released: still occupying slots for the producer.
    held: u32,
    requested: bool,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn queue_matches_model(
        log2 in 0u32..5,
        // Start near the u32 wrap-around half the time.
        start in prop_oneof![Just(0u32), Just(u32::MAX - 20)],
        ops in proptest::collection::vec(op(), 1..300),
    ) {
        let cap = 1u32 << log2;
        let mut mem = common::Mem::new(queue_bytes(cap).unwrap());
        let q = common::queue(&mut mem, cap);
        q.header().tail.store(start, std::sync::atomic::Ordering::Relaxed);
        q.header().head.store(start, std::sync::atomic::Ordering::Relaxed);
        let mut p = Producer::new(q).unwrap();
        let mut c = Consumer::new(q).unwrap();
        let mut m = Model::default();
        for op in ops {
            let occupied = m.unpublished.len() as u32 + m.published.len() as u32 + m.held;
            match op {
                Op::Push(offset, len) => {
                    let d = Descriptor { offset, len };
                    let r = p.push(d);
                    if occupied == cap {
                        prop_assert_eq!(r, Err(PushError::Full));
                    } else {
                        prop_assert_eq!(r, Ok(()));
                        m.unpublished.push(d);
                    }
                }
                Op::Publish => {
                    let n = p.publish();
                    let expect = if !m.unpublished.is_empty() && m.requested {
                        m.requested = false;
                        Notify::Yes
                    } else {
                        Notify::No
                    };
                    prop_assert_eq!(n, expect);
                    m.published.extend(m.unpublished.drain(..));
                }
                Op::Pop => {
                    let got = c.pop().unwrap();
                    let want = m.published.pop_front();
                    if want.is_some() {
                        m.held += 1;
                    }
                    prop_assert_eq!(got, want);
                }
                Op::Release => {
                    c.release();
                    m.held = 0;
                }
                Op::RequestSignal => {
                    let idle = c.request_signal().unwrap();
                    m.held = 0;
                    if m.published.is_empty() {
                        prop_assert_eq!(idle, Idle::Sleep);
                        m.requested = true;
                    } else {
                        prop_assert_eq!(idle, Idle::MoreWork);
                        m.requested = false;
                    }
                }
                Op::FreeSlots => {
                    prop_assert_eq!(p.free_slots().unwrap(), cap - occupied);
                }
                Op::Available => {
                    prop_assert_eq!(c.available().unwrap(), m.published.len() as u32);
                }
            }
        }
    }

    /// The byte-stream layer delivers exactly the bytes it accepted, in
    /// order, whatever the chunking, flushing and buffer pressure.
    #[test]
    fn byte_stream_delivers_what_it_accepted(
        buffers_log2 in 0u32..4,
        steps in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 0..300), any::<bool>(), 0usize..400),
            1..60,
        ),
    ) {
        let buffers = 1u32 << buffers_log2;
        let l = ChannelLayout::new(buffers, 64, buffers).unwrap();
        let mut mem = common::Mem::new(l.total_bytes());
        let (active, free, region) = common::channel(&mut mem, l);
        let mut w = ByteWriter::new(Sender::new(active, free, region).unwrap());
        let mut r = ByteReader::new(Receiver::new(active, free, region).unwrap());
        let mut accepted = Vec::new();
        let mut flushed = 0;
        let mut delivered = Vec::new();
        for (chunk, flush, read) in steps {
            let n = w.write(&chunk).unwrap();
            accepted.extend_from_slice(&chunk[..n]);
            if flush {
                let _ = w.flush().unwrap();
                flushed = accepted.len();
            }
            let mut buf = vec![0; read];
            let got = r.read(&mut buf).unwrap();
            delivered.extend_from_slice(&buf[..got]);
            let _ = r.publish();
            // Never more than flushed plus full buffers sent on the way.
            prop_assert!(delivered.len() <= accepted.len());
            prop_assert_eq!(&delivered[..], &accepted[..delivered.len()]);
        }
        // Drain: everything flushed arrives.
        let _ = w.flush().unwrap();
        flushed = flushed.max(accepted.len());
        let mut buf = vec![0; 4096];
        loop {
            let got = r.read(&mut buf).unwrap();
            if got == 0 {
                break;
            }
            delivered.extend_from_slice(&buf[..got]);
        }
        prop_assert_eq!(delivered.len(), flushed);
        prop_assert_eq!(delivered, accepted);
    }
}

/// A reader sees the ring full exactly when the writer has no buffer left
/// to fill: the condition under which the writer must hold its input back.
#[test]
fn the_reader_sees_the_ring_full_exactly_when_the_writer_is_out_of_buffers() {
    let buffers = 4;
    let l = ChannelLayout::new(buffers, 64, buffers).unwrap();
    let mut mem = common::Mem::new(l.total_bytes());
    let (active, free, region) = common::channel(&mut mem, l);
    let mut w = ByteWriter::new(Sender::new(active, free, region).unwrap());
    let mut r = ByteReader::new(Receiver::new(active, free, region).unwrap());
    // Three full buffers sent, one left.
    assert_eq!(w.write(&[7; 3 * 64]).unwrap(), 3 * 64);
    let _ = w.flush().unwrap();
    assert!(!r.is_full().unwrap());
    // The last one: the writer takes no more.
    assert_eq!(w.write(&[8; 100]).unwrap(), 64);
    let _ = w.flush().unwrap();
    assert!(r.is_full().unwrap());
    // A buffer being read still counts as the reader's.
    let mut one = [0; 1];
    assert_eq!(r.read(&mut one).unwrap(), 1);
    assert!(r.is_full().unwrap());
    // Read to its end and given back: room again.
    let mut rest = [0; 63];
    assert_eq!(r.read(&mut rest).unwrap(), 63);
    let _ = r.publish();
    assert!(!r.is_full().unwrap());
    assert_eq!(w.write(&[9; 10]).unwrap(), 10);
}
