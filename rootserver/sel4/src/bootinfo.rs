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

    /// `extraLen`: bytes of the extra region, the pages right after the
    /// bootinfo page (0 when there is none).
    pub fn extra_len(&self) -> Word {
        self.word(layout::EXTRA_LEN)
    }

    /// The extra region's bytes, at most [`MAX_EXTRA_LEN`] of them.
    pub fn extra(&self) -> &[u8] {
        let len = (self.extra_len() as usize).min(MAX_EXTRA_LEN);
        // SAFETY: `new`'s contract: the kernel maps the extra region's
        // `extraLen` bytes right after the bootinfo page, read-only and
        // unchanged for the task's lifetime; the length is clamped to no
        // more than that.
        unsafe { core::slice::from_raw_parts(self.base.add(PAGE_SIZE), len) }
    }

    /// The chunks of the extra region: (id, the bytes after the header).
    pub fn extra_chunks(&self) -> ExtraChunks<'_> {
        ExtraChunks { rest: self.extra() }
    }
}

/// The bootinfo page's size: the extra region starts one page after it.
const PAGE_SIZE: usize = 1 << crate::sys::constants::PageBits;

/// The longest extra region read (the kernel makes it a few pages: a VBE
/// block, an RSDP copy or a memory map on later kernels).
pub const MAX_EXTRA_LEN: usize = 64 * 1024;

/// Walks the extra region's chunks, each a `seL4_BootInfoHeader` {id,
/// len (header included)} and its payload. It stops at the end of the
/// region, or at a chunk whose length is shorter than its header or runs
/// past the region, so a corrupt length cannot walk off it.
#[derive(Clone)]
pub struct ExtraChunks<'a> {
    rest: &'a [u8],
}

impl<'a> ExtraChunks<'a> {
    /// Chunks of any byte run laid out like the extra region.
    pub fn new(bytes: &'a [u8]) -> ExtraChunks<'a> {
        ExtraChunks { rest: bytes }
    }
}

impl<'a> Iterator for ExtraChunks<'a> {
    type Item = (Word, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let header = self.rest.get(..layout::HEADER_SIZE)?;
        let word = |at: usize| -> Option<Word> {
            Some(Word::from_le_bytes(
                header.get(at..at + 8)?.try_into().ok()?,
            ))
        };
        let (id, len) = (word(layout::HEADER_ID)?, word(layout::HEADER_LEN)?);
        let len = usize::try_from(len).ok()?;
        if len < layout::HEADER_SIZE || len > self.rest.len() {
            self.rest = &[];
            return None;
        }
        let payload = &self.rest[layout::HEADER_SIZE..len];
        self.rest = &self.rest[len..];
        Some((id, payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(id: Word, payload: &[u8]) -> std::vec::Vec<u8> {
        let mut c = std::vec::Vec::new();
        c.extend_from_slice(&id.to_le_bytes());
        c.extend_from_slice(&((layout::HEADER_SIZE + payload.len()) as Word).to_le_bytes());
        c.extend_from_slice(payload);
        c
    }

    #[test]
    fn extra_chunks_are_walked_and_bounded() {
        let vbe = layout::header_id::X86_VBE.unwrap();
        let padding = layout::header_id::PADDING.unwrap();
        let mut region = chunk(vbe, &[1, 2, 3]);
        region.extend(chunk(padding, &[0; 13]));
        let chunks: std::vec::Vec<_> = ExtraChunks::new(&region).collect();
        assert_eq!(chunks, [(vbe, &[1u8, 2, 3][..]), (padding, &[0u8; 13][..])]);
        // A length past the region, or shorter than the header, ends it.
        let mut bad = chunk(vbe, &[1]);
        bad[8] = 200;
        assert_eq!(ExtraChunks::new(&bad).count(), 0);
        let mut short = chunk(vbe, &[1]);
        short[8] = 4;
        assert_eq!(ExtraChunks::new(&short).count(), 0);
        assert_eq!(ExtraChunks::new(&[0; 7]).count(), 0);
    }

    #[test]
    fn sel4_5_0_passes_no_rsdp_in_the_bootinfo() {
        // Later kernels define a chunk for it; 5.0 defines padding and VBE
        // only, so the root task finds the RSDP itself.
        assert_eq!(layout::header_id::X86_ACPI_RSDP, None);
        assert_eq!(layout::HEADER_SIZE, 16);
    }
}
