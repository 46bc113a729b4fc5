//! embedded-sdmmc's [`BlockDevice`] over a [`BlockClient`], so its
//! `VolumeManager` reads and writes FAT volumes through an isolated driver.
//!
//! `BlockDevice` takes `&self` (the volume manager shares the device), and
//! the client needs `&mut self` for its queues, so the client sits in a
//! `RefCell`. The trait's methods never call each other, so the cell is
//! never borrowed twice; if it were, the call fails with
//! [`BlockError::Busy`] instead of panicking.
//!
//! # Read-ahead
//!
//! embedded-sdmmc reads a file one 512-byte block per
//! [`BlockDevice::read`] call, and on a volume of one-block clusters it
//! reads the FAT block that links each cluster in between (its own cache
//! holds a single block). Over the block protocol every call is a round
//! trip to the driver. [`SdmmcDevice::with_read_ahead`] gives the adapter
//! a few cache lines ([`ReadAhead`]) in memory of the caller's: a read of
//! fewer blocks than a line that no line holds fetches a whole line from
//! its first block in one call of the plain API (large requests, pipelined
//! over the queue depth), and later reads inside that line are copies. So
//! a sequential file read moves about one request per line of data, and
//! the FAT blocks, which lie elsewhere, keep a line of their own (lines are
//! replaced least recently used first).
//!
//! The cache never answers what the device would not:
//! - writes go to the device first (write-through); once it has them, the
//!   blocks a line holds are updated; if it fails, the lines those blocks
//!   fall in are dropped, since what the device stored is unknown;
//! - a fetch that fails is dropped, and the blocks asked for are read as
//!   without a cache, so an error reaches embedded-sdmmc exactly as it
//!   would without one (the first block not done, for that read);
//! - reads of a line or more go to the device directly;
//! - [`SdmmcDevice::with_client`] empties the cache first, since the
//!   caller may write through the plain API.

use core::cell::RefCell;

use embedded_sdmmc::{Block, BlockCount, BlockDevice, BlockIdx};

use crate::client::{BlockClient, Data, DriverSignal, Sink, Source};
use crate::error::BlockError;
use crate::record::Op;
use crate::window::DataWindow;

/// Lines a [`ReadAhead`] has at most.
pub const MAX_READ_AHEAD_LINES: usize = 8;

/// A [`BlockClient`] as an embedded-sdmmc [`BlockDevice`]. The device's
/// blocks must be 512 bytes, embedded-sdmmc's only size.
pub struct SdmmcDevice<'a, S> {
    inner: RefCell<Inner<'a, S>>,
}

struct Inner<'a, S> {
    client: BlockClient<'a, S>,
    cache: Option<ReadAhead<'a>>,
}

/// One line: blocks `start..start + count` of the device, at
/// `index * line_blocks` blocks into the buffer. `count == 0` is empty.
#[derive(Clone, Copy, Debug, Default)]
struct Line {
    start: u64,
    count: u32,
    /// When it last answered a read: the least recent is replaced.
    used: u64,
}

impl Line {
    fn holds(&self, start: u64, count: u64) -> bool {
        self.count > 0 && start >= self.start && start + count <= self.start + u64::from(self.count)
    }

    /// The blocks of `start..start + count` this line holds, as (first
    /// index into the line, first index into the range, how many).
    fn overlap(&self, start: u64, count: u64) -> Option<(usize, usize, usize)> {
        let end = self.start + u64::from(self.count);
        let from = start.max(self.start);
        let to = (start + count).min(end);
        (self.count > 0 && from < to).then(|| {
            (
                (from - self.start) as usize,
                (from - start) as usize,
                (to - from) as usize,
            )
        })
    }
}

/// Counters of a [`ReadAhead`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadAheadStats {
    /// Reads answered from a line.
    pub hits: u64,
    /// Lines fetched from the device.
    pub fetches: u64,
    /// Blocks fetched into lines.
    pub fetched_blocks: u64,
    /// Reads of a line or more, sent to the device directly.
    pub direct: u64,
    /// Fetches that failed (the read was then sent as asked).
    pub failed_fetches: u64,
}

/// Read-ahead cache lines for [`SdmmcDevice::with_read_ahead`], in memory
/// the caller provides.
pub struct ReadAhead<'a> {
    buf: &'a mut [u8],
    line_blocks: u32,
    lines: [Line; MAX_READ_AHEAD_LINES],
    line_count: usize,
    clock: u64,
    stats: ReadAheadStats,
}

impl<'a> ReadAhead<'a> {
    /// `lines` lines (1..=[`MAX_READ_AHEAD_LINES`]) sharing `buf` equally,
    /// each a whole number of 512-byte blocks. `None` if a line would hold
    /// fewer than two blocks (it could not read ahead) or `lines` is out
    /// of range.
    pub fn new(buf: &'a mut [u8], lines: usize) -> Option<Self> {
        if !(1..=MAX_READ_AHEAD_LINES).contains(&lines) {
            return None;
        }
        let line_blocks = u32::try_from(buf.len() / lines / Block::LEN).ok()?;
        if line_blocks < 2 {
            return None;
        }
        Some(Self {
            buf,
            line_blocks,
            lines: [Line::default(); MAX_READ_AHEAD_LINES],
            line_count: lines,
            clock: 0,
            stats: ReadAheadStats::default(),
        })
    }

    /// Blocks per line.
    pub fn line_blocks(&self) -> u32 {
        self.line_blocks
    }

    /// Lines.
    pub fn lines(&self) -> usize {
        self.line_count
    }

    /// What the cache has done so far.
    pub fn stats(&self) -> ReadAheadStats {
        self.stats
    }

    fn line_bytes(&self, index: usize) -> core::ops::Range<usize> {
        let len = self.line_blocks as usize * Block::LEN;
        index * len..(index + 1) * len
    }

    /// Copies `blocks` from the line that holds them all, if one does.
    #[inline]
    fn lookup(&mut self, start: u64, blocks: &mut [Block]) -> bool {
        let count = blocks.len() as u64;
        let Some(index) = (0..self.line_count).find(|&i| self.lines[i].holds(start, count)) else {
            return false;
        };
        self.serve(index, start, blocks);
        self.stats.hits += 1;
        true
    }

    /// Copies `blocks` from line `index`, which holds them, and marks it
    /// used.
    fn serve(&mut self, index: usize, start: u64, blocks: &mut [Block]) {
        self.clock += 1;
        let line = &mut self.lines[index];
        line.used = self.clock;
        let first = (start - line.start) as usize;
        let range = self.line_bytes(index);
        let bytes = &self.buf[range][first * Block::LEN..];
        for (block, src) in blocks.iter_mut().zip(bytes.chunks_exact(Block::LEN)) {
            block.contents.copy_from_slice(src);
        }
    }

    /// The line to fill next: an empty one, else the least recently used.
    fn victim(&self) -> usize {
        (0..self.line_count)
            .min_by_key(|&i| (self.lines[i].count != 0, self.lines[i].used))
            .unwrap_or(0)
    }

    /// Blocks `start..start + count` were written: update the lines that
    /// hold any of them.
    fn written(&mut self, start: u64, blocks: &[Block]) {
        for index in 0..self.line_count {
            let Some((at, from, n)) = self.lines[index].overlap(start, blocks.len() as u64) else {
                continue;
            };
            let range = self.line_bytes(index);
            let line = &mut self.buf[range][at * Block::LEN..(at + n) * Block::LEN];
            for (dst, block) in line
                .chunks_exact_mut(Block::LEN)
                .zip(&blocks[from..from + n])
            {
                dst.copy_from_slice(&block.contents);
            }
        }
    }

    /// Drops the lines that hold any of `start..start + count`.
    fn forget(&mut self, start: u64, count: u64) {
        for line in &mut self.lines[..self.line_count] {
            if line.overlap(start, count).is_some() {
                line.count = 0;
            }
        }
    }

    fn clear(&mut self) {
        for line in &mut self.lines {
            line.count = 0;
        }
    }
}

impl<'a, S: DriverSignal> SdmmcDevice<'a, S> {
    /// Wraps `client`; fails if the device's blocks are not 512 bytes.
    pub fn new(client: BlockClient<'a, S>) -> Result<Self, BlockError> {
        Self::build(client, None)
    }

    /// Wraps `client` with a read-ahead cache (module docs).
    pub fn with_read_ahead(
        client: BlockClient<'a, S>,
        cache: ReadAhead<'a>,
    ) -> Result<Self, BlockError> {
        Self::build(client, Some(cache))
    }

    fn build(client: BlockClient<'a, S>, cache: Option<ReadAhead<'a>>) -> Result<Self, BlockError> {
        let block_size = client.geometry().block_size;
        if block_size as usize != Block::LEN {
            return Err(BlockError::BlockSizeNot512 { block_size });
        }
        Ok(Self {
            inner: RefCell::new(Inner { client, cache }),
        })
    }

    /// The client back.
    pub fn into_inner(self) -> BlockClient<'a, S> {
        self.inner.into_inner().client
    }

    /// Runs `f` on the client (plain block API, statistics, test hooks).
    /// The read-ahead cache is emptied first: `f` may write.
    pub fn with_client<R>(
        &self,
        f: impl FnOnce(&mut BlockClient<'a, S>) -> R,
    ) -> Result<R, BlockError> {
        let mut inner = self.inner.try_borrow_mut().map_err(|_| BlockError::Busy)?;
        if let Some(cache) = &mut inner.cache {
            cache.clear();
        }
        Ok(f(&mut inner.client))
    }

    /// The read-ahead cache's counters, if it has one.
    pub fn read_ahead_stats(&self) -> Result<Option<ReadAheadStats>, BlockError> {
        let inner = self.inner.try_borrow().map_err(|_| BlockError::Busy)?;
        Ok(inner.cache.as_ref().map(ReadAhead::stats))
    }
}

/// embedded-sdmmc's blocks to write.
struct WriteBlocks<'b>(&'b [Block]);

/// embedded-sdmmc's blocks to read into.
struct ReadBlocks<'b>(&'b mut [Block]);

impl Source for WriteBlocks<'_> {
    fn fill_window(&self, first: usize, count: usize, window: &DataWindow<'_>, offset: usize) {
        let blocks = self.0.get(first..first + count).unwrap_or(&[]);
        for (i, block) in blocks.iter().enumerate() {
            let copied = window.copy_in(offset + i * Block::LEN, &block.contents);
            debug_assert!(copied, "chunks are cut inside the window");
        }
    }
}

impl Sink for ReadBlocks<'_> {
    fn drain_window(&mut self, first: usize, count: usize, window: &DataWindow<'_>, offset: usize) {
        let blocks = self.0.get_mut(first..first + count).unwrap_or(&mut []);
        for (i, block) in blocks.iter_mut().enumerate() {
            let copied = window.copy_out(offset + i * Block::LEN, &mut block.contents);
            debug_assert!(copied, "chunks are cut inside the window");
        }
    }
}

/// Reads `blocks` from `start` as asked, without the cache.
fn read_direct<S: DriverSignal>(
    client: &mut BlockClient<'_, S>,
    blocks: &mut [Block],
    start: u64,
) -> Result<(), BlockError> {
    let count = blocks.len() as u64;
    let mut sink = ReadBlocks(blocks);
    client.transfer(Op::Read, start, count, Data::Read(&mut sink))
}

impl<S: DriverSignal> Inner<'_, S> {
    /// A read: from a line if one holds it (the common case, kept small
    /// enough to inline into the caller), else [`Self::miss`].
    #[inline]
    fn read(&mut self, blocks: &mut [Block], start: u64) -> Result<(), BlockError> {
        if let Some(cache) = &mut self.cache {
            if blocks.is_empty() || cache.lookup(start, blocks) {
                return Ok(());
            }
        }
        self.miss(blocks, start)
    }

    /// A read no line holds: fetched into a line, or sent as asked.
    #[inline(never)]
    fn miss(&mut self, blocks: &mut [Block], start: u64) -> Result<(), BlockError> {
        let count = blocks.len() as u64;
        let capacity = self.client.geometry().capacity_blocks;
        let Some(cache) = &mut self.cache else {
            return read_direct(&mut self.client, blocks, start);
        };
        let in_range = start.checked_add(count).is_some_and(|end| end <= capacity);
        if count >= u64::from(cache.line_blocks) || !in_range {
            cache.stats.direct += 1;
            return read_direct(&mut self.client, blocks, start);
        }
        // Fetch a line from `start`: the line's length, or up to the end
        // of the device, which still covers the blocks asked for.
        let index = cache.victim();
        let fetch = u64::from(cache.line_blocks).min(capacity - start) as u32;
        let range = cache.line_bytes(index);
        let bytes = &mut cache.buf[range][..fetch as usize * Block::LEN];
        cache.lines[index].count = 0;
        match self.client.read(start, bytes) {
            Ok(()) => {
                cache.lines[index] = Line {
                    start,
                    count: fetch,
                    used: 0,
                };
                cache.stats.fetches += 1;
                cache.stats.fetched_blocks += u64::from(fetch);
                // `count < line_blocks` and `start + count <= capacity`:
                // the line holds every block asked for.
                cache.serve(index, start, blocks);
                Ok(())
            }
            Err(_) => {
                cache.stats.failed_fetches += 1;
                read_direct(&mut self.client, blocks, start)
            }
        }
    }

    fn write(&mut self, blocks: &[Block], start: u64) -> Result<(), BlockError> {
        let result = self.client.transfer(
            Op::Write,
            start,
            blocks.len() as u64,
            Data::Write(&WriteBlocks(blocks)),
        );
        if let Some(cache) = &mut self.cache {
            match result {
                Ok(()) => cache.written(start, blocks),
                Err(_) => cache.forget(start, blocks.len() as u64),
            }
        }
        result
    }
}

impl<S: DriverSignal> BlockDevice for SdmmcDevice<'_, S> {
    type Error = BlockError;

    #[inline]
    fn read(&self, blocks: &mut [Block], start_block_idx: BlockIdx) -> Result<(), BlockError> {
        let mut inner = self.inner.try_borrow_mut().map_err(|_| BlockError::Busy)?;
        inner.read(blocks, u64::from(start_block_idx.0))
    }

    fn write(&self, blocks: &[Block], start_block_idx: BlockIdx) -> Result<(), BlockError> {
        let mut inner = self.inner.try_borrow_mut().map_err(|_| BlockError::Busy)?;
        inner.write(blocks, u64::from(start_block_idx.0))
    }

    /// The capacity, capped at `u32::MAX` blocks: embedded-sdmmc addresses
    /// blocks with `u32` (2 TiB), and an MBR partition lies below that.
    fn num_blocks(&self) -> Result<BlockCount, BlockError> {
        let inner = self.inner.try_borrow().map_err(|_| BlockError::Busy)?;
        let capacity = inner.client.geometry().capacity_blocks;
        Ok(BlockCount(u32::try_from(capacity).unwrap_or(u32::MAX)))
    }
}
