//! The transport against the modelled device: the handshake, refused and
//! hostile devices, capabilities and structures that do not fit.

mod model;

use model::{device, Behaviour, Cap, Rig};
use paddock_virtio::transport::registers::status;
use paddock_virtio::{Features, StructureKind, TransportError};

#[test]
fn handshake_reaches_driver_ok() {
    let rig = Rig::new(Behaviour::default());
    let blk = rig.blk().unwrap();
    rig.assert_clean();
    let m = rig.model.borrow();
    assert_eq!(
        m.status,
        status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK | status::DRIVER_OK
    );
    assert_eq!(m.driver_features, device::BLK_FEATURES);
    assert_eq!((m.queues[0].msix, m.msix_config), (1, 0));
    assert_eq!((m.queues[0].size, m.queues[0].enable), (16, 1));
    // The device was told IOVAs only.
    let iovas = rig.queue.memory.iovas();
    assert_eq!(m.queues[0].desc, iovas.descriptors.0);
    assert_eq!(m.queues[0].driver, iovas.available.0);
    assert_eq!(m.queues[0].device, iovas.used.0);
    assert_ne!(m.queues[0].desc, rig.queue.descriptors.as_ptr() as u64);
    let info = blk.info();
    assert_eq!(info.capacity, model::SECTORS);
    assert_eq!((info.blk_size, info.seg_max), (Some(4096), Some(8)));
    assert!(info.flush && !info.read_only);
}

/// What a refused set-up leaves: the error, and FAILED in the status.
fn refused(rig: &Rig) -> TransportError {
    let error = match rig.blk() {
        Err(paddock_virtio::blk::BlkError::Transport(e)) => e,
        Err(other) => panic!("expected a transport error, got {other:?}"),
        Ok(_) => panic!("the device was accepted"),
    };
    assert_ne!(
        rig.status() & status::FAILED,
        0,
        "FAILED not set after {error}"
    );
    assert_eq!(rig.status() & status::DRIVER_OK, 0);
    error
}

#[test]
fn only_known_features_are_accepted() {
    let extra = (1 << 28) | (1 << 29) | (1 << 34) | (1 << 13) | (1 << 1);
    let rig = Rig::new(Behaviour {
        device_features: device::BLK_FEATURES | extra,
        ..Behaviour::default()
    });
    let blk = rig.blk().unwrap();
    rig.assert_clean();
    assert_eq!(rig.model.borrow().driver_features, device::BLK_FEATURES);
    assert_eq!(blk.info().features, Features(device::BLK_FEATURES));
}

#[test]
fn a_device_without_version_1_is_refused() {
    let rig = Rig::new(Behaviour {
        device_features: device::BLK_FEATURES & !(1 << 32),
        ..Behaviour::default()
    });
    let e = refused(&rig);
    assert!(
        matches!(e, TransportError::MissingFeatures { missing, .. } if missing == Features::VERSION_1)
    );
    assert!(
        e.to_string().contains("without the required 0x100000000"),
        "{e}"
    );
    rig.assert_clean();
}

#[test]
fn a_device_without_access_platform_is_refused() {
    let rig = Rig::new(Behaviour {
        device_features: device::BLK_FEATURES & !(1 << 33),
        ..Behaviour::default()
    });
    let e = refused(&rig);
    assert!(
        matches!(e, TransportError::MissingFeatures { missing, .. } if missing == Features::ACCESS_PLATFORM)
    );
    rig.assert_clean();
}

#[test]
fn features_ok_not_kept_is_refused() {
    let rig = Rig::new(Behaviour {
        keep_features_ok: false,
        ..Behaviour::default()
    });
    let e = refused(&rig);
    assert!(
        matches!(e, TransportError::FeaturesNotAccepted { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("did not keep FEATURES_OK"), "{e}");
    // Nothing past negotiation was attempted.
    assert_eq!(rig.model.borrow().queues[0].enable, 0);
    rig.assert_clean();
}

#[test]
fn a_reset_that_never_finishes_is_refused() {
    let rig = Rig::new(Behaviour {
        reset_reads: u32::MAX,
        ..Behaviour::default()
    });
    assert!(matches!(refused(&rig), TransportError::ResetTimeout { .. }));
}

#[test]
fn a_refused_msix_vector_is_reported() {
    let rig = Rig::new(Behaviour {
        msix_entries: 1,
        ..Behaviour::default()
    });
    let e = refused(&rig);
    assert_eq!(
        e,
        TransportError::MsixVectorRefused {
            queue: Some(0),
            vector: 1,
            read: paddock_virtio::NO_VECTOR
        }
    );
    assert_eq!(
        e.to_string(),
        "queue 0: MSI-X entry 1 refused (read back 0xffff)"
    );

    let rig = Rig::new(Behaviour::default());
    let interrupts = paddock_virtio::blk::Interrupts {
        config: Some(7),
        queue: None,
    };
    match rig.blk_with(interrupts) {
        Err(paddock_virtio::blk::BlkError::Transport(e)) => assert_eq!(
            e,
            TransportError::MsixVectorRefused {
                queue: None,
                vector: 7,
                read: paddock_virtio::NO_VECTOR
            }
        ),
        other => panic!("{:?}", other.err()),
    }
    assert_ne!(rig.status() & status::FAILED, 0);
}

#[test]
fn a_queue_of_size_zero_or_not_a_power_of_two_is_refused() {
    let rig = Rig::new(Behaviour {
        queue_max: 0,
        ..Behaviour::default()
    });
    assert_eq!(refused(&rig), TransportError::QueueUnavailable { queue: 0 });
    let rig = Rig::new(Behaviour {
        queue_max: 100,
        ..Behaviour::default()
    });
    assert_eq!(
        refused(&rig),
        TransportError::QueueSizeNotPowerOfTwo {
            queue: 0,
            size: 100
        }
    );
}

#[test]
fn a_device_queue_smaller_than_the_memory_is_used_at_its_size() {
    let rig = Rig::new(Behaviour {
        queue_max: 4,
        ..Behaviour::default()
    });
    let mut blk = rig.blk().unwrap();
    assert_eq!(rig.model.borrow().queues[0].size, 4);
    blk.flush().unwrap();
    blk.kick();
    assert!(blk.complete().unwrap().unwrap().result.is_ok());
    rig.assert_clean();
}

fn caps_with(change: impl FnOnce(&mut Vec<Cap>)) -> Vec<Cap> {
    let mut caps = device::standard_caps();
    change(&mut caps);
    caps
}

fn transport_error(rig: &Rig) -> TransportError {
    match rig.transport() {
        Err(e) => e,
        Ok(_) => panic!("the structures were accepted"),
    }
}

#[test]
fn structures_past_the_bar_are_refused() {
    // The common structure's end past the BAR.
    let rig = Rig::with_caps(Behaviour::default(), &caps_with(|c| c[0].offset = 0x3f00));
    let e = transport_error(&rig);
    assert_eq!(
        e,
        TransportError::StructurePastBar {
            kind: StructureKind::Common,
            bar: 4,
            offset: 0x3f00,
            length: 0x1000,
            bar_size: 0x4000
        }
    );
    assert_eq!(
        e.to_string(),
        "the common configuration structure (0x1000 bytes at 0x3f00) reaches past the 0x4000 mapped bytes of BAR 4"
    );
    // An offset and length whose 32-bit sum wraps to 0x1000.
    let rig = Rig::with_caps(
        Behaviour::default(),
        &caps_with(|c| {
            c[3].offset = 0xffff_f000;
            c[3].length = 0x2000;
        }),
    );
    assert!(matches!(
        transport_error(&rig),
        TransportError::StructurePastBar {
            kind: StructureKind::Notify,
            offset: 0xffff_f000,
            ..
        }
    ));
    // Structures that fit the BAR but not the part of it the plan maps.
    let rig = Rig::new(Behaviour::default());
    let e = paddock_virtio::Transport::new(
        &model::ConfigSpace(rig.model.clone()),
        rig.bars_of_size(0x2000),
    )
    .err()
    .unwrap();
    assert!(
        matches!(
            e,
            TransportError::StructurePastBar {
                kind: StructureKind::Notify,
                bar_size: 0x2000,
                ..
            }
        ),
        "{e}"
    );
    rig.assert_clean();
}

#[test]
fn structures_in_unmapped_or_reserved_bars_are_refused() {
    let rig = Rig::with_caps(Behaviour::default(), &caps_with(|c| c[2].bar = 2));
    assert_eq!(
        transport_error(&rig),
        TransportError::BarNotMapped {
            kind: StructureKind::Device,
            bar: 2
        }
    );
    // A reserved BAR value makes the capability one to ignore.
    let rig = Rig::with_caps(Behaviour::default(), &caps_with(|c| c[0].bar = 6));
    assert_eq!(
        transport_error(&rig),
        TransportError::MissingStructure(StructureKind::Common)
    );
    // ... and a later capability of the same type is used instead.
    let rig = Rig::with_caps(
        Behaviour::default(),
        &caps_with(|c| {
            c[0].bar = 7;
            c.push(Cap::new(1, device::COMMON_AT));
        }),
    );
    rig.blk().unwrap();
    rig.assert_clean();
}

#[test]
fn malformed_capabilities_are_refused() {
    let rig = Rig::with_caps(
        Behaviour::default(),
        &caps_with(|c| c.retain(|c| c.cfg_type != 2)),
    );
    assert_eq!(
        transport_error(&rig),
        TransportError::MissingStructure(StructureKind::Notify)
    );

    let rig = Rig::with_caps(Behaviour::default(), &caps_with(|c| c[3].cap_len = 16));
    assert_eq!(
        transport_error(&rig),
        TransportError::CapabilityTooShort {
            at: (device::CAPS_AT + 3 * 20) as u8,
            cap_len: 16,
            needed: 20
        }
    );

    // A notify capability at 0xf0: its 20 bytes would end past 0x100.
    let rig = Rig::with_caps(Behaviour::default(), &caps_with(|c| c[3].cfg_type = 5));
    {
        let mut m = rig.model.borrow_mut();
        let last = device::CAPS_AT + 3 * 20;
        m.config[last + 1] = 0xf0;
        m.config[0xf0..0xf4].copy_from_slice(&[paddock_pci::CAP_VENDOR, 0, 20, 2]);
    }
    assert_eq!(
        transport_error(&rig),
        TransportError::CapabilityPastConfigSpace {
            at: 0xf0,
            needed: 20
        }
    );
}

#[test]
fn short_or_misaligned_structures_are_refused() {
    let rig = Rig::with_caps(Behaviour::default(), &caps_with(|c| c[0].length = 0x20));
    assert_eq!(
        transport_error(&rig),
        TransportError::StructureTooShort {
            kind: StructureKind::Common,
            length: 0x20,
            minimum: 0x38
        }
    );
    let rig = Rig::with_caps(Behaviour::default(), &caps_with(|c| c[2].offset += 2));
    assert_eq!(
        transport_error(&rig),
        TransportError::StructureMisaligned {
            kind: StructureKind::Device,
            offset: 0x2002,
            alignment: 4
        }
    );
    // A device configuration too short for the capacity.
    let rig = Rig::with_caps(Behaviour::default(), &caps_with(|c| c[2].length = 4));
    assert!(matches!(
        refused(&rig),
        TransportError::DeviceConfigOutOfRange {
            offset: 0,
            width: 8,
            length: 4
        }
    ));
    rig.assert_clean();
}

#[test]
fn bad_notify_multipliers_and_offsets_are_refused() {
    for m in [1, 3, 6] {
        let rig = Rig::with_caps(Behaviour::default(), &caps_with(|c| c[3].multiplier = m));
        assert_eq!(
            transport_error(&rig),
            TransportError::NotifyMultiplierInvalid(m)
        );
    }
    // 2 x 2^31 is 2^32: a 32-bit product would wrap to offset 0.
    let rig = Rig::with_caps(
        Behaviour {
            notify_off: 2,
            ..Behaviour::default()
        },
        &caps_with(|c| c[3].multiplier = 0x8000_0000),
    );
    assert_eq!(
        refused(&rig),
        TransportError::NotifyOutOfRange {
            queue: 0,
            notify_off: 2,
            multiplier: 0x8000_0000,
            length: 0x1000
        }
    );
    // The last two bytes of the structure are the furthest a register can be.
    let rig = Rig::new(Behaviour {
        notify_off: 1024,
        ..Behaviour::default()
    });
    assert!(matches!(
        refused(&rig),
        TransportError::NotifyOutOfRange {
            notify_off: 1024,
            ..
        }
    ));
    let rig = Rig::new(Behaviour {
        notify_off: 1023,
        ..Behaviour::default()
    });
    rig.blk().unwrap();
    rig.assert_clean();
}

#[test]
fn steps_out_of_order_are_refused() {
    let rig = Rig::new(Behaviour::default());
    let mut t = rig.transport().unwrap();
    let e = t
        .setup_queue::<16>(0, rig.queue.memory, None)
        .err()
        .unwrap();
    assert!(matches!(e, TransportError::OutOfOrder { .. }), "{e}");
    assert!(matches!(
        t.driver_ok(),
        Err(TransportError::OutOfOrder { .. })
    ));
    assert_eq!(rig.status(), 0);
}

#[test]
fn an_unstable_or_unusable_configuration_is_refused() {
    let rig = Rig::new(Behaviour {
        unstable_generation: true,
        ..Behaviour::default()
    });
    assert_eq!(refused(&rig), TransportError::ConfigNeverStable);

    for (field, change) in [("blk_size", 1000u32), ("seg_max", 0)] {
        let rig = Rig::new(Behaviour::default());
        match field {
            "blk_size" => rig.model.borrow_mut().blk_size = change,
            _ => rig.model.borrow_mut().seg_max = change,
        }
        match rig.blk() {
            Err(paddock_virtio::blk::BlkError::BadConfig { field: f, value }) => {
                assert_eq!((f, value), (field, change.into()))
            }
            other => panic!("{:?}", other.err()),
        }
        assert_ne!(rig.status() & status::FAILED, 0);
    }
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
    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.next() as usize % from.len()]
    }
}

#[test]
fn garbage_capabilities_and_registers_never_panic() {
    let rig = Rig::new(Behaviour::default());
    let mut rng = Lcg(42);
    let (mut accepted, mut refused) = (0, 0); // served a flush, refused
    for _ in 0..3000 {
        // Half the rounds lie in the capabilities, half in the registers.
        let lie_in_caps = rng.next().is_multiple_of(2);
        let mut caps = device::standard_caps();
        for _ in 0..if lie_in_caps { 1 + rng.next() % 3 } else { 0 } {
            let c = &mut caps[rng.next() as usize % 4];
            let any = rng.next();
            match rng.next() % 6 {
                0 => c.cfg_type = rng.pick(&[0, 1, 2, 3, 4, 5, 8, 0xff]),
                1 => c.bar = rng.pick(&[0, 2, 4, 5, 6, 0xff]),
                2 => c.offset = rng.pick(&[0, 2, 0x3ffe, 0x4000, 0xffff_f000, u32::MAX, any]),
                3 => c.length = rng.pick(&[0, 1, 0x37, 0x38, 0x4000, u32::MAX, any]),
                4 => c.cap_len = rng.pick(&[0, 15, 16, 19, 20, 0xff]),
                _ => c.multiplier = rng.pick(&[0, 1, 2, 3, 4, 0x1000, 0x8000_0000, u32::MAX]),
            }
        }
        let b = if lie_in_caps {
            Behaviour::default()
        } else {
            Behaviour {
                queue_max: rng.pick(&[0, 1, 3, 4, 16, 100, 32768, u16::MAX]),
                notify_off: rng.pick(&[0, 1, 1023, 1024, u16::MAX]),
                msix_entries: rng.pick(&[0, 1, 2]),
                keep_features_ok: !rng.next().is_multiple_of(8),
                device_features: device::BLK_FEATURES ^ u64::from(rng.next() % 4) << 32,
                ..Behaviour::default()
            }
        };
        {
            let mut m = rig.model.borrow_mut();
            let dma = std::mem::take(&mut m.dma);
            *m = model::Model::new(b, &caps, model::SECTORS);
            m.dma = dma;
        }
        match rig.blk() {
            // A device whose capabilities point at the wrong registers can
            // still be accepted (nothing shows the lie); it then does not
            // answer, which is an absent completion, not a crash.
            Ok(mut blk) => {
                if blk.flush().is_ok() {
                    blk.kick();
                    if let Ok(Some(done)) = blk.complete() {
                        assert_eq!(done.result, Ok(()));
                        accepted += 1;
                    }
                }
            }
            Err(e) => {
                refused += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert!(
        accepted > 50 && refused > 1000,
        "{accepted} served, {refused} refused"
    );
}
