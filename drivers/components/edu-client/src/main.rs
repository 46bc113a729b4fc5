//! `edu-client`: owns the DMA data window (mapped here, not in the
//! driver), fills its first half with a pattern, asks the driver for copies
//! of several sizes into the second half, and checks each one byte for
//! byte. A refused copy must leave the destination untouched.
#![no_std]
#![no_main]

#[path = "../../edu-dma/src/shared.rs"]
#[allow(dead_code)]
mod shared;

use paddock_ring::queue::Descriptor;
use paddock_ring::{Consumer, Idle, Producer};
use paddock_runtime::sel4;
use paddock_runtime::{entry, log, witness, Component};
use shared::{active_queue, COPY_DISTANCE, RING_SLOTS};

entry!(main);

/// (offset, length) of each copy: one byte, unaligned, a cache line, a
/// page less the byte the device cannot reach.
const COPIES: [(u32, u32); 4] = [(0, 1), (0x123, 1000), (0x1000, 64), (0x2000, 4095)];

fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(31) ^ (i >> 7)) as u8
}

/// What became of one requested copy.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    Pending,
    Intact,
    Corrupt,
    Refused,
}

fn main(c: Component) -> ! {
    let result = run(&c);
    c.finish(result)
}

fn run(c: &Component) -> Result<(), &'static str> {
    let data = c.region("dma.edu.data").map_err(|e| {
        log!("{e}");
        "no data window"
    })?;
    let half = COPY_DISTANCE as usize;
    if (data.size as usize) < 2 * half {
        return Err("the data window is smaller than the copies need");
    }
    // SAFETY: the root task mapped the data window read-write here, for
    // `data.size` bytes; the device writes it only by DMA, which a byte
    // slice read here cannot make undefined (its values may change, which
    // the checks below are for).
    let window =
        unsafe { core::slice::from_raw_parts_mut(data.vaddr as *mut u8, data.size as usize) };
    for (i, b) in window[..half].iter_mut().enumerate() {
        *b = pattern(i as u64);
    }
    window[half..].fill(0x5a);
    let attach = |name| {
        active_queue(c, name, RING_SLOTS).map_err(|e| {
            log!("{e}");
            "a ring is missing"
        })
    };
    let mut requests = Producer::new(attach("ring.requests.queues")?)
        .map_err(|_| "the request ring is corrupt")?;
    let mut completions = Consumer::new(attach("ring.completions.queues")?)
        .map_err(|_| "the completion ring is corrupt")?;
    let driver = c
        .slot("ring.requests")
        .map_err(|_| "no signal to the driver")?;

    log!("asking for {} DMA copies", COPIES.len());
    for (offset, len) in COPIES {
        let _ = requests.push(Descriptor { offset, len });
    }
    if requests.publish().is_needed() {
        sel4::syscall::signal(driver);
    }
    // A completion names its request by the request's offset. Only a
    // request still pending may be answered, with its own length or 0
    // (refused); anything else is the driver's error, counted and
    // ignored: the copy ranges always come from `COPIES`, never from the
    // driver.
    let mut answers = [Answer::Pending; COPIES.len()];
    let mut malformed = 0u32;
    let mut broken = None;
    while broken.is_none() && answers.contains(&Answer::Pending) {
        loop {
            let d = match completions.pop() {
                Ok(Some(d)) => d,
                Ok(None) => break,
                Err(e) => {
                    log!("the driver broke the completion ring: {e}");
                    broken = Some(e);
                    break;
                }
            };
            let Some(i) = COPIES.iter().position(|c| c.0 == d.offset) else {
                malformed += 1;
                log!(
                    "malformed completion: offset {:#x} names no request",
                    d.offset
                );
                continue;
            };
            let (from, len) = (COPIES[i].0 as usize, COPIES[i].1 as usize);
            if answers[i] != Answer::Pending {
                malformed += 1;
                log!("malformed completion: the copy at {from:#x} was answered already");
                continue;
            }
            let to = from + half;
            answers[i] = if d.len == 0 {
                let untouched = window[to..to + len].iter().all(|&b| b == 0x5a);
                log!(
                    "DMA copy of {len} bytes at {from:#x}: refused, destination {}",
                    if untouched { "untouched" } else { "CHANGED" }
                );
                Answer::Refused
            } else if d.len as usize != len {
                malformed += 1;
                log!(
                    "malformed completion: {} bytes claimed for the copy of {len} at {from:#x}",
                    d.len
                );
                continue;
            } else if window[from..from + len] == window[to..to + len] {
                log!("DMA copy of {len} bytes at {from:#x}: intact");
                Answer::Intact
            } else {
                log!("DMA copy of {len} bytes at {from:#x}: CORRUPT");
                Answer::Corrupt
            };
        }
        completions.release();
        if broken.is_some() || !answers.contains(&Answer::Pending) {
            break;
        }
        match completions.request_signal() {
            Ok(Idle::Sleep) => {
                let _ = c.wait();
            }
            Ok(Idle::MoreWork) => {}
            Err(e) => {
                log!("the driver broke the completion ring: {e}");
                broken = Some(e);
            }
        }
    }
    let count = |a| answers.iter().filter(|&&x| x == a).count();
    // Whatever the driver did, the pattern half must be as written.
    let source_intact = window[..half]
        .iter()
        .enumerate()
        .all(|(i, &b)| b == pattern(i as u64));
    log!(
        "{} of {} DMA copies intact, {} refused, {malformed} malformed completions ignored; source buffer {}",
        count(Answer::Intact),
        COPIES.len(),
        count(Answer::Refused),
        if source_intact { "unchanged" } else { "CHANGED" }
    );
    witness!(
        "ok {} no {} bad {malformed} src {}",
        count(Answer::Intact),
        count(Answer::Refused),
        if source_intact { "ok" } else { "BAD" }
    );
    match broken {
        Some(_) => Err("the driver broke the completion ring"),
        None => Ok(()),
    }
}
