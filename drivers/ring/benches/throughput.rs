//! Host throughput: paddock-ring against `rtrb`, same item count, two
//! threads (producer, consumer), spinning, in one run. Prints each figure
//! and the throughput ratio ours / rtrb (above 1: ours is faster).
//!
//! ```text
//! cargo bench -p paddock-ring --bench throughput
//! ```
//!
//! Two usage patterns:
//! - per item: every item pushed and published on its own (rtrb: `push`),
//!   and popped and released on its own (rtrb: `pop`);
//! - batched: up to 64 items per `push_slice` and publish, and per
//!   `pop_into` and release (rtrb: `write_chunk_uninit` / `read_chunk`).
//!
//! Each pattern is measured with both publishes: `publish`, which pays the
//! wake-up protocol's full fence every time (what a component does once
//! per batch, before it may wait), and `publish_deferred`, which pays it
//! once, in the `settle` at the end (see the `queue` module, "Deferred
//! wake-up check"). rtrb has no wake-up protocol at all. Every
//! hostile-peer check stays on in both: each index read from the peer is
//! range-checked, and every descriptor is compared with the one sent. The
//! last line of each pattern is `ratio ours/rtrb = X`, with
//! `publish_deferred`.
//!
//! Items are 8 bytes on both sides (a `Descriptor`, a `u64`); queues have
//! 1024 slots, in memory aligned as a queue must be. Each measurement is
//! the median of five runs.

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
    #[repr(C, align(128))]
    struct Line([u8; 128]);

    fn desc(i: u64) -> Descriptor {
        Descriptor {
            offset: i as u32,
            len: (i >> 32) as u32,
        }
    }

    /// How the producer publishes.
    #[derive(Clone, Copy)]
    enum Publish {
        /// `publish`: the full fence of the wake-up check every time.
        Fenced,
        /// `publish_deferred`, and one `settle` at the end.
        Deferred,
    }

    fn queue_memory() -> Vec<Line> {
        vec![Line([0; 128]); queue_bytes(SLOTS).unwrap().div_ceil(128)]
    }

    /// Publishes; 1 if the consumer is to be signalled (counted, as a
    /// component would branch on it).
    fn publish(p: &mut Producer<'_>, how: Publish) -> u64 {
        let notify = match how {
            Publish::Fenced => p.publish(),
            Publish::Deferred => p.publish_deferred(),
        };
        u64::from(notify.is_needed())
    }

    /// Every item pushed and published on its own, popped and released on
    /// its own.
    fn ours_per_item(how: Publish) -> Duration {
        let mut mem = queue_memory();
        let q = Queue::from_bytes(mem.as_mut_bytes(), SLOTS).unwrap();
        let start = Instant::now();
        thread::scope(|s| {
            s.spawn(|| {
                let mut p = Producer::new(q).unwrap();
                let (mut i, mut signals) = (0, 0);
                while i < ITEMS {
                    if p.push(desc(i)).is_ok() {
                        i += 1;
                        signals += publish(&mut p, how);
                    }
                }
                signals += u64::from(p.settle().is_needed());
                black_box(signals);
            });
            let mut c = Consumer::new(q).unwrap();
            let mut next = 0;
            while next < ITEMS {
                match c.pop().unwrap() {
                    Some(d) => {
                        assert_eq!(d, desc(next));
                        next += 1;
                        c.release();
                    }
                    None => std::hint::spin_loop(),
                }
            }
        });
        start.elapsed()
    }

    /// Up to `BATCH` items per `push_slice` and publish, and per
    /// `pop_into` and release.
    fn ours_batched(how: Publish) -> Duration {
        let mut mem = queue_memory();
        let q = Queue::from_bytes(mem.as_mut_bytes(), SLOTS).unwrap();
        let start = Instant::now();
        thread::scope(|s| {
            s.spawn(|| {
                let mut p = Producer::new(q).unwrap();
                let mut batch = [Descriptor::default(); BATCH as usize];
                let (mut i, mut signals) = (0, 0);
                while i < ITEMS {
                    let want = BATCH.min(ITEMS - i) as usize;
                    for (k, d) in batch[..want].iter_mut().enumerate() {
                        *d = desc(i + k as u64);
                    }
                    let n = p.push_slice(&batch[..want]).unwrap();
                    if n > 0 {
                        i += n as u64;
                        signals += publish(&mut p, how);
                    }
                }
                signals += u64::from(p.settle().is_needed());
                black_box(signals);
            });
            let mut c = Consumer::new(q).unwrap();
            let mut batch = [Descriptor::default(); BATCH as usize];
            let mut next = 0;
            while next < ITEMS {
                let n = c.pop_into(&mut batch).unwrap();
                if n == 0 {
                    std::hint::spin_loop();
                    continue;
                }
                for d in &batch[..n] {
                    assert_eq!(*d, desc(next));
                    next += 1;
                }
                c.release();
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
            let _ = (
                ours_per_item(Publish::Fenced),
                ours_batched(Publish::Deferred),
                rtrb_per_item(),
                rtrb_batched(),
            );
            return;
        }
        println!("{ITEMS} items of 8 bytes, {SLOTS} slots, two threads, median of {RUNS} runs");
        for (name, ours, rtrb) in [
            (
                "per item",
                ours_per_item as fn(Publish) -> Duration,
                rtrb_per_item as fn() -> Duration,
            ),
            ("batched (64)", ours_batched, rtrb_batched),
        ] {
            let fenced = median(|| ours(Publish::Fenced));
            let deferred = median(|| ours(Publish::Deferred));
            let rtrb_t = median(rtrb);
            println!(
                "{name:>13}: paddock-ring publish {:7.1} Mitems/s ({:?}), ratio to rtrb {:.2}",
                rate(fenced),
                fenced,
                rtrb_t.as_secs_f64() / fenced.as_secs_f64(),
            );
            println!(
                "{name:>13}: paddock-ring publish_deferred {:7.1} Mitems/s ({:?}), rtrb {:7.1} Mitems/s ({:?}), ratio ours/rtrb = {:.2}",
                rate(deferred),
                deferred,
                rate(rtrb_t),
                rtrb_t,
                rtrb_t.as_secs_f64() / deferred.as_secs_f64(),
            );
        }
    }
}
