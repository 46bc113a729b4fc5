//! Attaching to shared memory by address: the crate's only unsafe code.
//!
//! A component learns where the planner mapped its control region and (for
//! a client) its data window as addresses; these constructors turn them
//! into the safe views the rest of the crate works on. Everything in the
//! views is atomic (queue headers' reserved bytes are never accessed), so
//! once the preconditions hold, whatever the peer writes is a value to
//! check, never undefined behaviour.
#![allow(unsafe_code)]

use core::sync::atomic::{AtomicU32, AtomicU64};

use paddock_ring::{DataRegion, LayoutError, Queue};

use crate::info::{InfoPage, INFO_BYTES};
use crate::layout::{check_memory, Control, NetLayout, Window};

impl<'a> Control<'a> {
    /// The control region of `layout` at `ptr`, in memory of `len` bytes.
    /// Alignment and size are checked and reported as [`LayoutError`].
    ///
    /// # Safety
    ///
    /// For all of `'a`, the `len` bytes at `ptr` must be mapped readable and
    /// writable, must not be unmapped, and must be accessed in this address
    /// space only through atomics (the views this crate and paddock-ring
    /// make). The peer, in another address space, may write anything at
    /// any time: that is what the checks are for.
    pub unsafe fn from_raw(
        ptr: *mut u8,
        len: usize,
        layout: NetLayout,
    ) -> Result<Self, LayoutError> {
        check_memory(ptr as usize, len, layout.control_bytes())?;
        // SAFETY: the base is 64-byte aligned (checked), so the page's
        // first half is aligned for AtomicU32 and its second half (offset
        // 64) for AtomicU64; both lie in the first INFO_BYTES bytes, inside
        // `control_bytes() <= len`. Atomics accept any bit pattern; extent,
        // lifetime and atomic-only access are the caller's guarantees.
        let info = unsafe {
            InfoPage::new(
                &*ptr.cast::<[AtomicU32; INFO_BYTES / 8]>(),
                &*ptr
                    .add(INFO_BYTES / 2)
                    .cast::<[AtomicU64; INFO_BYTES / 16]>(),
            )?
        };
        let queue = |offset: usize, slots: u32| {
            // SAFETY: `offset` comes from `layout`, which places each queue
            // 64-byte aligned inside `control_bytes() <= len` with room
            // for `queue_bytes(slots)`; paddock-ring checks the rest. The
            // caller's guarantees cover the memory.
            unsafe { Queue::from_raw(ptr.add(offset), len - offset, slots) }
        };
        Ok(Self {
            info,
            rx_active: queue(layout.rx_active_offset(), layout.rx_slots())?,
            rx_free: queue(layout.rx_free_offset(), layout.rx_slots())?,
            tx_active: queue(layout.tx_active_offset(), layout.tx_slots())?,
            tx_free: queue(layout.tx_free_offset(), layout.tx_slots())?,
            layout,
        })
    }
}

impl<'a> Window<'a> {
    /// The client's data window of `layout` at `ptr`, `len` bytes (64-byte
    /// aligned, at least [`NetLayout::window_bytes`]; checked).
    ///
    /// # Safety
    ///
    /// As for [`Control::from_raw`]: the `len` bytes at `ptr` stay mapped
    /// readable and writable for `'a` and are accessed in this address
    /// space only through atomics (or by the device, through DMA).
    pub unsafe fn from_raw(
        ptr: *mut u8,
        len: usize,
        layout: NetLayout,
    ) -> Result<Self, LayoutError> {
        if len < layout.window_bytes() {
            return Err(LayoutError::TooSmall {
                needed: layout.window_bytes(),
                given: len,
            });
        }
        let rx_bytes = layout.tx_data_offset();
        Ok(Self {
            // SAFETY: the RX part is the first `rx_bytes <= len` bytes; the
            // caller's guarantees cover them. Alignment is checked by
            // paddock-ring.
            rx: unsafe { DataRegion::from_raw(ptr, rx_bytes, layout.buf_size, layout.rx_buffers) }?,
            // SAFETY: the TX part follows it, `window_bytes() - rx_bytes`
            // bytes, inside `len`.
            tx: unsafe {
                DataRegion::from_raw(
                    ptr.add(rx_bytes),
                    layout.window_bytes() - rx_bytes,
                    layout.buf_size,
                    layout.tx_buffers,
                )
            }?,
        })
    }
}
