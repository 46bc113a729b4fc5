//! A static the root task takes exactly once, for state too large for its
//! stack (the tables of a built system run to hundreds of KiB).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

pub struct BootCell<T> {
    taken: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reachable only through the single `&mut` that `take`
// hands out once; no two threads (or calls) can obtain it.
unsafe impl<T: Send> Sync for BootCell<T> {}

impl<T> BootCell<T> {
    pub const fn new(value: T) -> Self {
        BootCell {
            taken: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// The value, the first time; `None` ever after.
    // The `taken` flag, not the borrow, makes the `&mut` unique.
    #[allow(clippy::mut_from_ref)]
    pub fn take(&'static self) -> Option<&'static mut T> {
        if self.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: `taken` was false, so this is the only reference ever made
        // to the value, and it lives as long as the static.
        Some(unsafe { &mut *self.value.get() })
    }
}
