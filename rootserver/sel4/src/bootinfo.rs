//! The bootinfo page the kernel hands the root task, read through the
//! generated layout (`sys::bootinfo`): `seL4_BootInfo` is packed in 5.0 and
//! its size depends on `CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS`.

use crate::sys::bootinfo as layout;
use crate::Word;
use core::ops::Range;

/// The root task's initial capabilities, from the generated `seL4_Cap*`
/// enumeration.
pub use layout::init_cap;

/// A read-only view of the bootinfo page.
#[derive(Clone, Copy)]
pub struct BootInfo {
    base: *const u8,
}

/// One untyped region the kernel handed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UntypedDesc {
    /// The slot of the untyped's cap in the root CNode.
    pub slot: Word,
    pub paddr: Word,
    pub size_bits: u8,
    /// Device memory (MMIO) rather than RAM.
    pub is_device: bool,
}

impl UntypedDesc {
    pub fn size(&self) -> u64 {
        1u64.checked_shl(self.size_bits.into()).unwrap_or(0)
    }
}

impl BootInfo {
    /// # Safety
    /// `base` must be the bootinfo address the kernel passed to the root
    /// task, whose page stays mapped and unchanged for the task's lifetime.
    pub unsafe fn new(base: *const u8) -> BootInfo {
        BootInfo { base }
    }

    fn word(&self, offset: usize) -> Word {
        debug_assert!(offset + 8 <= layout::SIZE);
        // SAFETY: `new`'s contract: the bootinfo page is mapped; offsets come
        // from the generated layout and lie inside SIZE bytes; the struct is
        // packed, hence the unaligned read.
        unsafe { self.base.add(offset).cast::<Word>().read_unaligned() }
    }

    fn byte(&self, offset: usize) -> u8 {
        debug_assert!(offset < layout::SIZE);
        // SAFETY: as in `word`.
        unsafe { self.base.add(offset).read() }
    }

    fn region(&self, offset: usize) -> Range<Word> {
        self.word(offset)..self.word(offset + layout::SLOT_REGION_END)
    }

    /// The root task's IPC buffer.
    pub fn ipc_buffer(&self) -> *mut Word {
        self.word(layout::IPC_BUFFER) as *mut Word
    }

    /// Empty slots of the root CNode.
    pub fn empty(&self) -> Range<Word> {
        self.region(layout::EMPTY)
    }

    /// Slots holding untyped caps.
    pub fn untyped(&self) -> Range<Word> {
        self.region(layout::UNTYPED)
    }

    /// Slots of the frames backing the root task's own image.
    pub fn user_image_frames(&self) -> Range<Word> {
        self.region(layout::USER_IMAGE_FRAMES)
    }

    /// Levels of VT-d IO page tables; `None` without an IOMMU (the x86
    /// kernel then stores -1, the generic boot code 0).
    pub fn num_io_pt_levels(&self) -> Option<Word> {
        match self.word(layout::NUM_IOPT_LEVELS) {
            0 | Word::MAX => None,
            levels => Some(levels),
        }
    }

    /// Size of the root CNode, in bits of slots.
    pub fn init_thread_cnode_size_bits(&self) -> u8 {
        self.byte(layout::INIT_THREAD_CNODE_SIZE_BITS)
    }

    /// On x86, the TSC frequency in MHz.
    pub fn tsc_mhz(&self) -> Word {
        self.word(layout::ARCH_INFO)
    }

    /// Number of untyped descriptors (bounded by the list's capacity, so a
    /// corrupt count cannot walk off the page).
    pub fn untyped_count(&self) -> usize {
        let r = self.untyped();
        (r.end.saturating_sub(r.start) as usize)
            .min(crate::sys::config::MAX_NUM_BOOTINFO_UNTYPED_CAPS)
    }

    /// The `i`th untyped region, `None` past the end.
    pub fn untyped_desc(&self, i: usize) -> Option<UntypedDesc> {
        if i >= self.untyped_count() {
            return None;
        }
        let at = layout::UNTYPED_LIST + i * layout::UNTYPED_DESC_SIZE;
        Some(UntypedDesc {
            slot: self.untyped().start + i as Word,
            paddr: self.word(at + layout::UNTYPED_DESC_PADDR),
            size_bits: self.byte(at + layout::UNTYPED_DESC_SIZE_BITS),
            is_device: self.byte(at + layout::UNTYPED_DESC_IS_DEVICE) != 0,
        })
    }

    /// All untyped regions.
    pub fn untypeds(&self) -> impl Iterator<Item = UntypedDesc> + '_ {
        (0..self.untyped_count()).filter_map(|i| self.untyped_desc(i))
    }
}
