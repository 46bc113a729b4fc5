//! Host throughput: paddock-ring against `rtrb`, same item count, two
//! threads (producer, consumer), spinning, in one run. Prints each figure
//! and the throughput ratio ours / rtrb (above 1: ours is faster).
//!
//! ```text
//! cargo bench -p paddock-ring
//! ```
//!
//! Two usage patterns:
//! - per item: every item published on its own (ours: `push` + `publish`,
//!   which includes the full fence of the wake-up check; rtrb: `push`);
//! - batched: up to 64 items per publish (ours: `push`... `publish`;
//!   rtrb: `write_chunk_uninit` / `read_chunk`).
//!
//! rtrb has no wake-up protocol; ours pays a full fence (`mfence`) per
//! publish for it, which dominates the per-item pattern. Components publish
//! once per batch (per interrupt or notification), so the batched figure is
//! the one that matters for them.
//!
//! Items are 8 bytes on both sides (a `Descriptor`, a `u64`); queues have
//! 1024 slots. Each measurement is the median of five runs.

// Under the `loom` feature the queue atomics are loom's and only work
// inside a loom model: there is nothing to measure.
#[cfg(feature = "loom")]
fn main() {}

#[cfg(not(feature = "loom"))]
fn main() {
    bench::main();
}

#[cfg(not(feature = "loom"))]
mod bench {
    use std::hint::black_box;
    use std::thread;
    use std::time::{Duration, Instant};

    use paddock_ring::layout::queue_bytes;
    use paddock_ring::{Consumer, Descriptor, Producer, Queue};
    use zerocopy::IntoBytes;

    const ITEMS: u64 = 10_000_000;
    const SLOTS: u32 = 1024;
    const BATCH: u64 = 64;
    const RUNS: usize = 5;

    #[derive(Clone, Copy, zerocopy::IntoBytes, zerocopy::FromBytes, zerocopy::Immutable)]
    #[repr(C, align(64))]
    struct Line([u8; 64]);

    fn desc(i: u64) -> Descriptor {
        Descriptor {
            offset: i as u32,
            len: (i >> 32) as u32,
        }
    }

    fn ours(batch: u64) -> Duration {
        let mut mem = vec![Line([0; 64]); queue_bytes(SLOTS).unwrap().div_ceil(64)];
        let q = Queue::from_bytes(mem.as_mut_bytes(), SLOTS).unwrap();
        let start = Instant::now();
        thread::scope(|s| {
            s.spawn(|| {
                let mut p = Producer::new(q).unwrap();
                let mut i = 0;
                while i < ITEMS {
                    let end = (i + batch).min(ITEMS);
                    while i < end {
                        match p.push(desc(i)) {
                            Ok(()) => i += 1,
                            Err(_) => break,
                        }
                    }
                    let _ = black_box(p.publish());
                }
            });
            let mut c = Consumer::new(q).unwrap();
            let mut next = 0;
            let mut since_release = 0;
            while next < ITEMS {
                match c.pop().unwrap() {
                    Some(d) => {
                        assert_eq!(d, desc(next));
                        next += 1;
                        since_release += 1;
                        if since_release == batch {
                            c.release();
                            since_release = 0;
                        }
                    }
                    None => {
                        c.release();
                        since_release = 0;
                        std::hint::spin_loop();
                    }
                }
            }
        });
        start.elapsed()
    }

    fn rtrb_per_item() -> Duration {
        let (mut p, mut c) = rtrb::RingBuffer::<u64>::new(SLOTS as usize);
        let start = Instant::now();
        thread::scope(|s| {
            s.spawn(move || {
                let mut i = 0;
                while i < ITEMS {
                    if p.push(i).is_ok() {
                        i += 1;
                    }
                }
            });
            let mut next = 0;
            while next < ITEMS {
                match c.pop() {
                    Ok(v) => {
                        assert_eq!(v, next);
                        next += 1;
                    }
                    Err(_) => std::hint::spin_loop(),
                }
            }
        });
        start.elapsed()
    }

    fn rtrb_batched() -> Duration {
        let (mut p, mut c) = rtrb::RingBuffer::<u64>::new(SLOTS as usize);
        let start = Instant::now();
        thread::scope(|s| {
            s.spawn(move || {
                let mut i = 0;
                while i < ITEMS {
                    let want = BATCH.min(ITEMS - i) as usize;
                    let n = want.min(p.slots());
                    if n == 0 {
                        continue;
                    }
                    let chunk = p.write_chunk_uninit(n).unwrap();
                    let written = chunk.fill_from_iter(i..);
                    i += written as u64;
                }
            });
            let mut next = 0;
            while next < ITEMS {
                let n = c.slots().min(BATCH as usize);
                if n == 0 {
                    std::hint::spin_loop();
                    continue;
                }
                let chunk = c.read_chunk(n).unwrap();
                for v in chunk {
                    assert_eq!(v, next);
                    next += 1;
                }
            }
        });
        start.elapsed()
    }

    fn median(mut f: impl FnMut() -> Duration) -> Duration {
        let mut runs: Vec<Duration> = (0..RUNS).map(|_| f()).collect();
        runs.sort();
        runs[RUNS / 2]
    }

    fn rate(d: Duration) -> f64 {
        ITEMS as f64 / d.as_secs_f64() / 1e6
    }

    pub fn main() {
        // `cargo bench` passes `--bench`; `cargo test --benches` does not, and
        // then one quick pass is enough to show the code runs.
        if !std::env::args().any(|a| a == "--bench") {
            let _ = (ours(1), ours(BATCH), rtrb_per_item(), rtrb_batched());
            return;
        }
        println!("{ITEMS} items of 8 bytes, {SLOTS} slots, two threads, median of {RUNS} runs");
        for (name, ours_t, rtrb_t) in [
            ("per item", median(|| ours(1)), median(rtrb_per_item)),
            ("batched (64)", median(|| ours(BATCH)), median(rtrb_batched)),
        ] {
            println!(
                "{name:>13}: paddock-ring {:7.1} Mitems/s ({:?}), rtrb {:7.1} Mitems/s ({:?}), ratio ours/rtrb = {:.2}",
                rate(ours_t),
                ours_t,
                rate(rtrb_t),
                rtrb_t,
                rtrb_t.as_secs_f64() / ours_t.as_secs_f64(),
            );
        }
    }
}
