//! Where things sit: the control region both sides map read-write, and the
//! data window only the client maps (the device reaches it by DMA).
//!
//! ```text
//! control region                                  written by
//! offset             size                         (tail/records | head)
//!      0             128                          info page: driver
//!    128             128 + 8 * rx_slots           rx active: driver | client
//!  next, 64-aligned  128 + 8 * rx_slots           rx free:   client | driver
//!  next, 64-aligned  128 + 8 * tx_slots           tx active: client | driver
//!  next, 64-aligned  128 + 8 * tx_slots           tx free:   driver | client
//!
//! data window
//!      0             rx_buffers * buf_size        rx buffers (device writes)
//!  rx bytes          tx_buffers * buf_size        tx buffers (client writes)
//! ```
//!
//! Descriptor offsets are relative to their direction's part of the
//! window; the driver adds the part's base ([`DmaBuf::window_offset`]).
//!
//! [`DmaBuf::window_offset`]: crate::DmaBuf::window_offset

use core::sync::atomic::AtomicU8;

use paddock_ring::layout::{check_data_region, queue_bytes, QUEUE_ALIGN};
use paddock_ring::{DataRegion, LayoutError, Queue};

use crate::info::{InfoPage, INFO_BYTES};

/// Largest Ethernet frame without FCS: 14-byte header and a 1500-byte
/// payload. What the driver accepts for TX and smoltcp's MTU.
pub const MAX_FRAME: u32 = 1514;
/// Smallest frame the driver accepts for TX: an Ethernet header.
pub const MIN_FRAME: u32 = 14;
/// Most buffers per direction: bounds the driver's fixed ownership tables.
pub const MAX_BUFFERS: u32 = 1024;
/// Default bytes per buffer: a full frame fits, a multiple of 64.
pub const DEFAULT_BUF_SIZE: u32 = 2048;
/// Default buffers per direction.
pub const DEFAULT_BUFFERS: u32 = 128;

/// The shape of one client's control region and data window, computed
/// here once for the driver, the client and the planner alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetLayout {
    /// Buffers for received frames.
    pub rx_buffers: u32,
    /// Buffers for frames to send.
    pub tx_buffers: u32,
    /// Bytes per buffer, both directions.
    pub buf_size: u32,
}

impl NetLayout {
    /// 128 RX and 128 TX buffers of 2048 bytes: a 512 KiB window.
    pub const DEFAULT: Self =
        match Self::for_buffers(DEFAULT_BUFFERS, DEFAULT_BUFFERS, DEFAULT_BUF_SIZE) {
            Ok(l) => l,
            Err(_) => panic!("default network layout"),
        };

    /// The layout for these buffer counts and size, checked: each count in
    /// `1..=`[`MAX_BUFFERS`], `buf_size` a multiple of 64 that holds a
    /// [`MAX_FRAME`] frame.
    pub const fn for_buffers(
        rx_buffers: u32,
        tx_buffers: u32,
        buf_size: u32,
    ) -> Result<Self, LayoutError> {
        let mut i = 0;
        let counts = [rx_buffers, tx_buffers];
        while i < counts.len() {
            if counts[i] > MAX_BUFFERS || buf_size < MAX_FRAME {
                return Err(LayoutError::BadBufferGeometry {
                    buf_size,
                    buffers: counts[i],
                });
            }
            if let Err(e) = check_data_region(buf_size, counts[i]) {
                return Err(e);
            }
            i += 1;
        }
        // Both parts of the window together must stay addressable by u32
        // window offsets.
        let total = (rx_buffers as u64 + tx_buffers as u64) * buf_size as u64;
        if total > u32::MAX as u64 {
            return Err(LayoutError::BadBufferGeometry {
                buf_size,
                buffers: rx_buffers + tx_buffers,
            });
        }
        Ok(Self {
            rx_buffers,
            tx_buffers,
            buf_size,
        })
    }

    /// Slots of each RX queue: enough for every RX buffer.
    pub const fn rx_slots(&self) -> u32 {
        self.rx_buffers.next_power_of_two()
    }

    /// Slots of each TX queue: enough for every TX buffer.
    pub const fn tx_slots(&self) -> u32 {
        self.tx_buffers.next_power_of_two()
    }

    const fn rx_queue_bytes(&self) -> usize {
        match queue_bytes(self.rx_slots()) {
            Some(n) => align_up(n, QUEUE_ALIGN),
            None => 0, // unreachable: slot counts checked in `for_buffers`
        }
    }

    const fn tx_queue_bytes(&self) -> usize {
        match queue_bytes(self.tx_slots()) {
            Some(n) => align_up(n, QUEUE_ALIGN),
            None => 0, // unreachable, as above
        }
    }

    /// Offset of the info page in the control region.
    pub const fn info_offset(&self) -> usize {
        0
    }

    /// Offset of the RX active queue (driver to client: received frames).
    pub const fn rx_active_offset(&self) -> usize {
        align_up(INFO_BYTES, QUEUE_ALIGN)
    }

    /// Offset of the RX free queue (client to driver: empty buffers).
    pub const fn rx_free_offset(&self) -> usize {
        self.rx_active_offset() + self.rx_queue_bytes()
    }

    /// Offset of the TX active queue (client to driver: frames to send).
    pub const fn tx_active_offset(&self) -> usize {
        self.rx_free_offset() + self.rx_queue_bytes()
    }

    /// Offset of the TX free queue (driver to client: sent buffers).
    pub const fn tx_free_offset(&self) -> usize {
        self.tx_active_offset() + self.tx_queue_bytes()
    }

    /// Bytes of the control region.
    pub const fn control_bytes(&self) -> usize {
        self.tx_free_offset() + self.tx_queue_bytes()
    }

    /// Offset of the RX buffers in the data window.
    pub const fn rx_data_offset(&self) -> usize {
        0
    }

    /// Offset of the TX buffers in the data window.
    pub const fn tx_data_offset(&self) -> usize {
        self.rx_buffers as usize * self.buf_size as usize
    }

    /// Bytes of the data window.
    pub const fn window_bytes(&self) -> usize {
        self.tx_data_offset() + self.tx_buffers as usize * self.buf_size as usize
    }

    /// The RX part of the window by shape only (the driver's view).
    pub fn rx_unmapped(&self) -> Result<DataRegion<'static>, LayoutError> {
        DataRegion::unmapped(self.buf_size, self.rx_buffers)
    }

    /// The TX part of the window by shape only (the driver's view).
    pub fn tx_unmapped(&self) -> Result<DataRegion<'static>, LayoutError> {
        DataRegion::unmapped(self.buf_size, self.tx_buffers)
    }
}

impl Default for NetLayout {
    fn default() -> Self {
        Self::DEFAULT
    }
}

const fn align_up(n: usize, align: usize) -> usize {
    (n + align - 1) & !(align - 1)
}

/// The views of one control region.
#[derive(Clone, Copy)]
pub struct Control<'a> {
    /// The info page (driver writes, client reads and checks).
    pub info: InfoPage<'a>,
    /// Received frames, driver to client.
    pub rx_active: Queue<'a>,
    /// Empty RX buffers, client to driver.
    pub rx_free: Queue<'a>,
    /// Frames to send, client to driver.
    pub tx_active: Queue<'a>,
    /// Sent TX buffers, driver to client.
    pub tx_free: Queue<'a>,
    /// The layout the views were made for.
    pub layout: NetLayout,
}

impl<'a> Control<'a> {
    /// The control region of `layout` over `bytes` (64-byte aligned, at
    /// least [`NetLayout::control_bytes`] long). Safe: the exclusive borrow
    /// means nothing else in this address space touches it (host tests; a
    /// component attaches by address with [`Control::from_raw`]).
    pub fn from_bytes(bytes: &'a mut [u8], layout: NetLayout) -> Result<Self, LayoutError> {
        check_memory(bytes.as_ptr() as usize, bytes.len(), layout.control_bytes())?;
        let (info, rest) = bytes.split_at_mut(layout.rx_active_offset());
        let (rx_active, rest) = rest.split_at_mut(layout.rx_queue_bytes());
        let (rx_free, rest) = rest.split_at_mut(layout.rx_queue_bytes());
        let (tx_active, tx_free) = rest.split_at_mut(layout.tx_queue_bytes());
        Ok(Self {
            info: InfoPage::from_bytes(info)?,
            rx_active: Queue::from_bytes(rx_active, layout.rx_slots())?,
            rx_free: Queue::from_bytes(rx_free, layout.rx_slots())?,
            tx_active: Queue::from_bytes(tx_active, layout.tx_slots())?,
            tx_free: Queue::from_bytes(tx_free, layout.tx_slots())?,
            layout,
        })
    }
}

/// The client's mapped data window, as its two parts.
#[derive(Clone, Copy)]
pub struct Window<'a> {
    /// RX buffers.
    pub rx: DataRegion<'a>,
    /// TX buffers.
    pub tx: DataRegion<'a>,
}

impl<'a> Window<'a> {
    /// The window of `layout` over shared atomic bytes (64-byte aligned,
    /// at least [`NetLayout::window_bytes`] long): for a host model whose
    /// "device" writes the same bytes.
    pub fn new(bytes: &'a [AtomicU8], layout: NetLayout) -> Result<Self, LayoutError> {
        let given = bytes.len();
        let bytes = bytes
            .get(..layout.window_bytes())
            .ok_or(LayoutError::TooSmall {
                needed: layout.window_bytes(),
                given,
            })?;
        let (rx, tx) = bytes.split_at(layout.tx_data_offset());
        Ok(Self {
            rx: DataRegion::new(rx, layout.buf_size, layout.rx_buffers)?,
            tx: DataRegion::new(tx, layout.buf_size, layout.tx_buffers)?,
        })
    }

    /// The window of `layout` over `bytes` (64-byte aligned, at least
    /// [`NetLayout::window_bytes`] long). Safe, as [`Control::from_bytes`];
    /// a component uses [`Window::from_raw`].
    pub fn from_bytes(bytes: &'a mut [u8], layout: NetLayout) -> Result<Self, LayoutError> {
        let given = bytes.len();
        let bytes = bytes
            .get_mut(..layout.window_bytes())
            .ok_or(LayoutError::TooSmall {
                needed: layout.window_bytes(),
                given,
            })?;
        let (rx, tx) = bytes.split_at_mut(layout.tx_data_offset());
        Ok(Self {
            rx: DataRegion::from_bytes(rx, layout.buf_size, layout.rx_buffers)?,
            tx: DataRegion::from_bytes(tx, layout.buf_size, layout.tx_buffers)?,
        })
    }
}

pub(crate) use paddock_ring::layout::check_memory;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_layout() {
        let l = NetLayout::DEFAULT;
        assert_eq!(l.window_bytes(), 512 * 1024);
        assert_eq!(l.tx_data_offset(), 256 * 1024);
        assert_eq!(l.rx_active_offset(), 128);
        assert_eq!(l.rx_free_offset(), 128 + 384 + 1024);
        assert_eq!(l.tx_active_offset(), 128 + 2 * 1408);
        assert_eq!(l.control_bytes(), 128 + 4 * 1408);
        for off in [l.rx_free_offset(), l.tx_active_offset(), l.tx_free_offset()] {
            assert_eq!(off % QUEUE_ALIGN, 0);
        }
    }

    #[test]
    fn odd_counts_round_slots_up() {
        let l = NetLayout::for_buffers(5, 3, 1536).unwrap();
        assert_eq!((l.rx_slots(), l.tx_slots()), (8, 4));
        assert_eq!(l.tx_free_offset() % 64, 0);
        assert_eq!(l.window_bytes(), 8 * 1536);
    }

    #[test]
    fn bad_geometry_refused() {
        assert!(NetLayout::for_buffers(0, 8, 2048).is_err());
        assert!(NetLayout::for_buffers(8, 0, 2048).is_err());
        assert!(
            NetLayout::for_buffers(8, 8, 1024).is_err(),
            "frame does not fit"
        );
        assert!(
            NetLayout::for_buffers(8, 8, 2000).is_err(),
            "not a multiple of 64"
        );
        assert!(NetLayout::for_buffers(MAX_BUFFERS + 1, 8, 2048).is_err());
        assert!(NetLayout::for_buffers(MAX_BUFFERS, MAX_BUFFERS, 2048).is_ok());
    }
}
