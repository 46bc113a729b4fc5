//! A hostile peer: garbage written straight into the shared memory while
//! the honest side works. Every case must come back as a specific error
//! value, never a panic or an access outside the ring.
#![cfg(not(feature = "loom"))]

mod common;

use std::sync::atomic::Ordering::Relaxed;

use paddock_ring::layout::{queue_bytes, ChannelLayout};
use paddock_ring::{
    AttachError, Consumer, Descriptor, Notify, PeerError, Producer, Queue, Receiver, Sender,
};
use proptest::prelude::*;

const L: ChannelLayout = match ChannelLayout::new(8, 64, 8) {
    Ok(l) => l,
    Err(_) => panic!(),
};

fn write_slot(q: Queue<'_>, index: u32, d: Descriptor) {
    let slot = &q.slots()[(index % q.capacity()) as usize];
    slot.write(d);
}

/// A hostile producer publishing `d` as the next descriptor of `q`.
fn inject(q: Queue<'_>, d: Descriptor) {
    let tail = q.header().tail.load(Relaxed);
    write_slot(q, tail, d);
    q.header().tail.store(tail.wrapping_add(1), Relaxed);
}

#[test]
fn tail_claiming_more_than_capacity() {
    let mut mem = common::Mem::new(queue_bytes(8).unwrap());
    let q = common::queue(&mut mem, 8);
    let mut c = Consumer::new(q).unwrap();
    q.header().tail.store(9, Relaxed);
    assert_eq!(
        c.pop(),
        Err(PeerError::TailOutOfRange {
            tail: 9,
            last_tail: 0,
            head: 0
        })
    );
    q.header().tail.store(u32::MAX, Relaxed);
    assert!(matches!(c.pop(), Err(PeerError::TailOutOfRange { .. })));
    assert!(matches!(
        c.request_signal(),
        Err(PeerError::TailOutOfRange { .. })
    ));
    // Exactly full is fine, and the handle survived the bad reads.
    q.header().tail.store(8, Relaxed);
    assert_eq!(c.available(), Ok(8));
}

#[test]
fn tail_counting_slots_not_yet_released() {
    // The producer may fill at most a capacity past the head we *released*:
    // slots popped but not released are still ours.
    let mut mem = common::Mem::new(queue_bytes(4).unwrap());
    let q = common::queue(&mut mem, 4);
    let mut c = Consumer::new(q).unwrap();
    q.header().tail.store(4, Relaxed);
    for _ in 0..4 {
        assert!(c.pop().unwrap().is_some());
    }
    q.header().tail.store(5, Relaxed);
    assert!(matches!(c.pop(), Err(PeerError::TailOutOfRange { .. })));
    c.release();
    assert_eq!(c.available(), Ok(1));
}

#[test]
fn tail_moving_backwards() {
    let mut mem = common::Mem::new(queue_bytes(8).unwrap());
    let q = common::queue(&mut mem, 8);
    let mut c = Consumer::new(q).unwrap();
    q.header().tail.store(5, Relaxed);
    assert_eq!(c.available(), Ok(5));
    q.header().tail.store(3, Relaxed);
    assert_eq!(
        c.available(),
        Err(PeerError::TailOutOfRange {
            tail: 3,
            last_tail: 5,
            head: 0
        })
    );
}

#[test]
fn head_past_tail_or_backwards() {
    let mut mem = common::Mem::new(queue_bytes(8).unwrap());
    let q = common::queue(&mut mem, 8);
    let mut p = Producer::new(q).unwrap();
    for i in 0..3 {
        p.push(Descriptor { offset: i, len: 0 }).unwrap();
    }
    // Pushed but unpublished slots cannot have been consumed.
    q.header().head.store(1, Relaxed);
    assert!(matches!(
        p.free_slots(),
        Err(PeerError::HeadOutOfRange { head: 1, .. })
    ));
    let _ = p.publish();
    q.header().head.store(2, Relaxed);
    assert_eq!(p.free_slots(), Ok(7));
    q.header().head.store(4, Relaxed);
    assert_eq!(
        p.free_slots(),
        Err(PeerError::HeadOutOfRange {
            head: 4,
            last_head: 2,
            tail: 3
        })
    );
    q.header().head.store(1, Relaxed);
    assert!(matches!(
        p.free_slots(),
        Err(PeerError::HeadOutOfRange { head: 1, .. })
    ));
    q.header().head.store(0x8000_0000, Relaxed);
    assert!(matches!(
        p.push(Descriptor::default()),
        Ok(()) | Err(paddock_ring::PushError::Peer(_))
    ));
}

#[test]
fn inconsistent_indices_at_attach() {
    let mut mem = common::Mem::new(queue_bytes(8).unwrap());
    let q = common::queue(&mut mem, 8);
    q.header().tail.store(100, Relaxed);
    q.header().head.store(50, Relaxed);
    let e = PeerError::IndicesInconsistent {
        head: 50,
        tail: 100,
    };
    assert_eq!(Producer::new(q).err(), Some(e));
    assert_eq!(Consumer::new(q).err(), Some(e));
}

#[test]
fn bad_descriptors_on_the_active_queue() {
    let mut mem = common::Mem::new(L.total_bytes());
    let (active, free, region) = common::channel(&mut mem, L);
    let mut rx = Receiver::new(active, free, region).unwrap();
    let cases = [
        (
            Descriptor { offset: 1, len: 1 },
            PeerError::MisalignedOffset { offset: 1 },
        ),
        (
            Descriptor { offset: 96, len: 1 },
            PeerError::MisalignedOffset { offset: 96 },
        ),
        (
            Descriptor {
                offset: 8 * 64,
                len: 1,
            },
            PeerError::OffsetOutOfRange { offset: 512 },
        ),
        (
            Descriptor {
                offset: 0xffff_ffc0,
                len: 64,
            },
            PeerError::OffsetOutOfRange {
                offset: 0xffff_ffc0,
            },
        ),
        (
            Descriptor {
                offset: 7 * 64,
                len: 65,
            },
            PeerError::LengthTooLarge { len: 65 },
        ),
        (
            Descriptor {
                offset: 0,
                len: u32::MAX,
            },
            PeerError::LengthTooLarge { len: u32::MAX },
        ),
    ];
    for (d, e) in cases {
        inject(active, d);
        assert_eq!(rx.recv(), Err(e), "{d:?}");
    }
    // The last buffer, completely full, is fine.
    inject(
        active,
        Descriptor {
            offset: 7 * 64,
            len: 64,
        },
    );
    let buf = rx.recv().unwrap().unwrap();
    assert_eq!((buf.offset(), buf.len()), (448, 64));
}

#[test]
fn bad_buffers_on_the_free_queue() {
    let mut mem = common::Mem::new(L.total_bytes());
    let (active, free, region) = common::channel(&mut mem, L);
    let mut tx = Sender::new(active, free, region).unwrap();
    // Use up the fresh buffers, so the next alloc reads the free queue.
    let mut held = Vec::new();
    while let Some(buf) = tx.alloc().unwrap() {
        held.push(buf);
    }
    assert_eq!(held.len(), 8);
    inject(free, Descriptor { offset: 3, len: 0 });
    assert_eq!(tx.alloc(), Err(PeerError::MisalignedOffset { offset: 3 }));
    inject(
        free,
        Descriptor {
            offset: 4096,
            len: 0,
        },
    );
    assert_eq!(
        tx.alloc(),
        Err(PeerError::OffsetOutOfRange { offset: 4096 })
    );
    // The length of a returned buffer is ignored: it comes back empty.
    inject(
        free,
        Descriptor {
            offset: 64,
            len: 9999,
        },
    );
    let buf = tx.alloc().unwrap().unwrap();
    assert_eq!((buf.offset(), buf.len()), (64, 0));
}

#[test]
fn buffer_handed_on_twice() {
    // A hostile receiver returns buffer 0 over and over: the sender's active
    // queue, sized for every buffer, overflows, and says why.
    let l = ChannelLayout::new(2, 64, 2).unwrap();
    let mut mem = common::Mem::new(l.total_bytes());
    let (active, free, region) = common::channel(&mut mem, l);
    let mut tx = Sender::new(active, free, region).unwrap();
    let mut result = Ok(());
    for _ in 0..4 {
        let buf = match tx.alloc().unwrap() {
            Some(buf) => buf,
            None => {
                inject(free, Descriptor { offset: 0, len: 0 });
                tx.alloc().unwrap().unwrap()
            }
        };
        result = tx.send(buf);
        if result.is_err() {
            break;
        }
        let _ = tx.publish();
    }
    assert_eq!(result, Err(PeerError::QueueOverflow));
}

#[test]
fn any_signal_request_value_is_just_a_request() {
    let mut mem = common::Mem::new(queue_bytes(2).unwrap());
    let q = common::queue(&mut mem, 2);
    let mut p = Producer::new(q).unwrap();
    q.header().signal_requested.store(0xdead_beef, Relaxed);
    p.push(Descriptor::default()).unwrap();
    assert_eq!(p.publish(), Notify::Yes);
    assert_eq!(q.header().signal_requested.load(Relaxed), 0);
}

#[test]
fn layout_errors_at_attach() {
    let l = ChannelLayout::new(4, 64, 4).unwrap();
    let mut mem = common::Mem::new(l.total_bytes());
    let bytes = mem.bytes();
    assert!(Queue::from_bytes(&mut bytes[8..], 4).is_err());
    assert!(Queue::from_bytes(&mut bytes[..100], 4).is_err());
    assert!(Queue::from_bytes(bytes, 3).is_err());
    let l8 = ChannelLayout::new(8, 64, 8).unwrap();
    let mut big = common::Mem::new(l8.total_bytes());
    let (a, f, r) = common::channel(&mut big, l8);
    let mut small = common::Mem::new(l.total_bytes());
    let (a4, _, _) = common::channel(&mut small, l);
    assert!(matches!(Sender::new(a4, f, r), Err(AttachError::Layout(_))));
    assert!(Receiver::new(a, f, r).is_ok());
}

#[derive(Clone, Debug)]
enum Attack {
    Tail(u32),
    Head(u32),
    Flag(u32),
    Slot(u32, u32, u32),
}

fn attack() -> impl Strategy<Value = Attack> {
    let small = prop_oneof![0u32..20, any::<u32>(), (u32::MAX - 20)..=u32::MAX];
    prop_oneof![
        small.clone().prop_map(Attack::Tail),
        small.clone().prop_map(Attack::Head),
        any::<u32>().prop_map(Attack::Flag),
        (0u32..8, prop_oneof![0u32..1024, any::<u32>()], small)
            .prop_map(|(i, o, l)| Attack::Slot(i, o, l)),
    ]
}

proptest! {
    /// Both sides of a channel keep running while a third party writes
    /// garbage into every shared word. Nothing panics, and every buffer
    /// either side is given lies inside the region, on a buffer boundary.
    #[test]
    fn garbage_never_escapes_the_region(
        steps in proptest::collection::vec((attack(), 0u8..6), 1..200),
    ) {
        let mut mem = common::Mem::new(L.total_bytes());
        let (active, free, region) = common::channel(&mut mem, L);
        let mut tx = Sender::new(active, free, region).unwrap();
        let mut rx = Receiver::new(active, free, region).unwrap();
        let region_bytes = L.data_bytes() as u32;
        let mut scratch = [0u8; 128];
        for (attack, action) in steps {
            let q = if action % 2 == 0 { active } else { free };
            match attack {
                Attack::Tail(v) => q.header().tail.store(v, Relaxed),
                Attack::Head(v) => q.header().head.store(v, Relaxed),
                Attack::Flag(v) => q.header().signal_requested.store(v, Relaxed),
                Attack::Slot(i, o, l) => write_slot(q, i, Descriptor { offset: o, len: l }),
            }
            match action {
                0 | 1 => {
                    if let Ok(Some(mut buf)) = tx.alloc() {
                        prop_assert!(buf.offset() < region_bytes && buf.offset() % 64 == 0);
                        tx.append(&mut buf, &scratch[..(action as usize * 50)]);
                        let _ = tx.send(buf);
                    }
                    let _ = tx.publish();
                }
                2 | 3 => {
                    if let Ok(Some(buf)) = rx.recv() {
                        prop_assert!(buf.offset() < region_bytes && buf.offset() % 64 == 0);
                        prop_assert!(buf.len() <= 64);
                        prop_assert!(rx.read(&buf, 0, &mut scratch) <= 64);
                        let _ = rx.give_back(buf);
                    }
                    let _ = rx.publish();
                }
                4 => { let _ = rx.request_signal(); }
                _ => { let _ = tx.request_signal(); }
            }
        }
    }
}

#[test]
fn a_restarted_sender_never_reuses_a_buffer_the_receiver_holds() {
    let l = ChannelLayout::new(4, 64, 4).unwrap();
    let mut mem = common::Mem::new(l.total_bytes());
    let (active, free, region) = common::channel(&mut mem, l);
    let mut rx = Receiver::new(active, free, region).unwrap();
    // First life: three buffers sent; the receiver takes all three and
    // gives back only the first.
    {
        let mut tx = Sender::new(active, free, region).unwrap();
        for _ in 0..3 {
            let buf = tx.alloc().unwrap().unwrap();
            tx.send(buf).unwrap();
        }
        let _ = tx.publish();
    }
    let held: Vec<_> = (0..3).map(|_| rx.recv().unwrap().unwrap()).collect();
    let mut held = held.into_iter();
    let first = held.next().unwrap();
    let first_offset = first.offset();
    rx.give_back(first).unwrap();
    let _ = rx.publish();

    // Second life: only the returned buffer is handed out.
    let mut tx = Sender::reattach(active, free, region).unwrap();
    let buf = tx.alloc().unwrap().unwrap();
    assert_eq!(buf.offset(), first_offset);
    assert!(
        tx.alloc().unwrap().is_none(),
        "a held buffer was handed out again"
    );
    tx.send(buf).unwrap();
    let _ = tx.publish();

    // The receiver's buffers come back in time and are reused then.
    let mut returned = Vec::new();
    for buf in held {
        returned.push(buf.offset());
        rx.give_back(buf).unwrap();
    }
    let _ = rx.publish();
    let again: Vec<u32> = (0..2)
        .map(|_| tx.alloc().unwrap().unwrap().offset())
        .collect();
    assert_eq!(again, returned);
    // With `new` instead, buffer 0 would have been handed out at once
    // while the receiver still held it.
    let mut naive = Sender::new(active, free, region).unwrap();
    assert_eq!(naive.alloc().unwrap().unwrap().offset(), 0);
}
