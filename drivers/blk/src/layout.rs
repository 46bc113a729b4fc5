//! Where things sit in the control region, the memory both the driver and
//! the client map read-write (a `[[shared]]` region of the description):
//!
//! ```text
//! offset               size                    contents
//!      0               64                      StorageInfo (driver writes)
//!     64               128 + 32 * req_slots    request queue (client produces)
//!  aligned up to 64    128 + 16 * resp_slots   response queue (driver produces)
//! ```
//!
//! The data window is separate: a DMA window only the client maps.

use paddock_ring::layout::{is_valid_slot_count, HEADER_BYTES, QUEUE_ALIGN};
use paddock_ring::LayoutError;

use crate::info::InfoPage;
use crate::queue::RecordQueue;
use crate::record::{Request, Response, INFO_BYTES, REQUEST_BYTES, RESPONSE_BYTES};

/// Slot counts of a control region's two queues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlLayout {
    /// Records of the request queue: a power of two, at least the queue
    /// depth.
    pub request_slots: u32,
    /// Records of the response queue: a power of two, at least the queue
    /// depth.
    pub response_slots: u32,
}

impl ControlLayout {
    /// A layout with the given slot counts, each a power of two no larger
    /// than [`MAX_QUEUE_DEPTH`](crate::MAX_QUEUE_DEPTH) (more slots than
    /// ids could never be used).
    pub const fn new(request_slots: u32, response_slots: u32) -> Result<Self, LayoutError> {
        let mut i = 0;
        let counts = [request_slots, response_slots];
        while i < counts.len() {
            if !is_valid_slot_count(counts[i]) || counts[i] > crate::MAX_QUEUE_DEPTH {
                return Err(LayoutError::BadSlotCount {
                    slots: counts[i] as usize,
                });
            }
            i += 1;
        }
        Ok(Self {
            request_slots,
            response_slots,
        })
    }

    /// The smallest layout for a queue depth: both queues of
    /// `depth.next_power_of_two()` slots.
    pub const fn for_depth(depth: u32) -> Result<Self, LayoutError> {
        if depth == 0 || depth > crate::MAX_QUEUE_DEPTH {
            return Err(LayoutError::BadSlotCount {
                slots: depth as usize,
            });
        }
        let slots = depth.next_power_of_two();
        Self::new(slots, slots)
    }

    /// Offset of the storage-information page.
    pub const fn info_offset(&self) -> usize {
        0
    }

    /// Offset of the request queue.
    pub const fn requests_offset(&self) -> usize {
        align_up(INFO_BYTES, QUEUE_ALIGN)
    }

    /// Bytes of the request queue.
    pub const fn requests_bytes(&self) -> usize {
        HEADER_BYTES + self.request_slots as usize * REQUEST_BYTES
    }

    /// Offset of the response queue.
    pub const fn responses_offset(&self) -> usize {
        align_up(self.requests_offset() + self.requests_bytes(), QUEUE_ALIGN)
    }

    /// Bytes of the response queue.
    pub const fn responses_bytes(&self) -> usize {
        HEADER_BYTES + self.response_slots as usize * RESPONSE_BYTES
    }

    /// Bytes of the whole control region.
    pub const fn total_bytes(&self) -> usize {
        self.responses_offset() + self.responses_bytes()
    }
}

const fn align_up(n: usize, align: usize) -> usize {
    (n + align - 1) & !(align - 1)
}

/// The views of one control region.
#[derive(Clone, Copy)]
pub struct Control<'a> {
    /// The storage-information page.
    pub info: InfoPage<'a>,
    /// Requests, client to driver.
    pub requests: RecordQueue<'a, Request>,
    /// Responses, driver to client.
    pub responses: RecordQueue<'a, Response>,
}

impl<'a> Control<'a> {
    /// The control region of `layout` over `bytes`, which must be
    /// [`QUEUE_ALIGN`]-aligned and [`ControlLayout::total_bytes`] long.
    /// Safe: the exclusive borrow means nothing else in this address space
    /// touches the memory for `'a` (host tests; a component attaches by
    /// address with [`Control::from_raw`]).
    pub fn from_bytes(bytes: &'a mut [u8], layout: ControlLayout) -> Result<Self, LayoutError> {
        crate::queue::check_memory(bytes.as_ptr() as usize, bytes.len(), layout.total_bytes())?;
        let (info, rest) = bytes.split_at_mut(layout.requests_offset());
        let (requests, rest) =
            rest.split_at_mut(layout.responses_offset() - layout.requests_offset());
        Ok(Self {
            info: InfoPage::from_bytes(info)?,
            requests: RecordQueue::from_bytes(requests, layout.request_slots)?,
            responses: RecordQueue::from_bytes(rest, layout.response_slots)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_aligned_and_disjoint() {
        let l = ControlLayout::for_depth(32).unwrap();
        assert_eq!(l.requests_offset(), 128);
        assert_eq!(l.requests_bytes(), 384 + 32 * 32);
        assert_eq!(l.responses_offset(), 128 + 1408);
        assert_eq!(l.total_bytes(), 128 + 1408 + 384 + 16 * 32);
        assert!(l.total_bytes() <= 4096, "depth 32 fits one page");
        let l = ControlLayout::new(4, 2).unwrap();
        assert_eq!(l.responses_offset() % QUEUE_ALIGN, 0);
        assert_eq!(ControlLayout::for_depth(5).unwrap().request_slots, 8);
        assert!(ControlLayout::for_depth(0).is_err());
        assert!(ControlLayout::new(3, 4).is_err());
        assert!(ControlLayout::new(4, 512).is_err());
    }
}
