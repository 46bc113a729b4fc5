//! `fat-client`: a file client of the isolated virtio-blk driver, on
//! embedded-sdmmc (FAT16/FAT32, a filesystem nobody here wrote) over the
//! block protocol. It lists the volume's root directory, prints each
//! file's name, size and SHA-256 (computed here, with the `sha2` crate),
//! then writes `WRITTEN.TXT` with known content and prints its size and
//! SHA-256, for the host to read back with mtools.
//!
//! It has no clock: files it writes carry a fixed timestamp.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use core::fmt::{self, Write as _};
use core::ops::ControlFlow;
use embedded_sdmmc::{
    LfnBuffer, Mode, ShortFileName, TimeSource, Timestamp, VolumeIdx, VolumeManager,
};
use paddock_blk::{embedded_sdmmc, BlockClient, BlockError, SdmmcDevice};
use paddock_fat_client::attach;
use paddock_runtime::{entry, log, Component};
use sha2::{Digest, Sha256};

entry!(main);

/// Files listed at most (the rest are counted, not hashed).
const MAX_FILES: usize = 32;
/// The file this client writes.
const WRITTEN: &str = "WRITTEN.TXT";
/// Lines of the written file.
const WRITTEN_LINES: u32 = 200;

fn main(c: Component) -> ! {
    match run(&c) {
        Ok(()) => {}
        Err(e) => log!("stopped: {e}"),
    }
    loop {
        let _ = c.wait();
    }
}

/// No real-time clock: a fixed time for what the client writes.
struct FixedClock;

impl TimeSource for FixedClock {
    fn get_timestamp(&self) -> Timestamp {
        Timestamp::from_calendar(2026, 1, 1, 0, 0, 0).unwrap_or(Timestamp {
            year_since_1970: 56,
            zero_indexed_month: 0,
            zero_indexed_day: 0,
            hours: 0,
            minutes: 0,
            seconds: 0,
        })
    }
}

/// What stopped the client.
enum Failure {
    Attach(paddock_fat_client::AttachError),
    Setup(&'static str),
    Fat(embedded_sdmmc::Error<BlockError>),
    Block(BlockError),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Attach(e) => write!(f, "attaching to the driver: {e}"),
            Failure::Setup(e) => f.write_str(e),
            Failure::Fat(e) => write!(f, "the FAT volume: {e:?}"),
            Failure::Block(e) => write!(f, "the block device: {e}"),
        }
    }
}

impl From<embedded_sdmmc::Error<BlockError>> for Failure {
    fn from(e: embedded_sdmmc::Error<BlockError>) -> Self {
        Failure::Fat(e)
    }
}

/// A SHA-256 digest in hex.
struct Hex([u8; 32]);

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// One file of the root directory.
struct Listed {
    name: ShortFileName,
    long: heapless::String<64>,
    size: u32,
}

fn run(c: &Component) -> Result<(), Failure> {
    let attached = attach(c).map_err(Failure::Attach)?;
    let g = attached.geometry;
    log!(
        "disk: {} blocks of {} bytes{}; up to {} requests in flight",
        g.capacity_blocks,
        g.block_size,
        if g.read_only { ", read-only" } else { "" },
        g.queue_depth
    );
    let client = BlockClient::new(
        attached.control.requests,
        attached.control.responses,
        g,
        attached.window,
        attached.channel,
    )
    .map_err(|_| Failure::Setup("the driver's queues are not usable"))?;
    let device = SdmmcDevice::new(client).map_err(Failure::Block)?;
    let volumes: VolumeManager<_, _, 4, 4, 1> = VolumeManager::new(device, FixedClock);
    {
        let volume = volumes.open_volume(VolumeIdx(0))?;
        let root = volume.open_root_dir()?;

        let mut files: heapless::Vec<Listed, MAX_FILES> = heapless::Vec::new();
        let mut more = 0u32;
        let mut lfn_storage = [0u8; 128];
        let mut lfn = LfnBuffer::new(&mut lfn_storage);
        root.iterate_dir_lfn(&mut lfn, |entry, long| {
            let a = entry.attributes;
            if a.is_volume() || a.is_directory() || a.is_lfn() {
                return ControlFlow::Continue(());
            }
            let mut name = heapless::String::new();
            if let Some(long) = long {
                let _ = name.push_str(long);
            }
            let listed = Listed {
                name: entry.name,
                long: name,
                size: entry.size,
            };
            if files.push(listed).is_err() {
                more += 1;
            }
            ControlFlow::Continue(())
        })?;

        for f in &files {
            let file = root.open_file_in_dir(f.name, Mode::ReadOnly)?;
            let mut hash = Sha256::new();
            let mut chunk = [0u8; 4096];
            let mut read = 0u64;
            while !file.is_eof() {
                let n = file.read(&mut chunk)?;
                hash.update(&chunk[..n]);
                read += n as u64;
            }
            file.close()?;
            let mut shown: heapless::String<80> = heapless::String::new();
            let _ = write!(shown, "{}", f.name);
            if !f.long.is_empty() && f.long.as_str() != shown.as_str() {
                let _ = write!(shown, " ({})", f.long);
            }
            log!(
                "file {shown} {} bytes sha256 {}",
                f.size,
                Hex(hash.finalize().into())
            );
            if read != u64::from(f.size) {
                log!("file {} read {read} bytes, not its {}", f.name, f.size);
            }
        }
        if more > 0 {
            log!("{more} more files not listed (at most {MAX_FILES})");
        }

        let file = root.open_file_in_dir(WRITTEN, Mode::ReadWriteCreateOrTruncate)?;
        let mut hash = Sha256::new();
        let mut written = 0u64;
        for i in 1..=WRITTEN_LINES {
            let mut line: heapless::String<64> = heapless::String::new();
            let _ = writeln!(
                line,
                "paddock wrote line {i} of {WRITTEN_LINES} through virtio-blk"
            );
            file.write(line.as_bytes())?;
            hash.update(line.as_bytes());
            written += line.len() as u64;
        }
        file.close()?;
        log!(
            "wrote {WRITTEN} {written} bytes sha256 {}",
            Hex(hash.finalize().into())
        );
        root.close()?;
        volume.close()?;
        log!("listed {} files", files.len() as u32 + more);
    }
    let (device, _) = volumes.free();
    let mut client = device.into_inner();
    match client.flush() {
        Ok(())
        | Err(BlockError::Status {
            status: paddock_blk::Status::Unsupported,
            ..
        }) => {}
        Err(e) => return Err(Failure::Block(e)),
    }
    log!("done");
    Ok(())
}
