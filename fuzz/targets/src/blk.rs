//! `blk-queues`: the block driver's end of a client's request and
//! response record queues (`paddock_blk::DriverQueues`), the client
//! hostile. The input interleaves the driver's calls (take the next
//! request, complete one, publish, sleep) with the client's writes:
//! requests of any bytes, and any header word or slot word of either
//! queue. What the driver accepts must be safe to act on.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering::Relaxed;

use paddock_blk::{
    record_queue_bytes, CompleteError, DriverQueues, Geometry, Op, RecordQueue, Request,
    RequestChecker, Response, Status, REQUEST_BYTES,
};
use zerocopy::{FromBytes, IntoBytes};

use crate::input::Input;

/// Slots of each queue: at least the deepest queue depth the target makes.
const SLOTS: u32 = 8;
const GUARD_BYTES: usize = 128;
const GUARD: u8 = 0x5A;

#[derive(Clone, Copy, zerocopy::IntoBytes, zerocopy::FromBytes, zerocopy::Immutable)]
#[repr(C, align(128))]
struct Line([u8; 128]);

/// Input: the device's geometry and the client's window size (8 bytes),
/// then operations: a byte with the top bit clear is a driver call, with
/// it set a client write, each followed by its arguments.
pub fn blk_queues(data: &[u8]) {
    let mut input = Input::new(data);
    let (g, depth, max_blocks, flags) = (input.byte(), input.byte(), input.byte(), input.byte());
    let geometry = Geometry {
        capacity_blocks: u64::from(input.u16()),
        block_size: 512 << (g.unwrap_or(0) % 4),
        queue_depth: 1 + u32::from(depth.unwrap_or(0)) % SLOTS,
        max_blocks_per_request: 1 + u32::from(max_blocks.unwrap_or(0)) % 16,
        read_only: flags.unwrap_or(0) & 1 == 1,
    };
    let window_bytes = u64::from(input.u16()) * 64;
    let Ok(mut checker) = RequestChecker::new(geometry, window_bytes) else {
        return;
    };
    let flush = flags.unwrap_or(0) & 2 == 0;
    if !flush {
        checker = checker.without_flush();
    }

    let requests_bytes = record_queue_bytes::<Request>(SLOTS).expect("a valid queue");
    let responses_bytes = record_queue_bytes::<Response>(SLOTS).expect("a valid queue");
    let requests_at = GUARD_BYTES;
    let responses_at = requests_at + requests_bytes.next_multiple_of(128);
    let end = responses_at + responses_bytes.next_multiple_of(128);
    let mut mem = vec![Line([0; 128]); (end + GUARD_BYTES) / 128];
    let bytes = mem.as_mut_bytes();
    let (low, rest) = bytes.split_at_mut(requests_at);
    let (requests, rest) = rest.split_at_mut(responses_at - requests_at);
    let (responses, high) = rest.split_at_mut(end - responses_at);
    low.fill(GUARD);
    high.fill(GUARD);
    {
        let requests = RecordQueue::<Request>::from_bytes(requests, SLOTS).expect("aligned");
        let responses = RecordQueue::<Response>::from_bytes(responses, SLOTS).expect("aligned");
        let mut driver =
            DriverQueues::new(requests, responses, checker).expect("queues deep enough");
        let mut in_flight = BTreeSet::new();
        while let Some(op) = input.byte() {
            if op & 0x80 != 0 {
                client(op, requests, responses, &mut input);
                continue;
            }
            match op % 4 {
                0 => {
                    let Ok(Some(a)) = driver.next_request() else {
                        continue;
                    };
                    assert!(a.id < geometry.queue_depth, "{a:?}");
                    assert!(in_flight.insert(a.id), "{a:?} accepted while in flight");
                    match a.op {
                        Op::Flush => {
                            assert!(flush && !geometry.read_only, "{a:?}");
                            assert!(a.is_empty());
                        }
                        Op::Read | Op::Write => {
                            assert!(!(a.op == Op::Write && geometry.read_only), "{a:?}");
                            assert!(a.count >= 1 && a.count <= geometry.max_blocks_per_request);
                            assert!(a.block + u64::from(a.count) <= geometry.capacity_blocks);
                            assert!(a.window.end <= window_bytes, "{a:?}");
                            assert_eq!(
                                a.len(),
                                u64::from(a.count) * u64::from(geometry.block_size)
                            );
                        }
                    }
                }
                1 => {
                    // Mostly an id in flight, sometimes any id.
                    let pick = input.byte().unwrap_or(0);
                    let id = match in_flight.iter().nth(usize::from(pick)) {
                        Some(&id) => id,
                        None => u32::from(pick),
                    };
                    match driver.complete(id, Status::Ok, 1) {
                        Ok(()) => assert!(in_flight.remove(&id), "{id} completed, not in flight"),
                        Err(CompleteError::NotInFlight(_)) => assert!(!in_flight.contains(&id)),
                        Err(CompleteError::Peer(_)) => {}
                    }
                    assert!(driver.checker().in_flight().len() as usize == in_flight.len());
                }
                2 => {
                    let _ = driver.publish();
                }
                _ => {
                    let _ = driver.request_signal();
                }
            }
        }
        let _ = driver.refused();
    }
    assert!(
        low.iter().chain(high.iter()).all(|&b| b == GUARD),
        "memory outside the queues changed"
    );
}

/// The client writes shared memory.
fn client(
    op: u8,
    requests: RecordQueue<'_, Request>,
    responses: RecordQueue<'_, Response>,
    input: &mut Input<'_>,
) {
    let header = if op & 1 == 0 {
        requests.header()
    } else {
        responses.header()
    };
    match (op >> 1) & 7 {
        // A request in the next slot, published: the common case.
        0 | 1 => {
            let mut raw = [0u8; REQUEST_BYTES];
            let given = input.bytes(REQUEST_BYTES);
            raw[..given.len()].copy_from_slice(given);
            let mut request = Request::read_from_bytes(&raw).expect("a record's size");
            // Small fields, so that requests are often valid.
            if op >> 1 & 7 == 0 {
                request.op.set(1 + request.op.get() % 3);
                request.id.set(request.id.get() % 8);
                request.block.set(request.block.get() % 64);
                request.count.set(request.count.get() % 8);
                request.offset.set(request.offset.get() % 4096 * 512);
            }
            let tail = requests.header().tail.load(Relaxed);
            let words = requests.slot_words(tail);
            for (word, chunk) in words.iter().zip(request.as_bytes().chunks_exact(4)) {
                word.store(
                    u32::from_ne_bytes(chunk.try_into().expect("4 bytes")),
                    Relaxed,
                );
            }
            requests.header().tail.store(tail.wrapping_add(1), Relaxed);
        }
        2 => header.tail.store(input.u32(), Relaxed),
        3 => header.head.store(input.u32(), Relaxed),
        4 => header.signal_requested.store(input.u32(), Relaxed),
        5 => {
            let delta = u32::from(input.byte().unwrap_or(1));
            let head = responses.header().head.load(Relaxed);
            responses
                .header()
                .head
                .store(head.wrapping_add(delta), Relaxed);
        }
        _ => {
            let (index, word, value) = (input.u32(), input.byte().unwrap_or(0), input.u32());
            let words = if op & 1 == 0 {
                requests.slot_words(index)
            } else {
                responses.slot_words(index)
            };
            if !words.is_empty() {
                words[usize::from(word) % words.len()].store(value, Relaxed);
            }
        }
    }
}
