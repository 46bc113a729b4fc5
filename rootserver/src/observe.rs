//! What the root task can observe of a component's caps through the
//! kernel, for the runtime dump. Each function here exercises the cap the
//! component holds (through a [`Views`](crate::views::Views) CPtr) or the
//! mapping copy the root task kept, and reports what the kernel did; none
//! of them consults the spec.
//!
//! Nothing here may fault the root task, which has no fault handler:
//! notifications are signalled with `NBSend` (dropped, not faulting, when
//! a CPtr names nothing), and a cap is checked to be there (copied into a
//! spare slot) before anything is invoked on it with `Call`.

use crate::slots::Slots;
use sel4::cnode::Slot;
use sel4::syscall::{nb_signal, poll};
use sel4::{CPtr, CapRights, Word};
use sha2::{Digest, Sha256};

/// The badge of the probe copies: the notification bit the plan keeps for
/// the root task (the highest of seL4 5.0's 28 badge bits), so no planned
/// signal carries it.
const PROBE_BADGE: Word = 1 << (sel4::sys::constants::BadgeBits - 1);

/// Observations through a component's CSpace.
pub struct Prober {
    /// The root task's top-level CNode, which resolves view CPtrs.
    top: CPtr,
    /// An empty slot of the root CNode for short-lived copies.
    spare: CPtr,
}

/// What reading one IO port through a cap did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortOutcome {
    /// The kernel performed the read.
    Accepted,
    /// The kernel refused it (IllegalOperation: outside the cap's range).
    Refused,
    /// The cap is missing or another error came back.
    Failed(sel4::Error),
}

impl PortOutcome {
    pub fn word(self) -> &'static str {
        match self {
            PortOutcome::Accepted => "ok",
            PortOutcome::Refused => "refused",
            PortOutcome::Failed(e) => e.name(),
        }
    }
}

impl Prober {
    pub fn new(top: CPtr, spare: CPtr) -> Prober {
        Prober { top, spare }
    }

    /// The slot a view CPtr names, as a CNode invocation's source.
    fn view_slot(&self, cap: CPtr) -> Slot {
        Slot::new(self.top, cap, sel4::sys::constants::WordBits as u8)
    }

    /// Whether the component slot `cap` (a view CPtr) holds a cap: a copy
    /// into the spare slot succeeds only then.
    pub fn present(&self, cap: CPtr) -> bool {
        let copied =
            sel4::cnode::copy(Slots::slot(self.spare), self.view_slot(cap), CapRights::ALL);
        let _ = sel4::cnode::delete(Slots::slot(self.spare));
        copied.is_ok()
    }

    /// The badge a signal through the component's cap `cap` delivers to
    /// the notification the root task holds at `target`, or `None` when
    /// nothing arrives (the cap has no write right, or names nothing).
    /// `irq_bits` are the badges of the IRQs bound to that notification:
    /// an interrupt landing mid-observation is handed back and the
    /// observation repeated. Whatever was pending before is handed back
    /// too, so the component later sees exactly what it would have.
    pub fn signal(&self, cap: CPtr, target: CPtr, irq_bits: Word) -> Option<Word> {
        const ATTEMPTS: usize = 3;
        let mut pending = poll(target);
        let mut seen = None;
        for _ in 0..ATTEMPTS {
            nb_signal(cap);
            let got = poll(target);
            seen = if got != 0 {
                Some(got)
            } else {
                self.unbadged_signal(cap, target)
            };
            let early = got & irq_bits;
            pending |= early;
            if early == 0 {
                break;
            }
        }
        self.hand_back(target, pending);
        seen
    }

    /// A signal through an unbadged cap leaves no trace in the notification
    /// word, just like a refused one. A copy badged with the probe bit
    /// tells them apart: minting a badge succeeds only from an unbadged
    /// cap, and the copy keeps the cap's rights, so the probe bit arrives
    /// exactly when the cap is unbadged and writable.
    fn unbadged_signal(&self, cap: CPtr, target: CPtr) -> Option<Word> {
        let spare = Slots::slot(self.spare);
        sel4::cnode::mint(spare, self.view_slot(cap), CapRights::ALL, PROBE_BADGE).ok()?;
        nb_signal(self.spare);
        let got = poll(target);
        let _ = sel4::cnode::delete(spare);
        (got & PROBE_BADGE != 0).then_some(0)
    }

    /// Signals `bits` to `target` again (through a copy badged with them).
    fn hand_back(&self, target: CPtr, bits: Word) {
        let Some(data) = sel4::cap::badge_data(bits).filter(|&b| b != 0) else {
            return;
        };
        let spare = Slots::slot(self.spare);
        if sel4::cnode::mint(spare, Slots::slot(target), CapRights::WRITE, data).is_ok() {
            nb_signal(self.spare);
            let _ = sel4::cnode::delete(spare);
        }
    }

    /// Reads port `port` through the component's IO port cap `cap` (a
    /// view CPtr), which [`present`](Self::present) must have found.
    pub fn port(&self, cap: CPtr, port: u16) -> PortOutcome {
        match sel4::ioport::in8(cap, port) {
            Ok(_) => PortOutcome::Accepted,
            Err(e) if e == sel4::Error::ILLEGAL_OPERATION => PortOutcome::Refused,
            Err(e) => PortOutcome::Failed(e),
        }
    }
}

/// The physical frames behind a run of frame caps, as the kernel reports
/// them (`X86PageGetAddress`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frames {
    pub pages: u32,
    /// The first page's physical address.
    pub first: Word,
    /// The first 8 bytes of SHA-256 over every page's physical address
    /// (8 bytes little-endian each, in page order).
    pub digest: [u8; 8],
}

/// Asks the kernel for the physical address of each of the `pages` caps
/// from `first` (consecutive slots the root task filled).
pub fn frames(first: CPtr, pages: u32) -> Result<Frames, sel4::Error> {
    let mut hash = Sha256::new();
    let mut first_paddr = 0;
    for page in 0..pages {
        let paddr = sel4::vspace::page_address(first + u64::from(page))?;
        if page == 0 {
            first_paddr = paddr;
        }
        hash.update(paddr.to_le_bytes());
    }
    let mut digest = [0; 8];
    digest.copy_from_slice(&hash.finalize()[..8]);
    Ok(Frames {
        pages,
        first: first_paddr,
        digest,
    })
}

/// SHA-256 of the spec bytes the root task decoded, which the dump names.
pub fn spec_digest(spec: &[u8]) -> [u8; 32] {
    Sha256::digest(spec).into()
}

/// Lowercase hex of bytes, for the dump.
pub struct Hex<'a>(pub &'a [u8]);

impl core::fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}
