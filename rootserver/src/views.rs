//! Windows into the components' CSpaces, for the runtime audit's
//! observations: `seL4_DebugCapIdentify` on debug kernels, and on every
//! kernel the invocations that exercise a component's caps as the
//! component would (signals, IO port reads).
//!
//! Both resolve a CPtr in the caller's own CSpace, and the boot CSpace (one
//! CNode whose guard and radix use all 64 bits) leaves no bits to reach
//! further. So the root task moves under a small top-level CNode: its slot
//! 0 holds the boot CNode, guarded so that every existing CPtr (a boot slot
//! number) still resolves to the same slot; slot `i + 1` holds component
//! `i`'s CNode, guarded so that `(i + 1) << (64 - TOP_BITS) | s` names that
//! component's slot `s`. An empty or missing slot then identifies as type 0
//! without the kernel reporting an error. Installing the views needs no
//! debug syscall, so release kernels get them too.

use crate::slots::Slots;
use crate::untyped::Allocator;
use paddock_spec::limits::MAX_COMPONENTS;
use sel4::bootinfo::init_cap;
use sel4::cnode::Slot;
use sel4::sys::{constants, object_type};
use sel4::{CPtr, CapRights};

/// Radix of the top-level CNode: the smallest whose slots hold the boot
/// CNode and every component of the largest system (9 bits for 256).
const TOP_BITS: u8 = (usize::BITS - MAX_COMPONENTS.leading_zeros()) as u8;
const _: () = assert!(1 << TOP_BITS > MAX_COMPONENTS);
const WORD_BITS: u8 = constants::WordBits as u8;
const VIEW_SHIFT: u8 = WORD_BITS - TOP_BITS;

pub struct Views {
    top: CPtr,
}

impl Views {
    /// Puts the root task under a new top-level CNode. `boot_bits` is the
    /// boot CNode's radix.
    pub fn install(
        alloc: &mut Allocator,
        slots: &mut Slots,
        boot_bits: u8,
    ) -> Result<Views, &'static str> {
        let top = alloc
            .alloc(
                slots,
                object_type::CapTableObject,
                TOP_BITS.into(),
                (constants::SlotBits as u8) + TOP_BITS,
                1,
            )
            .map_err(|_| "no memory for the top-level CNode")?;
        let guard = u64::from(VIEW_SHIFT - boot_bits);
        sel4::cnode::mint(
            Slot::new(top, 0, TOP_BITS),
            Slots::slot(init_cap::InitThreadCNode),
            CapRights::ALL,
            sel4::cap::guard_data(0, guard),
        )
        .map_err(|_| "placing the boot CNode under the top level")?;
        sel4::tcb::set_space(
            init_cap::InitThreadTCB,
            0,
            top,
            sel4::cap::guard_data(0, 0),
            init_cap::InitThreadVSpace,
        )
        .map_err(|_| "switching the root task's CSpace")?;
        Ok(Views { top })
    }

    /// The top-level CNode (a slot of the boot CNode): view CPtrs resolve
    /// from it at full depth.
    pub fn top(&self) -> CPtr {
        self.top
    }

    /// The CPtr of slot 0 of view `index`, which [`open`](Self::open) made.
    pub fn opened(&self, index: usize) -> CPtr {
        (index as u64 + 1) << VIEW_SHIFT
    }

    /// Opens view `index` (0-based) onto a CNode of radix `bits` held at
    /// `cnode`; returns the CPtr of its slot 0.
    pub fn open(&self, index: usize, cnode: CPtr, bits: u8) -> Result<CPtr, sel4::Error> {
        let top_slot = index as u64 + 1;
        if top_slot >= 1 << TOP_BITS {
            return Err(sel4::Error(sel4::sys::error::RangeError));
        }
        sel4::cnode::mint(
            Slot::new(self.top, top_slot, TOP_BITS),
            Slots::slot(cnode),
            CapRights::ALL,
            sel4::cap::guard_data(0, u64::from(VIEW_SHIFT - bits)),
        )?;
        Ok(top_slot << VIEW_SHIFT)
    }
}
