//! embedded-sdmmc's [`BlockDevice`] over a [`BlockClient`], so its
//! `VolumeManager` reads and writes FAT volumes through an isolated driver.
//!
//! `BlockDevice` takes `&self` (the volume manager shares the device), and
//! the client needs `&mut self` for its queues, so the client sits in a
//! `RefCell`. The trait's methods never call each other, so the cell is
//! never borrowed twice; if it were, the call fails with
//! [`BlockError::Busy`] instead of panicking.

use core::cell::RefCell;

use embedded_sdmmc::{Block, BlockCount, BlockDevice, BlockIdx};

use crate::client::{BlockClient, Data, DriverSignal, Sink, Source};
use crate::error::BlockError;
use crate::record::Op;
use crate::window::DataWindow;

/// A [`BlockClient`] as an embedded-sdmmc [`BlockDevice`]. The device's
/// blocks must be 512 bytes, embedded-sdmmc's only size.
pub struct SdmmcDevice<'a, S> {
    client: RefCell<BlockClient<'a, S>>,
}

impl<'a, S: DriverSignal> SdmmcDevice<'a, S> {
    /// Wraps `client`; fails if the device's blocks are not 512 bytes.
    pub fn new(client: BlockClient<'a, S>) -> Result<Self, BlockError> {
        let block_size = client.geometry().block_size;
        if block_size as usize != Block::LEN {
            return Err(BlockError::BlockSizeNot512 { block_size });
        }
        Ok(Self {
            client: RefCell::new(client),
        })
    }

    /// The client back.
    pub fn into_inner(self) -> BlockClient<'a, S> {
        self.client.into_inner()
    }

    /// Runs `f` on the client (plain block API, statistics, test hooks).
    pub fn with_client<R>(
        &self,
        f: impl FnOnce(&mut BlockClient<'a, S>) -> R,
    ) -> Result<R, BlockError> {
        let mut client = self.client.try_borrow_mut().map_err(|_| BlockError::Busy)?;
        Ok(f(&mut client))
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

impl<S: DriverSignal> BlockDevice for SdmmcDevice<'_, S> {
    type Error = BlockError;

    fn read(&self, blocks: &mut [Block], start_block_idx: BlockIdx) -> Result<(), BlockError> {
        let mut client = self.client.try_borrow_mut().map_err(|_| BlockError::Busy)?;
        let count = blocks.len() as u64;
        let mut sink = ReadBlocks(blocks);
        client.transfer(
            Op::Read,
            u64::from(start_block_idx.0),
            count,
            Data::Read(&mut sink),
        )
    }

    fn write(&self, blocks: &[Block], start_block_idx: BlockIdx) -> Result<(), BlockError> {
        let mut client = self.client.try_borrow_mut().map_err(|_| BlockError::Busy)?;
        client.transfer(
            Op::Write,
            u64::from(start_block_idx.0),
            blocks.len() as u64,
            Data::Write(&WriteBlocks(blocks)),
        )
    }

    /// The capacity, capped at `u32::MAX` blocks: embedded-sdmmc addresses
    /// blocks with `u32` (2 TiB), and an MBR partition lies below that.
    fn num_blocks(&self) -> Result<BlockCount, BlockError> {
        let client = self.client.try_borrow().map_err(|_| BlockError::Busy)?;
        let capacity = client.geometry().capacity_blocks;
        Ok(BlockCount(u32::try_from(capacity).unwrap_or(u32::MAX)))
    }
}
