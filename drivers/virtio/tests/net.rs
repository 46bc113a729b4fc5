//! virtio-net against the modelled device: bring-up, frames sent to and
//! received from a modelled wire through a window only the device and the
//! client reach, buffers refused before submission, and a device that
//! lies in the used rings or the configuration.

mod model;

use std::sync::atomic::Ordering;

use model::memory::{fill, read, REQUESTS_IOVA};
use model::net::{NET_FEATURES, NET_MAC};
use model::{Bar, Behaviour, NetRig, Tamper, DATA_IOVA, N};
use paddock_virtio::net::{NetDevice, NetError, Received, MAX_FRAME};
use paddock_virtio::transport::registers::status;
use paddock_virtio::{DeviceError, Features, Iova, Segment, SubmitError, TransportError};

type Net = NetDevice<'static, Bar, N>;

fn segment(offset: u64, len: u32) -> Segment {
    Segment {
        iova: Iova(DATA_IOVA + offset),
        len,
    }
}

/// A frame of `len` bytes that differs from others of other seeds.
fn frame(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed))
        .collect()
}

/// Receive buffer `i`: 2 KiB apart in the client window, from 32 KiB.
fn rx_buffer(i: u64) -> Segment {
    segment(0x8000 + i * 0x800, MAX_FRAME)
}

#[test]
fn bring_up_negotiates_exactly_the_known_features_and_reads_mac_and_link() {
    // Offloads, merged buffers, a control queue and multiqueue offered too:
    // the driver takes none of them.
    let extras = 1 | 1 << 1 | 1 << 15 | 1 << 17 | 1 << 22;
    let rig = NetRig::new(Behaviour {
        device_features: NET_FEATURES | extras,
        ..Behaviour::net()
    });
    let net = rig.net().unwrap();
    let info = *net.info();
    assert_eq!(info.mac, NET_MAC);
    assert_eq!(info.link_up, Some(true));
    assert_eq!(info.mtu, None, "MTU was not offered");
    assert_eq!(info.features, Features(NET_FEATURES));
    let m = rig.model.borrow();
    assert_eq!(m.driver_features, NET_FEATURES);
    assert_eq!(m.config[2..4], [0x41, 0x10], "device id 0x1041");
    assert_ne!(m.status & status::DRIVER_OK, 0);
    assert_eq!(m.msix_config, 0);
    for (q, parts, vector) in [(0, rig.rx, 1), (1, rig.tx, 2)] {
        let regs = m.queues[q];
        assert_eq!((regs.size, regs.enable, regs.msix), (16, 1, vector));
        let iovas = parts.memory.iovas();
        assert_eq!(
            (regs.desc, regs.driver, regs.device),
            (iovas.descriptors.0, iovas.available.0, iovas.used.0),
            "queue {q}"
        );
    }
    assert_eq!((net.rx_room(), net.tx_room()), (8, 8));
    drop(m);
    rig.assert_clean();
}

#[test]
fn the_mtu_is_read_when_offered_and_a_tiny_one_refused() {
    let rig = NetRig::new(Behaviour {
        device_features: NET_FEATURES | 1 << 3,
        ..Behaviour::net()
    });
    rig.model.borrow_mut().net_config[10..12].copy_from_slice(&1500u16.to_le_bytes());
    assert_eq!(rig.net().unwrap().info().mtu, Some(1500));
    rig.assert_clean();

    rig.model.borrow_mut().net_config[10..12].copy_from_slice(&67u16.to_le_bytes());
    assert_eq!(
        rig.net().err(),
        Some(NetError::BadConfig {
            field: "mtu",
            value: 67
        })
    );
    assert_ne!(rig.status() & status::FAILED, 0);
}

#[test]
fn the_link_state_is_reread_after_a_change() {
    let rig = NetRig::new(Behaviour::net());
    let mut net = rig.net().unwrap();
    {
        let mut m = rig.model.borrow_mut();
        m.net_config[6] = 0;
        m.generation += 1;
    }
    assert_eq!(net.refresh_link(), Ok(Some(false)));
    assert_eq!(net.info().link_up, Some(false));
    rig.model.borrow_mut().net_config[6] = 1;
    assert_eq!(net.refresh_link(), Ok(Some(true)));
    rig.assert_clean();

    // Without STATUS the link state is unknown, and stays so.
    let rig = NetRig::new(Behaviour {
        device_features: NET_FEATURES & !(1 << 16),
        ..Behaviour::net()
    });
    let mut net = rig.net().unwrap();
    assert_eq!(net.info().link_up, None);
    assert_eq!(net.refresh_link(), Ok(None));
    rig.assert_clean();
}

#[test]
fn a_sent_frame_reaches_the_wire_byte_identical_after_a_zero_header() {
    let rig = NetRig::new(Behaviour::net());
    let mut net = rig.net().unwrap();
    // A faulty device scribbled on the transmit header: the driver must
    // zero it again (the model flags a non-zero header as a violation).
    let slot = rig.model.borrow().dma.header(REQUESTS_IOVA).unwrap();
    model::net::write_header(slot, [0xa5; 12]);

    let frames = [frame(60, 1), frame(14, 2), frame(1514, 3)];
    let mut offset = 0;
    for (token, f) in (100u32..).zip(&frames) {
        fill(rig.data, DATA_IOVA + offset, f);
        net.send(token, segment(offset, f.len() as u32)).unwrap();
        offset += 0x800;
    }
    assert_eq!(net.tx_room(), 5);
    assert_eq!(rig.model.borrow().wire.len(), 0, "nothing before the kick");
    assert!(net.kick_tx());
    assert_eq!(rig.model.borrow().wire, frames);
    for token in 100..103 {
        assert_eq!(net.sent(), Ok(Some(token)));
    }
    assert_eq!(net.sent(), Ok(None));
    assert_eq!((net.tx_room(), net.tx_in_flight()), (8, 0));
    assert_eq!(rig.model.borrow().notifications, 1);
    rig.assert_clean();
}

#[test]
fn received_frames_land_in_posted_buffers_in_order() {
    let rig = NetRig::new(Behaviour::net());
    let mut net = rig.net().unwrap();
    assert_eq!(net.rx_room(), 8);
    for (token, i) in (10u32..).zip(0..3) {
        net.post_rx(token, rx_buffer(i)).unwrap();
    }
    assert_eq!((net.rx_room(), net.rx_posted()), (5, 0));
    assert!(net.kick_rx());
    assert_eq!(net.rx_posted(), 3);
    assert_eq!(net.received(), Ok(None), "nothing came from the wire yet");

    let frames = [frame(14, 4), frame(100, 5), frame(1514, 6)];
    for f in &frames {
        rig.model.borrow_mut().deliver(f);
    }
    for (token, (i, f)) in (10u32..).zip((0u64..).zip(&frames)) {
        let got = net.received().unwrap().expect("a frame");
        assert_eq!(
            got,
            Received {
                token,
                len: f.len() as u32
            }
        );
        assert_eq!(&read(rig.data, rx_buffer(i).iova.0, f.len()), f);
    }
    assert_eq!(net.received(), Ok(None));
    assert_eq!((net.rx_room(), net.rx_posted()), (8, 0));

    // A frame with no buffer waits in the device until one is posted.
    let late = frame(64, 7);
    rig.model.borrow_mut().deliver(&late);
    assert_eq!(net.received(), Ok(None));
    net.post_rx(42, rx_buffer(5)).unwrap();
    net.kick_rx();
    assert_eq!(net.received(), Ok(Some(Received { token: 42, len: 64 })));
    assert_eq!(read(rig.data, rx_buffer(5).iova.0, 64), late);

    // Eight buffers fill the sixteen descriptors; a ninth does not fit.
    for i in 0..8 {
        net.post_rx(i, rx_buffer(u64::from(i))).unwrap();
    }
    assert_eq!(net.rx_room(), 0);
    assert_eq!(
        net.post_rx(8, rx_buffer(8)),
        Err(NetError::Submit(SubmitError::NoFreeDescriptors {
            needed: 2,
            free: 0
        }))
    );
    rig.assert_clean();
}

#[test]
fn bad_frames_and_small_buffers_are_refused_before_the_device_sees_them() {
    let rig = NetRig::new(Behaviour::net());
    let mut net = rig.net().unwrap();
    for len in [0, 13, 1515, u32::MAX] {
        assert_eq!(
            net.send(1, segment(0, len)),
            Err(NetError::FrameLength { len })
        );
    }
    for len in [0, 1000, 1513] {
        assert_eq!(
            net.post_rx(1, segment(0, len)),
            Err(NetError::ReceiveBufferTooSmall { len })
        );
    }
    assert_eq!(
        NetError::FrameLength { len: 13 }.to_string(),
        "a frame of 13 bytes: Ethernet frames are 14 to 1514 bytes"
    );
    assert_eq!((net.tx_room(), net.rx_room()), (8, 8));
    assert!(!net.kick_tx() && !net.kick_rx(), "nothing was queued");
    {
        let m = rig.model.borrow();
        assert_eq!((m.notifications, m.requests), (0, 0));
        assert!(m.wire.is_empty());
    }
    rig.assert_clean();
}

#[test]
fn a_receive_shorter_than_the_header_is_refused() {
    let rig = NetRig::new(Behaviour {
        tamper: Some(Tamper::Len(11)),
        ..Behaviour::net()
    });
    let mut net = rig.net().unwrap();
    net.post_rx(3, rx_buffer(0)).unwrap();
    net.kick_rx();
    rig.model.borrow_mut().deliver(&frame(60, 8));
    let error = net.received().unwrap_err();
    assert_eq!(error, NetError::ShortReceive { written: 11 });
    assert_eq!(
        error.to_string(),
        "the device completed a receive of 11 bytes, shorter than the 12-byte header"
    );
    rig.assert_clean();
}

/// Posts one receive buffer, lets the device fill it with `tamper`, and
/// returns what the driver made of it after checking it consumed nothing.
fn tampered_rx(tamper: Tamper) -> (NetRig, Net, NetError) {
    let rig = NetRig::new(Behaviour {
        tamper: Some(tamper),
        ..Behaviour::net()
    });
    let mut net = rig.net().unwrap();
    net.post_rx(5, rx_buffer(0)).unwrap();
    net.kick_rx();
    rig.model.borrow_mut().deliver(&frame(100, 9));
    let error = net.received().unwrap_err();
    // Reported again, not consumed: the queue's state did not move.
    assert_eq!(net.received().unwrap_err(), error);
    assert_eq!((net.rx_posted(), net.rx_room()), (1, 7));
    rig.assert_clean();
    (rig, net, error)
}

/// Sends one frame, lets the device complete it with `tamper`, and returns
/// what the driver made of it after checking it consumed nothing.
fn tampered_tx(tamper: Tamper) -> (NetRig, Net, NetError) {
    let rig = NetRig::new(Behaviour {
        tamper: Some(tamper),
        ..Behaviour::net()
    });
    let mut net = rig.net().unwrap();
    fill(rig.data, DATA_IOVA, &frame(60, 10));
    net.send(6, segment(0, 60)).unwrap();
    net.kick_tx();
    let error = net.sent().unwrap_err();
    assert_eq!(net.sent().unwrap_err(), error);
    assert_eq!((net.tx_in_flight(), net.tx_room()), (1, 7));
    rig.assert_clean();
    (rig, net, error)
}

#[test]
fn a_used_index_jumping_ahead_is_refused() {
    let expected = NetError::Device(DeviceError::UsedIdxAhead {
        used_idx: 4,
        last_used: 0,
        in_flight: 1,
    });
    let (rig, mut net, error) = tampered_rx(Tamper::UsedIdxJump(3));
    assert_eq!(error, expected);
    // Once the device tells the truth, the frame is taken.
    rig.rx.used.idx.store(1, Ordering::Release);
    assert_eq!(net.received(), Ok(Some(Received { token: 5, len: 100 })));

    let (rig, mut net, error) = tampered_tx(Tamper::UsedIdxJump(3));
    assert_eq!(error, expected);
    rig.tx.used.idx.store(1, Ordering::Release);
    assert_eq!(net.sent(), Ok(Some(6)));
}

#[test]
fn used_ids_that_are_no_chain_in_flight_are_refused() {
    for tampered in [tampered_rx, tampered_tx] {
        let (_, _, error) = tampered(Tamper::UsedId(16));
        assert_eq!(
            error,
            NetError::Device(DeviceError::UsedIdOutOfRange {
                id: 16,
                queue_size: 16
            })
        );
        // Descriptor 1 is the buffer of the chain headed by 0.
        let (_, _, error) = tampered(Tamper::UsedId(1));
        assert_eq!(
            error,
            NetError::Device(DeviceError::UsedIdNotHead { id: 1 })
        );
        let (_, _, error) = tampered(Tamper::UsedId(4));
        assert_eq!(
            error,
            NetError::Device(DeviceError::UsedIdNotInFlight { id: 4 })
        );
    }
}

#[test]
fn a_used_length_beyond_the_writable_bytes_is_refused() {
    let (_, _, error) = tampered_rx(Tamper::LenExtra(1));
    assert_eq!(
        error,
        NetError::Device(DeviceError::UsedLenTooLarge {
            id: 0,
            len: 12 + MAX_FRAME + 1,
            writable: 12 + MAX_FRAME
        })
    );
    // A transmit chain has nothing the device may write.
    let (_, _, error) = tampered_tx(Tamper::LenExtra(1));
    assert_eq!(
        error,
        NetError::Device(DeviceError::UsedLenTooLarge {
            id: 0,
            len: 1,
            writable: 0
        })
    );
}

#[test]
fn a_chain_completed_twice_is_refused() {
    let rig = NetRig::new(Behaviour {
        tamper: Some(Tamper::CompleteTwice),
        auto_process: false,
        ..Behaviour::net()
    });
    let mut net = rig.net().unwrap();
    fill(rig.data, DATA_IOVA, &frame(60, 11));
    net.send(1, segment(0, 60)).unwrap();
    net.send(2, segment(0, 60)).unwrap();
    net.kick_tx();
    rig.model.borrow_mut().process_queue(1, 1);
    // The first frame completes twice; the second is still in flight, so
    // the index check alone cannot catch it.
    assert_eq!(net.sent(), Ok(Some(1)));
    let error = net.sent().unwrap_err();
    assert_eq!(
        error,
        NetError::Device(DeviceError::UsedIdCompletedTwice { id: 0 })
    );
    assert_eq!(net.sent().unwrap_err(), error);
    assert_eq!(net.tx_in_flight(), 1);
    rig.assert_clean();
}

#[test]
fn a_device_without_a_mac_is_refused_and_left_failed() {
    let offered = NET_FEATURES & !(1 << 5);
    let rig = NetRig::new(Behaviour {
        device_features: offered,
        ..Behaviour::net()
    });
    assert_eq!(
        rig.net().err(),
        Some(NetError::Transport(TransportError::MissingFeatures {
            offered: Features(offered),
            missing: Features(1 << 5),
        }))
    );
    assert_ne!(rig.status() & status::FAILED, 0);
    assert_eq!(rig.status() & status::DRIVER_OK, 0);
    rig.assert_clean();
}

#[test]
fn a_multicast_or_zero_mac_is_refused_as_bad_config() {
    let rig = NetRig::new(Behaviour::net());
    rig.model.borrow_mut().net_config[0] = 0x53;
    assert_eq!(
        rig.net().err(),
        Some(NetError::BadConfig {
            field: "mac",
            value: 0x5354_0012_3456
        })
    );
    assert_ne!(rig.status() & status::FAILED, 0);
    assert_eq!(rig.status() & status::DRIVER_OK, 0);

    rig.model.borrow_mut().net_config[..6].fill(0);
    assert_eq!(
        rig.net().err(),
        Some(NetError::BadConfig {
            field: "mac",
            value: 0
        })
    );
    assert_ne!(rig.status() & status::FAILED, 0);
    rig.assert_clean();
}

#[test]
fn a_device_with_one_queue_is_refused_and_left_failed() {
    let rig = NetRig::new(Behaviour {
        num_queues: Some(1),
        ..Behaviour::net()
    });
    assert_eq!(rig.net().err(), Some(NetError::TooFewQueues { queues: 1 }));
    assert_ne!(rig.status() & status::FAILED, 0);
    let m = rig.model.borrow();
    assert_eq!((m.queues[0].enable, m.queues[1].enable), (0, 0));
}
