//! The driver against the modelled device in `fake`.

mod fake;

use fake::FakeEdu;
use paddock_edu::regs::irq;
use paddock_edu::{BusWindow, Direction, DmaRequest, Edu, Error, Version};

fn probed() -> Edu<FakeEdu> {
    let mut edu = Edu::new(FakeEdu::default());
    assert_eq!(edu.probe(), Ok(Version { major: 1, minor: 0 }));
    edu
}

#[test]
fn probe_rejects_absent_and_foreign_and_dead_devices() {
    let mut edu = Edu::new(FakeEdu {
        absent: true,
        ..FakeEdu::default()
    });
    assert_eq!(edu.probe(), Err(Error::NotEdu { id: u32::MAX }));
    let mut edu = Edu::new(FakeEdu {
        id: 0x1234_5678,
        ..FakeEdu::default()
    });
    assert_eq!(edu.probe(), Err(Error::NotEdu { id: 0x1234_5678 }));
    let mut edu = Edu::new(FakeEdu {
        dead: true,
        ..FakeEdu::default()
    });
    assert_eq!(
        edu.probe(),
        Err(Error::NotAlive {
            wrote: 0x1234_5678,
            read: 0x1234_5678
        })
    );
}

#[test]
fn dma_round_trip_moves_bytes_through_the_device_buffer() {
    let mut edu = probed();
    let pattern: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
    edu.mmio_mut().memory[0x1000..0x1000 + 200].copy_from_slice(&pattern);

    let to_dev = DmaRequest::new(Direction::ToDevice, 0x1000, 100, 200).unwrap();
    edu.start_dma(to_dev).unwrap();
    assert_eq!(edu.handle_interrupt().dma_done, None, "nothing raised yet");
    edu.mmio_mut().tick();
    assert!(edu.mmio().irq_line());
    let i = edu.handle_interrupt();
    assert_eq!(i.raised, irq::DMA);
    assert_eq!(i.dma_done, Some(to_dev));
    assert!(!edu.mmio().irq_line(), "acknowledged");
    assert_eq!(&edu.mmio().buffer[100..300], &pattern[..]);

    let to_host = DmaRequest::new(Direction::ToHost, 0x8000, 100, 200).unwrap();
    edu.start_dma(to_host).unwrap();
    edu.mmio_mut().tick();
    assert_eq!(edu.handle_interrupt().dma_done, Some(to_host));
    assert_eq!(&edu.mmio().memory[0x8000..0x8000 + 200], &pattern[..]);
    assert_eq!((edu.mmio().bad_width, edu.mmio().bad_dma), (0, 0));
}

#[test]
fn registers_are_programmed_as_documented() {
    let mut edu = probed();
    edu.start_dma(DmaRequest::new(Direction::ToHost, 0x20_0000, 16, 64).unwrap())
        .unwrap();
    let f = edu.mmio();
    assert_eq!(
        (f.src, f.dst, f.count, f.cmd),
        (0x40010, 0x20_0000, 64, 0b111)
    );
}

#[test]
fn out_of_bounds_requests_are_rejected_before_touching_the_device() {
    assert_eq!(
        DmaRequest::new(Direction::ToDevice, 0, 0, 0),
        Err(Error::EmptyTransfer)
    );
    assert_eq!(
        DmaRequest::new(Direction::ToDevice, 0, 0, 4097),
        Err(Error::TooLong { len: 4097 })
    );
    // QEMU stops the machine on a transfer reaching the buffer's last byte.
    assert_eq!(
        DmaRequest::new(Direction::ToDevice, 0, 0, 4096),
        Err(Error::TooLong { len: 4096 })
    );
    assert_eq!(
        DmaRequest::new(Direction::ToHost, 0, 4095, 1),
        Err(Error::OutsideDeviceBuffer {
            offset: 4095,
            len: 1
        })
    );
    assert_eq!(
        DmaRequest::new(Direction::ToHost, 0, 4000, 200),
        Err(Error::OutsideDeviceBuffer {
            offset: 4000,
            len: 200
        })
    );
    assert_eq!(
        DmaRequest::new(Direction::ToHost, 0, u32::MAX, 1),
        Err(Error::OutsideDeviceBuffer {
            offset: u32::MAX,
            len: 1
        })
    );
    assert_eq!(
        DmaRequest::new(Direction::ToHost, u64::MAX - 10, 0, 100),
        Err(Error::BusRange {
            iova: u64::MAX - 10,
            len: 100
        })
    );
    assert!(DmaRequest::new(Direction::ToHost, 0, 0, 4095).is_ok());
    assert!(DmaRequest::new(Direction::ToHost, 0, 4094, 1).is_ok());

    // Beyond the 28-bit mask: refused without a single access.
    let mut edu = probed();
    let before = edu.mmio().accesses;
    let high = DmaRequest::new(Direction::ToDevice, (1 << 28) - 8, 0, 16).unwrap();
    assert_eq!(
        edu.start_dma(high),
        Err(Error::BusRange {
            iova: (1 << 28) - 8,
            len: 16
        })
    );
    assert_eq!(edu.mmio().accesses, before);
    // A device started with a wider mask takes it.
    let mut wide = Edu::new(FakeEdu {
        dma_mask: u64::MAX,
        ..FakeEdu::default()
    })
    .with_dma_mask(u64::MAX);
    assert_eq!(wide.start_dma(high), Ok(()));
}

#[test]
fn a_second_transfer_while_one_runs_is_refused() {
    let mut edu = probed();
    let first = DmaRequest::new(Direction::ToDevice, 0x1000, 0, 8).unwrap();
    edu.start_dma(first).unwrap();
    let second = DmaRequest::new(Direction::ToHost, 0x2000, 0, 8).unwrap();
    assert_eq!(
        edu.start_dma(second),
        Err(Error::Busy {
            running: Some(Direction::ToDevice)
        })
    );
    assert_eq!(edu.mmio().src, 0x1000, "registers untouched");
    edu.mmio_mut().tick();
    assert_eq!(edu.wait_dma(1), Ok(first));
    assert_eq!(edu.start_dma(second), Ok(()));
}

#[test]
fn a_transfer_started_by_someone_else_is_noticed() {
    let mut edu = probed();
    edu.mmio_mut().cmd = 1;
    let req = DmaRequest::new(Direction::ToDevice, 0, 0, 8).unwrap();
    assert_eq!(edu.start_dma(req), Err(Error::Busy { running: None }));
}

#[test]
fn polling_is_bounded() {
    let mut edu = probed();
    edu.start_dma(DmaRequest::new(Direction::ToDevice, 0, 0, 8).unwrap())
        .unwrap();
    assert_eq!(edu.wait_dma(100), Err(Error::Timeout));
    assert!(edu.in_flight().is_some());
    assert_eq!(edu.poll_dma(), None);
}

#[test]
fn interrupts_are_acknowledged_exactly() {
    let mut edu = probed();
    assert_eq!(
        edu.handle_interrupt(),
        Default::default(),
        "not ours: nothing acked"
    );
    edu.raise_interrupt(0x40);
    assert!(edu.mmio().irq_line());
    let i = edu.handle_interrupt();
    assert_eq!(
        (i.raised, i.dma_done, i.factorial_done),
        (0x40, None, false)
    );
    assert!(!edu.mmio().irq_line());
    // A DMA cause with no transfer of ours: acked, nothing completed.
    edu.raise_interrupt(irq::DMA);
    assert_eq!(edu.handle_interrupt().dma_done, None);
}

#[test]
fn factorial_with_interrupt() {
    let mut edu = probed();
    assert_eq!(
        edu.start_factorial(13, true),
        Err(Error::FactorialOverflow { n: 13 })
    );
    edu.start_factorial(5, true).unwrap();
    assert_eq!(edu.factorial_result(), None);
    assert_eq!(
        edu.start_factorial(3, false),
        Err(Error::Busy { running: None })
    );
    edu.mmio_mut().tick();
    assert!(edu.handle_interrupt().factorial_done);
    assert_eq!(edu.factorial_result(), Some(120));
}

#[test]
fn windows_translate_client_ranges() {
    let data = BusWindow {
        iova: 0x10_0000,
        size: 0x1_0000,
    };
    assert_eq!(data.address(0, 4096), Ok(0x10_0000));
    assert_eq!(data.address(0xF000, 0x1000), Ok(0x10_F000));
    assert_eq!(
        data.address(0xF001, 0x1000),
        Err(Error::OutsideWindow {
            offset: 0xF001,
            len: 0x1000
        })
    );
    assert_eq!(
        data.address(u64::MAX, 2),
        Err(Error::OutsideWindow {
            offset: u64::MAX,
            len: 2
        })
    );
    // A client request end to end: offset and length into its window.
    let mut edu = probed();
    let iova = data.address(0x200, 512).unwrap();
    edu.start_dma(DmaRequest::new(Direction::ToHost, iova, 0, 512).unwrap())
        .unwrap();
    edu.mmio_mut().tick();
    assert!(edu.handle_interrupt().dma_done.is_some());
}
