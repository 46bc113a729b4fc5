//! Untyped memory.

use crate::invoke::invoke;
use crate::sys::invocation as label;
use crate::{CPtr, Result, Word};

/// `seL4_Untyped_Retype`: creates `num_objects` objects of `object_type`
/// (size `size_bits` where the type has a variable size) from `untyped`,
/// placing their caps in slots `node_offset..` of the CNode found at
/// `node_index`/`node_depth` from `root`.
#[allow(clippy::too_many_arguments)]
pub fn retype(
    untyped: CPtr,
    object_type: Word,
    size_bits: Word,
    root: CPtr,
    node_index: Word,
    node_depth: Word,
    node_offset: Word,
    num_objects: Word,
) -> Result<()> {
    invoke(
        untyped,
        label::UntypedRetype,
        &[
            object_type,
            size_bits,
            node_index,
            node_depth,
            node_offset,
            num_objects,
        ],
        &[root],
    )
    .map(drop)
}
