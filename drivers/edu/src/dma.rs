//! DMA requests, checked before any register is written.

use crate::error::Error;
use crate::regs::{dma, DMA_BUFFER, DMA_USABLE};

/// The device's default DMA mask: QEMU's `edu` addresses 28 bits (256 MiB)
/// unless started with `dma_mask=`.
pub const DEFAULT_DMA_MASK: u64 = (1 << 28) - 1;

/// Which way bytes move.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Direction {
    /// From host memory (a bus address) into the device buffer.
    ToDevice,
    /// From the device buffer to host memory (a bus address).
    ToHost,
}

/// One transfer between a bus address (an IOVA when an IOMMU translates)
/// and the device's 4 KiB buffer. Only constructible through
/// [`DmaRequest::new`], so every value in circulation is in bounds for the
/// device buffer and does not wrap the bus address space.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DmaRequest {
    direction: Direction,
    iova: u64,
    device_offset: u32,
    len: u32,
}

impl DmaRequest {
    /// A transfer of `len` bytes between bus address `iova` and
    /// `device_offset` in the device buffer. `len` is 1..=4095 and the
    /// device range must lie inside the usable buffer ([`DMA_USABLE`]).
    pub fn new(
        direction: Direction,
        iova: u64,
        device_offset: u32,
        len: u32,
    ) -> Result<Self, Error> {
        if len == 0 {
            return Err(Error::EmptyTransfer);
        }
        if len > DMA_USABLE {
            return Err(Error::TooLong { len });
        }
        if device_offset
            .checked_add(len)
            .is_none_or(|end| end > DMA_USABLE)
        {
            return Err(Error::OutsideDeviceBuffer {
                offset: device_offset,
                len,
            });
        }
        if iova.checked_add(u64::from(len)).is_none() {
            return Err(Error::BusRange { iova, len });
        }
        Ok(Self {
            direction,
            iova,
            device_offset,
            len,
        })
    }

    /// Direction.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// First bus address.
    pub fn iova(&self) -> u64 {
        self.iova
    }

    /// Offset in the device buffer.
    pub fn device_offset(&self) -> u32 {
        self.device_offset
    }

    /// Bytes.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Never true: requests carry at least one byte. Present for
    /// symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether the whole bus range is addressable under `mask`.
    pub fn fits_mask(&self, mask: u64) -> bool {
        // `new` ruled out wrapping, so the last byte is `iova + len - 1`.
        let last = self.iova + u64::from(self.len) - 1;
        last & !mask == 0
    }

    /// The device buffer as the DMA registers name it.
    fn device_address(&self) -> u64 {
        DMA_BUFFER + u64::from(self.device_offset)
    }

    /// Value for the source register.
    pub fn source(&self) -> u64 {
        match self.direction {
            Direction::ToDevice => self.iova,
            Direction::ToHost => self.device_address(),
        }
    }

    /// Value for the destination register.
    pub fn destination(&self) -> u64 {
        match self.direction {
            Direction::ToDevice => self.device_address(),
            Direction::ToHost => self.iova,
        }
    }

    /// Value for the command register, starting the transfer with an
    /// interrupt on completion.
    pub fn command(&self) -> u64 {
        let dir = match self.direction {
            Direction::ToDevice => 0,
            Direction::ToHost => dma::TO_HOST,
        };
        dma::START | dir | dma::IRQ_ON_DONE
    }
}

/// A declared DMA window: the bus addresses the IOMMU lets the device
/// reach for one purpose. Turns a client's (offset, length) into a bus
/// address without trusting either.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BusWindow {
    /// First bus address.
    pub iova: u64,
    /// Bytes.
    pub size: u64,
}

impl BusWindow {
    /// The bus address of `len` bytes at `offset` into the window, if
    /// they lie wholly inside it.
    pub fn address(&self, offset: u64, len: u64) -> Result<u64, Error> {
        match offset.checked_add(len) {
            Some(end) if end <= self.size => self
                .iova
                .checked_add(offset)
                .ok_or(Error::OutsideWindow { offset, len }),
            _ => Err(Error::OutsideWindow { offset, len }),
        }
    }
}
