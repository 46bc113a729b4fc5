//! Exhaustive interleavings of the wake-up protocol under loom's model of
//! the C11 memory model, on the crate's own code (the `loom` feature swaps
//! its atomics for loom's):
//!
//! ```text
//! cargo test -p paddock-ring --features loom --test loom --release
//! ```
//!
//! The property: a consumer that goes to sleep while descriptors are still
//! unconsumed always has a notification pending (a seL4 notification is a
//! sticky bit, so a pending signal ends the wait at once). A deliberately
//! broken consumer, one that sets its request without the re-check or
//! without the full fence before it, must make the model fail: that shows
//! the check can fail at all. The same property holds for a producer that
//! publishes with `publish_deferred` and calls `settle` before it stops,
//! and fails for one that never settles.
#![cfg(feature = "loom")]

use loom::sync::atomic::AtomicBool;
use loom::sync::Arc;
use paddock_ring::layout::{QueueHeader, Slot};
use paddock_ring::{Consumer, Descriptor, Idle, Producer, Queue};
use std::sync::atomic::Ordering::SeqCst;

struct Shared {
    header: QueueHeader,
    slots: [Slot; 2],
}

impl Shared {
    fn queue(&self) -> Queue<'_> {
        Queue::new(&self.header, &self.slots).unwrap()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Variant {
    /// `Consumer::request_signal` as shipped.
    Correct,
    /// Look at the queue, then set the request without re-checking.
    NoRecheck,
    /// Set the request and re-check, without the full fence between.
    NoFence,
}

#[derive(Clone, Copy, PartialEq)]
enum Publish {
    /// `Producer::publish`, fenced every time.
    Fenced,
    /// `Producer::publish_deferred` per item, then `settle` once.
    DeferredThenSettle,
    /// `Producer::publish_deferred` per item and no settle: wrong.
    DeferredNeverSettled,
}

/// A producer publishing `items` descriptors one by one, signalling when
/// told to; a consumer draining them and sleeping when told it may.
fn wake_up_model(items: u32, variant: Variant) {
    wake_up_model_with(items, variant, Publish::Fenced);
}

fn wake_up_model_with(items: u32, variant: Variant, publish: Publish) {
    loom::model(move || {
        let shared = Arc::new(Shared {
            header: QueueHeader::new(),
            slots: [Slot::new(), Slot::new()],
        });
        // The consumer's notification: a sticky bit. Signalling sets it with
        // a read-modify-write, not a plain store: loom mis-models a plain
        // store racing the consumer's compare-exchange below, and then
        // reports a joined thread's store as unseen after the join (the
        // family of tokio-rs/loom#254).
        let notification = Arc::new(AtomicBool::new(false));

        let producer = {
            let shared = shared.clone();
            let notification = notification.clone();
            loom::thread::spawn(move || {
                let mut p = Producer::new(shared.queue()).unwrap();
                for i in 0..items {
                    p.push(Descriptor { offset: i, len: 0 }).unwrap();
                    let notify = match publish {
                        Publish::Fenced => p.publish(),
                        _ => p.publish_deferred(),
                    };
                    if notify.is_needed() {
                        notification.fetch_or(true, SeqCst);
                    }
                }
                if publish == Publish::DeferredThenSettle && p.settle().is_needed() {
                    notification.fetch_or(true, SeqCst);
                }
            })
        };

        let mut c = Consumer::new(shared.queue()).unwrap();
        let mut got = 0;
        let asleep = loop {
            while let Some(d) = c.pop().unwrap() {
                assert_eq!(d.offset, got, "descriptors out of order");
                got += 1;
            }
            if got == items {
                break false;
            }
            let may_sleep = match variant {
                Variant::Correct => c.request_signal().unwrap() == Idle::Sleep,
                Variant::NoFence => c.request_signal_without_fence().unwrap() == Idle::Sleep,
                Variant::NoRecheck => {
                    let empty = c.available().unwrap() == 0;
                    c.request_signal_without_recheck();
                    empty
                }
            };
            if !may_sleep {
                continue;
            }
            // seL4_Wait: returns at once if a signal is pending (taking
            // it). A compare-exchange, not a swap: loom mis-models a swap
            // racing a plain store (tokio-rs/loom#254).
            if notification
                .compare_exchange(true, false, SeqCst, SeqCst)
                .is_ok()
            {
                continue;
            }
            break true;
        };

        producer.join().unwrap();
        if asleep {
            assert!(
                notification.load(SeqCst),
                "lost wake-up: consumer asleep with {} descriptor(s) unconsumed and no signal pending",
                items - got
            );
        }
    });
}

#[test]
fn no_lost_wake_up_one_item() {
    wake_up_model(1, Variant::Correct);
}

#[test]
fn no_lost_wake_up_two_items() {
    wake_up_model(2, Variant::Correct);
}

#[test]
#[should_panic(expected = "lost wake-up")]
fn dropping_the_recheck_loses_a_wake_up() {
    wake_up_model(1, Variant::NoRecheck);
}

#[test]
#[should_panic(expected = "lost wake-up")]
fn dropping_the_fence_loses_a_wake_up() {
    wake_up_model(1, Variant::NoFence);
}

#[test]
fn deferred_publishes_then_a_settle_lose_no_wake_up() {
    wake_up_model_with(1, Variant::Correct, Publish::DeferredThenSettle);
    wake_up_model_with(2, Variant::Correct, Publish::DeferredThenSettle);
}

#[test]
#[should_panic(expected = "lost wake-up")]
fn deferred_publishes_without_a_settle_lose_a_wake_up() {
    wake_up_model_with(1, Variant::Correct, Publish::DeferredNeverSettled);
}
