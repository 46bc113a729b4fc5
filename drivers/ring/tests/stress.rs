//! Two threads, millions of items, order and integrity checked, with the
//! real wake-up protocol: each side sleeps on a sticky notification (a
//! `Condvar` standing in for a seL4 notification) when told it may. A lost
//! wake-up shows as a sleep that times out while work is pending.
#![cfg(not(feature = "loom"))]

mod common;

use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use paddock_ring::layout::{queue_bytes, ChannelLayout};
use paddock_ring::{
    ByteReader, ByteWriter, Consumer, Descriptor, Idle, Producer, Receiver, Sender,
};

/// A seL4-style notification: signals set a bit, a wait takes it.
#[derive(Default)]
struct Notification {
    bit: Mutex<bool>,
    cv: Condvar,
}

impl Notification {
    fn signal(&self) {
        *self.bit.lock().unwrap() = true;
        self.cv.notify_one();
    }

    /// Waits for a signal; `false` if none came within a generous bound,
    /// which, with work pending on the other side, is a lost wake-up.
    fn wait(&self) -> bool {
        let bit = self.bit.lock().unwrap();
        let (mut bit, _) = self
            .cv
            .wait_timeout_while(bit, Duration::from_secs(5), |b| !*b)
            .unwrap();
        std::mem::replace(&mut *bit, false)
    }
}

fn item(i: u32) -> Descriptor {
    Descriptor {
        offset: i,
        len: i.wrapping_mul(0x9e37_79b9),
    }
}

#[test]
fn descriptors_in_order_with_sleeping_consumer() {
    const ITEMS: u32 = 4_000_000;
    let mut mem = common::Mem::new(queue_bytes(256).unwrap());
    let q = common::queue(&mut mem, 256);
    let to_consumer = Notification::default();
    let start = Instant::now();
    let (signals, requests, sleeps) = thread::scope(|s| {
        let producer = s.spawn(|| {
            let mut p = Producer::new(q).unwrap();
            let mut signals = 0u32;
            let mut i = 0;
            while i < ITEMS {
                // Batches of varying size, published once each.
                let batch = 1 + (i % 37);
                for _ in 0..batch.min(ITEMS - i) {
                    match p.push(item(i)) {
                        Ok(()) => i += 1,
                        Err(_) => break,
                    }
                }
                if p.publish().is_needed() {
                    signals += 1;
                    to_consumer.signal();
                }
                if p.free_slots().unwrap() == 0 {
                    // Nothing to wait on in a single queue: the consumer
                    // makes room without being asked.
                    std::hint::spin_loop();
                }
            }
            signals
        });
        let mut c = Consumer::new(q).unwrap();
        let mut next = 0;
        let mut sleeps = 0u32;
        let mut requests = 0u32;
        while next < ITEMS {
            while let Some(d) = c.pop().unwrap() {
                assert_eq!(d, item(next), "out of order or corrupted");
                next += 1;
                if next % 64 == 0 {
                    c.release();
                }
            }
            if next == ITEMS {
                break;
            }
            requests += 1;
            if c.request_signal().unwrap() == Idle::Sleep {
                sleeps += 1;
                assert!(to_consumer.wait(), "lost wake-up at item {next}");
            }
        }
        (producer.join().unwrap(), requests, sleeps)
    });
    let took = start.elapsed();
    eprintln!(
        "{ITEMS} descriptors in {took:?}: {requests} signal requests, {sleeps} sleeps, {signals} signals"
    );
    // A signal only answers a request (a request withdrawn after the
    // producer took it still draws one, which is harmless).
    assert!(signals <= requests, "a signal without a request");
    assert!(took < Duration::from_secs(30));
}

#[test]
fn byte_stream_integrity_with_both_sides_sleeping() {
    // Few small buffers, so the writer often runs dry and sleeps on the
    // free queue while the reader sleeps on the active queue.
    const BYTES: usize = 8 << 20;
    let l = ChannelLayout::new(8, 128, 8).unwrap();
    let mut mem = common::Mem::new(l.total_bytes());
    let (active, free, region) = common::channel(&mut mem, l);
    let to_reader = Notification::default();
    let to_writer = Notification::default();
    let byte = |i: usize| (i ^ (i >> 8) ^ (i >> 16)) as u8;
    let start = Instant::now();
    thread::scope(|s| {
        s.spawn(|| {
            let mut w = ByteWriter::new(Sender::new(active, free, region).unwrap());
            let mut chunk = Vec::new();
            let mut sent = 0;
            while sent < BYTES {
                let len = (1 + sent % 1000).min(BYTES - sent);
                chunk.clear();
                chunk.extend((sent..sent + len).map(byte));
                let mut done = 0;
                while done < len {
                    done += w.write(&chunk[done..]).unwrap();
                    if done < len {
                        if w.flush().unwrap().is_needed() {
                            to_reader.signal();
                        }
                        if w.request_signal().unwrap() == Idle::Sleep {
                            assert!(to_writer.wait(), "writer: lost wake-up at {sent}");
                        }
                    }
                }
                sent += len;
                if w.flush().unwrap().is_needed() {
                    to_reader.signal();
                }
            }
        });
        let mut r = ByteReader::new(Receiver::new(active, free, region).unwrap());
        let mut buf = vec![0; 700];
        let mut got = 0;
        while got < BYTES {
            let n = r.read(&mut buf).unwrap();
            for (k, b) in buf[..n].iter().enumerate() {
                assert_eq!(*b, byte(got + k), "corrupted at byte {}", got + k);
            }
            got += n;
            if r.publish().is_needed() {
                to_writer.signal();
            }
            if n == 0 && r.request_signal().unwrap() == Idle::Sleep {
                assert!(to_reader.wait(), "reader: lost wake-up at {got}");
            }
        }
    });
    let took = start.elapsed();
    eprintln!("{BYTES} bytes in {took:?}");
    assert!(took < Duration::from_secs(30));
}
