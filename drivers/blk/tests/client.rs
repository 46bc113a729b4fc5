//! The client's plain block API against the modelled driver: splitting,
//! pipelining, errors, and what the client refuses before sending.

mod common;

use common::{geometry, pseudo_random, Rig};
use paddock_blk::{
    BlockClient, BlockError, Control, DataWindow, Geometry, SdmmcDevice, SetupError, Status,
};

fn disk(blocks: u64) -> Vec<u8> {
    pseudo_random(99, (blocks * 512) as usize)
}

#[test]
fn large_transfers_are_split_to_fit_the_window_and_the_per_request_maximum() {
    // Window of 16 blocks, depth 4: 4 slots of 4 blocks, below the
    // per-request maximum of 8.
    let mut rig = Rig::new(4, 16 * 512);
    let (driver, mut client) = rig.start(geometry(2048, 4, 8), disk(2048));
    assert_eq!((client.ids_in_use(), client.chunk_blocks()), (4, 4));

    let data = pseudo_random(7, 101 * 512);
    client.write(37, &data).unwrap();
    let mut back = vec![0u8; data.len()];
    client.read(37, &mut back).unwrap();
    assert_eq!(back, data);

    let d = driver.borrow();
    assert_eq!(&d.disk[37 * 512..138 * 512], &data[..]);
    assert_eq!(d.largest_request, 4);
    assert_eq!(d.writes, 26, "101 blocks in chunks of 4");
    assert_eq!(d.reads, 26);
    assert_eq!(
        d.most_in_flight, 4,
        "requests are pipelined up to the depth"
    );
    // Neighbouring blocks untouched.
    assert_eq!(&d.disk[36 * 512..37 * 512], &disk(2048)[36 * 512..37 * 512]);
    assert_eq!(
        &d.disk[138 * 512..139 * 512],
        &disk(2048)[138 * 512..139 * 512]
    );
}

#[test]
fn the_per_request_maximum_limits_chunks_when_the_window_is_large() {
    let mut rig = Rig::new(2, 64 * 1024);
    let (driver, mut client) = rig.start(geometry(512, 2, 3), disk(512));
    assert_eq!((client.ids_in_use(), client.chunk_blocks()), (2, 3));
    let mut buf = vec![0u8; 100 * 512];
    client.read(400, &mut buf).unwrap();
    assert_eq!(buf, disk(512)[400 * 512..500 * 512]);
    assert_eq!(driver.borrow().largest_request, 3);
}

#[test]
fn a_window_smaller_than_the_depth_uses_fewer_ids() {
    let mut rig = Rig::new(8, 2 * 512);
    let (_driver, mut client) = rig.start(geometry(64, 8, 16), disk(64));
    assert_eq!((client.ids_in_use(), client.chunk_blocks()), (2, 1));
    let mut buf = vec![0u8; 64 * 512];
    client.read(0, &mut buf).unwrap();
    assert_eq!(buf, disk(64));
}

#[test]
fn the_last_block_of_the_device_is_reachable_and_the_next_is_not() {
    let mut rig = Rig::new(4, 4096);
    let (driver, mut client) = rig.start(geometry(100, 4, 8), disk(100));
    let mut block = [0u8; 512];
    client.read(99, &mut block).unwrap();
    assert_eq!(block[..], disk(100)[99 * 512..]);
    let requests_before = driver.borrow().reads;
    assert_eq!(
        client.read(100, &mut block),
        Err(BlockError::OutOfRange {
            start: 100,
            count: 1,
            capacity: 100
        })
    );
    assert_eq!(
        client.read(u64::MAX, &mut block),
        Err(BlockError::OutOfRange {
            start: u64::MAX,
            count: 1,
            capacity: 100
        })
    );
    assert_eq!(
        driver.borrow().reads,
        requests_before,
        "refused before sending"
    );
}

#[test]
fn buffers_must_be_whole_blocks_and_empty_ones_do_nothing() {
    let mut rig = Rig::new(4, 4096);
    let (driver, mut client) = rig.start(geometry(100, 4, 8), disk(100));
    assert_eq!(
        client.read(0, &mut [0u8; 700]),
        Err(BlockError::PartialBlock {
            len: 700,
            block_size: 512
        })
    );
    assert_eq!(
        client.write(0, &[0u8; 1]),
        Err(BlockError::PartialBlock {
            len: 1,
            block_size: 512
        })
    );
    client.read(0, &mut []).unwrap();
    client.write(99, &[]).unwrap();
    let d = driver.borrow();
    assert_eq!((d.reads, d.writes), (0, 0));
}

#[test]
fn flush_reaches_the_device() {
    let mut rig = Rig::new(4, 4096);
    let (driver, mut client) = rig.start(geometry(100, 4, 8), disk(100));
    client.flush().unwrap();
    client.flush().unwrap();
    assert_eq!(driver.borrow().flushes, 2);
}

#[test]
fn read_only_devices_refuse_writes_and_flushes_in_the_client() {
    let mut rig = Rig::new(4, 4096);
    let g = Geometry {
        read_only: true,
        ..geometry(100, 4, 8)
    };
    let (driver, mut client) = rig.start(g, disk(100));
    assert_eq!(client.write(0, &[0u8; 512]), Err(BlockError::ReadOnly));
    assert_eq!(client.flush(), Err(BlockError::ReadOnly));
    let mut block = [0u8; 512];
    client.read(3, &mut block).unwrap();
    assert_eq!(driver.borrow().writes, 0);
}

#[test]
fn a_device_error_mid_transfer_names_the_failing_block_and_the_client_goes_on() {
    let mut rig = Rig::new(4, 16 * 512);
    let (driver, mut client) = rig.start(geometry(1024, 4, 8), disk(1024));
    driver.borrow_mut().bad_blocks.insert(50);
    let mut buf = vec![0u8; 100 * 512];
    assert_eq!(
        client.read(0, &mut buf),
        Err(BlockError::Status {
            status: Status::IoError,
            block: 50
        })
    );
    // The error stopped submission; what was in flight was collected.
    let reads = driver.borrow().reads;
    assert!(
        reads < 25,
        "{reads} requests: submission stopped at the error"
    );
    // Nothing is left in flight, so the next call starts clean.
    driver.borrow_mut().bad_blocks.clear();
    client.read(0, &mut buf).unwrap();
    assert_eq!(buf, disk(1024)[..100 * 512]);
    assert_eq!(client.violation(), None);
}

#[test]
fn a_client_that_believes_a_larger_device_gets_out_of_range_from_the_driver() {
    let mut rig = Rig::new(4, 4096);
    let window_len = 4096;
    let layout = rig.layout;
    let control = Control::from_bytes(rig.control.bytes(), layout).unwrap();
    let window = DataWindow::from_bytes(&mut rig.window.bytes()[..window_len]).unwrap();
    let driver = std::rc::Rc::new(std::cell::RefCell::new(common::ModelDriver::start(
        control,
        window,
        geometry(100, 4, 8),
        disk(100),
    )));
    let signal = common::InlineSignal {
        driver: driver.clone(),
        waits: 0,
    };
    let believed = geometry(200, 4, 8);
    let mut client = BlockClient::new(
        control.requests,
        control.responses,
        believed,
        window,
        signal,
    )
    .unwrap();
    let mut block = [0u8; 512];
    assert_eq!(
        client.read(150, &mut block),
        Err(BlockError::Status {
            status: Status::OutOfRange,
            block: 150
        })
    );
    assert_eq!(driver.borrow().queues.refused(), 1);
    // A refusal is not a protocol violation: the client goes on.
    client.read(10, &mut block).unwrap();
    assert_eq!(block[..], disk(100)[10 * 512..11 * 512]);
}

#[test]
fn attaching_checks_the_window_and_queue_sizes() {
    let mut rig = Rig::new(4, 4096);
    let layout = rig.layout;
    let control = Control::from_bytes(rig.control.bytes(), layout).unwrap();
    let window = DataWindow::from_bytes(&mut rig.window.bytes()[..256]).unwrap();
    let signal = NoDriver;
    assert_eq!(
        BlockClient::new(
            control.requests,
            control.responses,
            geometry(10, 4, 8),
            window,
            signal
        )
        .err(),
        Some(SetupError::WindowSmallerThanBlock {
            window_bytes: 256,
            block_size: 512
        })
    );
    assert_eq!(
        BlockClient::new(
            control.requests,
            control.responses,
            geometry(10, 5, 8),
            window,
            NoDriver
        )
        .err(),
        Some(SetupError::QueueSmallerThanDepth {
            capacity: 4,
            depth: 5
        })
    );
}

#[test]
fn embedded_sdmmc_needs_512_byte_blocks() {
    let mut rig = Rig::new(4, 16 * 1024);
    let g = Geometry {
        block_size: 4096,
        ..geometry(10, 4, 8)
    };
    let disk = vec![0u8; 10 * 4096];
    let (_driver, client) = rig.start(g, disk);
    assert_eq!(
        SdmmcDevice::new(client).err().map(|e| e.to_string()),
        Some("device blocks are 4096 bytes; embedded-sdmmc needs 512".to_string())
    );
}

/// A signal for clients that must never wait.
struct NoDriver;

impl paddock_blk::DriverSignal for NoDriver {
    fn signal_driver(&mut self) {}
    fn wait_for_driver(&mut self) {
        panic!("no driver here");
    }
}

#[test]
fn a_client_fits_a_small_component_stack() {
    // Components get 16 KiB of stack by default; the client's table of
    // requests in flight is most of its size.
    let size = std::mem::size_of::<BlockClient<'static, NoDriver>>();
    assert!(size <= 4096 + 256, "{size} bytes");
}
