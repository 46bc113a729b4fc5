//! The root task's heap, for ACPI alone.
//!
//! The root task is otherwise allocation-free: every table it keeps has a
//! fixed capacity (`heapless`). Evaluating the firmware's AML is not: the
//! `aml` crate builds its namespace and values with `alloc`, and the
//! tables it reads are copied into owned buffers. So the root task has a
//! global allocator over a fixed, static region: bounded (an allocation
//! that does not fit fails and the boot stops, no memory is taken from
//! the system's untypeds), and used only while ACPI is read at boot.
//! Everything is freed again before the components are built; the peak is
//! reported in the boot log (`paddock: ACPI: ... heap`).

use crate::cell::BootCell;
use core::alloc::{GlobalAlloc, Layout};
use core::mem::MaybeUninit;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};
use linked_list_allocator::LockedHeap;

/// Bytes of heap. QEMU q35's DSDT (8 KiB of AML) needs well under this
/// (the boot log gives the peak); the bound on one table's length
/// (`tables::MAX_TABLE_LEN`) is a quarter of it.
pub const HEAP_SIZE: usize = 1024 * 1024;

static SPACE: BootCell<[MaybeUninit<u8>; HEAP_SIZE]> =
    BootCell::new([MaybeUninit::uninit(); HEAP_SIZE]);

/// A first-fit heap that remembers the most it ever had in use.
struct BootHeap {
    heap: LockedHeap,
    peak: AtomicUsize,
}

#[global_allocator]
static HEAP: BootHeap = BootHeap {
    heap: LockedHeap::empty(),
    peak: AtomicUsize::new(0),
};

// SAFETY: allocation and deallocation are linked_list_allocator's, under
// its lock; the wrapper only reads the bytes in use afterwards.
unsafe impl GlobalAlloc for BootHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut heap = self.heap.lock();
        let block = heap
            .allocate_first_fit(layout)
            .map_or(core::ptr::null_mut(), |b| b.as_ptr());
        self.peak.fetch_max(heap.used(), Ordering::Relaxed);
        block
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(block) = NonNull::new(ptr) {
            // SAFETY: `GlobalAlloc::dealloc`'s contract: `ptr` came from
            // `alloc` above with this `layout`, so from this heap.
            unsafe { self.heap.lock().deallocate(block, layout) }
        }
    }
}

/// Gives the heap its memory; before this every allocation fails. Only
/// the first call does anything.
pub fn init() {
    if let Some(space) = SPACE.take() {
        HEAP.heap.lock().init_from_slice(space);
    }
}

/// (most bytes ever in use, size of the heap).
pub fn peak() -> (usize, usize) {
    (HEAP.peak.load(Ordering::Relaxed), HEAP_SIZE)
}
