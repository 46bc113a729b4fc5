//! The data region: `buffers` buffers of `buf_size` bytes, and the checks
//! that turn a peer's descriptor into a buffer this side may touch.
//!
//! The region's bytes are `AtomicU8`s: the peer may write them at any time
//! (it is another address space, or, in host tests, another thread), and
//! relaxed atomic accesses make that a race on values, never undefined
//! behaviour, and keep the compiler from assuming a byte read twice is the
//! same. Copies move whole words where they can ([`copy`](crate::copy)). Ordering comes from the queues: a buffer's bytes are written before
//! its descriptor is published (P-REL-TAIL) and read after it is popped
//! (C-ACQ-TAIL).
//!
//! A party that only moves buffers by DMA (a driver that hands the device
//! an IO address plus a buffer's offset, and never maps the client's data)
//! describes the region by shape alone with [`DataRegion::unmapped`]: every
//! descriptor check is the same, and there are no bytes to copy.

use core::sync::atomic::AtomicU8;

use crate::copy::{copy_in, copy_out};

use crate::error::{LayoutError, PeerError};
use crate::layout::{check_data_region, DATA_ALIGN};
use crate::queue::Descriptor;

/// A data region cut into equal buffers: mapped (its bytes in this address
/// space), or known by shape only ([`unmapped`](Self::unmapped)).
#[derive(Clone, Copy)]
pub struct DataRegion<'a> {
    bytes: &'a [AtomicU8],
    buf_size: u32,
    buffers: u32,
}

/// A buffer of the data region that a descriptor named and that passed the
/// checks: `offset` is on a buffer boundary inside the region and
/// `len <= capacity`. Not `Clone`: one token per buffer, so honest code does
/// not hand the same buffer on twice.
#[derive(Debug, PartialEq, Eq)]
pub struct Buf {
    offset: u32,
    len: u32,
    cap: u32,
}

impl Buf {
    /// Byte offset in the data region (add it to the region's IO address to
    /// program a DMA engine).
    #[inline]
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// Bytes in use.
    #[inline]
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether no byte is in use.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the buffer can hold.
    #[inline]
    pub fn capacity(&self) -> u32 {
        self.cap
    }

    /// Whether every byte is in use.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len == self.cap
    }

    /// Sets the bytes in use, e.g. after a device wrote the buffer by DMA.
    /// Returns `false` (and changes nothing) if `len` exceeds the capacity.
    #[inline]
    pub fn set_len(&mut self, len: u32) -> bool {
        if len > self.cap {
            return false;
        }
        self.len = len;
        true
    }

    /// The descriptor naming this buffer, for the queue.
    #[inline]
    pub(crate) fn descriptor(&self) -> Descriptor {
        Descriptor {
            offset: self.offset,
            len: self.len,
        }
    }
}

impl<'a> DataRegion<'a> {
    /// A region of `buffers` buffers of `buf_size` bytes over `bytes`, which
    /// must be [`DATA_ALIGN`]-aligned and large enough.
    pub fn new(bytes: &'a [AtomicU8], buf_size: u32, buffers: u32) -> Result<Self, LayoutError> {
        check_data_region(buf_size, buffers)?;
        let addr = bytes.as_ptr() as usize;
        if !addr.is_multiple_of(DATA_ALIGN) {
            return Err(LayoutError::Misaligned { addr });
        }
        let needed = buf_size as usize * buffers as usize;
        let bytes = bytes.get(..needed).ok_or(LayoutError::TooSmall {
            needed,
            given: bytes.len(),
        })?;
        Ok(Self {
            bytes,
            buf_size,
            buffers,
        })
    }

    /// A region of `buffers` buffers of `buf_size` bytes that this side
    /// does not map: for a party that moves buffers by DMA only.
    ///
    /// Descriptors are checked exactly as for a mapped region (offset on a
    /// buffer boundary inside the region, length at most `buf_size`, and
    /// the queues' overflow check for buffers handed on twice), but there
    /// are no bytes: [`bytes`](Self::bytes) is empty, and
    /// [`append`](Self::append) and [`read`](Self::read) copy nothing and
    /// return 0. Lengths come from [`Buf::set_len`] instead.
    pub fn unmapped(buf_size: u32, buffers: u32) -> Result<Self, LayoutError> {
        check_data_region(buf_size, buffers)?;
        Ok(Self {
            bytes: &[],
            buf_size,
            buffers,
        })
    }

    /// Whether this side maps the region's bytes (`false` for
    /// [`unmapped`](Self::unmapped) regions).
    #[inline]
    pub fn is_mapped(&self) -> bool {
        !self.bytes.is_empty()
    }

    /// Bytes the region spans (`buffers * buf_size`), mapped or not.
    #[inline]
    pub fn len_bytes(&self) -> usize {
        self.buf_size as usize * self.buffers as usize
    }

    /// A region over an exclusively borrowed byte slice (host tests, or
    /// memory a component owns outright).
    pub fn from_bytes(
        bytes: &'a mut [u8],
        buf_size: u32,
        buffers: u32,
    ) -> Result<Self, LayoutError> {
        use zerocopy::FromBytes;
        let len = bytes.len();
        let atomics = <[AtomicU8]>::mut_from_bytes(bytes).map_err(|_| LayoutError::TooSmall {
            needed: len,
            given: len,
        })?;
        Self::new(atomics, buf_size, buffers)
    }

    /// Bytes per buffer.
    #[inline]
    pub fn buf_size(&self) -> u32 {
        self.buf_size
    }

    /// Number of buffers.
    #[inline]
    pub fn buffers(&self) -> u32 {
        self.buffers
    }

    /// The `index`th buffer, empty; `None` past the end.
    #[inline]
    pub(crate) fn buffer(&self, index: u32) -> Option<Buf> {
        (index < self.buffers).then(|| Buf {
            offset: index * self.buf_size,
            len: 0,
            cap: self.buf_size,
        })
    }

    /// Checks a descriptor of filled data from the peer.
    #[inline]
    pub fn check(&self, d: Descriptor) -> Result<Buf, PeerError> {
        let mut buf = self.check_offset(d.offset)?;
        if d.len > self.buf_size {
            return Err(PeerError::LengthTooLarge { len: d.len });
        }
        buf.len = d.len;
        Ok(buf)
    }

    /// Checks a descriptor of a buffer the peer gives back empty. Only the
    /// offset matters; the length the peer wrote is ignored.
    #[inline]
    pub fn check_returned(&self, d: Descriptor) -> Result<Buf, PeerError> {
        self.check_offset(d.offset)
    }

    #[inline]
    fn check_offset(&self, offset: u32) -> Result<Buf, PeerError> {
        if !offset.is_multiple_of(self.buf_size) {
            return Err(PeerError::MisalignedOffset { offset });
        }
        self.buffer(offset / self.buf_size)
            .ok_or(PeerError::OffsetOutOfRange { offset })
    }

    /// The whole capacity of `buf`, for code that works on the bytes in
    /// place. Empty if `buf` does not belong to a region of this shape, or
    /// the region is [`unmapped`](Self::unmapped).
    #[inline]
    pub fn bytes(&self, buf: &Buf) -> &'a [AtomicU8] {
        let start = buf.offset as usize;
        self.bytes
            .get(start..start + buf.cap as usize)
            .unwrap_or(&[])
    }

    /// Copies as much of `src` as fits after the bytes in use of `buf`, and
    /// grows its length; returns the bytes copied (0 for an
    /// [`unmapped`](Self::unmapped) region).
    #[inline]
    pub fn append(&self, buf: &mut Buf, src: &[u8]) -> usize {
        let dst = self.bytes(buf).get(buf.len as usize..).unwrap_or(&[]);
        let n = copy_in(dst, src);
        // `n <= cap - len`, so this fits in `u32`.
        buf.len += n as u32;
        n
    }

    /// Copies bytes in use of `buf`, from `at`, into `dst`; returns the bytes
    /// copied (0 for an [`unmapped`](Self::unmapped) region).
    #[inline]
    pub fn read(&self, buf: &Buf, at: u32, dst: &mut [u8]) -> usize {
        let src = self
            .bytes(buf)
            .get(at as usize..buf.len as usize)
            .unwrap_or(&[]);
        copy_out(dst, src)
    }
}
