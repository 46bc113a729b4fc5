//! The client and the modelled driver on two threads, woken by modelled
//! notifications (a sticky bit, like seL4's), running random reads and
//! writes against a reference copy of the disk. Exercises the queues'
//! orderings and the wake-up protocol under real concurrency; a lost
//! wake-up hangs the test (the harness's timeout reports it).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};

use common::{geometry, pseudo_random, Mem, ModelDriver};
use paddock_blk::{BlockClient, Control, ControlLayout, DataWindow, DriverSignal};

/// A seL4-style notification: a signal sets the bit, a wait takes it, and
/// a signal sent before the wait is not lost.
#[derive(Default)]
struct Notification {
    bit: Mutex<bool>,
    raised: Condvar,
}

impl Notification {
    fn signal(&self) {
        *self.bit.lock().unwrap() = true;
        self.raised.notify_one();
    }

    fn wait(&self) {
        let mut bit = self.bit.lock().unwrap();
        while !*bit {
            bit = self.raised.wait(bit).unwrap();
        }
        *bit = false;
    }
}

struct ThreadSignal<'n> {
    driver: &'n Notification,
    client: &'n Notification,
}

impl DriverSignal for ThreadSignal<'_> {
    fn signal_driver(&mut self) {
        self.driver.signal();
    }

    fn wait_for_driver(&mut self) {
        self.client.wait();
    }
}

const BLOCKS: u64 = 4096;

#[test]
fn random_reads_and_writes_across_threads_match_a_reference_disk() {
    let layout = ControlLayout::for_depth(8).unwrap();
    let mut control_mem = Mem::new(layout.total_bytes());
    let mut window_mem = Mem::new(32 * 512);
    let control = Control::from_bytes(control_mem.bytes(), layout).unwrap();
    let window = DataWindow::from_bytes(window_mem.bytes()).unwrap();
    let (to_driver, to_client) = (Notification::default(), Notification::default());
    let stop = AtomicBool::new(false);
    let initial = pseudo_random(11, (BLOCKS * 512) as usize);
    let mut reference = initial.clone();

    let final_disk = std::thread::scope(|s| {
        let driver = s.spawn(|| {
            let mut driver = ModelDriver::start(control, window, geometry(BLOCKS, 8, 16), initial);
            loop {
                driver.serve();
                if std::mem::take(&mut driver.client_signalled) {
                    to_client.signal();
                }
                if stop.load(Ordering::Acquire) {
                    return driver.disk;
                }
                to_driver.wait();
            }
        });

        let signal = ThreadSignal {
            driver: &to_driver,
            client: &to_client,
        };
        let mut client = BlockClient::attach(control, window, signal).unwrap();
        let choices = pseudo_random(12, 3 * 400);
        for (n, c) in choices.chunks_exact(3).enumerate() {
            let count = u64::from(c[1] % 64) + 1;
            let start = (u64::from(c[2]) * 16 + n as u64) % (BLOCKS - count);
            let range = (start * 512) as usize..((start + count) * 512) as usize;
            if c[0] % 2 == 0 {
                let data = pseudo_random(1000 + n as u64, range.len());
                client.write(start, &data).unwrap();
                reference[range].copy_from_slice(&data);
            } else {
                let mut data = vec![0u8; range.len()];
                client.read(start, &mut data).unwrap();
                assert!(
                    data == reference[range],
                    "read {n}: {count} blocks at {start}"
                );
            }
        }
        client.flush().unwrap();
        stop.store(true, Ordering::Release);
        to_driver.signal();
        driver.join().unwrap()
    });
    assert!(final_disk == reference, "the disk matches the reference");
}
