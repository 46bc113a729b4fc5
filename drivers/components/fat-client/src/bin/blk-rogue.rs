//! `blk-rogue`: a hostile client of the virtio-blk driver. Through its own
//! queues it sends one request of each malformed kind the block protocol
//! refuses (an id past the queue depth, data outside its window, zero
//! blocks, more blocks than a request may move, blocks past the disk, an
//! unknown operation, an id already in flight), then one honest read, and
//! prints the status each got. Last it writes an impossible tail into its
//! request queue, which the driver must answer by dropping it.
//!
//! What it prints is its own claim; the verdict comes from the driver's
//! and the honest client's lines and from the disk the host reads back
//! (tests/storage.rs).
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use core::sync::atomic::Ordering;
use paddock_blk::{
    DriverSignal, Idle, Notify, RecordConsumer, RecordProducer, Request, Response, Status,
};
use paddock_fat_client::attach;
use paddock_runtime::{entry, log, Component};

entry!(main);

fn main(c: Component) -> ! {
    c.finish(run(&c))
}

fn run(c: &Component) -> Result<(), &'static str> {
    let attached = attach(c).map_err(|e| {
        log!("attaching to the block driver: {e}");
        "could not attach"
    })?;
    let g = attached.geometry;
    let window = attached.window.len() as u64;
    let mut signal = attached.channel;
    let request_queue = attached.control.requests;
    let header = request_queue.header();
    let mut requests = RecordProducer::new(request_queue).map_err(|_| "request queue")?;
    let mut responses = RecordConsumer::<Response>::new(attached.control.responses)
        .map_err(|_| "response queue")?;

    let mut bad_op = Request::read(6, 0, 1, 0);
    bad_op.op = 99u32.into();
    let cases: [(&str, Request); 9] = [
        (
            "an id past the queue depth",
            Request::read(g.queue_depth + 5, 0, 1, 0),
        ),
        ("data outside its window", Request::read(1, 0, 1, window)),
        ("zero blocks", Request::read(2, 0, 0, 0)),
        (
            "more blocks than a request may move",
            Request::read(3, 0, g.max_blocks_per_request + 1, 0),
        ),
        (
            "blocks past the disk",
            Request::read(4, g.capacity_blocks, 1, 0),
        ),
        ("an unknown operation", bad_op),
        // An honest read, and the same id again while it is in flight.
        ("an honest read", Request::read(7, 0, 8, 0)),
        ("an id already in flight", Request::read(7, 8, 8, 4096)),
        (
            "a write far past the disk",
            Request::write(8, u64::MAX - 2, 4, 0),
        ),
    ];
    for (_, request) in &cases {
        requests
            .push(request)
            .map_err(|_| "the request queue is full")?;
    }
    if requests.publish() == Notify::Yes {
        signal.signal_driver();
    }
    let mut answered = 0;
    while answered < cases.len() {
        match responses.pop() {
            Ok(Some(r)) => {
                answered += 1;
                let status = Status::from_wire(r.status.get());
                let case = cases
                    .iter()
                    .find(|(_, q)| q.id == r.id)
                    .map_or("?", |(what, _)| *what);
                log!("request id {} ({case}): {status:?}", r.id.get());
            }
            Ok(None) => {
                responses.release();
                // Ask for a signal on the driver's next answer; sleep only
                // if none arrived meanwhile.
                match responses.request_signal() {
                    Ok(Idle::Sleep) => signal.wait_for_driver(),
                    Ok(Idle::MoreWork) => {}
                    Err(_) => return Err("the driver broke the response queue"),
                }
            }
            Err(_) => return Err("the driver broke the response queue"),
        }
    }
    responses.release();

    // An impossible tail: far more requests than the queue holds.
    let tail = header.tail.load(Ordering::Relaxed);
    header
        .tail
        .store(tail.wrapping_add(1000), Ordering::Release);
    signal.signal_driver();
    log!("wrote an impossible request tail");
    Ok(())
}
