//! The info page: what the interface is (published by the driver) and
//! per-client statistics (kept up to date by the driver). The client reads
//! it, and trusts none of it: every field is checked.
//!
//! ```text
//! offset size field        meaning
//!      0    4 magic        `PNET` (INFO_MAGIC)
//!      4    4 version      INFO_VERSION (1)
//!      8    4 state        0 attaching, 1 serving, 2 withdrawn; stored last
//!     12    4 generation   bumped by the driver at every (re)start
//!     16    4 mac_lo       MAC bytes 0..4
//!     20    4 mac_hi       MAC bytes 4..6; upper 16 bits zero
//!     24    4 mtu          IP MTU, 68..=1500
//!     28    4 buf_size     bytes per buffer
//!     32    4 rx_buffers   RX buffers
//!     36    4 tx_buffers   TX buffers
//!     40   24 reserved     zero
//!     64    8 rx_frames    frames delivered to the client
//!     72    8 rx_bytes
//!     80    8 tx_frames    frames the client sent that went out
//!     88    8 tx_bytes
//!     96    8 rx_dropped   frames the driver could not deliver
//!    104    8 tx_refused   TX descriptors refused (bad frame length)
//!    112   16 reserved     zero
//! ```
//!
//! Words are native-endian (both sides run on the same machine). The
//! state word orders the rest: the driver stores it with Release after
//! the fields (I-REL-STATE); the client loads it with Acquire
//! (I-ACQ-STATE), reads the fields, and reads state and generation again
//! to see that the driver did not change the page meanwhile.

use core::fmt;
use core::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

use paddock_ring::LayoutError;
use zerocopy::FromBytes;

use crate::layout::{NetLayout, MAX_FRAME};

/// Bytes of the info page.
pub const INFO_BYTES: usize = 128;
/// `PNET`, little-endian.
pub const INFO_MAGIC: u32 = u32::from_le_bytes(*b"PNET");
/// Layout version this crate reads and writes.
pub const INFO_VERSION: u32 = 1;
/// Largest IP MTU an Ethernet frame of [`MAX_FRAME`] carries.
pub const MAX_MTU: u32 = MAX_FRAME - 14;
/// Smallest IPv4 MTU.
pub const MIN_MTU: u32 = 68;

const MAGIC: usize = 0;
const VERSION: usize = 1;
const STATE: usize = 2;
const GENERATION: usize = 3;
const MAC_LO: usize = 4;
const MAC_HI: usize = 5;
const MTU: usize = 6;
const BUF_SIZE: usize = 7;
const RX_BUFFERS: usize = 8;
const TX_BUFFERS: usize = 9;
const WORDS: usize = 16;
const STAT_WORDS: usize = 8;

/// The driver's state, from the page's state word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// 0: the driver has not published the page yet (fresh memory is zero).
    Attaching,
    /// 1: the page is valid and the queues are served.
    Serving,
    /// 2: the driver stopped serving (restarting, or shut down).
    Withdrawn,
}

/// What the driver publishes: the checked contents of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetInfo {
    /// The interface's MAC address: unicast, not all zero.
    pub mac: [u8; 6],
    /// IP MTU, [`MIN_MTU`]`..=`[`MAX_MTU`].
    pub mtu: u32,
    /// Buffer geometry, which must be the layout both sides mapped.
    pub layout: NetLayout,
    /// Bumped by the driver at every (re)start.
    pub generation: u32,
}

/// Counters the driver keeps per client and publishes on the page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Frames delivered to the client.
    pub rx_frames: u64,
    /// Bytes delivered to the client.
    pub rx_bytes: u64,
    /// Frames of the client's that went out.
    pub tx_frames: u64,
    /// Bytes of the client's that went out.
    pub tx_bytes: u64,
    /// Frames the driver could not deliver (no buffer, impossible length).
    pub rx_dropped: u64,
    /// TX descriptors refused for their frame length.
    pub tx_refused: u64,
}

impl NetStats {
    fn as_array(&self) -> [u64; 6] {
        [
            self.rx_frames,
            self.rx_bytes,
            self.tx_frames,
            self.tx_bytes,
            self.rx_dropped,
            self.tx_refused,
        ]
    }
}

/// Why an info page was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfoError {
    /// The driver has not published the page yet: wait for its signal.
    NotReady,
    /// The driver withdrew the page: wait for it to publish again.
    Withdrawn,
    /// The page changed while it was read: read again.
    Changing,
    /// The state word is not 0, 1 or 2.
    BadState {
        /// The value found.
        found: u32,
    },
    /// The magic is not `PNET`.
    BadMagic {
        /// The value found.
        found: u32,
    },
    /// The version is not [`INFO_VERSION`].
    BadVersion {
        /// The value found.
        found: u32,
    },
    /// The MAC's upper word has bits beyond 6 bytes, or the address is
    /// multicast or all zero.
    BadMac {
        /// The low word.
        lo: u32,
        /// The high word.
        hi: u32,
    },
    /// The MTU is outside [`MIN_MTU`]`..=`[`MAX_MTU`].
    BadMtu {
        /// The value found.
        found: u32,
    },
    /// The buffer geometry is not the layout this side mapped.
    GeometryMismatch {
        /// Bytes per buffer on the page.
        buf_size: u32,
        /// RX buffers on the page.
        rx_buffers: u32,
        /// TX buffers on the page.
        tx_buffers: u32,
    },
}

impl fmt::Display for InfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NotReady => f.write_str("network info not published yet"),
            Self::Withdrawn => f.write_str("network info withdrawn by the driver"),
            Self::Changing => f.write_str("network info changed while being read"),
            Self::BadState { found } => write!(f, "state {found} is not 0, 1 or 2"),
            Self::BadMagic { found } => {
                write!(f, "magic {found:#010x} is not {INFO_MAGIC:#010x} (`PNET`)")
            }
            Self::BadVersion { found } => {
                write!(f, "layout version {found}, this side reads {INFO_VERSION}")
            }
            Self::BadMac { lo, hi } => write!(
                f,
                "MAC words {lo:#010x} {hi:#010x} are not a unicast 6-byte address"
            ),
            Self::BadMtu { found } => write!(f, "MTU {found} not in {MIN_MTU}..={MAX_MTU}"),
            Self::GeometryMismatch {
                buf_size,
                rx_buffers,
                tx_buffers,
            } => write!(
                f,
                "page says {rx_buffers} rx + {tx_buffers} tx buffers of {buf_size} bytes, not the mapped layout"
            ),
        }
    }
}

impl core::error::Error for InfoError {}

/// A view of the info page in shared memory. Both sides map it; only the
/// driver writes it.
#[derive(Clone, Copy)]
pub struct InfoPage<'a> {
    words: &'a [AtomicU32; WORDS],
    stats: &'a [AtomicU64; STAT_WORDS],
}

impl<'a> InfoPage<'a> {
    /// The page over its words (the first 64 bytes) and statistics (the
    /// next 64).
    pub fn new(
        words: &'a [AtomicU32; WORDS],
        stats: &'a [AtomicU64; STAT_WORDS],
    ) -> Result<Self, LayoutError> {
        Ok(Self { words, stats })
    }

    /// The page over the start of `bytes` (8-byte aligned, at least
    /// [`INFO_BYTES`] long). Safe: the exclusive borrow means nothing else
    /// in this address space touches it.
    pub fn from_bytes(bytes: &'a mut [u8]) -> Result<Self, LayoutError> {
        let addr = bytes.as_ptr() as usize;
        let given = bytes.len();
        let bytes = bytes.get_mut(..INFO_BYTES).ok_or(LayoutError::TooSmall {
            needed: INFO_BYTES,
            given,
        })?;
        let (words, stats) = bytes.split_at_mut(INFO_BYTES / 2);
        let words = <[AtomicU32; WORDS]>::mut_from_bytes(words)
            .map_err(|_| LayoutError::Misaligned { addr })?;
        let stats = <[AtomicU64; STAT_WORDS]>::mut_from_bytes(stats)
            .map_err(|_| LayoutError::Misaligned { addr })?;
        Self::new(words, stats)
    }

    /// Driver: writes `info` and then, last, the serving state, so a
    /// client that sees it sees the rest. Signal the client afterwards.
    pub fn publish(&self, info: &NetInfo) {
        let w = self.words;
        let [m0, m1, m2, m3, m4, m5] = info.mac;
        let fields = [
            (MAGIC, INFO_MAGIC),
            (VERSION, INFO_VERSION),
            (GENERATION, info.generation),
            (MAC_LO, u32::from_le_bytes([m0, m1, m2, m3])),
            (MAC_HI, u32::from_le_bytes([m4, m5, 0, 0])),
            (MTU, info.mtu),
            (BUF_SIZE, info.layout.buf_size),
            (RX_BUFFERS, info.layout.rx_buffers),
            (TX_BUFFERS, info.layout.tx_buffers),
        ];
        for (i, v) in fields {
            // Relaxed: ordered before the state store by I-REL-STATE.
            w[i].store(v, Ordering::Relaxed);
        }
        // I-REL-STATE. Release: pairs with I-ACQ-STATE in `read`.
        w[STATE].store(1, Ordering::Release);
    }

    /// Driver: marks the page withdrawn (before a restart re-initialises
    /// the device, or at shutdown).
    pub fn withdraw(&self) {
        self.words[STATE].store(2, Ordering::Release);
    }

    /// Driver: publishes the counters. Each is a single atomic word; a
    /// reader may see one counter newer than another, never a torn one.
    pub fn publish_stats(&self, stats: &NetStats) {
        for (word, v) in self.stats.iter().zip(stats.as_array()) {
            // Relaxed: statistics order nothing.
            word.store(v, Ordering::Relaxed);
        }
    }

    /// The counters as last published (any values: they are only shown).
    pub fn stats(&self) -> NetStats {
        let s = |i: usize| self.stats[i].load(Ordering::Relaxed);
        NetStats {
            rx_frames: s(0),
            rx_bytes: s(1),
            tx_frames: s(2),
            tx_bytes: s(3),
            rx_dropped: s(4),
            tx_refused: s(5),
        }
    }

    /// The state word, decoded.
    pub fn state(&self) -> Result<LinkState, InfoError> {
        // I-ACQ-STATE. Acquire: pairs with I-REL-STATE in `publish`.
        match self.words[STATE].load(Ordering::Acquire) {
            0 => Ok(LinkState::Attaching),
            1 => Ok(LinkState::Serving),
            2 => Ok(LinkState::Withdrawn),
            found => Err(InfoError::BadState { found }),
        }
    }

    /// Client: reads and checks the page against the layout this side
    /// mapped.
    pub fn read(&self, layout: &NetLayout) -> Result<NetInfo, InfoError> {
        match self.state()? {
            LinkState::Attaching => return Err(InfoError::NotReady),
            LinkState::Withdrawn => return Err(InfoError::Withdrawn),
            LinkState::Serving => {}
        }
        // Relaxed: after I-ACQ-STATE above.
        let w = |i: usize| self.words[i].load(Ordering::Relaxed);
        let generation = w(GENERATION);
        let info = decode(&w, layout, generation);
        // Seqlock-style re-check: the loads above happen before these
        // (Acquire fence), so a withdraw or a new generation published
        // while we read shows here.
        fence(Ordering::Acquire);
        if self.words[STATE].load(Ordering::Relaxed) != 1 || w(GENERATION) != generation {
            return Err(InfoError::Changing);
        }
        info
    }

    /// The page's words, for tools and hostile-peer tests.
    pub fn words(&self) -> &'a [AtomicU32] {
        self.words
    }
}

fn decode(
    w: &impl Fn(usize) -> u32,
    layout: &NetLayout,
    generation: u32,
) -> Result<NetInfo, InfoError> {
    if w(MAGIC) != INFO_MAGIC {
        return Err(InfoError::BadMagic { found: w(MAGIC) });
    }
    if w(VERSION) != INFO_VERSION {
        return Err(InfoError::BadVersion { found: w(VERSION) });
    }
    let (lo, hi) = (w(MAC_LO), w(MAC_HI));
    let [m0, m1, m2, m3] = lo.to_le_bytes();
    let [m4, m5, ..] = hi.to_le_bytes();
    let mac = [m0, m1, m2, m3, m4, m5];
    // Bit 0 of the first byte is the group bit: a multicast address cannot
    // be an interface's own.
    if hi >> 16 != 0 || mac == [0; 6] || m0 & 1 != 0 {
        return Err(InfoError::BadMac { lo, hi });
    }
    let mtu = w(MTU);
    if !(MIN_MTU..=MAX_MTU).contains(&mtu) {
        return Err(InfoError::BadMtu { found: mtu });
    }
    let (buf_size, rx_buffers, tx_buffers) = (w(BUF_SIZE), w(RX_BUFFERS), w(TX_BUFFERS));
    if (buf_size, rx_buffers, tx_buffers) != (layout.buf_size, layout.rx_buffers, layout.tx_buffers)
    {
        return Err(InfoError::GeometryMismatch {
            buf_size,
            rx_buffers,
            tx_buffers,
        });
    }
    Ok(NetInfo {
        mac,
        mtu,
        layout: *layout,
        generation,
    })
}
