//! Host data path: bytes through paddock-ring against `memcpy` of the same
//! bytes, in one run.
//!
//! ```text
//! cargo bench -p paddock-ring --bench data_path
//! ```
//!
//! One thread plays both sides in turn, as two components do on paddock's
//! single-core seL4: the sender fills a burst of buffers and publishes,
//! then the receiver drains them, copies the bytes out and gives the
//! buffers back. Two ways of moving bytes:
//! - **descriptor + buffer**: one message per buffer (`alloc`, `append`,
//!   `send`; `recv`, `read`, `give_back`), messages of 64 B, 1,500 B
//!   (an Ethernet frame) and 4 KiB (a page);
//! - **stream**: `ByteWriter::write` / `ByteReader::read` in pieces of the
//!   same sizes, over 4 KiB buffers.
//!
//! Every byte crosses shared memory twice: copied in by the sender and out
//! by the receiver, since neither may keep a pointer into the other's
//! hands. The baselines are what a program without isolation does to get
//! the same bytes from `src` to `dst`: one `copy_from_slice` (`memcpy`)
//! per message, and, to show what the ring adds beyond its two copies,
//! two (`src` into a staging buffer, then into `dst`). The last line per
//! size is `ratio ring/memcpy = X` (time over the one-copy baseline; 1.0
//! means as fast as `memcpy`).
//!
//! Source and destination are 64 KiB, reused (as many whole messages as
//! fit), so the figures are of cache-resident data: the copying itself,
//! not memory bandwidth. Each measurement checks that the bytes arrived
//! unchanged.

#[cfg(feature = "loom")]
fn main() {}

#[cfg(not(feature = "loom"))]
fn main() {
    bench::main();
}

#[cfg(not(feature = "loom"))]
mod bench {
    use std::hint::black_box;
    use std::time::{Duration, Instant};

    use paddock_ring::layout::ChannelLayout;
    use paddock_ring::{ByteReader, ByteWriter, DataRegion, Queue, Receiver, Sender};
    use zerocopy::IntoBytes;

    /// Bytes moved per measurement.
    const TOTAL: usize = 256 << 20;
    const SPAN: usize = 64 << 10;
    const BUF_SIZE: u32 = 4096;
    const BUFFERS: u32 = 32;
    const RUNS: usize = 5;

    #[derive(Clone, Copy, zerocopy::IntoBytes, zerocopy::FromBytes, zerocopy::Immutable)]
    #[repr(C, align(128))]
    struct Line([u8; 128]);

    struct Channel {
        mem: Vec<Line>,
        layout: ChannelLayout,
    }

    impl Channel {
        fn new() -> Self {
            let layout = ChannelLayout::new(BUFFERS, BUF_SIZE, BUFFERS).unwrap();
            let mem = vec![Line([0; 128]); layout.total_bytes().div_ceil(128)];
            Self { mem, layout }
        }

        /// The two ends over the channel's memory.
        fn ends(&mut self) -> (Sender<'_>, Receiver<'_>) {
            let l = self.layout;
            let bytes = self.mem.as_mut_bytes();
            let (active, rest) = bytes.split_at_mut(l.free_offset());
            let (free, data) = rest.split_at_mut(l.data_offset() - l.free_offset());
            let active = Queue::from_bytes(active, l.slots).unwrap();
            let free = Queue::from_bytes(free, l.slots).unwrap();
            let region =
                DataRegion::from_bytes(&mut data[..l.data_bytes()], l.buf_size, l.buffers).unwrap();
            (
                Sender::new(active, free, region).unwrap(),
                Receiver::new(active, free, region).unwrap(),
            )
        }
    }

    fn source() -> Vec<u8> {
        (0..SPAN).map(|i| (i * 31 + 7) as u8).collect()
    }

    /// `TOTAL` bytes as messages of `size` through buffers.
    fn descriptors(size: usize) -> Duration {
        let src = source();
        let mut dst = vec![0u8; SPAN];
        let mut channel = Channel::new();
        let (mut tx, mut rx) = channel.ends();
        let per_span = SPAN / size;
        let start = Instant::now();
        let (mut sent, mut at_src, mut at_dst) = (0, 0, 0);
        while sent < TOTAL {
            while let Some(mut buf) = tx.alloc().unwrap() {
                let piece = &src[at_src * size..(at_src + 1) * size];
                tx.append(&mut buf, piece);
                tx.send(buf).unwrap();
                at_src = (at_src + 1) % per_span;
                sent += size;
            }
            let _ = black_box(tx.publish());
            while let Some(buf) = rx.recv().unwrap() {
                let piece = &mut dst[at_dst * size..(at_dst + 1) * size];
                rx.read(&buf, 0, piece);
                rx.give_back(buf).unwrap();
                at_dst = (at_dst + 1) % per_span;
            }
            let _ = black_box(rx.publish());
            black_box(&mut dst);
        }
        let elapsed = start.elapsed();
        check(&src, &dst, per_span * size);
        elapsed
    }

    /// `TOTAL` bytes through the byte stream, written and read in pieces
    /// of `size`.
    fn stream(size: usize) -> Duration {
        let src = source();
        let mut dst = vec![0u8; SPAN];
        let mut channel = Channel::new();
        let (tx, rx) = channel.ends();
        let (mut writer, mut reader) = (ByteWriter::new(tx), ByteReader::new(rx));
        let start = Instant::now();
        let (mut moved, mut at_src, mut at_dst) = (0, 0, 0);
        while moved < TOTAL {
            loop {
                let end = (at_src + size).min(SPAN);
                let taken = writer.write(&src[at_src..end]).unwrap();
                at_src = (at_src + taken) % SPAN;
                moved += taken;
                if taken < end - at_src || moved >= TOTAL {
                    break;
                }
            }
            let _ = black_box(writer.flush().unwrap());
            loop {
                let end = (at_dst + size).min(SPAN);
                let n = reader.read(&mut dst[at_dst..end]).unwrap();
                at_dst = (at_dst + n) % SPAN;
                if n == 0 {
                    break;
                }
            }
            let _ = black_box(reader.publish());
            black_box(&mut dst);
        }
        let elapsed = start.elapsed();
        check(&src, &dst, SPAN);
        elapsed
    }

    /// `TOTAL` bytes copied `copies` times per message of `size`.
    fn memcpy(size: usize, copies: usize) -> Duration {
        let src = source();
        let mut staging = vec![0u8; SPAN];
        let mut dst = vec![0u8; SPAN];
        let per_span = SPAN / size;
        let start = Instant::now();
        let (mut moved, mut at) = (0, 0);
        while moved < TOTAL {
            let range = at * size..(at + 1) * size;
            if copies == 1 {
                dst[range.clone()].copy_from_slice(black_box(&src[range]));
            } else {
                staging[range.clone()].copy_from_slice(black_box(&src[range.clone()]));
                dst[range.clone()].copy_from_slice(black_box(&staging[range]));
            }
            black_box(&mut dst);
            at = (at + 1) % per_span;
            moved += size;
        }
        let elapsed = start.elapsed();
        check(&src, &dst, per_span * size);
        elapsed
    }

    /// Every byte of the first `len` arrived unchanged.
    fn check(src: &[u8], dst: &[u8], len: usize) {
        assert!(src[..len] == dst[..len], "the bytes arrived changed");
    }

    fn median(mut f: impl FnMut() -> Duration) -> Duration {
        let mut runs: Vec<Duration> = (0..RUNS).map(|_| f()).collect();
        runs.sort();
        runs[RUNS / 2]
    }

    fn rate(d: Duration) -> f64 {
        TOTAL as f64 / d.as_secs_f64() / (1u64 << 30) as f64
    }

    pub fn main() {
        if !std::env::args().any(|a| a == "--bench") {
            // `cargo test --benches`: show the code runs (and checks).
            let _ = (descriptors(1500), stream(1500), memcpy(1500, 2));
            return;
        }
        println!(
            "{} MiB per measurement, {BUFFERS} buffers of {BUF_SIZE} B, one thread, median of {RUNS} runs",
            TOTAL >> 20
        );
        for size in [64, 1500, 4096] {
            let d = median(|| descriptors(size));
            let s = median(|| stream(size));
            let one = median(|| memcpy(size, 1));
            let two = median(|| memcpy(size, 2));
            println!(
                "{size:>5} B: descriptor+buffer {:6.2} GiB/s, stream {:6.2} GiB/s, memcpy {:6.2} GiB/s, two memcpys {:6.2} GiB/s",
                rate(d),
                rate(s),
                rate(one),
                rate(two)
            );
            println!(
                "{size:>5} B: descriptor+buffer / two memcpys = {:.2}, stream / two memcpys = {:.2}",
                d.as_secs_f64() / two.as_secs_f64(),
                s.as_secs_f64() / two.as_secs_f64(),
            );
            println!(
                "{size:>5} B: ratio ring/memcpy = {:.2} (descriptor+buffer), {:.2} (stream)",
                d.as_secs_f64() / one.as_secs_f64(),
                s.as_secs_f64() / one.as_secs_f64(),
            );
        }
    }
}
