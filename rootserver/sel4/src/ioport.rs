//! Port IO through an IOPort capability. A port outside the cap's range
//! fails with IllegalOperation (and the kernel logs the attempt).

use crate::invoke::invoke;
use crate::sys::invocation as label;
use crate::{CPtr, Result, Word};

/// `seL4_X86_IOPort_In8`.
pub fn in8(cap: CPtr, port: u16) -> Result<u8> {
    invoke(cap, label::X86IOPortIn8, &[port.into()], &[]).map(|r| r.mrs[0] as u8)
}

/// `seL4_X86_IOPort_In16`.
pub fn in16(cap: CPtr, port: u16) -> Result<u16> {
    invoke(cap, label::X86IOPortIn16, &[port.into()], &[]).map(|r| r.mrs[0] as u16)
}

/// `seL4_X86_IOPort_In32`.
pub fn in32(cap: CPtr, port: u16) -> Result<u32> {
    invoke(cap, label::X86IOPortIn32, &[port.into()], &[]).map(|r| r.mrs[0] as u32)
}

/// `seL4_X86_IOPort_Out8`.
pub fn out8(cap: CPtr, port: u16, value: u8) -> Result<()> {
    invoke(cap, label::X86IOPortOut8, &[port.into(), value.into()], &[]).map(drop)
}

/// `seL4_X86_IOPort_Out16`.
pub fn out16(cap: CPtr, port: u16, value: u16) -> Result<()> {
    invoke(
        cap,
        label::X86IOPortOut16,
        &[port.into(), value.into()],
        &[],
    )
    .map(drop)
}

/// `seL4_X86_IOPort_Out32`.
pub fn out32(cap: CPtr, port: u16, value: u32) -> Result<()> {
    invoke(
        cap,
        label::X86IOPortOut32,
        &[port.into(), Word::from(value)],
        &[],
    )
    .map(drop)
}
