//! Hostile peers at the queue level: indices written straight into shared
//! memory, garbage records, and a client that floods the driver. Every
//! case must come back as an error value or a refusal, never a panic or an
//! access outside the queue.

mod common;

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use common::Mem;
use paddock_blk::{
    record_queue_bytes, Control, ControlLayout, DriverQueues, Geometry, Idle, PeerError, Record,
    RecordConsumer, RecordProducer, RecordQueue, Request, RequestChecker, Response, SetupError,
    Status,
};
use proptest::prelude::*;
use zerocopy::FromBytes;

/// Writes `record` into slot `index` as a peer would: word by word.
fn store<R: Record>(q: RecordQueue<'_, R>, index: u32, record: &R) {
    for (word, bytes) in q
        .slot_words(index)
        .iter()
        .zip(record.as_bytes().chunks_exact(4))
    {
        word.store(u32::from_ne_bytes(bytes.try_into().unwrap()), Relaxed);
    }
}

/// A hostile producer appending `record` and publishing it.
fn inject<R: Record>(q: RecordQueue<'_, R>, record: &R) {
    let tail = q.header().tail.load(Relaxed);
    store(q, tail, record);
    q.header().tail.store(tail.wrapping_add(1), Release);
}

fn request_queue(mem: &mut Mem, slots: u32) -> RecordQueue<'_, Request> {
    RecordQueue::from_bytes(mem.bytes(), slots).unwrap()
}

#[test]
fn tail_claiming_more_than_capacity() {
    let mut mem = Mem::new(record_queue_bytes::<Request>(4).unwrap());
    let q = request_queue(&mut mem, 4);
    let mut c = RecordConsumer::new(q).unwrap();
    q.header().tail.store(5, Release);
    assert_eq!(
        c.pop(),
        Err(PeerError::TailOutOfRange {
            tail: 5,
            last_tail: 0,
            head: 0
        })
    );
    q.header().tail.store(u32::MAX, Release);
    assert!(matches!(
        c.request_signal(),
        Err(PeerError::TailOutOfRange { .. })
    ));
    // Exactly full is fine, and the handle survived the bad reads.
    q.header().tail.store(4, Release);
    assert_eq!(c.available(), Ok(4));
    // Slots popped but not released still count against the producer.
    for _ in 0..4 {
        assert!(c.pop().unwrap().is_some());
    }
    q.header().tail.store(5, Release);
    assert!(matches!(c.pop(), Err(PeerError::TailOutOfRange { .. })));
    c.release();
    assert_eq!(c.available(), Ok(1));
}

#[test]
fn tail_moving_backwards() {
    let mut mem = Mem::new(record_queue_bytes::<Request>(4).unwrap());
    let q = request_queue(&mut mem, 4);
    let mut c = RecordConsumer::new(q).unwrap();
    q.header().tail.store(3, Release);
    assert_eq!(c.available(), Ok(3));
    q.header().tail.store(2, Release);
    assert_eq!(
        c.available(),
        Err(PeerError::TailOutOfRange {
            tail: 2,
            last_tail: 3,
            head: 0
        })
    );
}

#[test]
fn head_moving_backwards_or_past_the_tail() {
    let mut mem = Mem::new(record_queue_bytes::<Response>(4).unwrap());
    let q = RecordQueue::<Response>::from_bytes(mem.bytes(), 4).unwrap();
    let mut p = RecordProducer::new(q).unwrap();
    for id in 0..3 {
        p.push(&Response::new(id, Status::Ok, 1)).unwrap();
    }
    let _ = p.publish();
    q.header().head.store(4, Release);
    assert_eq!(
        p.free_slots(),
        Err(PeerError::HeadOutOfRange {
            head: 4,
            last_head: 0,
            tail: 3
        })
    );
    q.header().head.store(2, Release);
    assert_eq!(p.free_slots(), Ok(3));
    q.header().head.store(1, Release);
    assert!(matches!(
        p.free_slots(),
        Err(PeerError::HeadOutOfRange { head: 1, .. })
    ));
    q.header().head.store(u32::MAX, Release);
    assert!(matches!(
        p.free_slots(),
        Err(PeerError::HeadOutOfRange { .. })
    ));
}

#[test]
fn attaching_to_inconsistent_indices() {
    let layout = ControlLayout::for_depth(4).unwrap();
    let mut mem = Mem::new(layout.total_bytes());
    let control = Control::from_bytes(mem.bytes(), layout).unwrap();
    control.requests.header().tail.store(9, Relaxed);
    let checker = RequestChecker::new(geometry(), 4096).unwrap();
    assert_eq!(
        DriverQueues::new(control.requests, control.responses, checker).err(),
        Some(SetupError::Peer(PeerError::IndicesInconsistent {
            head: 0,
            tail: 9
        }))
    );
}

#[test]
fn records_round_trip_as_bytes_whatever_they_hold() {
    let mut mem = Mem::new(record_queue_bytes::<Request>(2).unwrap());
    let q = request_queue(&mut mem, 2);
    let mut p = RecordProducer::new(q).unwrap();
    let mut c = RecordConsumer::new(q).unwrap();
    let odd = Request::read_from_bytes(&[0xA5; 32]).unwrap();
    for _ in 0..5 {
        p.push(&odd).unwrap();
        p.push(&Request::flush(1)).unwrap();
        assert!(p.push(&odd).is_err(), "full at capacity");
        let _ = p.publish();
        assert_eq!(c.pop(), Ok(Some(odd)));
        assert_eq!(c.pop(), Ok(Some(Request::flush(1))));
        assert_eq!(c.pop(), Ok(None));
        c.release();
    }
}

fn geometry() -> Geometry {
    Geometry {
        capacity_blocks: 100,
        block_size: 512,
        queue_depth: 4,
        max_blocks_per_request: 8,
        read_only: false,
    }
}

#[test]
fn a_flooding_client_stalls_only_itself_and_the_driver_does_not_spin() {
    let layout = ControlLayout::for_depth(4).unwrap();
    let mut mem = Mem::new(layout.total_bytes());
    let control = Control::from_bytes(mem.bytes(), layout).unwrap();
    let checker = RequestChecker::new(geometry(), 4096).unwrap();
    let mut driver = DriverQueues::new(control.requests, control.responses, checker).unwrap();
    let (requests, responses) = (control.requests, control.responses);
    let unknown_id = Request::read(9, 0, 1, 0);

    // A client that sends garbage and never reads the answers: the driver
    // refuses until the response queue is full...
    for _ in 0..4 {
        inject(requests, &unknown_id);
    }
    assert_eq!(driver.next_request(), Ok(None));
    assert_eq!(driver.refused(), 4);
    let _ = driver.publish();
    // ...then leaves further requests queued, rather than dropping answers,
    for _ in 0..4 {
        inject(requests, &unknown_id);
    }
    for _ in 0..3 {
        assert_eq!(driver.next_request(), Ok(None));
    }
    assert_eq!(driver.refused(), 4);
    // and sleeps until the client publishes again, instead of spinning on
    // work it will not take.
    assert_eq!(driver.request_signal(), Ok(Idle::Sleep));
    assert_eq!(requests.header().signal_requested.load(Relaxed), 1);

    // Once the client reads the answers, the driver goes on.
    responses.header().head.store(4, Release);
    assert_eq!(driver.next_request(), Ok(None));
    assert_eq!(driver.refused(), 8);
}

#[test]
fn answers_to_requests_in_flight_always_fit() {
    let layout = ControlLayout::for_depth(4).unwrap();
    let mut mem = Mem::new(layout.total_bytes());
    let control = Control::from_bytes(mem.bytes(), layout).unwrap();
    let checker = RequestChecker::new(geometry(), 4096).unwrap();
    let mut driver = DriverQueues::new(control.requests, control.responses, checker).unwrap();

    // Two in flight, then garbage: only as much garbage is taken (and
    // refused) as leaves room for the two answers still owed.
    inject(control.requests, &Request::read(0, 0, 1, 0));
    inject(control.requests, &Request::read(1, 1, 1, 512));
    for _ in 0..2 {
        assert!(driver.next_request().unwrap().is_some());
    }
    let _ = driver.publish();
    for _ in 0..4 {
        inject(control.requests, &Request::read(0, 0, 1, 0)); // id 0 again
    }
    assert_eq!(driver.next_request(), Ok(None));
    assert_eq!(driver.refused(), 2, "two IdInFlight refusals, then no room");
    driver.complete(0, Status::Ok, 1).unwrap();
    driver.complete(1, Status::Ok, 1).unwrap();
    assert_eq!(
        driver
            .complete(1, Status::Ok, 1)
            .err()
            .map(|e| e.to_string()),
        Some("request 1 is not in flight".to_string())
    );
}

#[test]
fn garbage_requests_are_refused_and_the_driver_keeps_serving() {
    let layout = ControlLayout::for_depth(4).unwrap();
    let mut mem = Mem::new(layout.total_bytes());
    let control = Control::from_bytes(mem.bytes(), layout).unwrap();
    let checker = RequestChecker::new(geometry(), 4096).unwrap();
    let mut driver = DriverQueues::new(control.requests, control.responses, checker).unwrap();
    let garbage = [
        Request::read_from_bytes(&[0xFF; 32]).unwrap(),
        Request::default(),
        Request::read(2, 99, 2, 0),
    ];
    for g in &garbage {
        inject(control.requests, g);
    }
    inject(control.requests, &Request::write(1, 5, 2, 1024));
    let accepted = driver.next_request().unwrap().unwrap();
    assert_eq!(
        (accepted.id, accepted.block, accepted.window),
        (1, 5, 1024..2048)
    );
    assert_eq!(driver.refused(), 3);
    driver.complete(1, Status::Ok, 2).unwrap();
    let _ = driver.publish();
    let mut client_view = RecordConsumer::new(control.responses).unwrap();
    let answers: Vec<_> = std::iter::from_fn(|| client_view.pop().unwrap())
        .map(|r| (r.id.get(), Status::from_wire(r.status.get()).unwrap()))
        .collect();
    assert_eq!(
        answers,
        [
            (u32::MAX, Status::UnknownId),
            (0, Status::BadOp),
            (2, Status::OutOfRange),
            (1, Status::Ok)
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Random records, random index scribbles and random response
    /// consumption by a hostile client: the driver returns values or
    /// errors, and everything it accepts is within the device and the
    /// window.
    #[test]
    fn the_driver_survives_any_client(
        steps in proptest::collection::vec(
            (proptest::array::uniform32(any::<u8>()), 0u8..8, any::<u32>()),
            1..60,
        ),
    ) {
        let layout = ControlLayout::for_depth(4).unwrap();
        let mut mem = Mem::new(layout.total_bytes());
        let control = Control::from_bytes(mem.bytes(), layout).unwrap();
        let g = geometry();
        let checker = RequestChecker::new(g, 4096).unwrap();
        let mut driver = DriverQueues::new(control.requests, control.responses, checker).unwrap();
        for (bytes, action, value) in steps {
            let mut record = Request::read_from_bytes(&bytes).unwrap();
            // Make a fair share of the ids and ops plausible, so that
            // acceptance paths run too.
            if action & 1 == 0 {
                record.id = (record.id.get() % 6).into();
                record.op = (record.op.get() % 4).into();
                record.count = (record.count.get() % 10).into();
                record.block = (record.block.get() % 120).into();
                record.offset = (record.offset.get() % 5000).into();
            }
            match action {
                6 => control.requests.header().tail.store(value, Release),
                7 => control.responses.header().head.store(value, Release),
                5 => {
                    let tail = control.responses.header().tail.load(Acquire);
                    control.responses.header().head.store(tail, Release);
                }
                _ => inject(control.requests, &record),
            }
            // Until nothing is left, or the client's indices are refused.
            while let Ok(Some(a)) = driver.next_request() {
                prop_assert!(a.id < g.queue_depth);
                prop_assert!(a.block + u64::from(a.count) <= g.capacity_blocks);
                prop_assert!(a.window.end <= 4096);
                prop_assert_eq!(a.len(), u64::from(a.count) * 512);
                // Complete some now, leave others in flight.
                if value & 1 == 0 {
                    prop_assert!(driver.complete(a.id, Status::Ok, a.count).is_ok());
                }
            }
            let _ = driver.publish();
            let _ = driver.request_signal();
            prop_assert!(driver.checker().in_flight().len() <= g.queue_depth);
        }
    }
}
