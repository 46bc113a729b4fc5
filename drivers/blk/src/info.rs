//! The storage-information page: what the device is, published by the
//! driver and read, checked, by the client.

use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};

use paddock_ring::LayoutError;
use zerocopy::little_endian::{U32, U64};
use zerocopy::{FromBytes, FromZeros, IntoBytes};

use crate::record::{StorageInfo, INFO_BYTES, INFO_MAGIC, INFO_VERSION};

/// Most requests a client may have in flight: ids are below this. It
/// bounds the fixed-size tables of both sides (no allocator).
pub const MAX_QUEUE_DEPTH: u32 = 256;
/// Smallest block size.
pub const MIN_BLOCK_SIZE: u32 = 512;
/// Largest block size.
pub const MAX_BLOCK_SIZE: u32 = 1 << 16;

/// The device as the protocol describes it: the checked contents of a
/// storage-information page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Blocks on the device.
    pub capacity_blocks: u64,
    /// Bytes per block: a power of two in
    /// [`MIN_BLOCK_SIZE`]`..=`[`MAX_BLOCK_SIZE`].
    pub block_size: u32,
    /// Requests in flight at once, `1..=`[`MAX_QUEUE_DEPTH`].
    pub queue_depth: u32,
    /// Most blocks per request, at least 1.
    pub max_blocks_per_request: u32,
    /// Writes and flushes are refused.
    pub read_only: bool,
}

impl Geometry {
    /// Checks the values against the protocol's limits.
    pub fn validate(&self) -> Result<(), InfoError> {
        let bs = self.block_size;
        if !bs.is_power_of_two() || !(MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&bs) {
            return Err(InfoError::BadBlockSize { found: bs });
        }
        if !(1..=MAX_QUEUE_DEPTH).contains(&self.queue_depth) {
            return Err(InfoError::BadQueueDepth {
                found: self.queue_depth,
            });
        }
        if self.max_blocks_per_request == 0 {
            return Err(InfoError::ZeroMaxBlocks);
        }
        Ok(())
    }

    /// The page the driver publishes for this geometry (with `ready` set).
    pub fn to_info(&self) -> StorageInfo {
        let mut info = StorageInfo::new_zeroed();
        info.magic = U32::new(INFO_MAGIC);
        info.version = U32::new(INFO_VERSION);
        info.ready = U32::new(1);
        info.read_only = U32::new(u32::from(self.read_only));
        info.capacity_blocks = U64::new(self.capacity_blocks);
        info.block_size = U32::new(self.block_size);
        info.queue_depth = U32::new(self.queue_depth);
        info.max_blocks_per_request = U32::new(self.max_blocks_per_request);
        info
    }

    /// Decodes and checks a page: magic, version, flags that are exactly 0
    /// or 1, and [`validate`](Self::validate).
    pub fn from_info(info: &StorageInfo) -> Result<Self, InfoError> {
        match info.ready.get() {
            0 => return Err(InfoError::NotReady),
            1 => {}
            found => return Err(InfoError::BadReadyFlag { found }),
        }
        if info.magic.get() != INFO_MAGIC {
            return Err(InfoError::BadMagic {
                found: info.magic.get(),
            });
        }
        if info.version.get() != INFO_VERSION {
            return Err(InfoError::BadVersion {
                found: info.version.get(),
            });
        }
        let read_only = match info.read_only.get() {
            0 => false,
            1 => true,
            found => return Err(InfoError::BadReadOnlyFlag { found }),
        };
        let geometry = Self {
            capacity_blocks: info.capacity_blocks.get(),
            block_size: info.block_size.get(),
            queue_depth: info.queue_depth.get(),
            max_blocks_per_request: info.max_blocks_per_request.get(),
            read_only,
        };
        geometry.validate()?;
        Ok(geometry)
    }
}

/// Why a storage-information page was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfoError {
    /// `ready` is 0: the driver has not published the page (yet). Wait for
    /// its signal and read again.
    NotReady,
    /// `ready` is neither 0 nor 1.
    BadReadyFlag {
        /// The value found.
        found: u32,
    },
    /// `magic` is not [`INFO_MAGIC`]: the memory is not an information page.
    BadMagic {
        /// The value found.
        found: u32,
    },
    /// `version` is not [`INFO_VERSION`].
    BadVersion {
        /// The value found.
        found: u32,
    },
    /// `read_only` is neither 0 nor 1.
    BadReadOnlyFlag {
        /// The value found.
        found: u32,
    },
    /// The block size is not a power of two in the allowed range.
    BadBlockSize {
        /// The value found.
        found: u32,
    },
    /// The queue depth is 0 or above [`MAX_QUEUE_DEPTH`].
    BadQueueDepth {
        /// The value found.
        found: u32,
    },
    /// The per-request maximum is 0 blocks.
    ZeroMaxBlocks,
}

impl fmt::Display for InfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NotReady => f.write_str("storage information not published yet"),
            Self::BadReadyFlag { found } => write!(f, "ready flag {found} is neither 0 nor 1"),
            Self::BadMagic { found } => {
                write!(f, "magic {found:#010x} is not {INFO_MAGIC:#010x} (`PBLK`)")
            }
            Self::BadVersion { found } => {
                write!(
                    f,
                    "layout version {found}, this client reads {INFO_VERSION}"
                )
            }
            Self::BadReadOnlyFlag { found } => {
                write!(f, "read-only flag {found} is neither 0 nor 1")
            }
            Self::BadBlockSize { found } => write!(
                f,
                "block size {found} is not a power of two in {MIN_BLOCK_SIZE}..={MAX_BLOCK_SIZE}"
            ),
            Self::BadQueueDepth { found } => {
                write!(f, "queue depth {found} not in 1..={MAX_QUEUE_DEPTH}")
            }
            Self::ZeroMaxBlocks => f.write_str("per-request maximum of 0 blocks"),
        }
    }
}

impl core::error::Error for InfoError {}

/// Words of the page.
const WORDS: usize = INFO_BYTES / 4;
/// Index of `ready` among the words.
const READY_WORD: usize = 2;

/// A view of the storage-information page in shared memory. Both sides
/// map it; only the driver writes it.
#[derive(Clone, Copy)]
pub struct InfoPage<'a> {
    words: &'a [AtomicU32; WORDS],
}

impl<'a> InfoPage<'a> {
    /// The page over the first [`INFO_BYTES`] bytes' worth of `words`.
    pub fn new(words: &'a [AtomicU32]) -> Result<Self, LayoutError> {
        let given = words.len() * 4;
        let words = words
            .get(..WORDS)
            .and_then(|w| <&[AtomicU32; WORDS]>::try_from(w).ok())
            .ok_or(LayoutError::TooSmall {
                needed: INFO_BYTES,
                given,
            })?;
        Ok(Self { words })
    }

    /// The page over the start of `bytes` (4-byte aligned, at least
    /// [`INFO_BYTES`] long). Safe: the exclusive borrow means nothing else
    /// in this address space touches it for `'a`.
    pub fn from_bytes(bytes: &'a mut [u8]) -> Result<Self, LayoutError> {
        let addr = bytes.as_ptr() as usize;
        let given = bytes.len();
        let bytes = bytes.get_mut(..INFO_BYTES).ok_or(LayoutError::TooSmall {
            needed: INFO_BYTES,
            given,
        })?;
        let words =
            <[AtomicU32]>::mut_from_bytes(bytes).map_err(|_| LayoutError::Misaligned { addr })?;
        Self::new(words)
    }

    /// Driver: writes `geometry` and then, last, sets `ready`, so a client
    /// that sees `ready` sees the rest. Signal the client afterwards.
    pub fn publish(&self, geometry: &Geometry) {
        let info = geometry.to_info();
        for (i, (bytes, word)) in info.as_bytes().chunks_exact(4).zip(self.words).enumerate() {
            if i != READY_WORD {
                // Relaxed: ordered before the ready store by I-REL-READY.
                word.store(
                    u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
                    Ordering::Relaxed,
                );
            }
        }
        // I-REL-READY. Release: pairs with I-ACQ-READY in `read`, making
        // the fields above visible to a client that sees ready.
        self.words[READY_WORD].store(1u32.to_le(), Ordering::Release);
    }

    /// Driver: clears `ready` before changing the page (re-initialising
    /// the device). A client reads the page when it attaches.
    pub fn withdraw(&self) {
        self.words[READY_WORD].store(0, Ordering::Release);
    }

    /// Client: reads and checks the page. [`InfoError::NotReady`] until the
    /// driver has published it.
    pub fn read(&self) -> Result<Geometry, InfoError> {
        // I-ACQ-READY. Acquire: pairs with I-REL-READY in `publish`.
        if self.words[READY_WORD].load(Ordering::Acquire) == 0 {
            return Err(InfoError::NotReady);
        }
        Geometry::from_info(&self.snapshot())
    }

    /// Client: like [`read`](Self::read), but waits for the driver's
    /// signal while the page is not ready.
    pub fn wait_ready(&self, signal: &mut impl crate::DriverSignal) -> Result<Geometry, InfoError> {
        loop {
            match self.read() {
                Err(InfoError::NotReady) => signal.wait_for_driver(),
                other => return other,
            }
        }
    }

    /// The page's current bytes, unchecked (tools and tests).
    pub fn snapshot(&self) -> StorageInfo {
        let mut info = StorageInfo::new_zeroed();
        for (bytes, word) in info.as_mut_bytes().chunks_exact_mut(4).zip(self.words) {
            // Relaxed: after I-ACQ-READY when called from `read`.
            bytes.copy_from_slice(&word.load(Ordering::Relaxed).to_ne_bytes());
        }
        info
    }

    /// The page's words, for hostile-peer tests.
    pub fn words(&self) -> &'a [AtomicU32] {
        self.words
    }
}
