//! Hostile peers: a client writing garbage into its control region while
//! the driver serves it and another client, and a driver (or its memory)
//! lying to a client. Every case is a specific error value, never a panic,
//! and the other client keeps working.

mod common;

use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;

use common::{nic_step, Rng, Shared};
use paddock_net::{
    ClientQueues, DriverQueues, InfoError, NetLayout, PeerError, QueueId, Refusal, SetupError,
};
use paddock_ring::{Descriptor, PeerError as RingError, Queue, Sender};

const LAYOUT: NetLayout = match NetLayout::for_buffers(4, 4, 2048) {
    Ok(l) => l,
    Err(_) => panic!(),
};
const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0xa];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0xb];

/// A hostile producer publishing `d` as the next descriptor of `q`.
fn inject(q: Queue<'_>, d: Descriptor) {
    let tail = q.header().tail.load(Relaxed);
    let slot = &q.slots()[(tail % q.capacity()) as usize];
    slot.write(d);
    q.header().tail.store(tail.wrapping_add(1), Relaxed);
}

/// One client as the driver sees it, with its device's wire.
struct Served {
    shared: Shared,
    driver: DriverQueues<'static>,
    to_client: VecDeque<Vec<u8>>,
    from_client: VecDeque<Vec<u8>>,
}

impl Served {
    fn new(mac: [u8; 6]) -> Self {
        let shared = Shared::new(LAYOUT);
        Self {
            driver: shared.driver(mac),
            shared,
            to_client: VecDeque::new(),
            from_client: VecDeque::new(),
        }
    }

    fn step(&mut self) -> Result<(), PeerError> {
        nic_step(
            &mut self.driver,
            self.shared.window,
            &mut self.to_client,
            &mut self.from_client,
        )
    }
}

fn frame(tag: u8, len: usize) -> Vec<u8> {
    let mut f = vec![tag; len];
    f[..6].copy_from_slice(&[0xff; 6]);
    f
}

/// Frames both ways between an honest client and its driver.
fn round_trip(s: &mut Served, client: &mut ClientQueues<'_>, tag: u8) {
    let out = frame(tag, 60 + tag as usize);
    assert!(client.send_frame(&out).unwrap());
    let _ = client.publish();
    s.step().unwrap();
    assert_eq!(s.from_client.pop_back().unwrap(), out);
    let inbound = frame(tag ^ 0x55, 1514);
    s.to_client.push_back(inbound.clone());
    s.step().unwrap();
    let mut buf = [0u8; 1514];
    assert_eq!(client.recv_frame(&mut buf).unwrap(), Some(1514));
    assert_eq!(&buf[..], &inbound[..]);
    let _ = client.publish();
}

/// A hostile client `a` beside an honest client `b`: `attack` writes into
/// `a`'s memory, the driver's step for `a` must fail with `expected`, and
/// `b` must keep working before and after.
fn attack_beside_honest(
    attack: impl FnOnce(&mut Served, &mut ClientQueues<'static>),
    expected: PeerError,
) {
    let mut a = Served::new(MAC_A);
    let mut b = Served::new(MAC_B);
    let mut client_a = a.shared.client();
    let mut client_b = b.shared.client();
    round_trip(&mut a, &mut client_a, 1);
    round_trip(&mut b, &mut client_b, 2);
    attack(&mut a, &mut client_a);
    assert_eq!(a.step(), Err(expected));
    for tag in 3..40 {
        round_trip(&mut b, &mut client_b, tag);
    }
}

#[test]
fn garbage_tail_on_tx_active() {
    attack_beside_honest(
        |a, _| {
            a.shared
                .control
                .tx_active
                .header()
                .tail
                .store(0xdead_beef, Relaxed)
        },
        PeerError::Queue {
            queue: QueueId::TxActive,
            error: RingError::TailOutOfRange {
                tail: 0xdead_beef,
                last_tail: 1,
                head: 1,
            },
        },
    );
}

#[test]
fn flooding_the_tx_queue() {
    // More descriptors published than the queue has slots.
    attack_beside_honest(
        |a, _| {
            for _ in 0..LAYOUT.tx_slots() + 1 {
                inject(
                    a.shared.control.tx_active,
                    Descriptor { offset: 0, len: 60 },
                );
            }
        },
        PeerError::Queue {
            queue: QueueId::TxActive,
            error: RingError::TailOutOfRange {
                tail: 1 + LAYOUT.tx_slots() + 1,
                last_tail: 1,
                head: 1,
            },
        },
    );
}

#[test]
fn tx_offset_outside_the_window() {
    let past = LAYOUT.tx_buffers * LAYOUT.buf_size;
    attack_beside_honest(
        |a, _| {
            inject(
                a.shared.control.tx_active,
                Descriptor {
                    offset: past,
                    len: 60,
                },
            )
        },
        PeerError::Queue {
            queue: QueueId::TxActive,
            error: RingError::OffsetOutOfRange { offset: past },
        },
    );
    attack_beside_honest(
        |a, _| {
            inject(
                a.shared.control.tx_active,
                Descriptor {
                    offset: 100,
                    len: 60,
                },
            )
        },
        PeerError::Queue {
            queue: QueueId::TxActive,
            error: RingError::MisalignedOffset { offset: 100 },
        },
    );
}

#[test]
fn tx_length_beyond_the_buffer() {
    attack_beside_honest(
        |a, _| {
            inject(
                a.shared.control.tx_active,
                Descriptor {
                    offset: 0,
                    len: 4096,
                },
            )
        },
        PeerError::Queue {
            queue: QueueId::TxActive,
            error: RingError::LengthTooLarge { len: 4096 },
        },
    );
}

#[test]
fn tx_buffer_sent_twice() {
    attack_beside_honest(
        |a, _| {
            // Buffer 1 is still the client's; queued twice in one batch,
            // the driver holds it after the first.
            let d = Descriptor {
                offset: 2048,
                len: 60,
            };
            inject(a.shared.control.tx_active, d);
            inject(a.shared.control.tx_active, d);
            // The device would still be sending the first: not completed.
            let first = a.driver.next_tx().unwrap().unwrap();
            assert_eq!(first.window_offset(), LAYOUT.tx_data_offset() as u32 + 2048);
        },
        PeerError::SentTwice { offset: 2048 },
    );
}

#[test]
fn rx_buffer_returned_twice() {
    attack_beside_honest(
        |a, client| {
            // Buffer 0 went back in the round trip; deliver the other
            // three, so the driver's next buffers come off the free queue.
            for tag in 0..3 {
                a.to_client.push_back(frame(tag, 100));
            }
            a.step().unwrap();
            let mut buf = [0u8; 1514];
            assert_eq!(client.recv_frame(&mut buf).unwrap(), Some(100));
            let _ = client.publish();
            // Free queue: 0 and 1 honestly, then 0 again.
            inject(a.shared.control.rx_free, Descriptor { offset: 0, len: 0 });
            // The driver posts the honest two to the device, which is
            // still receiving into them when the duplicate comes up.
            for expect in [0, 2048] {
                let posted = a.driver.take_free_rx().unwrap().unwrap();
                assert_eq!(posted.window_offset(), expect);
            }
            a.to_client.push_back(frame(9, 100));
        },
        PeerError::ReturnedNotHeld { offset: 0 },
    );
}

#[test]
fn rx_free_flood() {
    attack_beside_honest(
        |a, _| {
            for tag in 0..3 {
                a.to_client.push_back(frame(tag, 100));
            }
            a.step().unwrap();
            a.shared
                .control
                .rx_free
                .header()
                .tail
                .store(1 + LAYOUT.rx_slots() + 1, Relaxed);
            a.to_client.push_back(frame(3, 100));
        },
        PeerError::Queue {
            queue: QueueId::RxFree,
            error: RingError::TailOutOfRange {
                tail: 1 + LAYOUT.rx_slots() + 1,
                last_tail: 0,
                head: 0,
            },
        },
    );
}

#[test]
fn refused_frame_lengths_are_counted_not_fatal() {
    let mut a = Served::new(MAC_A);
    // A client that fills buffers with lengths the wire cannot carry (its
    // own ring sender: ClientQueues refuses to queue such frames).
    let window = a.shared.client_window();
    let mut tx = Sender::new(
        a.shared.control.tx_active,
        a.shared.control.tx_free,
        window.tx,
    )
    .unwrap();
    let mut send = |a: &mut Served, len: usize| {
        let mut b = tx.alloc().unwrap().unwrap();
        assert_eq!(tx.append(&mut b, &frame(0xab, len)), len);
        tx.send(b).unwrap();
        let _ = tx.publish();
        a.step().unwrap();
    };
    send(&mut a, 1600);
    send(&mut a, 13);
    assert!(a.from_client.is_empty(), "nothing refused reached the wire");
    assert_eq!(a.driver.refused(), 2);
    assert_eq!(a.driver.stats().tx_refused, 2);
    assert_eq!(
        a.driver.take_refusal(),
        Some(Refusal {
            window_offset: LAYOUT.tx_data_offset() as u32 + 2048,
            len: 13
        })
    );
    assert_eq!(a.driver.take_refusal(), None);
    // The refused buffers came back on the TX free queue, and the count is
    // on the info page for the client to see.
    assert_eq!(a.shared.control.tx_free.header().tail.load(Relaxed), 2);
    assert_eq!(a.shared.client().driver_stats().tx_refused, 2);
    // The same client goes on sending, reusing the refused buffers.
    for len in 60..70 {
        send(&mut a, len);
        assert_eq!(a.from_client.pop_front().unwrap(), frame(0xab, len));
    }
}

#[test]
fn impossible_rx_length_from_the_device_is_dropped() {
    let mut a = Served::new(MAC_A);
    let mut client = a.shared.client();
    let buf = a.driver.take_free_rx().unwrap().unwrap();
    a.driver.complete_rx(buf, 3000).unwrap();
    let buf = a.driver.take_free_rx().unwrap().unwrap();
    a.driver.complete_rx(buf, 5).unwrap();
    assert_eq!(a.driver.stats().rx_dropped, 2);
    let _ = a.driver.publish();
    assert_eq!(client.recv_frame(&mut [0; 64]).unwrap(), None);
    // The buffers stayed with the driver: all four are still usable.
    round_trip(&mut a, &mut client, 1);
    let mut held = Vec::new();
    while let Some(b) = a.driver.take_free_rx().unwrap() {
        held.push(b);
    }
    assert_eq!(held.len(), 4);
}

#[test]
fn lying_driver_seen_by_the_client() {
    let a = Served::new(MAC_A);
    let mut client = a.shared.client();
    // Longer than a frame, within a buffer: skipped and counted.
    inject(
        a.shared.control.rx_active,
        Descriptor {
            offset: 0,
            len: 1600,
        },
    );
    assert_eq!(client.recv_frame(&mut [0; 64]).unwrap(), None);
    assert_eq!(client.bad_frames(), 1);
    // Past the buffer: a protocol break.
    inject(
        a.shared.control.rx_active,
        Descriptor {
            offset: 2048,
            len: 2049,
        },
    );
    assert_eq!(
        client.recv_frame(&mut [0; 64]),
        Err(PeerError::Queue {
            queue: QueueId::RxActive,
            error: RingError::LengthTooLarge { len: 2049 }
        })
    );
    // Through smoltcp's device the same break stops the tokens and is kept.
    a.shared.control.rx_active.header().tail.store(77, Relaxed);
    use paddock_net::smoltcp::phy::Device;
    let now = paddock_net::smoltcp::time::Instant::from_millis(0);
    assert!(client.receive(now).is_none());
    assert!(matches!(
        client.fault(),
        Some(PeerError::Queue {
            queue: QueueId::RxActive,
            error: RingError::TailOutOfRange { tail: 77, .. }
        })
    ));
    assert!(client.transmit(now).is_some(), "TX is a separate queue");
}

fn attach(s: &Shared) -> Result<ClientQueues<'static>, SetupError> {
    ClientQueues::attach(s.control, s.client_window())
}

#[test]
fn garbage_info_page_is_an_error() {
    let s = Shared::new(LAYOUT);
    assert_eq!(
        attach(&s).err(),
        Some(SetupError::Info(InfoError::NotReady))
    );
    let _driver = s.driver(MAC_A);
    let words = s.control.info.words();
    let set = |i: usize, v: u32| words[i].store(v, Relaxed);
    let expect = |e: InfoError| assert_eq!(attach(&s).err(), Some(SetupError::Info(e)));
    set(0, 0x1234_5678);
    expect(InfoError::BadMagic { found: 0x1234_5678 });
    set(0, paddock_net::INFO_MAGIC);
    set(1, 9);
    expect(InfoError::BadVersion { found: 9 });
    set(1, 1);
    set(5, 0x0001_0000);
    expect(InfoError::BadMac {
        lo: 0x0000_0002,
        hi: 0x0001_0000,
    });
    set(5, 0x0a00);
    set(4, 0x0000_0001);
    expect(InfoError::BadMac { lo: 1, hi: 0x0a00 });
    set(4, 2);
    set(6, 9000);
    expect(InfoError::BadMtu { found: 9000 });
    set(6, 1500);
    set(8, 5);
    expect(InfoError::GeometryMismatch {
        buf_size: 2048,
        rx_buffers: 5,
        tx_buffers: 4,
    });
    set(8, 4);
    set(2, 7);
    expect(InfoError::BadState { found: 7 });
    set(2, 2);
    expect(InfoError::Withdrawn);
    set(2, 1);
    assert!(attach(&s).is_ok());

    // Random pages: always an error value, never a panic.
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        for (i, w) in words.iter().enumerate() {
            // Mostly valid states, so the field checks are reached.
            let v = if i == 2 {
                (rng.next() % 4) as u32
            } else {
                rng.next() as u32
            };
            w.store(v, Relaxed);
        }
        assert!(attach(&s).is_err());
    }
}
