//! Thread control blocks.

use crate::invoke::invoke;
use crate::sys::invocation as label;
use crate::{CPtr, Result, Word};

/// `seL4_UserContext` on x86_64, in the kernel's register order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct UserContext {
    pub rip: Word,
    pub rsp: Word,
    pub rflags: Word,
    pub rax: Word,
    pub rbx: Word,
    pub rcx: Word,
    pub rdx: Word,
    pub rsi: Word,
    pub rdi: Word,
    pub rbp: Word,
    pub r8: Word,
    pub r9: Word,
    pub r10: Word,
    pub r11: Word,
    pub r12: Word,
    pub r13: Word,
    pub r14: Word,
    pub r15: Word,
    pub tls_base: Word,
}

impl UserContext {
    const WORDS: usize = 19;
    fn words(&self) -> [Word; Self::WORDS] {
        [
            self.rip,
            self.rsp,
            self.rflags,
            self.rax,
            self.rbx,
            self.rcx,
            self.rdx,
            self.rsi,
            self.rdi,
            self.rbp,
            self.r8,
            self.r9,
            self.r10,
            self.r11,
            self.r12,
            self.r13,
            self.r14,
            self.r15,
            self.tls_base,
        ]
    }
}

/// `seL4_PrioProps_t`: maximum controlled priority in bits 8..16, priority
/// in bits 0..8 (`shared_types_64.bf`).
pub const fn prio_props(mcp: u8, priority: u8) -> Word {
    (mcp as Word) << 8 | priority as Word
}

/// `seL4_TCB_Configure`: fault endpoint (a CPtr in the thread's own
/// CSpace), priorities, CSpace and VSpace roots and the IPC buffer.
#[allow(clippy::too_many_arguments)]
pub fn configure(
    tcb: CPtr,
    fault_ep: CPtr,
    mcp: u8,
    priority: u8,
    cspace_root: CPtr,
    cspace_root_data: Word,
    vspace_root: CPtr,
    buffer: Word,
    buffer_frame: CPtr,
) -> Result<()> {
    invoke(
        tcb,
        label::TCBConfigure,
        &[
            fault_ep,
            prio_props(mcp, priority),
            cspace_root_data,
            0,
            buffer,
        ],
        &[cspace_root, vspace_root, buffer_frame],
    )
    .map(drop)
}

/// `seL4_TCB_SetSpace`: a new fault endpoint, CSpace root (with its guard
/// data) and VSpace root.
pub fn set_space(
    tcb: CPtr,
    fault_ep: CPtr,
    cspace_root: CPtr,
    cspace_root_data: Word,
    vspace_root: CPtr,
) -> Result<()> {
    invoke(
        tcb,
        label::TCBSetSpace,
        &[fault_ep, cspace_root_data, 0],
        &[cspace_root, vspace_root],
    )
    .map(drop)
}

/// `seL4_TCB_SetPriority`.
pub fn set_priority(tcb: CPtr, priority: u8) -> Result<()> {
    invoke(tcb, label::TCBSetPriority, &[priority.into()], &[]).map(drop)
}

/// `seL4_TCB_WriteRegisters`: `resume` (bit 0) and the arch flags (bits
/// 8..16) share the first word, as the stub generator packs them.
pub fn write_registers(tcb: CPtr, resume: bool, regs: &UserContext) -> Result<()> {
    let mut words = [0; 2 + UserContext::WORDS];
    words[0] = resume as Word;
    words[1] = UserContext::WORDS as Word;
    words[2..].copy_from_slice(&regs.words());
    invoke(tcb, label::TCBWriteRegisters, &words, &[]).map(drop)
}

/// `seL4_TCB_ReadRegisters`, the first two registers only, without
/// suspending the thread: its instruction and stack pointers. The flags
/// word (suspend, arch flags) and the count are the arguments, as for
/// `WriteRegisters`; the registers come back in the message words.
pub fn read_ip_and_sp(tcb: CPtr) -> Result<(Word, Word)> {
    let reply = invoke(tcb, label::TCBReadRegisters, &[0, 2], &[])?;
    Ok((reply.mrs[0], reply.mrs[1]))
}

/// `seL4_TCB_Resume`.
pub fn resume(tcb: CPtr) -> Result<()> {
    invoke(tcb, label::TCBResume, &[], &[]).map(drop)
}

/// `seL4_TCB_Suspend`.
pub fn suspend(tcb: CPtr) -> Result<()> {
    invoke(tcb, label::TCBSuspend, &[], &[]).map(drop)
}

/// `seL4_TCB_BindNotification`: signals on `notification` also wake the
/// thread's endpoint receives.
pub fn bind_notification(tcb: CPtr, notification: CPtr) -> Result<()> {
    invoke(tcb, label::TCBBindNotification, &[], &[notification]).map(drop)
}
