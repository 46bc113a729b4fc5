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
use paddock_runtime::{entry, log, Component};
use shared::{active_queue, COPY_DISTANCE, RING_SLOTS};

entry!(main);

/// (offset, length) of each copy: one byte, unaligned, a cache line, a
/// page less the byte the device cannot reach.
const COPIES: [(u32, u32); 4] = [(0, 1), (0x123, 1000), (0x1000, 64), (0x2000, 4095)];

fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(31) ^ (i >> 7)) as u8
}

fn main(c: Component) -> ! {
    let data = c.region("dma.edu.data").unwrap_or_else(|e| panic!("{e}"));
    // SAFETY: the root task mapped the data window read-write here; the
    // device writes it only through the copies this client requests.
    let window =
        unsafe { core::slice::from_raw_parts_mut(data.vaddr as *mut u8, data.size as usize) };
    let half = COPY_DISTANCE as usize;
    for (i, b) in window[..half].iter_mut().enumerate() {
        *b = pattern(i as u64);
    }
    window[half..].fill(0x5a);
    let mut requests = Producer::new(
        active_queue(&c, "ring.requests.queues", RING_SLOTS).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let mut completions = Consumer::new(
        active_queue(&c, "ring.completions.queues", RING_SLOTS).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let driver = c.slot("ring.requests").unwrap_or_else(|e| panic!("{e}"));

    log!("asking for {} DMA copies", COPIES.len());
    for (offset, len) in COPIES {
        let _ = requests.push(Descriptor { offset, len });
    }
    if requests.publish().is_needed() {
        sel4::syscall::signal(driver);
    }
    let (mut intact, mut refused) = (0, 0);
    let mut answered = 0;
    loop {
        while let Some(d) = completions.pop().unwrap_or_else(|e| panic!("{e:?}")) {
            answered += 1;
            let (from, len) = (
                d.offset as usize,
                COPIES.iter().find(|c| c.0 == d.offset).map_or(0, |c| c.1) as usize,
            );
            let to = from + half;
            if d.len == 0 {
                refused += 1;
                let untouched = window[to..to + len].iter().all(|&b| b == 0x5a);
                log!(
                    "DMA copy of {len} bytes at {from:#x}: refused, destination {}",
                    if untouched { "untouched" } else { "CHANGED" }
                );
                continue;
            }
            let same = window[from..from + len] == window[to..to + len];
            log!(
                "DMA copy of {len} bytes at {from:#x}: {}",
                if same { "intact" } else { "CORRUPT" }
            );
            if same {
                intact += 1;
            }
        }
        completions.release();
        if answered == COPIES.len() {
            break;
        }
        if let Ok(Idle::Sleep) = completions.request_signal() {
            let _ = c.wait();
        }
    }
    // Whatever the driver did, the pattern half must be as written.
    let source_intact = window[..half]
        .iter()
        .enumerate()
        .all(|(i, &b)| b == pattern(i as u64));
    log!(
        "{intact} of {} DMA copies intact, {refused} refused; source buffer {}",
        COPIES.len(),
        if source_intact {
            "unchanged"
        } else {
            "CHANGED"
        }
    );
    loop {
        let _ = c.wait();
    }
}
