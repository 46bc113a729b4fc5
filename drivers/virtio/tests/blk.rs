//! virtio-blk against the modelled device: data round trips through a
//! window only the device and the client reach, flush, GET_ID, device
//! errors, requests refused before submission, and a device that lies in
//! the used ring.

mod model;

use model::memory::{fill, read};
use model::{Behaviour, Rig, Tamper, DATA_IOVA};
use paddock_virtio::blk::{BlkError, Completion, RequestError, RequestKind};
use paddock_virtio::{DeviceError, Iova, Segment};

fn segment(offset: u64, len: u32) -> Segment {
    Segment {
        iova: Iova(DATA_IOVA + offset),
        len,
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Offers what is queued and takes the one completion it brings.
fn finish(
    blk: &mut paddock_virtio::blk::BlkDevice<'static, model::Bar, { model::N }>,
) -> Completion {
    blk.kick();
    let done = blk.complete().unwrap().expect("a completion");
    assert_eq!(blk.complete().unwrap(), None);
    done
}

#[test]
fn writes_and_reads_round_trip_through_the_client_window() {
    let rig = Rig::new(Behaviour::default());
    let mut blk = rig.blk().unwrap();
    // Three segments, 4 sectors, from sector 10.
    let data = pattern(2048, 7);
    fill(rig.data, DATA_IOVA, &data[..512]);
    fill(rig.data, DATA_IOVA + 0x1000, &data[512..1536]);
    fill(rig.data, DATA_IOVA + 0x3000, &data[1536..]);
    let parts = [segment(0, 512), segment(0x1000, 1024), segment(0x3000, 512)];
    let id = blk.write(10, &parts).unwrap();
    let done = finish(&mut blk);
    assert_eq!(
        (done.id, done.kind, done.result),
        (id, RequestKind::Write, Ok(()))
    );
    assert_eq!(
        done.written, 1,
        "a write lets the device write the status byte only"
    );
    assert_eq!(&rig.model.borrow().disk[10 * 512..14 * 512], &data[..]);

    // Read the same sectors back into other client memory, in two pieces.
    blk.read(10, &[segment(0x8000, 1536), segment(0x9000, 512)])
        .unwrap();
    let done = finish(&mut blk);
    assert_eq!(
        (done.kind, done.result, done.written),
        (RequestKind::Read, Ok(()), 2049)
    );
    let mut back = read(rig.data, DATA_IOVA + 0x8000, 1536);
    back.extend(read(rig.data, DATA_IOVA + 0x9000, 512));
    assert_eq!(back, data);
    assert_eq!(blk.in_flight(), 0);
    rig.assert_clean();
}

#[test]
fn many_requests_in_flight_complete_in_any_order() {
    let rig = Rig::new(Behaviour {
        auto_process: false,
        ..Behaviour::default()
    });
    let mut blk = rig.blk().unwrap();
    // Five 3-descriptor requests fill 15 of the 16 descriptors.
    let mut ids = Vec::new();
    for i in 0..5u64 {
        fill(rig.data, DATA_IOVA + i * 512, &[i as u8 + 1; 512]);
        ids.push(blk.write(i, &[segment(i * 512, 512)]).unwrap());
    }
    assert!(matches!(
        blk.flush(),
        Err(BlkError::Submit(
            paddock_virtio::SubmitError::NoFreeDescriptors { needed: 2, free: 1 }
        ))
    ));
    assert!(blk.kick());
    assert_eq!(blk.in_flight(), 5);
    rig.model.borrow_mut().process();
    let mut done = Vec::new();
    while let Some(c) = blk.complete().unwrap() {
        assert_eq!(c.result, Ok(()));
        done.push(c.id);
    }
    assert_eq!(done, ids);
    for i in 0..5usize {
        assert!(rig.model.borrow().disk[i * 512..(i + 1) * 512]
            .iter()
            .all(|&b| b == i as u8 + 1));
    }
    // The queue's indices and free list keep working across many rounds.
    for round in 0..200u64 {
        blk.read(round % 100, &[segment(0, 512)]).unwrap();
        blk.flush().unwrap();
        blk.kick();
        rig.model.borrow_mut().process();
        assert!(blk.complete().unwrap().unwrap().result.is_ok());
        assert!(blk.complete().unwrap().unwrap().result.is_ok());
    }
    rig.assert_clean();
}

#[test]
fn flush_and_get_id() {
    let rig = Rig::new(Behaviour::default());
    let mut blk = rig.blk().unwrap();
    blk.flush().unwrap();
    let done = finish(&mut blk);
    assert_eq!((done.kind, done.result), (RequestKind::Flush, Ok(())));
    assert_eq!(rig.model.borrow().flushes, 1);

    blk.get_id(segment(0x100, 20)).unwrap();
    let done = finish(&mut blk);
    assert_eq!(
        (done.kind, done.result, done.written),
        (RequestKind::GetId, Ok(()), 21)
    );
    assert_eq!(read(rig.data, DATA_IOVA + 0x100, 18), b"paddock-model-disk");
    assert_eq!(
        blk.get_id(segment(0, 16)),
        Err(BlkError::IdBufferTooShort { len: 16 })
    );
    rig.assert_clean();
}

#[test]
fn device_errors_reach_the_caller() {
    let rig = Rig::new(Behaviour {
        io_error_sector: Some(20),
        get_id: false,
        ..Behaviour::default()
    });
    let mut blk = rig.blk().unwrap();
    blk.read(19, &[segment(0, 1024)]).unwrap();
    let done = finish(&mut blk);
    assert_eq!(done.result, Err(RequestError::Io));
    assert_eq!(
        done.result.unwrap_err().to_string(),
        "the device reports an I/O error"
    );
    blk.read(21, &[segment(0, 512)]).unwrap();
    assert_eq!(finish(&mut blk).result, Ok(()));
    blk.get_id(segment(0, 20)).unwrap();
    assert_eq!(finish(&mut blk).result, Err(RequestError::Unsupported));

    rig.model.borrow_mut().b.status_override = Some(0x7f);
    blk.flush().unwrap();
    assert_eq!(finish(&mut blk).result, Err(RequestError::BadStatus(0x7f)));

    // A device that never writes the status byte: the driver's preset.
    {
        let mut m = rig.model.borrow_mut();
        m.b.status_override = None;
        m.b.skip_status = true;
    }
    blk.flush().unwrap();
    let result = finish(&mut blk).result;
    assert_eq!(result, Err(RequestError::BadStatus(0xff)));
    assert_eq!(
        result.unwrap_err().to_string(),
        "the device completed the request without writing its status"
    );
    rig.assert_clean();
}

#[test]
fn bad_requests_are_refused_before_submission() {
    let rig = Rig::new(Behaviour::default());
    let mut blk = rig.blk().unwrap();
    let capacity = model::SECTORS;
    let cases: [(Result<_, _>, BlkError); 6] = [
        (
            blk.read(capacity - 1, &[segment(0, 1024)]),
            BlkError::OutOfRange {
                sector: capacity - 1,
                sectors: 2,
                capacity,
            },
        ),
        (
            blk.write(u64::MAX, &[segment(0, 512)]),
            BlkError::OutOfRange {
                sector: u64::MAX,
                sectors: 1,
                capacity,
            },
        ),
        (
            blk.read(0, &[segment(0, 100)]),
            BlkError::NotSectorMultiple { bytes: 100 },
        ),
        (blk.read(0, &[]), BlkError::NoData),
        (
            blk.read(0, &[segment(0, 512); 9]),
            BlkError::TooManySegments {
                segments: 9,
                seg_max: 8,
            },
        ),
        (
            blk.read(0, &[segment(0, 512), segment(0, 0)]),
            BlkError::Submit(paddock_virtio::SubmitError::ZeroLength { index: 2 }),
        ),
    ];
    for (got, expected) in cases {
        assert_eq!(got, Err(expected));
    }
    assert_eq!(
        BlkError::OutOfRange {
            sector: 127,
            sectors: 2,
            capacity: 128
        }
        .to_string(),
        "2 sectors from sector 127 reach past the disk's 128"
    );
    assert!(!blk.kick(), "nothing was queued");
    assert_eq!(rig.model.borrow().requests, 0);
    // The last sector is still reachable.
    blk.read(capacity - 1, &[segment(0, 512)]).unwrap();
    assert_eq!(finish(&mut blk).result, Ok(()));
    rig.assert_clean();
}

#[test]
fn read_only_and_flushless_devices() {
    let rig = Rig::new(Behaviour {
        device_features: model::device::BLK_FEATURES & !(1 << 9) | 1 << 5,
        ..Behaviour::default()
    });
    let mut blk = rig.blk().unwrap();
    assert!(blk.info().read_only && !blk.info().flush);
    assert_eq!(blk.write(0, &[segment(0, 512)]), Err(BlkError::ReadOnly));
    assert_eq!(blk.flush(), Err(BlkError::FlushNotSupported));
    blk.read(0, &[segment(0, 512)]).unwrap();
    assert_eq!(finish(&mut blk).result, Ok(()));
    rig.assert_clean();
}

#[test]
fn the_capacity_is_reread_after_a_change() {
    let rig = Rig::new(Behaviour::default());
    let mut blk = rig.blk().unwrap();
    assert!(blk.read(model::SECTORS, &[segment(0, 512)]).is_err());
    {
        let mut m = rig.model.borrow_mut();
        m.capacity = 2 * model::SECTORS;
        let bytes = 2 * m.disk.len();
        m.disk.resize(bytes, 0);
        m.generation += 1;
    }
    assert_eq!(blk.refresh_capacity(), Ok(2 * model::SECTORS));
    blk.read(model::SECTORS, &[segment(0, 512)]).unwrap();
    assert_eq!(finish(&mut blk).result, Ok(()));
}

#[test]
fn notifications_follow_the_devices_request() {
    let rig = Rig::new(Behaviour {
        no_notify: true,
        auto_process: false,
        ..Behaviour::default()
    });
    let mut blk = rig.blk().unwrap();
    blk.flush().unwrap();
    assert!(!blk.kick(), "the device asked not to be notified");
    assert_eq!(rig.model.borrow().notifications, 0);
    // A device that polls still gets the request.
    rig.model.borrow_mut().process();
    assert_eq!(blk.complete().unwrap().unwrap().result, Ok(()));
    rig.assert_clean();
}

/// Submits a read, lets the device complete it with `tamper`, and returns
/// what the driver made of it.
fn tampered(
    tamper: Tamper,
) -> (
    Rig,
    paddock_virtio::blk::BlkDevice<'static, model::Bar, { model::N }>,
    BlkError,
) {
    let rig = Rig::new(Behaviour {
        tamper: Some(tamper),
        ..Behaviour::default()
    });
    let mut blk = rig.blk().unwrap();
    blk.read(0, &[segment(0, 512)]).unwrap();
    blk.kick();
    let error = blk.complete().unwrap_err();
    // Reported again, not consumed: the queue's state did not move.
    assert_eq!(blk.complete().unwrap_err(), error);
    assert_eq!(blk.in_flight(), 1);
    rig.assert_clean();
    (rig, blk, error)
}

#[test]
fn a_used_index_jumping_ahead_is_refused() {
    let (rig, mut blk, error) = tampered(Tamper::UsedIdxJump(3));
    assert_eq!(
        error,
        BlkError::Device(DeviceError::UsedIdxAhead {
            used_idx: 4,
            last_used: 0,
            in_flight: 1
        })
    );
    assert_eq!(
        error.to_string(),
        "device's used index 4 is more than the 1 chains in flight past 0"
    );
    // Once the device tells the truth, the request completes.
    rig.queue
        .used
        .idx
        .store(1, std::sync::atomic::Ordering::Release);
    assert_eq!(blk.complete().unwrap().unwrap().result, Ok(()));
}

#[test]
fn used_ids_that_are_no_chain_in_flight_are_refused() {
    let (_, _, error) = tampered(Tamper::UsedId(16));
    assert_eq!(
        error,
        BlkError::Device(DeviceError::UsedIdOutOfRange {
            id: 16,
            queue_size: 16
        })
    );
    let (_, _, error) = tampered(Tamper::UsedId(u32::MAX));
    assert_eq!(
        error,
        BlkError::Device(DeviceError::UsedIdOutOfRange {
            id: u32::MAX,
            queue_size: 16
        })
    );
    // Descriptor 1 is the data segment of the read's chain (head 0).
    let (_, _, error) = tampered(Tamper::UsedId(1));
    assert_eq!(
        error,
        BlkError::Device(DeviceError::UsedIdNotHead { id: 1 })
    );
    // Descriptor 5 was never used.
    let (rig, mut blk, error) = tampered(Tamper::UsedId(5));
    assert_eq!(
        error,
        BlkError::Device(DeviceError::UsedIdNotInFlight { id: 5 })
    );
    assert_eq!(
        error.to_string(),
        "device completed descriptor 5, which heads no chain it was given"
    );
    rig.queue.used.ring[0]
        .id
        .store(0, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(blk.complete().unwrap().unwrap().result, Ok(()));
}

#[test]
fn a_chain_completed_twice_is_refused() {
    let rig = Rig::new(Behaviour {
        tamper: Some(Tamper::CompleteTwice),
        auto_process: false,
        ..Behaviour::default()
    });
    let mut blk = rig.blk().unwrap();
    blk.flush().unwrap();
    blk.flush().unwrap();
    blk.kick();
    rig.model.borrow_mut().process_one();
    // The first flush completes twice; the second flush is still in flight,
    // so the index check alone cannot catch it.
    assert_eq!(blk.complete().unwrap().unwrap().result, Ok(()));
    let error = blk.complete().unwrap_err();
    assert_eq!(
        error,
        BlkError::Device(DeviceError::UsedIdCompletedTwice { id: 0 })
    );
    assert_eq!(
        error.to_string(),
        "device completed the chain at descriptor 0 twice"
    );
    assert_eq!(blk.in_flight(), 1);
}

#[test]
fn a_used_length_beyond_the_writable_bytes_is_refused() {
    let (_, _, error) = tampered(Tamper::LenExtra(1));
    assert_eq!(
        error,
        BlkError::Device(DeviceError::UsedLenTooLarge {
            id: 0,
            len: 514,
            writable: 513
        })
    );
    let (_, _, error) = tampered(Tamper::LenExtra(u32::MAX - 513));
    assert!(matches!(
        error,
        BlkError::Device(DeviceError::UsedLenTooLarge { len: u32::MAX, .. })
    ));
}
