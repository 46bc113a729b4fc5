//! Marshalling of an invocation: label, words, extra caps; the reply's label
//! is the error code.
//!
//! Arguments are laid out as libsel4's stub generator lays them out: in XML
//! order, each aligned to its own size within words, caps moved to the extra
//! caps. Every seL4 5.0 method paddock uses ends up one argument per word,
//! except `TCB_WriteRegisters` (its flags share word 0; see `tcb`).

use crate::error::{check, Result};
use crate::ipc::{self, MessageInfo, REGISTER_MRS};
use crate::syscall::{self, Reply};
use crate::{CPtr, Word};

/// Invokes `cap` with method `label`, message words `words` and extra caps
/// `caps`; returns the kernel's reply when it reports no error.
pub(crate) fn invoke(cap: CPtr, label: Word, words: &[Word], caps: &[CPtr]) -> Result<Reply> {
    let mut regs = [0; REGISTER_MRS];
    for (i, &w) in words.iter().enumerate() {
        if i < REGISTER_MRS {
            regs[i] = w;
        } else {
            ipc::set_mr(i, w);
        }
    }
    if !caps.is_empty() {
        ipc::set_extra_caps(caps);
    }
    let info = MessageInfo::new(label, 0, caps.len() as Word, words.len() as Word);
    let reply = syscall::call(cap, info, regs);
    check(reply.info.label())?;
    Ok(reply)
}
