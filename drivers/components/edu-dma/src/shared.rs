//! What the edu programs share (included by each of them: a library
//! target would drag the runtime's panic handler into host test builds): the
//! device's BAR as an `Mmio`, and the request protocol with the client.
//!
//! Protocol: the client produces descriptors `(offset, len)` on the active
//! queue of ring `requests`: "copy `len` bytes at `offset` of the `data`
//! window to `offset + COPY_DISTANCE`". The driver moves them host ->
//! device buffer -> host by DMA, through IOVAs only (it never maps the
//! data window), and produces the same descriptor on ring `completions`
//! when done, with `len` 0 when the request was refused.

use paddock_edu::{Edu, Mmio};
use paddock_ring::{Consumer, Producer, Queue};
use paddock_runtime::{Component, Missing};

/// Where a copy lands, relative to its source, in the `data` window.
pub const COPY_DISTANCE: u64 = 0x8000;

/// BAR 0 of the device, mapped uncached by the root task.
pub struct BarMmio {
    base: *mut u8,
    size: usize,
}

impl BarMmio {
    /// # Safety
    /// `base` must be the start of the device's BAR mapping, `size` bytes
    /// long, uncached, used by this component only.
    pub unsafe fn new(base: *mut u8, size: usize) -> BarMmio {
        BarMmio { base, size }
    }

    fn inside(&self, offset: usize, width: usize) -> bool {
        offset
            .checked_add(width)
            .is_some_and(|end| end <= self.size)
            && offset.is_multiple_of(width)
    }
}

// Accesses outside the BAR read as all ones and are otherwise ignored, as a
// missing device would behave: never out of bounds.
impl Mmio for BarMmio {
    fn read32(&mut self, offset: usize) -> u32 {
        if !self.inside(offset, 4) {
            return u32::MAX;
        }
        // SAFETY: in bounds and aligned (checked), inside the BAR mapping
        // `new`'s contract guarantees; device registers need volatile.
        unsafe { self.base.add(offset).cast::<u32>().read_volatile() }
    }
    fn write32(&mut self, offset: usize, value: u32) {
        if self.inside(offset, 4) {
            // SAFETY: as in read32.
            unsafe { self.base.add(offset).cast::<u32>().write_volatile(value) }
        }
    }
    fn read64(&mut self, offset: usize) -> u64 {
        if !self.inside(offset, 8) {
            return u64::MAX;
        }
        // SAFETY: as in read32.
        unsafe { self.base.add(offset).cast::<u64>().read_volatile() }
    }
    fn write64(&mut self, offset: usize, value: u64) {
        if self.inside(offset, 8) {
            // SAFETY: as in read32.
            unsafe { self.base.add(offset).cast::<u64>().write_volatile(value) }
        }
    }
}

/// The active queue of ring `name`, as the planner laid it out (at the
/// start of `ring.<name>.queues`).
pub fn active_queue<'n>(
    c: &Component,
    queues: &'n str,
    slots: u32,
) -> Result<Queue<'static>, Missing<'n>> {
    let region = c.region(queues)?;
    // SAFETY: the root task mapped this region read-write in this
    // component for its lifetime; only the ring protocol touches it, and
    // the peer's writes are checked by paddock-ring.
    let queue = unsafe { Queue::from_raw(region.vaddr as *mut u8, region.size as usize, slots) };
    Ok(queue.unwrap_or_else(|e| panic!("ring `{queues}` does not fit its region: {e:?}")))
}

/// Both ends of the request protocol as the driver sees them.
pub struct DriverRings {
    pub requests: Consumer<'static>,
    pub completions: Producer<'static>,
}

/// Slots of each ring in the edu images.
pub const RING_SLOTS: u32 = 16;

impl DriverRings {
    pub fn attach(c: &Component) -> Result<DriverRings, Missing<'static>> {
        let requests = Consumer::new(active_queue(c, "ring.requests.queues", RING_SLOTS)?)
            .unwrap_or_else(|e| panic!("requests ring: {e:?}"));
        let completions = Producer::new(active_queue(c, "ring.completions.queues", RING_SLOTS)?)
            .unwrap_or_else(|e| panic!("completions ring: {e:?}"));
        Ok(DriverRings {
            requests,
            completions,
        })
    }
}

/// The device behind BAR 0, probed: identification and liveness checked.
pub fn open_device(c: &Component) -> Edu<BarMmio> {
    let bar = c.region("edu.bar0").unwrap_or_else(|e| panic!("{e}"));
    // SAFETY: the root task mapped BAR 0 uncached at this address, for
    // this component alone.
    let mmio = unsafe { BarMmio::new(bar.vaddr as *mut u8, bar.size as usize) };
    let mut edu = Edu::new(mmio);
    match edu.probe() {
        Ok(v) => paddock_runtime::log!("edu {}.{} found", v.major, v.minor),
        Err(e) => panic!("edu probe: {e:?}"),
    }
    edu
}
