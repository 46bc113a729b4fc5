//! The storage measurement, shared by its two halves: what the client
//! does and how it reports it.
//!
//! * `blk-bench` is a client of the isolated `virtio-blk` driver: every
//!   request goes through the control region's queues, with a notification
//!   each way between the two address spaces.
//! * `blk-bench-linked` holds the device itself and runs the same driver
//!   logic ([`paddock_virtio_blk_driver::Service`]) in its own thread of
//!   control: the client's wait for the driver runs the service instead,
//!   and sleeps only for the device's interrupt.
//!
//! Both run [`run`] over a [`BlockClient`], so the client's code (the
//! block protocol's client, its copies in and out of the data window,
//! embedded-sdmmc, SHA-256) is the same in both; only what lies between
//! the client and the device differs. Each phase is timed with the
//! time-stamp counter around the calls that move data (under QEMU's
//! `-icount shift=0` a tick is one guest instruction; without it, the
//! host's TSC, whose rate the root task prints at boot):
//!
//! 1. `fat`: read `DATA.BIN` from the FAT volume through embedded-sdmmc
//!    (over [`SdmmcDevice`] with a read-ahead cache, unless `lines` is 0)
//!    and hash it with SHA-256, timed from opening the file to the
//!    digest, with the reads and the hashing also counted apart;
//! 2. `write`: write `mib` MiB of a pseudo-random pattern to the last
//!    `mib` MiB of the disk with [`BlockClient::write`], `call_kib` KiB a
//!    call (the pattern is made outside the timed calls);
//! 3. `read`: read them back with [`BlockClient::read`] and check them
//!    (the check is outside the timed calls).
//!
//! The raw phases run after the file was read and write the end of the
//! disk, which on a fresh volume holding only a 16 MiB `DATA.BIN` of
//! 64 MiB is free clusters; the disk is made anew for every run anyway.
//!
//! Each phase prints one line for the host to parse:
//! `result variant=<v> phase=<p> bytes=<n> ticks=<t> ...`, then
//! `done`.
//!
//! # Why a spinning component
//!
//! With `-icount shift=0,sleep=off` a halted guest's clock jumps to its
//! next timer deadline. seL4's idle thread executes `hlt`, so while every
//! thread waits for the disk the counted "instructions" would depend on
//! where the kernel's timer deadlines fell. `idle-spin`, at the lowest
//! priority, runs whenever nothing else can: the guest never halts and a
//! wait for the host's disk costs instructions, as Linux's `idle=poll`
//! does in the peer measurement (docs/benchmarks.md). It spins on `pause`,
//! as Linux's polling idle loop does. Without `-icount` the clock follows
//! the host's and Linux keeps its default idle, so there `idle-spin` is
//! told to block (`spin = 0`) and seL4's idle thread halts as usual.
//!
//! Those instructions depend on how long the host takes to do the disk's
//! work, which varies from run to run. `idle-spin` counts its turns of
//! the loop (each exactly [`IDLE_LOOP_INSTRUCTIONS`]) in a page it shares
//! with the client, `idle-count`; each phase reports the turns taken
//! during its timed calls (`idle_loops`), so the host can give the
//! instructions both with the idle loop's (as Linux's `idle=poll`
//! figures are) and without them.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

use paddock_blk::embedded_sdmmc::{self, Mode, TimeSource, Timestamp, VolumeIdx, VolumeManager};
use paddock_blk::{BlockClient, BlockError, DriverSignal, ReadAhead, SdmmcDevice};
use paddock_component_support::tsc;
use paddock_runtime::{log, Component};
use sha2::{Digest, Sha256};

/// The shared region where `idle-spin` counts its turns of the loop.
pub const IDLE_COUNT: &str = "shared.idle-count";
/// Instructions of one turn of `idle-spin`'s loop.
pub const IDLE_LOOP_INSTRUCTIONS: u64 = 3;

/// The file the `fat` phase reads.
pub const FILE: &str = "DATA.BIN";
/// The heap region the planner maps (`heap_size` in the description).
pub const HEAP: &str = "heap";
/// Bytes the `fat` phase hands embedded-sdmmc per read call.
const FILE_CHUNK: usize = 32 * 1024;
const KIB: usize = 1024;
const MIB: u64 = 1024 * 1024;

/// What to measure, from the component's `params` (defaults in brackets).
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// MiB the raw phases write and read [16].
    pub mib: u64,
    /// KiB per `BlockClient` call in the raw phases [1024].
    pub call_kib: usize,
    /// Read-ahead lines of the `fat` phase [3] (0: none, one request per
    /// block embedded-sdmmc reads) and KiB each [256].
    pub lines: usize,
    pub line_kib: usize,
    /// Which phases run: `fat` [1], `raw` (write then read) [1].
    pub fat: bool,
    pub raw: bool,
}

impl Params {
    pub fn of(c: &Component) -> Self {
        let p = |name, default: u64| c.param(name).unwrap_or(default);
        Self {
            mib: p("mib", 16),
            call_kib: p("call_kib", 1024) as usize,
            lines: p("lines", 3) as usize,
            line_kib: p("line_kib", 256) as usize,
            fat: p("fat", 1) != 0,
            raw: p("raw", 1) != 0,
        }
    }
}

/// The client's buffers, carved from the heap region.
pub struct Buffers {
    /// The raw phases' buffer: one call's data.
    pub io: &'static mut [u8],
    /// The read-ahead lines.
    pub lines: &'static mut [u8],
    /// What embedded-sdmmc copies the file into.
    pub file: &'static mut [u8],
}

/// The heap region as bytes: `reserve` bytes at its start (rounded up to
/// whole pages) and the rest. Call it once: the two are the component's
/// only views of the heap.
pub fn heap(
    c: &Component,
    reserve: usize,
) -> Result<(&'static mut [u8], &'static mut [u8]), &'static str> {
    let region = c.region(HEAP).map_err(|_| "no heap region")?;
    let len = usize::try_from(region.size).map_err(|_| "a heap larger than the address space")?;
    let reserve = reserve.next_multiple_of(4096);
    if reserve > len {
        return Err("the heap is smaller than the memory reserved in it");
    }
    // SAFETY: the root task mapped the heap region read-write for the
    // component's life; this is the only view of it made in this
    // component, and nothing outside the component maps it.
    let heap = unsafe { core::slice::from_raw_parts_mut(region.vaddr as *mut u8, len) };
    Ok(heap.split_at_mut(reserve))
}

impl Buffers {
    /// The buffers `params` needs, from `heap`.
    pub fn carve(heap: &'static mut [u8], params: &Params) -> Result<Self, &'static str> {
        let io = params.call_kib.saturating_mul(KIB);
        let lines = params
            .lines
            .saturating_mul(params.line_kib)
            .saturating_mul(KIB);
        if io == 0 || io.saturating_add(lines).saturating_add(FILE_CHUNK) > heap.len() {
            return Err("the heap is too small for the buffers the params ask for (heap_size)");
        }
        let (io, rest) = heap.split_at_mut(io);
        let (lines, rest) = rest.split_at_mut(lines);
        let (file, _) = rest.split_at_mut(FILE_CHUNK);
        Ok(Self { io, lines, file })
    }
}

/// `idle-spin`'s count of turns, if the plan shares it with this
/// component; 0 otherwise.
#[derive(Clone, Copy)]
pub struct IdleCount(Option<&'static AtomicU64>);

impl IdleCount {
    pub fn of(c: &Component) -> Self {
        let count = c.region(IDLE_COUNT).ok().map(|region| {
            // SAFETY: the root task mapped the region for the component's
            // life, page aligned, so its first 8 bytes are an aligned u64;
            // `idle-spin` writes it, and this component only reads it,
            // atomically.
            unsafe { AtomicU64::from_ptr(region.vaddr as *mut u64) }
        });
        Self(count)
    }

    pub fn read(&self) -> u64 {
        self.0.map_or(0, |count| count.load(Ordering::Relaxed))
    }

    pub fn present(&self) -> bool {
        self.0.is_some()
    }
}

/// A point in time: the TSC and the idle loop's count.
#[derive(Clone, Copy)]
struct Mark {
    tsc: u64,
    idle: u64,
}

impl Mark {
    fn now(idle: &IdleCount) -> Self {
        let idle = idle.read();
        Self {
            tsc: tsc::read(),
            idle,
        }
    }

    /// Ticks and idle turns since this mark.
    fn elapsed(&self, idle: &IdleCount) -> Span {
        let tsc = tsc::read();
        Span {
            ticks: tsc - self.tsc,
            idle: idle.read().wrapping_sub(self.idle),
        }
    }
}

/// TSC ticks and the idle loop's turns meanwhile, summed over timed calls.
#[derive(Clone, Copy, Default)]
struct Span {
    ticks: u64,
    idle: u64,
}

impl core::ops::AddAssign for Span {
    fn add_assign(&mut self, other: Span) {
        self.ticks += other.ticks;
        self.idle += other.idle;
    }
}

/// No real-time clock: nothing is written through the file system.
struct NoClock;

impl TimeSource for NoClock {
    fn get_timestamp(&self) -> Timestamp {
        Timestamp {
            year_since_1970: 56,
            zero_indexed_month: 0,
            zero_indexed_day: 0,
            hours: 0,
            minutes: 0,
            seconds: 0,
        }
    }
}

/// A SHA-256 digest in hex.
struct Hex([u8; 32]);

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// What stopped a phase.
pub enum Failure {
    Block(BlockError),
    Fat(embedded_sdmmc::Error<BlockError>),
    Setup(&'static str),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Block(e) => write!(f, "the block device: {e}"),
            Failure::Fat(e) => write!(f, "the FAT volume: {e:?}"),
            Failure::Setup(e) => f.write_str(e),
        }
    }
}

impl From<embedded_sdmmc::Error<BlockError>> for Failure {
    fn from(e: embedded_sdmmc::Error<BlockError>) -> Self {
        Failure::Fat(e)
    }
}

impl From<BlockError> for Failure {
    fn from(e: BlockError) -> Self {
        Failure::Block(e)
    }
}

/// The pattern's 8 bytes at `word` of the raw region: splitmix64, so a
/// block written to or read from the wrong place shows.
fn pattern(word: u64) -> u64 {
    let mut z = word
        .wrapping_add(0x5041_4444_4f43_4b21)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn fill(buf: &mut [u8], first_word: u64) {
    for (i, word) in buf.chunks_exact_mut(8).enumerate() {
        word.copy_from_slice(&pattern(first_word + i as u64).to_le_bytes());
    }
}

/// Blocks of `buf` (512 bytes each) that differ from the pattern.
fn wrong_blocks(buf: &[u8], first_word: u64) -> u64 {
    buf.chunks_exact(512)
        .enumerate()
        .filter(|(b, block)| {
            block
                .chunks_exact(8)
                .enumerate()
                .any(|(i, word)| word != pattern(first_word + (*b * 64 + i) as u64).to_le_bytes())
        })
        .count() as u64
}

/// `ticks / KiB` with one decimal, for the human line.
struct PerKib(u64, u64);

impl fmt::Display for PerKib {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenths = self.0 * 10 / (self.1 / 1024).max(1);
        write!(f, "{}.{}", tenths / 10, tenths % 10)
    }
}

/// Runs the phases `params` asks for over `client`; returns the client
/// for the caller's own report.
pub fn run<S: DriverSignal>(
    variant: &str,
    client: BlockClient<'static, S>,
    buffers: Buffers,
    params: &Params,
    idle: &IdleCount,
) -> Result<BlockClient<'static, S>, Failure> {
    let g = *client.geometry();
    log!(
        "{variant}: disk of {} blocks of {} bytes; {} requests of up to {} blocks in flight; {}",
        g.capacity_blocks,
        g.block_size,
        client.ids_in_use(),
        client.chunk_blocks(),
        if idle.present() {
            "the idle loop's turns are counted"
        } else {
            "no idle count (no `idle-count` region)"
        }
    );
    let Buffers { io, lines, file } = buffers;
    let mut client = client;
    if params.fat {
        client = fat(variant, client, lines, file, params, idle)?;
    }
    if params.raw {
        raw(variant, &mut client, io, params, idle)?;
    }
    Ok(client)
}

/// Reads and hashes [`FILE`] through embedded-sdmmc.
fn fat<S: DriverSignal>(
    variant: &str,
    client: BlockClient<'static, S>,
    lines: &'static mut [u8],
    buf: &mut [u8],
    params: &Params,
    idle: &IdleCount,
) -> Result<BlockClient<'static, S>, Failure> {
    let device = if params.lines == 0 {
        SdmmcDevice::new(client)?
    } else {
        let cache = ReadAhead::new(lines, params.lines).ok_or(Failure::Setup(
            "no read-ahead lines of that shape (lines, line_kib)",
        ))?;
        SdmmcDevice::with_read_ahead(client, cache)?
    };
    let volumes: VolumeManager<_, _, 4, 4, 1> = VolumeManager::new(device, NoClock);
    {
        let volume = volumes.open_volume(VolumeIdx(0))?;
        let root = volume.open_root_dir()?;
        let start = Mark::now(idle);
        match root.open_file_in_dir(FILE, Mode::ReadOnly) {
            Ok(file) => {
                let mut hash = Sha256::new();
                let (mut reading, mut hashing) = (Span::default(), Span::default());
                let mut bytes = 0u64;
                loop {
                    let mark = Mark::now(idle);
                    let n = file.read(buf)?;
                    reading += mark.elapsed(idle);
                    if n == 0 {
                        break;
                    }
                    let mark = Mark::now(idle);
                    hash.update(&buf[..n]);
                    hashing += mark.elapsed(idle);
                    bytes += n as u64;
                }
                let digest = Hex(hash.finalize().into());
                file.close()?;
                let all = start.elapsed(idle);
                let stats = volumes
                    .device(|d| d.read_ahead_stats())
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                log!(
                    "result variant={variant} phase=fat file={FILE} bytes={bytes} ticks={} idle_loops={} read_ticks={} read_idle_loops={} hash_ticks={} hash_idle_loops={} idle_loop_instructions={IDLE_LOOP_INSTRUCTIONS} sha256={digest} line_kib={} lines={} fetches={} fetched_blocks={} hits={} direct={}",
                    all.ticks,
                    all.idle,
                    reading.ticks,
                    reading.idle,
                    hashing.ticks,
                    hashing.idle,
                    params.line_kib,
                    params.lines,
                    stats.fetches,
                    stats.fetched_blocks,
                    stats.hits,
                    stats.direct
                );
                log!(
                    "{variant}: read and SHA-256 of {FILE}, {bytes} bytes: {} ticks, {} per KiB ({} reading, {} hashing)",
                    all.ticks,
                    PerKib(all.ticks, bytes),
                    PerKib(reading.ticks, bytes),
                    PerKib(hashing.ticks, bytes)
                );
            }
            Err(embedded_sdmmc::Error::NotFound) => {
                log!("result variant={variant} phase=fat file={FILE} missing=1");
                log!("{variant}: no {FILE} on the volume (tools/bench-storage makes one): the fat phase is skipped");
            }
            Err(e) => return Err(e.into()),
        }
        root.close()?;
        volume.close()?;
    }
    let (device, _) = volumes.free();
    Ok(device.into_inner())
}

/// Writes, then reads and checks, the last `mib` MiB of the disk.
fn raw<S: DriverSignal>(
    variant: &str,
    client: &mut BlockClient<'static, S>,
    buf: &mut [u8],
    params: &Params,
    idle: &IdleCount,
) -> Result<(), Failure> {
    let block_size = u64::from(client.geometry().block_size);
    let bytes = params
        .mib
        .checked_mul(MIB)
        .ok_or(Failure::Setup("parameter `mib` is too large"))?;
    let blocks = bytes / block_size;
    let capacity = client.geometry().capacity_blocks;
    if blocks == 0 || blocks > capacity || !(buf.len() as u64).is_multiple_of(block_size) {
        return Err(Failure::Setup(
            "the raw region does not fit the disk (mib, call_kib)",
        ));
    }
    let first = capacity - blocks;
    let call_blocks = buf.len() as u64 / block_size;
    let words_per_block = block_size / 8;

    let (mut spent, mut calls) = (Span::default(), 0u64);
    let mut block = 0;
    while block < blocks {
        let n = call_blocks.min(blocks - block);
        let part = &mut buf[..(n * block_size) as usize];
        fill(part, block * words_per_block);
        let mark = Mark::now(idle);
        client.write(first + block, part)?;
        spent += mark.elapsed(idle);
        calls += 1;
        block += n;
    }
    log!(
        "result variant={variant} phase=write bytes={bytes} ticks={} idle_loops={} idle_loop_instructions={IDLE_LOOP_INSTRUCTIONS} calls={calls} first_block={first} call_kib={}",
        spent.ticks,
        spent.idle,
        params.call_kib
    );
    log!(
        "{variant}: wrote {bytes} bytes: {} ticks, {} per KiB",
        spent.ticks,
        PerKib(spent.ticks, bytes)
    );

    let (mut spent, mut calls, mut wrong) = (Span::default(), 0u64, 0u64);
    let mut block = 0;
    while block < blocks {
        let n = call_blocks.min(blocks - block);
        let part = &mut buf[..(n * block_size) as usize];
        part.fill(0);
        let mark = Mark::now(idle);
        client.read(first + block, part)?;
        spent += mark.elapsed(idle);
        calls += 1;
        wrong += wrong_blocks(part, block * words_per_block);
        block += n;
    }
    log!(
        "result variant={variant} phase=read bytes={bytes} ticks={} idle_loops={} idle_loop_instructions={IDLE_LOOP_INSTRUCTIONS} calls={calls} first_block={first} call_kib={} wrong_blocks={wrong}",
        spent.ticks,
        spent.idle,
        params.call_kib
    );
    log!(
        "{variant}: read {bytes} bytes: {} ticks, {} per KiB{}",
        spent.ticks,
        PerKib(spent.ticks, bytes),
        if wrong == 0 {
            ", all as written"
        } else {
            ", SOME NOT AS WRITTEN"
        }
    );
    Ok(())
}

/// Logs a failure and parks: the host's timeout ends the run.
pub fn stop(c: &Component, what: &dyn fmt::Display) -> ! {
    log!("stopped: {what}");
    loop {
        let _ = c.wait();
    }
}
