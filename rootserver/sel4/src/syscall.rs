//! The `syscall` instruction, and the syscalls built directly on it.
//!
//! x86_64 seL4 5.0 convention: syscall number in RDX, destination cap in RDI,
//! message info in RSI, message registers 0-3 in R10, R8, R9, R15. The kernel
//! returns the message info in RSI, the badge (or sender) in RDI and the
//! message registers in the same four registers; it clobbers RCX and R11
//! (`sysret`), and does not preserve RSP. libsel4 parks RSP in RBX, which
//! LLVM reserves, so RSP is parked in R12, which the kernel restores.

use crate::ipc::MessageInfo;
use crate::sys::syscall as number;
use crate::{CPtr, Word};

/// What a syscall hands back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    pub info: MessageInfo,
    /// The badge of the capability the message or signal came through.
    pub badge: Word,
    /// Message registers 0-3 (the rest are in the IPC buffer).
    pub mrs: [Word; 4],
}

/// Performs one syscall.
#[inline(always)]
fn raw(sys: isize, dest: Word, info: MessageInfo, mrs: [Word; 4]) -> Reply {
    let (mut rdi, mut rsi) = (dest, info.0);
    let [mut r10, mut r8, mut r9, mut r15] = mrs;
    // SAFETY: the syscall instruction enters the kernel, which reads and
    // writes only the registers named here (plus the caller's IPC buffer,
    // hence no `nomem`) and restores every other register but RSP, RCX and
    // R11. RSP is saved in R12 before and restored after, RCX and R11 are
    // declared clobbered, and no stack is used by the sequence.
    unsafe {
        core::arch::asm!(
            "mov r12, rsp",
            "syscall",
            "mov rsp, r12",
            inout("rdx") sys => _,
            inout("rdi") rdi,
            inout("rsi") rsi,
            inout("r10") r10,
            inout("r8") r8,
            inout("r9") r9,
            inout("r15") r15,
            out("rcx") _,
            out("r11") _,
            out("r12") _,
            options(nostack),
        );
    }
    Reply {
        info: MessageInfo(rsi),
        badge: rdi,
        mrs: [r10, r8, r9, r15],
    }
}

/// A system call by raw number, with no arguments: only for showing that
/// the kernel refuses numbers it does not have (a release kernel has no
/// debug calls), which it reports as an `UnknownSyscall` fault to the
/// caller's fault handler. Real calls use the functions named for them.
pub fn by_number(number: isize) -> Reply {
    raw(number, 0, MessageInfo::default(), [0; 4])
}

/// `seL4_Call`: send to `dest` and wait for the reply.
pub fn call(dest: CPtr, info: MessageInfo, mrs: [Word; 4]) -> Reply {
    raw(number::Call, dest, info, mrs)
}

/// `seL4_Send`: a blocking send (on a notification: a signal).
pub fn send(dest: CPtr, info: MessageInfo, mrs: [Word; 4]) {
    raw(number::Send, dest, info, mrs);
}

/// `seL4_Signal`: signal a notification (a send with an empty message).
pub fn signal(notification: CPtr) {
    send(notification, MessageInfo::new(0, 0, 0, 0), [0; 4]);
}

/// `seL4_NBSend` of an empty message: signals a notification without ever
/// faulting the caller. A `Send` through a CPtr that names no cap raises a
/// cap fault on the sender, which the root task (with no fault handler)
/// would not survive; a non-blocking send is dropped instead. A cap without
/// the write right drops it too, so whether the signal arrived is what
/// tells the right.
pub fn nb_signal(notification: CPtr) {
    raw(
        number::NBSend,
        notification,
        MessageInfo::new(0, 0, 0, 0),
        [0; 4],
    );
}

/// `seL4_Recv`: block until a message or signal arrives on `src`.
pub fn recv(src: CPtr) -> Reply {
    raw(number::Recv, src, MessageInfo::default(), [0; 4])
}

/// `seL4_Wait`: block on a notification; returns the accumulated badge bits.
pub fn wait(notification: CPtr) -> Word {
    recv(notification).badge
}

/// `seL4_Poll`: the notification's badge bits if signalled, else 0; never
/// blocks.
pub fn poll(notification: CPtr) -> Word {
    raw(number::NBRecv, notification, MessageInfo::default(), [0; 4]).badge
}

/// `seL4_Reply`: answer the last caller.
pub fn reply(info: MessageInfo, mrs: [Word; 4]) {
    raw(number::Reply, 0, info, mrs);
}

/// `seL4_ReplyRecv`: answer the last caller, then wait on `src`.
pub fn reply_recv(src: CPtr, info: MessageInfo, mrs: [Word; 4]) -> Reply {
    raw(number::ReplyRecv, src, info, mrs)
}

/// `seL4_Yield`.
pub fn yield_now() {
    raw(number::Yield, 0, MessageInfo::default(), [0; 4]);
}

/// Debug syscalls, numbered only on debug kernels.
#[cfg(sel4_debug_build)]
pub(crate) mod debug_raw {
    use super::*;

    pub fn put_char(c: u8) {
        raw(
            number::DebugPutChar,
            c.into(),
            MessageInfo::default(),
            [0; 4],
        );
    }

    pub fn cap_identify(cap: CPtr) -> Word {
        raw(
            number::DebugCapIdentify,
            cap,
            MessageInfo::default(),
            [0; 4],
        )
        .badge
    }

    pub fn halt() {
        raw(number::DebugHalt, 0, MessageInfo::default(), [0; 4]);
    }
}
