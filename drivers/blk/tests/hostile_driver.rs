//! A hostile driver: responses and indices written straight into shared
//! memory, and garbage information pages. The client must report each as a
//! specific error, stop using the queues after a protocol violation, and
//! never panic.

mod common;

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use common::Mem;
use paddock_blk::{
    BlockClient, BlockError, Control, ControlLayout, DataWindow, DriverSignal, Geometry, InfoError,
    PeerError, ProtocolViolation, Record, RecordQueue, Request, Response, SetupError, Status,
    StorageInfo, INFO_MAGIC,
};
use zerocopy::{FromBytes, IntoBytes};

/// How the fake driver misbehaves when it answers.
#[derive(Clone, Copy, PartialEq)]
enum Lie {
    /// Answers correctly.
    Nothing,
    /// Answers with an id the client never used.
    UnknownId,
    /// Answers with a status that does not exist.
    UnknownStatus,
    /// Claims more blocks done than asked.
    TooManyBlocks,
    /// Says Ok with fewer blocks than asked.
    OkWithFewerBlocks,
    /// Answers one request per wake-up, twice.
    Twice,
    /// Moves the response tail more than a capacity ahead.
    TailTooFar,
    /// Answers but never takes requests off the request queue.
    NeverPops,
    /// Moves the request queue's head past its tail.
    HeadPastTail,
}

/// A driver that answers whatever is in the request queue, lying as told.
struct FakeDriver<'a> {
    control: Control<'a>,
    lie: Lie,
    /// Next request to answer (raw queue index).
    next: u32,
    waits: u32,
}

fn load<R: Record>(q: RecordQueue<'_, R>, index: u32) -> R {
    let mut bytes = Vec::new();
    for word in q.slot_words(index) {
        bytes.extend_from_slice(&word.load(Relaxed).to_ne_bytes());
    }
    R::read_from_bytes(&bytes).unwrap()
}

fn inject<R: Record>(q: RecordQueue<'_, R>, record: &R) {
    let tail = q.header().tail.load(Relaxed);
    for (word, bytes) in q
        .slot_words(tail)
        .iter()
        .zip(record.as_bytes().chunks_exact(4))
    {
        word.store(u32::from_ne_bytes(bytes.try_into().unwrap()), Relaxed);
    }
    q.header().tail.store(tail.wrapping_add(1), Release);
}

impl DriverSignal for FakeDriver<'_> {
    fn signal_driver(&mut self) {}

    fn wait_for_driver(&mut self) {
        self.waits += 1;
        assert!(self.waits < 100, "the client keeps waiting");
        let (requests, responses) = (self.control.requests, self.control.responses);
        let tail = requests.header().tail.load(Acquire);
        while self.next != tail {
            let request: Request = load(requests, self.next);
            self.next = self.next.wrapping_add(1);
            let (id, count) = (request.id.get(), request.count.get());
            let response = match self.lie {
                Lie::UnknownId => Response::new(id + 100, Status::Ok, count),
                Lie::UnknownStatus => {
                    let mut r = Response::new(id, Status::Ok, count);
                    r.status = 4711.into();
                    r
                }
                Lie::TooManyBlocks => Response::new(id, Status::IoError, count + 1),
                Lie::OkWithFewerBlocks => Response::new(id, Status::Ok, count - 1),
                _ => Response::new(id, Status::Ok, count),
            };
            inject(responses, &response);
            if self.lie == Lie::Twice {
                inject(responses, &response);
                break;
            }
        }
        match self.lie {
            Lie::NeverPops => {}
            Lie::HeadPastTail => requests.header().head.store(tail.wrapping_add(5), Release),
            _ => requests.header().head.store(self.next, Release),
        }
        if self.lie == Lie::TailTooFar {
            let t = responses.header().tail.load(Relaxed);
            responses.header().tail.store(t + 100, Release);
        }
    }
}

const GEOMETRY: Geometry = Geometry {
    capacity_blocks: 64,
    block_size: 512,
    queue_depth: 4,
    max_blocks_per_request: 2,
    read_only: false,
};

/// Reads 16 blocks (8 requests of 2, at most 4 in flight) from a driver
/// that lies as told; returns the error and the client's next error.
fn read_through(lie: Lie) -> (Result<(), BlockError>, Result<(), BlockError>) {
    let layout = ControlLayout::for_depth(4).unwrap();
    let mut control_mem = Mem::new(layout.total_bytes());
    let mut window_mem = Mem::new(8 * 512);
    let control = Control::from_bytes(control_mem.bytes(), layout).unwrap();
    let window = DataWindow::from_bytes(window_mem.bytes()).unwrap();
    let driver = FakeDriver {
        control,
        lie,
        next: 0,
        waits: 0,
    };
    let mut client = BlockClient::new(
        control.requests,
        control.responses,
        GEOMETRY,
        window,
        driver,
    )
    .unwrap();
    let mut buf = vec![0u8; 16 * 512];
    let first = client.read(0, &mut buf);
    let next = client.read(0, &mut buf[..512]);
    (first, next)
}

fn violation(lie: Lie) -> ProtocolViolation {
    let (first, next) = read_through(lie);
    let Err(BlockError::Protocol(v)) = first else {
        panic!("expected a protocol violation, got {first:?}");
    };
    assert_eq!(
        next,
        Err(BlockError::Protocol(v)),
        "the client stays stopped"
    );
    v
}

#[test]
fn an_honest_fake_driver_works() {
    assert_eq!(read_through(Lie::Nothing), (Ok(()), Ok(())));
}

#[test]
fn a_response_for_an_id_not_in_flight() {
    assert_eq!(
        violation(Lie::UnknownId),
        ProtocolViolation::UnexpectedResponse { id: 100 }
    );
}

#[test]
fn a_response_answering_a_request_twice() {
    assert_eq!(
        violation(Lie::Twice),
        ProtocolViolation::UnexpectedResponse { id: 0 }
    );
}

#[test]
fn a_status_that_does_not_exist() {
    assert_eq!(
        violation(Lie::UnknownStatus),
        ProtocolViolation::UnknownStatus {
            id: 0,
            status: 4711
        }
    );
}

#[test]
fn more_blocks_done_than_asked() {
    assert_eq!(
        violation(Lie::TooManyBlocks),
        ProtocolViolation::WrongBlocksDone {
            id: 0,
            requested: 2,
            done: 3
        }
    );
}

#[test]
fn ok_with_blocks_missing() {
    assert_eq!(
        violation(Lie::OkWithFewerBlocks),
        ProtocolViolation::WrongBlocksDone {
            id: 0,
            requested: 2,
            done: 1
        }
    );
}

#[test]
fn a_response_tail_past_what_fits() {
    assert!(matches!(
        violation(Lie::TailTooFar),
        ProtocolViolation::Queue(PeerError::TailOutOfRange { .. })
    ));
}

#[test]
fn answers_for_requests_never_taken() {
    assert_eq!(
        violation(Lie::NeverPops),
        ProtocolViolation::RequestQueueFull
    );
}

#[test]
fn a_request_head_past_the_tail() {
    assert!(matches!(
        violation(Lie::HeadPastTail),
        ProtocolViolation::Queue(PeerError::HeadOutOfRange { .. })
    ));
}

#[test]
fn violations_read_clearly() {
    assert_eq!(
        BlockError::Protocol(ProtocolViolation::UnknownStatus { id: 3, status: 99 }).to_string(),
        "driver broke the block protocol: response for id 3 has unknown status 99"
    );
}

/// Attaches a client to a control region whose information page holds
/// `info`.
fn attach_to(info: &StorageInfo) -> Result<(), SetupError> {
    let layout = ControlLayout::for_depth(4).unwrap();
    let mut control_mem = Mem::new(layout.total_bytes());
    let mut window_mem = Mem::new(4096);
    control_mem.bytes()[..64].copy_from_slice(info.as_bytes());
    let control = Control::from_bytes(control_mem.bytes(), layout).unwrap();
    let window = DataWindow::from_bytes(window_mem.bytes()).unwrap();
    let driver = FakeDriver {
        control,
        lie: Lie::Nothing,
        next: 0,
        waits: 0,
    };
    BlockClient::attach(control, window, driver).map(|_| ())
}

#[test]
fn garbage_information_pages_are_refused() {
    let good = GEOMETRY.to_info();
    assert_eq!(attach_to(&good), Ok(()));
    let with = |f: &dyn Fn(&mut StorageInfo)| {
        let mut info = good;
        f(&mut info);
        attach_to(&info).unwrap_err()
    };
    let info = |e| SetupError::Info(e);
    assert_eq!(
        with(&|i| i.magic = 0x1234.into()),
        info(InfoError::BadMagic { found: 0x1234 })
    );
    assert_eq!(
        with(&|i| i.version = 2.into()),
        info(InfoError::BadVersion { found: 2 })
    );
    assert_eq!(
        with(&|i| i.ready = 0xFFFF_FFFF.into()),
        info(InfoError::BadReadyFlag { found: u32::MAX })
    );
    assert_eq!(
        with(&|i| i.read_only = 7.into()),
        info(InfoError::BadReadOnlyFlag { found: 7 })
    );
    assert_eq!(
        with(&|i| i.block_size = 3.into()),
        info(InfoError::BadBlockSize { found: 3 })
    );
    assert_eq!(
        with(&|i| i.queue_depth = 0.into()),
        info(InfoError::BadQueueDepth { found: 0 })
    );
    assert_eq!(
        with(&|i| i.queue_depth = 8.into()),
        SetupError::QueueSmallerThanDepth {
            capacity: 4,
            depth: 8
        }
    );
    assert_eq!(
        with(&|i| i.max_blocks_per_request = 0.into()),
        info(InfoError::ZeroMaxBlocks)
    );
    // Random bytes with `ready` set are not a page.
    let mut noise = StorageInfo::read_from_bytes(&common::pseudo_random(8, 64)).unwrap();
    noise.ready = 1.into();
    assert!(matches!(
        attach_to(&noise),
        Err(SetupError::Info(InfoError::BadMagic { .. }))
    ));
    assert_eq!(&INFO_MAGIC.to_le_bytes(), b"PBLK");
}

#[test]
fn a_client_waits_until_the_page_is_ready() {
    let layout = ControlLayout::for_depth(4).unwrap();
    let mut control_mem = Mem::new(layout.total_bytes());
    let control = Control::from_bytes(control_mem.bytes(), layout).unwrap();
    assert_eq!(control.info.read(), Err(InfoError::NotReady));
    // A driver that publishes on the client's first wait.
    struct Late<'a>(Control<'a>, u32);
    impl DriverSignal for Late<'_> {
        fn signal_driver(&mut self) {}
        fn wait_for_driver(&mut self) {
            self.1 += 1;
            self.0.info.publish(&GEOMETRY);
        }
    }
    let mut late = Late(control, 0);
    assert_eq!(control.info.wait_ready(&mut late), Ok(GEOMETRY));
    assert_eq!(late.1, 1);
    control.info.withdraw();
    assert_eq!(control.info.read(), Err(InfoError::NotReady));
}
