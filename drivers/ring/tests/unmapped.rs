//! A data region known by shape only: a driver that moves buffers by DMA
//! checks the client's descriptors exactly as a mapping party would, and
//! copies nothing.
#![cfg(not(feature = "loom"))]

mod common;

use std::sync::atomic::Ordering::Relaxed;

use paddock_ring::layout::ChannelLayout;
use paddock_ring::{DataRegion, Descriptor, LayoutError, PeerError, Queue, Receiver, Sender};

const L: ChannelLayout = match ChannelLayout::new(8, 64, 8) {
    Ok(l) => l,
    Err(_) => panic!(),
};

/// A hostile producer publishing `d` as the next descriptor of `q`.
fn inject(q: Queue<'_>, d: Descriptor) {
    let tail = q.header().tail.load(Relaxed);
    let slot = &q.slots()[(tail % q.capacity()) as usize];
    slot.write(d);
    q.header().tail.store(tail.wrapping_add(1), Relaxed);
}

#[test]
fn geometry_is_checked_as_for_a_mapped_region() {
    assert_eq!(
        DataRegion::unmapped(100, 4).err(),
        Some(LayoutError::BadBufferGeometry {
            buf_size: 100,
            buffers: 4
        })
    );
    assert!(DataRegion::unmapped(64, 0).is_err());
    let r = DataRegion::unmapped(2048, 256).unwrap();
    assert!(!r.is_mapped());
    assert_eq!(r.len_bytes(), 512 * 1024);
    assert_eq!((r.buf_size(), r.buffers()), (2048, 256));
}

#[test]
fn descriptors_checked_and_nothing_copied() {
    let r = DataRegion::unmapped(64, 8).unwrap();
    let mut b = r
        .check(Descriptor {
            offset: 128,
            len: 60,
        })
        .unwrap();
    assert_eq!((b.offset(), b.len(), b.capacity()), (128, 60, 64));
    assert!(r.bytes(&b).is_empty());
    assert_eq!(r.append(&mut b, b"abcd"), 0);
    assert_eq!(b.len(), 60, "an unmapped append does not grow the length");
    let mut dst = [0u8; 8];
    assert_eq!(r.read(&b, 0, &mut dst), 0);
    assert_eq!(
        r.check(Descriptor { offset: 65, len: 0 }),
        Err(PeerError::MisalignedOffset { offset: 65 })
    );
    assert_eq!(
        r.check(Descriptor {
            offset: 512,
            len: 0
        }),
        Err(PeerError::OffsetOutOfRange { offset: 512 })
    );
    assert_eq!(
        r.check(Descriptor { offset: 0, len: 65 }),
        Err(PeerError::LengthTooLarge { len: 65 })
    );
    assert_eq!(
        r.check_returned(Descriptor {
            offset: u32::MAX - 63,
            len: 0
        }),
        Err(PeerError::OffsetOutOfRange {
            offset: u32::MAX - 63
        })
    );
}

/// A mapped client and an unmapped driver over the same queues: the client
/// fills buffers (as it would the device's DMA window), the driver sees
/// only offsets and lengths, sets lengths itself for what "the device"
/// wrote, and detects a double return through the queue as a mapped side
/// would.
#[test]
fn unmapped_party_moves_buffers_both_ways() {
    let mut mem = common::Mem::new(L.total_bytes());
    let (active, free, client_region) = common::channel(&mut mem, L);
    let driver_region = DataRegion::unmapped(L.buf_size, L.buffers).unwrap();

    // Driver sends (as for RX): it allocates, "the device" fills, it sets
    // the length and sends.
    let mut driver = Sender::new(active, free, driver_region).unwrap();
    let mut client = Receiver::new(active, free, client_region).unwrap();
    let mut buf = driver.alloc().unwrap().unwrap();
    assert_eq!(driver.append(&mut buf, b"ignored"), 0);
    client_region.append(
        &mut client_region
            .check(Descriptor {
                offset: buf.offset(),
                len: 0,
            })
            .unwrap(),
        b"frame",
    );
    assert!(buf.set_len(5));
    driver.send(buf).unwrap();
    let _ = driver.publish();
    let got = client.recv().unwrap().unwrap();
    let mut out = [0u8; 5];
    assert_eq!(client.read(&got, 0, &mut out), 5);
    assert_eq!(&out, b"frame");
    client.give_back(got).unwrap();
    let _ = client.publish();

    // Every buffer out; then the client returns buffer 0 twice more than
    // it may: the free queue overflows on the client's side, and a
    // hostile write past capacity is caught on the driver's.
    let mut held = Vec::new();
    while let Some(b) = driver.alloc().unwrap() {
        held.push(b);
    }
    assert_eq!(held.len(), L.buffers as usize);
    for _ in 0..L.slots {
        inject(free, Descriptor { offset: 0, len: 0 });
    }
    inject(free, Descriptor { offset: 0, len: 0 });
    assert!(matches!(
        driver.alloc(),
        Err(PeerError::TailOutOfRange { .. })
    ));
}

#[test]
fn receiver_of_unmapped_region_checks_lengths() {
    let mut mem = common::Mem::new(L.total_bytes());
    let (active, free, _) = common::channel(&mut mem, L);
    let mut driver = Receiver::new(active, free, DataRegion::unmapped(64, 8).unwrap()).unwrap();
    inject(
        active,
        Descriptor {
            offset: 64,
            len: 40,
        },
    );
    inject(
        active,
        Descriptor {
            offset: 64,
            len: 4096,
        },
    );
    inject(
        active,
        Descriptor {
            offset: 8 * 64,
            len: 1,
        },
    );
    let b = driver.recv().unwrap().unwrap();
    assert_eq!((b.offset(), b.len()), (64, 40));
    assert_eq!(driver.recv(), Err(PeerError::LengthTooLarge { len: 4096 }));
    assert_eq!(
        driver.recv(),
        Err(PeerError::OffsetOutOfRange { offset: 512 })
    );
    let mut dst = [0u8; 4];
    assert_eq!(driver.read(&b, 0, &mut dst), 0);
    driver.give_back(b).unwrap();
}
