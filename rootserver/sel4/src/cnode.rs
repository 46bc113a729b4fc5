//! CNode invocations. Each takes the CNode to invoke, and slot addresses as
//! (index, depth) pairs resolved from it.

use crate::invoke::invoke;
use crate::sys::invocation as label;
use crate::{CPtr, CapRights, Result, Word};

/// A slot named relative to a CNode: `index` resolved to `depth` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub root: CPtr,
    pub index: Word,
    pub depth: u8,
}

impl Slot {
    pub const fn new(root: CPtr, index: Word, depth: u8) -> Self {
        Slot { root, index, depth }
    }
}

/// `seL4_CNode_Copy`.
pub fn copy(dest: Slot, src: Slot, rights: CapRights) -> Result<()> {
    invoke(
        dest.root,
        label::CNodeCopy,
        &[
            dest.index,
            dest.depth.into(),
            src.index,
            src.depth.into(),
            rights.0,
        ],
        &[src.root],
    )
    .map(drop)
}

/// `seL4_CNode_Mint`: a copy with fewer rights and the given cap data
/// (a badge, a guard, an IO port range, an IOSpace domain and device).
pub fn mint(dest: Slot, src: Slot, rights: CapRights, data: Word) -> Result<()> {
    invoke(
        dest.root,
        label::CNodeMint,
        &[
            dest.index,
            dest.depth.into(),
            src.index,
            src.depth.into(),
            rights.0,
            data,
        ],
        &[src.root],
    )
    .map(drop)
}

/// `seL4_CNode_Move`.
pub fn move_(dest: Slot, src: Slot) -> Result<()> {
    invoke(
        dest.root,
        label::CNodeMove,
        &[dest.index, dest.depth.into(), src.index, src.depth.into()],
        &[src.root],
    )
    .map(drop)
}

/// `seL4_CNode_Delete`.
pub fn delete(slot: Slot) -> Result<()> {
    invoke(
        slot.root,
        label::CNodeDelete,
        &[slot.index, slot.depth.into()],
        &[],
    )
    .map(drop)
}

/// `seL4_CNode_Revoke`: deletes every cap derived from the one in `slot`.
pub fn revoke(slot: Slot) -> Result<()> {
    invoke(
        slot.root,
        label::CNodeRevoke,
        &[slot.index, slot.depth.into()],
        &[],
    )
    .map(drop)
}
