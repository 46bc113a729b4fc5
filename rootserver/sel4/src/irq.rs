//! Interrupts: IRQControl (issuing handlers) and IRQHandler.

use crate::cnode::Slot;
use crate::invoke::invoke;
use crate::sys::invocation as label;
use crate::{CPtr, Result, Word};

/// Highest `vector` argument the kernel accepts: the kernel IRQ is
/// 16 + vector and the CPU vector 0x30 + vector.
pub const MAX_VECTOR: Word = 107;

/// Trigger mode of an IOAPIC line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Edge = 0,
    Level = 1,
}

/// Polarity of an IOAPIC line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polarity {
    ActiveHigh = 0,
    ActiveLow = 1,
}

/// `seL4_IRQControl_GetIOAPIC`: a handler for IOAPIC `ioapic`'s `pin`,
/// delivered as `vector`, placed in `dest`.
pub fn get_ioapic(
    control: CPtr,
    dest: Slot,
    ioapic: Word,
    pin: Word,
    trigger: Trigger,
    polarity: Polarity,
    vector: Word,
) -> Result<()> {
    invoke(
        control,
        label::X86IRQIssueIRQHandlerIOAPIC,
        &[
            dest.index,
            dest.depth.into(),
            ioapic,
            pin,
            trigger as Word,
            polarity as Word,
            vector,
        ],
        &[dest.root],
    )
    .map(drop)
}

/// `seL4_IRQControl_GetMSI`: a handler for PCI function `bus:dev.func`'s
/// MSI `handle`, delivered as `vector`, placed in `dest`.
pub fn get_msi(
    control: CPtr,
    dest: Slot,
    bus: Word,
    dev: Word,
    func: Word,
    handle: Word,
    vector: Word,
) -> Result<()> {
    invoke(
        control,
        label::X86IRQIssueIRQHandlerMSI,
        &[
            dest.index,
            dest.depth.into(),
            bus,
            dev,
            func,
            handle,
            vector,
        ],
        &[dest.root],
    )
    .map(drop)
}

/// `seL4_IRQHandler_SetNotification`: the interrupt signals `notification`
/// (which needs write rights) with that cap's badge.
pub fn set_notification(handler: CPtr, notification: CPtr) -> Result<()> {
    invoke(handler, label::IRQSetIRQHandler, &[], &[notification]).map(drop)
}

/// `seL4_IRQHandler_Ack`: unmasks the line after the interrupt is serviced.
pub fn ack(handler: CPtr) -> Result<()> {
    invoke(handler, label::IRQAckIRQ, &[], &[]).map(drop)
}

/// `seL4_IRQHandler_Clear`: unbinds the notification.
pub fn clear(handler: CPtr) -> Result<()> {
    invoke(handler, label::IRQClearIRQHandler, &[], &[]).map(drop)
}
