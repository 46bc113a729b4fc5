//! The driver's request checks: every refusal, its order, id bookkeeping,
//! and overflow-safe arithmetic at the edges.

use paddock_blk::{
    Accepted, Geometry, InFlight, InfoError, NotInFlight, Op, Request, RequestChecker, Response,
    Status, MAX_QUEUE_DEPTH,
};
use zerocopy::little_endian::U32;

const BS: u64 = 512;
const WINDOW: u64 = 64 * 1024;

fn geometry() -> Geometry {
    Geometry {
        capacity_blocks: 1000,
        block_size: 512,
        queue_depth: 4,
        max_blocks_per_request: 16,
        read_only: false,
    }
}

fn checker() -> RequestChecker {
    RequestChecker::new(geometry(), WINDOW).unwrap()
}

fn refused(c: &mut RequestChecker, r: Request) -> Status {
    let response = c.check(&r).expect_err("should be refused");
    assert_eq!(response.id.get(), r.id.get(), "the refusal echoes the id");
    assert_eq!(response.blocks_done.get(), 0);
    Status::from_wire(response.status.get()).unwrap()
}

#[test]
fn accepts_a_valid_read_with_its_window_range() {
    let mut c = checker();
    let a = c.check(&Request::read(2, 10, 8, 4096)).unwrap();
    assert_eq!(
        a,
        Accepted {
            id: 2,
            op: Op::Read,
            block: 10,
            count: 8,
            window: 4096..4096 + 8 * BS,
        }
    );
    assert_eq!(a.iova(0x10_0000), Some(0x10_1000));
    assert_eq!(a.len(), 8 * BS);
    assert!(c.in_flight().contains(2));
    assert_eq!(c.in_flight().len(), 1);
}

#[test]
fn unknown_id() {
    let mut c = checker();
    assert_eq!(
        refused(&mut c, Request::read(4, 0, 1, 0)),
        Status::UnknownId
    );
    assert_eq!(
        refused(&mut c, Request::read(u32::MAX, 0, 1, 0)),
        Status::UnknownId
    );
    assert!(c.in_flight().is_empty());
}

#[test]
fn id_submitted_twice_is_refused_while_the_original_stays_in_flight() {
    let mut c = checker();
    let original = c.check(&Request::write(1, 0, 2, 0)).unwrap();
    // The duplicate is refused whatever it asks, even if otherwise valid...
    assert_eq!(
        refused(&mut c, Request::read(1, 5, 1, 512)),
        Status::IdInFlight
    );
    assert_eq!(refused(&mut c, Request::flush(1)), Status::IdInFlight);
    // ...and the original still owns the id until it completes.
    assert!(c.in_flight().contains(original.id));
    assert_eq!(c.in_flight().len(), 1);
    c.complete(1).unwrap();
    assert!(c.in_flight().is_empty());
    // Completing frees the id for reuse.
    c.check(&Request::read(1, 5, 1, 512)).unwrap();
}

#[test]
fn completing_an_id_not_in_flight_is_an_error() {
    let mut c = checker();
    assert_eq!(c.complete(0), Err(NotInFlight { id: 0 }));
    assert_eq!(
        c.complete(MAX_QUEUE_DEPTH + 7),
        Err(NotInFlight {
            id: MAX_QUEUE_DEPTH + 7
        })
    );
    c.check(&Request::read(0, 0, 1, 0)).unwrap();
    c.complete(0).unwrap();
    assert_eq!(c.complete(0), Err(NotInFlight { id: 0 }), "freed only once");
}

#[test]
fn bad_op() {
    let mut c = checker();
    for op in [0, 4, 0xFFFF_FFFF] {
        let mut r = Request::read(0, 0, 1, 0);
        r.op = U32::new(op);
        assert_eq!(refused(&mut c, r), Status::BadOp);
    }
    assert_eq!(
        refused(&mut c, Request::default()),
        Status::BadOp,
        "all zero"
    );
}

#[test]
fn zero_count() {
    let mut c = checker();
    assert_eq!(
        refused(&mut c, Request::read(0, 0, 0, 0)),
        Status::ZeroCount
    );
    assert_eq!(
        refused(&mut c, Request::write(0, 0, 0, 0)),
        Status::ZeroCount
    );
}

#[test]
fn too_large() {
    let mut c = checker();
    c.check(&Request::read(0, 0, 16, 0)).unwrap();
    assert_eq!(
        refused(&mut c, Request::read(1, 0, 17, 0)),
        Status::TooLarge
    );
    assert_eq!(
        refused(&mut c, Request::read(1, 0, u32::MAX, 0)),
        Status::TooLarge
    );
}

#[test]
fn out_of_range() {
    let mut c = checker();
    c.check(&Request::read(0, 999, 1, 0)).unwrap();
    assert_eq!(
        refused(&mut c, Request::read(1, 999, 2, 0)),
        Status::OutOfRange
    );
    assert_eq!(
        refused(&mut c, Request::read(1, 1000, 1, 0)),
        Status::OutOfRange
    );
    // block + count overflows u64: refused, not wrapped.
    assert_eq!(
        refused(&mut c, Request::read(1, u64::MAX, 1, 0)),
        Status::OutOfRange
    );
    assert_eq!(
        refused(&mut c, Request::write(1, u64::MAX - 3, 16, 0)),
        Status::OutOfRange
    );
}

#[test]
fn offset_outside_window() {
    let mut c = checker();
    // The last block of the window is fine.
    c.check(&Request::read(0, 0, 1, WINDOW - BS)).unwrap();
    // One byte past, or starting past the end, is not.
    assert_eq!(
        refused(&mut c, Request::read(1, 0, 1, WINDOW - BS + 1)),
        Status::OffsetOutsideWindow
    );
    assert_eq!(
        refused(&mut c, Request::read(1, 0, 1, WINDOW)),
        Status::OffsetOutsideWindow
    );
    assert_eq!(
        refused(&mut c, Request::write(1, 0, 16, WINDOW - 15 * BS)),
        Status::OffsetOutsideWindow
    );
    // offset + bytes overflows u64: refused, not wrapped into the window.
    assert_eq!(
        refused(&mut c, Request::read(1, 0, 2, u64::MAX - BS + 1)),
        Status::OffsetOutsideWindow
    );
    assert_eq!(
        refused(&mut c, Request::read(1, 0, 1, u64::MAX)),
        Status::OffsetOutsideWindow
    );
}

#[test]
fn read_only_device_refuses_writes_and_flushes_but_serves_reads() {
    let g = Geometry {
        read_only: true,
        ..geometry()
    };
    let mut c = RequestChecker::new(g, WINDOW).unwrap();
    assert_eq!(
        refused(&mut c, Request::write(0, 0, 1, 0)),
        Status::ReadOnly
    );
    assert_eq!(refused(&mut c, Request::flush(0)), Status::ReadOnly);
    c.check(&Request::read(0, 0, 1, 0)).unwrap();
}

#[test]
fn flush_is_accepted_without_data_or_answered_unsupported() {
    let mut c = checker();
    let mut flush = Request::flush(3);
    // Block, count and offset are ignored for a flush.
    flush.count = U32::new(u32::MAX);
    let a = c.check(&flush).unwrap();
    assert_eq!((a.op, a.count, a.is_empty()), (Op::Flush, 0, true));
    let mut c = checker().without_flush();
    assert_eq!(refused(&mut c, Request::flush(3)), Status::Unsupported);
}

#[test]
fn checks_apply_in_the_documented_order() {
    let mut c = checker();
    c.check(&Request::read(0, 0, 1, 0)).unwrap();
    // Everything wrong at once: the id decides first.
    let mut all_wrong = Request::write(9, u64::MAX, 0, u64::MAX);
    all_wrong.op = U32::new(77);
    assert_eq!(refused(&mut c, all_wrong), Status::UnknownId);
    all_wrong.id = U32::new(0);
    assert_eq!(refused(&mut c, all_wrong), Status::IdInFlight);
    all_wrong.id = U32::new(1);
    assert_eq!(refused(&mut c, all_wrong), Status::BadOp);
    all_wrong.op = U32::new(Op::Write as u32);
    assert_eq!(refused(&mut c, all_wrong), Status::ZeroCount);
    all_wrong.count = U32::new(17);
    assert_eq!(refused(&mut c, all_wrong), Status::TooLarge);
    all_wrong.count = U32::new(1);
    assert_eq!(refused(&mut c, all_wrong), Status::OutOfRange);
    all_wrong.block = 0.into();
    assert_eq!(refused(&mut c, all_wrong), Status::OffsetOutsideWindow);
    all_wrong.offset = 0.into();
    c.check(&all_wrong).unwrap();
}

#[test]
fn refusals_take_no_id_and_the_checker_keeps_serving() {
    let mut c = checker();
    for id in 0..4 {
        refused(&mut c, Request::read(id, 2000, 1, 0));
    }
    assert!(c.in_flight().is_empty());
    for id in 0..4 {
        c.check(&Request::read(id, 0, 1, 0)).unwrap();
    }
    assert_eq!(c.in_flight().len(), 4);
    assert_eq!(
        refused(&mut c, Request::read(4, 0, 1, 0)),
        Status::UnknownId
    );
}

#[test]
fn geometry_is_validated() {
    let bad = |g: Geometry| RequestChecker::new(g, WINDOW).unwrap_err();
    let g = geometry();
    assert_eq!(
        bad(Geometry { block_size: 0, ..g }),
        InfoError::BadBlockSize { found: 0 }
    );
    assert_eq!(
        bad(Geometry {
            block_size: 768,
            ..g
        }),
        InfoError::BadBlockSize { found: 768 }
    );
    assert_eq!(
        bad(Geometry {
            block_size: 256,
            ..g
        }),
        InfoError::BadBlockSize { found: 256 }
    );
    assert_eq!(
        bad(Geometry {
            queue_depth: 0,
            ..g
        }),
        InfoError::BadQueueDepth { found: 0 }
    );
    assert_eq!(
        bad(Geometry {
            queue_depth: MAX_QUEUE_DEPTH + 1,
            ..g
        }),
        InfoError::BadQueueDepth {
            found: MAX_QUEUE_DEPTH + 1
        }
    );
    assert_eq!(
        bad(Geometry {
            max_blocks_per_request: 0,
            ..g
        }),
        InfoError::ZeroMaxBlocks
    );
}

#[test]
fn in_flight_table_bounds() {
    let mut t = InFlight::new();
    assert!(t.insert(0));
    assert!(!t.insert(0), "twice");
    assert!(t.insert(MAX_QUEUE_DEPTH - 1));
    assert!(!t.insert(MAX_QUEUE_DEPTH), "past the table");
    assert!(!t.contains(MAX_QUEUE_DEPTH));
    assert!(!t.remove(MAX_QUEUE_DEPTH));
    assert_eq!(t.len(), 2);
    assert!(t.remove(0) && !t.remove(0));
    assert_eq!(t.len(), 1);
}

#[test]
fn a_full_depth_table_accepts_every_id() {
    let g = Geometry {
        queue_depth: MAX_QUEUE_DEPTH,
        ..geometry()
    };
    let mut c = RequestChecker::new(g, WINDOW).unwrap();
    for id in 0..MAX_QUEUE_DEPTH {
        c.check(&Request::read(id, 0, 1, 0)).unwrap();
    }
    assert_eq!(c.in_flight().len(), MAX_QUEUE_DEPTH);
    assert_eq!(
        c.check(&Request::read(MAX_QUEUE_DEPTH, 0, 1, 0)),
        Err(Response::refusal(MAX_QUEUE_DEPTH, Status::UnknownId))
    );
}
