//! End to end: a FAT16 disk made by Debian's dosfstools and mtools (which
//! nobody here wrote), served by the modelled driver through the real
//! queues and checks, read and written by embedded-sdmmc's `VolumeManager`
//! over `SdmmcDevice`, and read back by mtools. `./test` installs the tools
//! (tools/provision). Each test runs twice: without and with the adapter's
//! read-ahead cache.

mod common;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{geometry, pseudo_random, Rig};
use embedded_sdmmc::{Mode, TimeSource, Timestamp, VolumeIdx, VolumeManager};
use paddock_blk::{BlockClient, BlockError, DriverSignal, ReadAhead, SdmmcDevice, Status};
use sha2::{Digest, Sha256};

/// First block of the partition (after the MBR and a gap, as on real disks).
const PART_START: u64 = 64;
/// 16 MiB: enough clusters for FAT16.
const PART_BLOCKS: u64 = 32 * 1024;
const DISK_BLOCKS: u64 = PART_START + PART_BLOCKS;
/// MBR partition type: FAT16 with LBA addressing.
const FAT16_LBA: u8 = 0x0E;

fn files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("EMPTY.BIN", vec![]),
        ("ONE.BIN", pseudo_random(1, 1)),
        ("B511.BIN", pseudo_random(2, 511)),
        ("B512.BIN", pseudo_random(3, 512)),
        ("B4K.BIN", pseudo_random(4, 4096)),
        ("BIG.BIN", pseudo_random(5, 100_003)),
    ]
}

/// A master boot record with one partition, written by hand: the layout
/// is four 16-byte entries at 446 and the signature 0x55AA at 510.
fn mbr(block: &mut [u8], start: u64, blocks: u64, kind: u8) {
    let entry = &mut block[446..462];
    entry[0] = 0x00; // not bootable
    entry[4] = kind;
    entry[8..12].copy_from_slice(&(start as u32).to_le_bytes());
    entry[12..16].copy_from_slice(&(blocks as u32).to_le_bytes());
    block[510] = 0x55;
    block[511] = 0xAA;
}

/// A scratch folder of this test's own (tests run in parallel: each call
/// gets a new one).
fn scratch(test: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("paddock-blk-{}-{n}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(command: &mut Command) -> Vec<u8> {
    let out = command
        .env("MTOOLS_SKIP_CHECK", "1")
        .output()
        .unwrap_or_else(|e| panic!("{command:?} (Debian's dosfstools and mtools): {e}"));
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// mtools' name for the partition of `image`.
fn partition(image: &Path) -> String {
    format!("{}@@{}", image.display(), PART_START * 512)
}

/// A disk image with one FAT16 partition holding `files`, made by
/// mkfs.fat and mcopy.
fn build_disk(test: &str, files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let dir = scratch(test);
    let image = dir.join("disk.img");
    let mut disk = vec![0u8; (DISK_BLOCKS * 512) as usize];
    mbr(&mut disk[..512], PART_START, PART_BLOCKS, FAT16_LBA);
    std::fs::write(&image, &disk).unwrap();
    run(Command::new("mkfs.fat")
        .args(["-F", "16", "-n", "PADDOCK", "-i", "50414444", "--offset"])
        .arg(PART_START.to_string())
        .arg(&image)
        .arg((PART_BLOCKS / 2).to_string()));
    for (name, data) in files {
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        run(Command::new("mcopy")
            .arg("-i")
            .arg(partition(&image))
            .arg(&path)
            .arg(format!("::/{name}")));
    }
    let disk = std::fs::read(&image).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    disk
}

/// Reads `name` from the partition of `disk` with mtools' `mtype`.
fn mtools_read(disk: &[u8], name: &str) -> Vec<u8> {
    let dir = scratch(&format!("read-{name}"));
    let image = dir.join("disk.img");
    std::fs::write(&image, disk).unwrap();
    let data = run(Command::new("mtype")
        .arg("-i")
        .arg(partition(&image))
        .arg(format!("::/{name}")));
    let _ = std::fs::remove_dir_all(&dir);
    data
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

struct FixedClock;

impl TimeSource for FixedClock {
    fn get_timestamp(&self) -> Timestamp {
        Timestamp::from_calendar(2026, 1, 2, 3, 4, 5).unwrap()
    }
}

/// Memory for three read-ahead lines of 16 blocks.
fn lines() -> Vec<u8> {
    vec![0u8; 3 * 16 * 512]
}

/// The adapter over `client`, with read-ahead lines in `lines` if given.
fn device<'a, S: DriverSignal>(
    client: BlockClient<'a, S>,
    lines: Option<&'a mut [u8]>,
) -> SdmmcDevice<'a, S> {
    match lines {
        Some(mem) => SdmmcDevice::with_read_ahead(client, ReadAhead::new(mem, 3).unwrap()).unwrap(),
        None => SdmmcDevice::new(client).unwrap(),
    }
}

#[test]
fn embedded_sdmmc_lists_reads_and_writes_a_fat16_volume_through_the_protocol() {
    lists_reads_and_writes(None);
}

#[test]
fn the_same_with_read_ahead() {
    let mut lines = lines();
    lists_reads_and_writes(Some(&mut lines));
}

fn lists_reads_and_writes(lines: Option<&mut [u8]>) {
    let read_ahead = lines.is_some();
    let files = files();
    let disk = build_disk("listing", &files);
    let mut rig = Rig::new(8, 16 * 1024);
    let (driver, client) = rig.start(geometry(DISK_BLOCKS, 8, 16), disk);
    let volume_mgr = VolumeManager::new(device(client, lines), FixedClock);
    let volume = volume_mgr.open_volume(VolumeIdx(0)).unwrap();
    let root = volume.open_root_dir().unwrap();

    // The listing: every file, by name and size, and nothing else.
    let mut listed = Vec::new();
    root.iterate_dir(|entry| {
        if !entry.attributes.is_volume() && !entry.attributes.is_lfn() {
            listed.push((entry.name.to_string(), entry.size as usize));
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    listed.sort();
    let mut expected: Vec<_> = files
        .iter()
        .map(|(n, d)| (n.to_string(), d.len()))
        .collect();
    expected.sort();
    assert_eq!(listed, expected);

    // The contents, by SHA-256.
    for (name, data) in &files {
        let file = root.open_file_in_dir(*name, Mode::ReadOnly).unwrap();
        let mut read = Vec::new();
        let mut chunk = [0u8; 700]; // not a block multiple, on purpose
        while !file.is_eof() {
            let n = file.read(&mut chunk).unwrap();
            read.extend_from_slice(&chunk[..n]);
        }
        file.close().unwrap();
        assert_eq!(sha256(&read), sha256(data), "{name}");
    }

    // A new file, written through embedded-sdmmc.
    let new = pseudo_random(6, 37_000);
    let file = root
        .open_file_in_dir("NEW.BIN", Mode::ReadWriteCreate)
        .unwrap();
    for piece in new.chunks(3000) {
        file.write(piece).unwrap();
    }
    file.close().unwrap();
    root.close().unwrap();
    volume.close().unwrap();
    let (device, _clock) = volume_mgr.free();
    if read_ahead {
        let stats = device.read_ahead_stats().unwrap().unwrap();
        assert!(stats.fetches > 0 && stats.hits > stats.fetches, "{stats:?}");
    }
    let client = device.into_inner();
    assert_eq!(client.violation(), None);

    // mtools reads it back byte for byte, and the old files are intact.
    let driver = driver.borrow();
    assert_eq!(mtools_read(&driver.disk, "NEW.BIN"), new);
    for (name, data) in &files {
        assert_eq!(
            sha256(&mtools_read(&driver.disk, name)),
            sha256(data),
            "{name}"
        );
    }
    assert!(driver.reads > 0 && driver.writes > 0);
    assert_eq!(
        driver.queues.refused(),
        0,
        "an honest client is never refused"
    );
}

#[test]
fn a_device_error_on_one_block_reaches_embedded_sdmmc_as_an_error() {
    device_error(None);
}

#[test]
fn the_same_device_error_with_read_ahead() {
    let mut lines = lines();
    device_error(Some(&mut lines));
}

fn device_error(lines: Option<&mut [u8]>) {
    let read_ahead = lines.is_some();
    let files = files();
    let disk = build_disk("device-error", &files);
    // BIG.BIN's data starts on a cluster boundary: find its first block.
    let big = &files.iter().find(|(n, _)| *n == "BIG.BIN").unwrap().1;
    let first = disk
        .chunks_exact(512)
        .position(|block| block == &big[..512])
        .expect("BIG.BIN's first block is on the disk") as u64;
    let bad = first + 5;

    let mut rig = Rig::new(8, 16 * 1024);
    let (driver, client) = rig.start(geometry(DISK_BLOCKS, 8, 16), disk);
    driver.borrow_mut().bad_blocks.insert(bad);
    let volume_mgr = VolumeManager::new(device(client, lines), FixedClock);
    let volume = volume_mgr.open_volume(VolumeIdx(0)).unwrap();
    let root = volume.open_root_dir().unwrap();

    // Other files read fine.
    let small = root.open_file_in_dir("B4K.BIN", Mode::ReadOnly).unwrap();
    let mut buf = vec![0u8; 4096];
    assert_eq!(small.read(&mut buf).unwrap(), 4096);
    small.close().unwrap();

    // BIG.BIN reads up to the bad block, then fails with the device error.
    let file = root.open_file_in_dir("BIG.BIN", Mode::ReadOnly).unwrap();
    let mut read = 0usize;
    let error = loop {
        match file.read(&mut buf[..512]) {
            Ok(n) => read += n,
            Err(e) => break e,
        }
    };
    assert_eq!(
        error,
        embedded_sdmmc::Error::DeviceError(BlockError::Status {
            status: Status::IoError,
            block: bad,
        })
    );
    assert_eq!(read, 5 * 512, "everything before the bad block was read");
    assert_eq!(
        error.to_string(),
        format!("error from underlying block device: block {bad}: device error")
    );

    // The client is not broken by a device error: the data after the bad
    // block is still readable through the plain API.
    file.close().unwrap();
    root.close().unwrap();
    volume.close().unwrap();
    let (device, _) = volume_mgr.free();
    if read_ahead {
        let stats = device.read_ahead_stats().unwrap().unwrap();
        assert!(
            stats.failed_fetches > 0,
            "lines over the bad block: {stats:?}"
        );
    }
    let mut client = device.into_inner();
    let mut after = [0u8; 512];
    client.read(bad + 1, &mut after).unwrap();
    assert_eq!(&after[..], &big[6 * 512..7 * 512]);
}
