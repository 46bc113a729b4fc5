//! Message info words and the IPC buffer.

use crate::sys::constants;
use crate::{CPtr, Word};
use core::sync::atomic::{AtomicPtr, Ordering};

/// `seL4_MessageInfo_t`: `label << 12 | capsUnwrapped << 9 | extraCaps << 7
/// | length` (`shared_types_64.bf`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageInfo(pub Word);

impl MessageInfo {
    pub const fn new(label: Word, caps_unwrapped: Word, extra_caps: Word, length: Word) -> Self {
        MessageInfo(
            (label & 0xf_ffff) << 12
                | (caps_unwrapped & 7) << 9
                | (extra_caps & 3) << 7
                | (length & 0x7f),
        )
    }
    /// The label: on a reply from the kernel, the error code.
    pub const fn label(self) -> Word {
        self.0 >> 12 & 0xf_ffff
    }
    pub const fn length(self) -> usize {
        (self.0 & 0x7f) as usize
    }
    pub const fn extra_caps(self) -> usize {
        (self.0 >> 7 & 3) as usize
    }
}

/// Message registers that travel in machine registers.
pub const REGISTER_MRS: usize = 4;
/// Words of message payload an IPC buffer holds.
pub const MSG_MAX_LENGTH: usize = constants::MsgMaxLength as usize;
/// Extra caps a message can carry.
pub const MSG_MAX_EXTRA_CAPS: usize = (1 << constants::MsgExtraCapBits) - 1;

// seL4_IPCBuffer: tag, msg[MSG_MAX_LENGTH], userData, caps_or_badges[..],
// receiveCNode, receiveIndex, receiveDepth; all words.
const MSG_WORD: usize = 1;
const CAPS_WORD: usize = MSG_WORD + MSG_MAX_LENGTH + 1;
const IPC_BUFFER_WORDS: usize = CAPS_WORD + MSG_MAX_EXTRA_CAPS + 3;

static IPC_BUFFER: AtomicPtr<Word> = AtomicPtr::new(core::ptr::null_mut());

/// Tells the bindings where this thread's IPC buffer is mapped.
///
/// # Safety
/// `buffer` must point to this thread's IPC buffer, mapped readable and
/// writable for as long as invocations are made, and used by one thread.
pub unsafe fn set_ipc_buffer(buffer: *mut Word) {
    IPC_BUFFER.store(buffer, Ordering::Relaxed);
}

fn buffer_word(index: usize) -> *mut Word {
    assert!(
        index < IPC_BUFFER_WORDS,
        "IPC buffer word {index} out of range"
    );
    let base = IPC_BUFFER.load(Ordering::Relaxed);
    assert!(!base.is_null(), "IPC buffer used before set_ipc_buffer");
    // SAFETY: index is within the buffer's IPC_BUFFER_WORDS words, which
    // set_ipc_buffer's contract guarantees are mapped.
    unsafe { base.add(index) }
}

/// Writes message register `i` (`i >= 4`) in the IPC buffer.
pub fn set_mr(i: usize, value: Word) {
    assert!(i < MSG_MAX_LENGTH);
    // SAFETY: buffer_word returns a valid, aligned pointer into the mapped
    // IPC buffer, which only this thread uses.
    unsafe { buffer_word(MSG_WORD + i).write_volatile(value) }
}

/// Reads message register `i` from the IPC buffer.
pub fn get_mr(i: usize) -> Word {
    assert!(i < MSG_MAX_LENGTH);
    // SAFETY: as in set_mr.
    unsafe { buffer_word(MSG_WORD + i).read_volatile() }
}

/// Places the extra caps of the next message.
pub fn set_extra_caps(caps: &[CPtr]) {
    assert!(caps.len() <= MSG_MAX_EXTRA_CAPS);
    for (i, &cap) in caps.iter().enumerate() {
        // SAFETY: as in set_mr.
        unsafe { buffer_word(CAPS_WORD + i).write_volatile(cap) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_info_packs_as_the_bitfield_says() {
        let info = MessageInfo::new(0x12345, 0, 2, 6);
        assert_eq!(info.0, 0x12345 << 12 | 2 << 7 | 6);
        assert_eq!(info.label(), 0x12345);
        assert_eq!(info.extra_caps(), 2);
        assert_eq!(info.length(), 6);
    }

    #[test]
    fn ipc_buffer_is_one_kibibyte() {
        assert_eq!(IPC_BUFFER_WORDS * 8, 1024);
    }
}
