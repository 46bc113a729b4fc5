//! `SdmmcDevice`'s read-ahead cache against the modelled driver: what it
//! asks the driver for, and that it never answers what the device would
//! not (writes, failed writes, device errors, the plain API, random mixes
//! of reads and writes against a reference copy of the disk).

mod common;

use common::{geometry, pseudo_random, Rig};
use embedded_sdmmc::{Block, BlockDevice, BlockIdx};
use paddock_blk::{BlockError, ReadAhead, ReadAheadStats, SdmmcDevice, Status};
use proptest::prelude::*;

fn disk(blocks: u64) -> Vec<u8> {
    pseudo_random(41, (blocks * 512) as usize)
}

/// Reads `count` blocks from `start` through embedded-sdmmc's trait.
fn read<D: BlockDevice>(device: &D, start: u32, count: usize) -> Result<Vec<u8>, D::Error> {
    let mut blocks = vec![Block::new(); count];
    device.read(&mut blocks, BlockIdx(start))?;
    Ok(blocks.iter().flat_map(|b| b.contents).collect())
}

/// Writes `data` (whole blocks) from `start` through the trait.
fn write<D: BlockDevice>(device: &D, start: u32, data: &[u8]) -> Result<(), D::Error> {
    let blocks: Vec<Block> = data
        .chunks_exact(512)
        .map(|c| {
            let mut b = Block::new();
            b.contents.copy_from_slice(c);
            b
        })
        .collect();
    device.write(&blocks, BlockIdx(start))
}

fn stats<S: paddock_blk::DriverSignal>(device: &SdmmcDevice<'_, S>) -> ReadAheadStats {
    device.read_ahead_stats().unwrap().unwrap()
}

#[test]
fn lines_need_two_blocks_each_and_one_to_eight_lines() {
    let mut buf = vec![0u8; 4096];
    assert!(ReadAhead::new(&mut buf, 0).is_none());
    assert!(ReadAhead::new(&mut buf, 9).is_none());
    assert!(ReadAhead::new(&mut buf[..1023], 1).is_none());
    assert!(ReadAhead::new(&mut buf, 5).is_none(), "819 bytes a line");
    let cache = ReadAhead::new(&mut buf, 4).unwrap();
    assert_eq!((cache.lines(), cache.line_blocks()), (4, 2));
    let cache = ReadAhead::new(&mut buf[..4000], 1).unwrap();
    assert_eq!(cache.line_blocks(), 7, "whole blocks only");
}

#[test]
fn sequential_block_reads_fetch_each_line_once_in_large_requests() {
    let mut rig = Rig::new(8, 64 * 1024);
    let (driver, client) = rig.start(geometry(4096, 8, 16), disk(4096));
    let mut lines = vec![0u8; 2 * 64 * 512];
    let device =
        SdmmcDevice::with_read_ahead(client, ReadAhead::new(&mut lines, 2).unwrap()).unwrap();
    for block in 100..300u32 {
        let got = read(&device, block, 1).unwrap();
        assert_eq!(
            got,
            disk(4096)[block as usize * 512..][..512],
            "block {block}"
        );
    }
    let s = stats(&device);
    // 200 blocks in lines of 64: fetched from 100, 164, 228 and 292.
    assert_eq!(
        (s.fetches, s.fetched_blocks, s.hits, s.direct),
        (4, 256, 196, 0)
    );
    let d = driver.borrow();
    assert_eq!(d.reads, 16, "each line is four requests of 16 blocks");
    assert_eq!(d.largest_request, 16);
    assert!(d.most_in_flight > 1, "a line's requests are pipelined");
}

#[test]
fn two_interleaved_streams_keep_a_line_each() {
    // A file's blocks and the FAT blocks that link them, as embedded-sdmmc
    // reads a volume of one-block clusters.
    let mut rig = Rig::new(8, 64 * 1024);
    let (driver, client) = rig.start(geometry(4096, 8, 16), disk(4096));
    let mut lines = vec![0u8; 2 * 32 * 512];
    let device =
        SdmmcDevice::with_read_ahead(client, ReadAhead::new(&mut lines, 2).unwrap()).unwrap();
    for i in 0..128u32 {
        let fat = 40 + i / 16;
        assert_eq!(
            read(&device, fat, 1).unwrap(),
            disk(4096)[fat as usize * 512..][..512]
        );
        let data = 1000 + i;
        assert_eq!(
            read(&device, data, 1).unwrap(),
            disk(4096)[data as usize * 512..][..512]
        );
    }
    let s = stats(&device);
    assert_eq!(s.fetches, 1 + 4, "one line of FAT, four of data");
    assert_eq!(s.hits, 256 - 5);
    assert_eq!(driver.borrow().reads, 5 * 2);
}

#[test]
fn writes_go_to_the_device_and_update_the_lines_that_hold_them() {
    let mut rig = Rig::new(8, 64 * 1024);
    let (driver, client) = rig.start(geometry(1024, 8, 16), disk(1024));
    let mut lines = vec![0u8; 2 * 32 * 512];
    let device =
        SdmmcDevice::with_read_ahead(client, ReadAhead::new(&mut lines, 2).unwrap()).unwrap();
    read(&device, 10, 1).unwrap(); // line 10..42
    read(&device, 500, 1).unwrap(); // line 500..532
                                    // Three blocks straddling the end of the first line.
    let new = pseudo_random(5, 3 * 512);
    write(&device, 40, &new).unwrap();
    assert_eq!(&driver.borrow().disk[40 * 512..43 * 512], &new[..]);
    assert_eq!(read(&device, 40, 2).unwrap(), new[..1024], "from the line");
    assert_eq!(stats(&device).fetches, 2, "no fetch for the written blocks");
    assert_eq!(
        read(&device, 42, 1).unwrap(),
        new[1024..],
        "block 42: a new line"
    );
    assert_eq!(stats(&device).fetches, 3);
    assert_eq!(driver.borrow().writes, 1);
}

#[test]
fn a_failed_write_drops_the_lines_it_touched() {
    let mut rig = Rig::new(8, 64 * 1024);
    let (driver, client) = rig.start(geometry(1024, 8, 16), disk(1024));
    let mut lines = vec![0u8; 2 * 32 * 512];
    let device =
        SdmmcDevice::with_read_ahead(client, ReadAhead::new(&mut lines, 2).unwrap()).unwrap();
    read(&device, 10, 1).unwrap(); // line 10..42
    read(&device, 100, 1).unwrap(); // line 100..132
    driver.borrow_mut().bad_blocks.insert(21);
    let new = pseudo_random(6, 2 * 512);
    assert_eq!(
        write(&device, 20, &new),
        Err(BlockError::Status {
            status: Status::IoError,
            block: 21
        })
    );
    // Block 20 reached the device before 21 failed: the cache must not
    // answer with what it held before.
    driver.borrow_mut().bad_blocks.clear();
    let fetches = stats(&device).fetches;
    assert_eq!(
        read(&device, 20, 1).unwrap(),
        driver.borrow().disk[20 * 512..21 * 512]
    );
    assert_eq!(read(&device, 20, 1).unwrap(), new[..512]);
    assert_eq!(stats(&device).fetches, fetches + 1, "fetched again");
    read(&device, 101, 1).unwrap();
    assert_eq!(stats(&device).fetches, fetches + 1, "the other line stayed");
}

#[test]
fn a_device_error_in_a_line_reaches_only_the_read_of_the_bad_block() {
    let mut rig = Rig::new(8, 64 * 1024);
    let (driver, client) = rig.start(geometry(1024, 8, 16), disk(1024));
    driver.borrow_mut().bad_blocks.insert(205);
    let mut lines = vec![0u8; 2 * 32 * 512];
    let device =
        SdmmcDevice::with_read_ahead(client, ReadAhead::new(&mut lines, 2).unwrap()).unwrap();
    for block in 200..205u32 {
        assert_eq!(
            read(&device, block, 1).unwrap(),
            disk(1024)[block as usize * 512..][..512]
        );
    }
    assert_eq!(
        read(&device, 205, 1),
        Err(BlockError::Status {
            status: Status::IoError,
            block: 205
        })
    );
    assert_eq!(
        read(&device, 204, 2),
        Err(BlockError::Status {
            status: Status::IoError,
            block: 205
        }),
        "the first block not done, as without a cache"
    );
    let s = stats(&device);
    assert_eq!(s.fetches, 0);
    assert_eq!(s.failed_fetches, 7);
    // Past the bad block, lines work again.
    assert_eq!(
        read(&device, 206, 1).unwrap(),
        disk(1024)[206 * 512..207 * 512]
    );
    assert_eq!(stats(&device).fetches, 1);
}

#[test]
fn reads_of_a_line_or_more_and_past_the_end_go_to_the_device_as_asked() {
    let mut rig = Rig::new(8, 64 * 1024);
    let (driver, client) = rig.start(geometry(100, 8, 16), disk(100));
    let mut lines = vec![0u8; 2 * 8 * 512];
    let device =
        SdmmcDevice::with_read_ahead(client, ReadAhead::new(&mut lines, 2).unwrap()).unwrap();
    assert_eq!(read(&device, 3, 8).unwrap(), disk(100)[3 * 512..11 * 512]);
    assert_eq!(stats(&device).direct, 1);
    // Near the end a line is cut at the capacity.
    assert_eq!(read(&device, 97, 2).unwrap(), disk(100)[97 * 512..99 * 512]);
    assert_eq!(read(&device, 99, 1).unwrap(), disk(100)[99 * 512..]);
    let s = stats(&device);
    assert_eq!((s.fetches, s.fetched_blocks, s.hits), (1, 3, 1));
    assert_eq!(
        read(&device, 99, 2),
        Err(BlockError::OutOfRange {
            start: 99,
            count: 2,
            capacity: 100
        })
    );
    assert_eq!(driver.borrow().reads, 2);
}

#[test]
fn the_plain_api_empties_the_cache() {
    let mut rig = Rig::new(8, 64 * 1024);
    let (_driver, client) = rig.start(geometry(1024, 8, 16), disk(1024));
    let mut lines = vec![0u8; 2 * 32 * 512];
    let device =
        SdmmcDevice::with_read_ahead(client, ReadAhead::new(&mut lines, 2).unwrap()).unwrap();
    read(&device, 10, 1).unwrap();
    let new = pseudo_random(8, 512);
    device.with_client(|c| c.write(11, &new)).unwrap().unwrap();
    assert_eq!(read(&device, 11, 1).unwrap(), new);
    assert_eq!(stats(&device).fetches, 2);
}

/// A read or a write of a few blocks.
#[derive(Clone, Debug)]
enum Step {
    Read { start: u32, count: usize },
    Write { start: u32, count: usize, seed: u64 },
    Fail { block: u32 },
    Heal,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u32..28, 1usize..5).prop_map(|(start, count)| Step::Read { start, count }),
        3 => (0u32..30, 1usize..3, any::<u64>())
            .prop_map(|(start, count, seed)| Step::Write { start, count, seed }),
        2 => (0u32..32).prop_map(|block| Step::Fail { block }),
        1 => Just(Step::Heal),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Whatever the lines, every read answers what the device holds, or
    /// fails at the first bad block as the device does, after any mix of
    /// reads, writes and failures.
    #[test]
    fn reads_answer_what_the_device_holds(
        lines in 1usize..4,
        line_blocks in 2usize..8,
        steps in proptest::collection::vec(step(), 1..60),
    ) {
        let mut rig = Rig::new(4, 8 * 1024);
        let (driver, client) = rig.start(geometry(32, 4, 4), disk(32));
        let mut mem = vec![0u8; lines * line_blocks * 512];
        let device =
            SdmmcDevice::with_read_ahead(client, ReadAhead::new(&mut mem, lines).unwrap()).unwrap();
        for step in steps {
            match step {
                Step::Read { start, count } => {
                    let got = read(&device, start, count);
                    let d = driver.borrow();
                    let end = start as usize + count;
                    let bad = d.bad_blocks.iter().filter(|&&b| b >= u64::from(start) && b < end as u64).min();
                    match (got, bad) {
                        (_, _) if end > 32 => {}
                        // A line may answer for a block that turned bad
                        // after it was fetched: with what the disk holds.
                        (Ok(data), _) => prop_assert_eq!(&data[..], &d.disk[start as usize * 512..end * 512]),
                        (Err(e), Some(&b)) => prop_assert_eq!(e, BlockError::Status { status: Status::IoError, block: b }),
                        (got, bad) => prop_assert!(false, "read {}+{}: {:?} with bad block {:?}", start, count, got.map(|_| ()), bad),
                    }
                }
                Step::Write { start, count, seed } => {
                    let _ = write(&device, start, &pseudo_random(seed, count * 512));
                }
                Step::Fail { block } => {
                    driver.borrow_mut().bad_blocks.insert(u64::from(block));
                }
                Step::Heal => driver.borrow_mut().bad_blocks.clear(),
            }
        }
    }
}
