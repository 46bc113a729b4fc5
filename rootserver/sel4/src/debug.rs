//! Debug syscalls. They exist only on debug kernels; on release kernels
//! these functions report [`Unavailable`] without entering the kernel.

use crate::{CPtr, Word};

/// The running kernel is a release build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unavailable;

/// Whether the debug syscalls exist in this configuration.
pub const AVAILABLE: bool = crate::sys::config::DEBUG_BUILD;

/// `seL4_DebugPutChar`: one byte to the kernel's console (COM1).
pub fn put_char(c: u8) -> Result<(), Unavailable> {
    #[cfg(sel4_debug_build)]
    {
        crate::syscall::debug_raw::put_char(c);
        Ok(())
    }
    #[cfg(not(sel4_debug_build))]
    {
        let _ = c;
        Err(Unavailable)
    }
}

/// `seL4_DebugCapIdentify`: the kernel's cap type tag of `cap` (0 for an
/// empty slot).
pub fn cap_identify(cap: CPtr) -> Result<Word, Unavailable> {
    #[cfg(sel4_debug_build)]
    {
        Ok(crate::syscall::debug_raw::cap_identify(cap))
    }
    #[cfg(not(sel4_debug_build))]
    {
        let _ = cap;
        Err(Unavailable)
    }
}

/// `seL4_DebugHalt`: stops the machine.
pub fn halt() -> Result<(), Unavailable> {
    #[cfg(sel4_debug_build)]
    {
        crate::syscall::debug_raw::halt();
        Ok(())
    }
    #[cfg(not(sel4_debug_build))]
    Err(Unavailable)
}
