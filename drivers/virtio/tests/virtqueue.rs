//! The split virtqueue alone, the test writing the used ring as the device
//! would, or as a hostile one would.

mod model;

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use model::memory::{Dma, QueueParts};
use paddock_virtio::queue::layout::flags;
use paddock_virtio::{DeviceError, Iova, Notify, Segment, SubmitError, Used, Virtqueue};

fn queue(size: u16) -> (QueueParts, Virtqueue<'static, 16>) {
    let parts = Dma::default().queue(size);
    let q = Virtqueue::new(parts.memory, size).unwrap();
    (parts, q)
}

fn seg(iova: u64, len: u32) -> Segment {
    Segment {
        iova: Iova(iova),
        len,
    }
}

/// The device completes `head` with `len` bytes written.
fn complete(parts: &QueueParts, head: u32, len: u32) {
    let idx = parts.used.idx.load(Relaxed);
    let entry = &parts.used.ring[usize::from(idx) % parts.used.ring.len()];
    entry.id.store(head, Relaxed);
    entry.len.store(len, Relaxed);
    parts.used.idx.store(idx.wrapping_add(1), Release);
}

#[test]
fn a_chain_is_written_as_the_device_will_read_it() {
    let (parts, mut q) = queue(16);
    // IOVAs nothing in this process maps: the queue must not touch them.
    let head = q
        .push(
            &[&[seg(0xdead_0000_0000, 16)], &[seg(0xdead_0001_0000, 4096)]],
            &[&[seg(0xdead_0002_0000, 1)]],
        )
        .unwrap();
    let d = parts.descriptors;
    let mut chain = Vec::new();
    let mut i = usize::from(head);
    loop {
        let f = d[i].flags.load(Relaxed);
        chain.push((
            d[i].addr.load(Relaxed),
            d[i].len.load(Relaxed),
            f & flags::WRITE != 0,
        ));
        if f & flags::NEXT == 0 {
            break;
        }
        i = usize::from(d[i].next.load(Relaxed));
    }
    assert_eq!(
        chain,
        [
            (0xdead_0000_0000, 16, false),
            (0xdead_0001_0000, 4096, false),
            (0xdead_0002_0000, 1, true)
        ]
    );
    // Not offered until published.
    assert_eq!(parts.avail.idx.load(Acquire), 0);
    assert_eq!(q.publish(), Notify::Yes);
    assert_eq!(parts.avail.idx.load(Acquire), 1);
    assert_eq!(parts.avail.ring[0].load(Relaxed), head);
    assert_eq!(q.publish(), Notify::No, "nothing new");
    assert_eq!((q.free_descriptors(), q.in_flight()), (13, 1));

    complete(&parts, head.into(), 1);
    assert_eq!(q.pop_used(), Ok(Some(Used { head, len: 1 })));
    assert_eq!(q.pop_used(), Ok(None));
    assert_eq!((q.free_descriptors(), q.in_flight()), (16, 0));

    parts.used.flags.store(flags::NO_NOTIFY, Relaxed);
    q.push(&[&[seg(0, 1)]], &[]).unwrap();
    assert_eq!(
        q.publish(),
        Notify::No,
        "the device asked not to be notified"
    );
    q.suppress_interrupts(true);
    assert_eq!(parts.avail.flags.load(Relaxed), flags::NO_INTERRUPT);
}

#[test]
fn a_bad_chain_changes_nothing() {
    let (parts, mut q) = queue(4);
    type Case<'a> = (&'a [&'a [Segment]], &'a [&'a [Segment]], SubmitError);
    let cases: [Case; 5] = [
        (&[], &[&[]], SubmitError::Empty),
        (
            &[&[seg(0, 8), seg(8, 0)]],
            &[],
            SubmitError::ZeroLength { index: 1 },
        ),
        (
            &[&[seg(u64::MAX - 7, 16)]],
            &[],
            SubmitError::SegmentWraps {
                index: 0,
                iova: Iova(u64::MAX - 7),
                len: 16,
            },
        ),
        (
            &[&[seg(0, 1); 5]],
            &[],
            SubmitError::ChainTooLong {
                descriptors: 5,
                queue_size: 4,
            },
        ),
        (
            &[],
            &[&[seg(0, u32::MAX), seg(0, 1)]],
            SubmitError::WritableTooLong { bytes: 1 << 32 },
        ),
    ];
    for (readable, writable, expected) in cases {
        assert_eq!(q.push(readable, writable), Err(expected));
    }
    assert_eq!((q.free_descriptors(), q.next_head()), (4, Some(0)));
    q.push(&[&[seg(0, 1); 3]], &[]).unwrap();
    assert_eq!(
        q.push(&[&[seg(0, 1); 2]], &[]),
        Err(SubmitError::NoFreeDescriptors { needed: 2, free: 1 })
    );
    assert_eq!(q.publish(), Notify::Yes);
    assert_eq!(parts.avail.idx.load(Relaxed), 1);
}

#[test]
fn used_entries_are_checked_before_anything_moves() {
    let (parts, mut q) = queue(8);
    let a = q
        .push(&[&[seg(0, 16)]], &[&[seg(64, 512), seg(1024, 1)]])
        .unwrap();
    let b = q.push(&[&[seg(0, 16)]], &[]).unwrap();
    assert_eq!(q.publish(), Notify::Yes);
    let pushed_only = q.push(&[&[seg(0, 16)]], &[]).unwrap();

    let check = |q: &mut Virtqueue<'static, 16>, id: u32, len: u32, expected: DeviceError| {
        complete(&parts, id, len);
        assert_eq!(q.pop_used(), Err(expected));
        assert_eq!(q.pop_used(), Err(expected), "nothing was consumed");
        assert_eq!(q.in_flight(), 2);
        parts.used.idx.store(0, Release); // take the lie back
    };
    check(
        &mut q,
        8,
        0,
        DeviceError::UsedIdOutOfRange {
            id: 8,
            queue_size: 8,
        },
    );
    check(
        &mut q,
        u32::from(a) + 1,
        0,
        DeviceError::UsedIdNotHead {
            id: u32::from(a) + 1,
        },
    );
    check(&mut q, 7, 0, DeviceError::UsedIdNotInFlight { id: 7 });
    check(
        &mut q,
        pushed_only.into(),
        0,
        DeviceError::UsedIdNotInFlight {
            id: pushed_only.into(),
        },
    );
    check(
        &mut q,
        a.into(),
        514,
        DeviceError::UsedLenTooLarge {
            id: a.into(),
            len: 514,
            writable: 513,
        },
    );
    check(
        &mut q,
        b.into(),
        1,
        DeviceError::UsedLenTooLarge {
            id: b.into(),
            len: 1,
            writable: 0,
        },
    );

    // An index three ahead with two in flight, and one that went backwards.
    parts.used.idx.store(3, Release);
    assert_eq!(
        q.pop_used(),
        Err(DeviceError::UsedIdxAhead {
            used_idx: 3,
            last_used: 0,
            in_flight: 2
        })
    );
    parts.used.idx.store(u16::MAX, Release);
    assert!(matches!(
        q.pop_used(),
        Err(DeviceError::UsedIdxAhead { .. })
    ));
    parts.used.idx.store(0, Release);

    // Honest completions, out of order, then the same head again.
    complete(&parts, b.into(), 0);
    complete(&parts, a.into(), 513);
    assert_eq!(q.pop_used(), Ok(Some(Used { head: b, len: 0 })));
    assert_eq!(q.pop_used(), Ok(Some(Used { head: a, len: 513 })));
    assert_eq!(q.publish(), Notify::Yes); // offers `pushed_only`
    complete(&parts, a.into(), 0);
    assert_eq!(
        q.pop_used(),
        Err(DeviceError::UsedIdCompletedTwice { id: a.into() })
    );
}

#[test]
fn indices_wrap_around() {
    let (parts, mut q) = queue(4);
    // Past 2^16 available and used entries, two chains in flight at a time.
    for round in 0..70_000u32 {
        let x = q.push(&[&[seg(0, 1)]], &[&[seg(8, 8)]]).unwrap();
        let y = q.push(&[&[seg(0, 1), seg(2, 2)]], &[]).unwrap();
        let _ = q.publish();
        complete(&parts, y.into(), 0);
        complete(&parts, x.into(), round % 9);
        assert_eq!(q.pop_used(), Ok(Some(Used { head: y, len: 0 })));
        assert_eq!(
            q.pop_used(),
            Ok(Some(Used {
                head: x,
                len: round % 9
            }))
        );
        assert_eq!(q.pop_used(), Ok(None));
    }
    assert_eq!((q.free_descriptors(), q.in_flight()), (4, 0));
}

/// A tiny deterministic generator: the test needs no seed crate.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
}

#[test]
fn a_device_mixing_lies_with_honest_completions_never_breaks_the_queue() {
    let (parts, mut q) = queue(8);
    let mut rng = Lcg(0x5eed);
    // The honest device's view: chains offered and not completed, and
    // completions written and not yet taken.
    let mut offered: Vec<u16> = Vec::new();
    let mut written = std::collections::VecDeque::new();
    let mut device_idx = 0u16;
    let (mut lies_refused, mut accepted) = (0, 0);
    for _ in 0..20_000 {
        match rng.next() % 4 {
            0 => {
                let n = 1 + rng.next() as usize % 3;
                if let Ok(head) = q.push(&[&vec![seg(0, 4); n]], &[&[seg(64, 64)]]) {
                    let _ = q.publish();
                    offered.push(head);
                }
            }
            1 if !offered.is_empty() => {
                let head = offered.swap_remove(rng.next() as usize % offered.len());
                let len = rng.next() % 65;
                let entry = &parts.used.ring[usize::from(device_idx % 8)];
                entry.id.store(head.into(), Relaxed);
                entry.len.store(len, Relaxed);
                device_idx = device_idx.wrapping_add(1);
                parts.used.idx.store(device_idx, Release);
                written.push_back(Used { head, len });
            }
            2 if written.is_empty() => {
                // A lie where the next completion goes: any id, any length,
                // the index moved by 0 to 2.
                let entry = &parts.used.ring[usize::from(device_idx % 8)];
                entry.id.store(rng.next() % 12, Relaxed);
                entry.len.store(rng.next() % 80, Relaxed);
                let jump = (rng.next() % 3) as u16;
                parts.used.idx.store(device_idx.wrapping_add(jump), Release);
                let in_flight = q.in_flight();
                match q.pop_used() {
                    // By chance a true statement: it must be one.
                    Ok(Some(used)) => {
                        let at = offered.iter().position(|&h| h == used.head);
                        assert!(at.is_some() && used.len <= 64, "accepted {used:?}");
                        offered.swap_remove(at.unwrap_or(0));
                        device_idx = device_idx.wrapping_add(1);
                        accepted += 1;
                    }
                    Ok(None) => assert_eq!(jump, 0),
                    Err(_) => {
                        assert_eq!(q.in_flight(), in_flight, "a refused lie moved the queue");
                        lies_refused += 1;
                    }
                }
                parts.used.idx.store(device_idx, Release);
            }
            _ => assert_eq!(q.pop_used(), Ok(written.pop_front())),
        }
        assert_eq!(usize::from(q.in_flight()), offered.len() + written.len());
    }
    assert!(
        lies_refused > 500 && accepted > 10,
        "{lies_refused} refused, {accepted} accepted"
    );
}
