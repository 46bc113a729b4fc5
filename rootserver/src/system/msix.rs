//! MSI-X: the root task programs each table entry the plan binds, and
//! refuses a driver whose planned BAR frames would cover its device's
//! table or pending-bit array (docs/platform.md, "MSI-X").
//!
//! Where the table lives is the device's to say (its capability names a
//! BAR and an offset), so the plan cannot know it: this boot check is the
//! rule, and the runtime dump shows its outcome as an observed fact (no
//! driver mapping holds a table or PBA page).

use super::*;
use paddock_spec::limits::MAX_PCI_DEVICES;
use paddock_spec::PciRecord;

const CAP_MSIX: u8 = 0x11;
const CONTROL_ENABLE: u16 = 1 << 15;
const CONTROL_FUNCTION_MASK: u16 = 1 << 14;
/// Address, upper address, data, vector control.
const ENTRY_BYTES: u64 = 16;
const MSI_ADDRESS: u32 = 0xfee0_0000;
/// Frames of MSI-X table pages one boot programs through.
const MAX_TABLE_PAGES: usize = 16;

/// Where a function's MSI-X structures are, from its capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsixLayout {
    /// Offset of the capability in configuration space.
    pub cap: u8,
    pub entries: u16,
    /// Physical addresses of the table and of the pending-bit array.
    pub table: u64,
    pub pba: u64,
}

/// Why a driver's MSI-X IRQs cannot be set up.
#[derive(Clone, Copy, Debug)]
pub enum MsixRefusal {
    Io(sel4::Error),
    NoCapability,
    /// The capability names a BAR the root task found no memory behind.
    NoBar(u8),
    EntryBeyond {
        entry: u32,
        entries: u16,
    },
    /// Planned BAR frames (BAR `bar`, `bytes` from its start) cover the
    /// table's or the PBA's page.
    CoversTable {
        bar: u32,
        bytes: u64,
    },
}

impl fmt::Display for MsixRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MsixRefusal::Io(e) => write!(f, "reading its MSI-X capability failed: {e}"),
            MsixRefusal::NoCapability => write!(f, "the device has no MSI-X capability"),
            MsixRefusal::NoBar(bar) => {
                write!(
                    f,
                    "its MSI-X capability places a structure in BAR {bar}, outside the memory it decodes"
                )
            }
            MsixRefusal::EntryBeyond { entry, entries } => write!(
                f,
                "the plan binds entry {entry}, the table has {entries} entries"
            ),
            MsixRefusal::CoversTable { bar, bytes } => write!(
                f,
                "the plan maps {bytes:#x} bytes of BAR {bar}, which hold the MSI-X table or \
                 pending-bit array: map another BAR or a smaller part of it"
            ),
        }
    }
}

fn page_down(a: u64) -> u64 {
    a & !(PAGE - 1)
}

impl MsixLayout {
    /// From the capability's message control, table and PBA dwords and
    /// the function's memory BARs (address, size).
    pub fn decode(
        cap: u8,
        control: u16,
        table: u32,
        pba: u32,
        bars: &[(u64, u64); 6],
    ) -> Result<MsixLayout, MsixRefusal> {
        let at = |dword: u32| {
            let bir = (dword & 7) as u8;
            match bars.get(usize::from(bir)) {
                // The offset must lie inside the BAR: the device is not
                // trusted to say so.
                Some(&(base, size)) if base != 0 && u64::from(dword & !7) < size => base
                    .checked_add(u64::from(dword & !7))
                    .ok_or(MsixRefusal::NoBar(bir)),
                _ => Err(MsixRefusal::NoBar(bir)),
            }
        };
        Ok(MsixLayout {
            cap,
            entries: (control & 0x7ff) + 1,
            table: at(table)?,
            pba: at(pba)?,
        })
    }

    /// The pages [first, end) of the table and of the PBA.
    pub fn pages(&self) -> [(u64, u64); 2] {
        let n = u64::from(self.entries);
        // Saturating: a structure at the top of the address space covers
        // up to its end.
        let end = |start: u64, bytes: u64| page_down(start.saturating_add(bytes + PAGE - 1));
        [
            (page_down(self.table), end(self.table, n * ENTRY_BYTES)),
            (page_down(self.pba), end(self.pba, n.div_ceil(64) * 8)),
        ]
    }

    /// Whether physical bytes [start, end) share a page with the table or
    /// the PBA.
    pub fn covers(&self, start: u64, end: u64) -> bool {
        self.pages().iter().any(|&(a, b)| start < b && a < end)
    }
}

/// Reads the function's MSI-X capability (found in the list walked at
/// boot).
pub fn locate(found: &pci::Found) -> Result<MsixLayout, MsixRefusal> {
    let cap = found
        .layout
        .caps()
        .iter()
        .find(|c| c.id == CAP_MSIX)
        .ok_or(MsixRefusal::NoCapability)?
        .offset;
    let read = |offset| pci::read32(found.bdf, offset).map_err(MsixRefusal::Io);
    let control = (read(cap)? >> 16) as u16;
    MsixLayout::decode(cap, control, read(cap + 4)?, read(cap + 8)?, &found.bars)
}

/// The MSI-X IRQ records of PCI record `pci`.
fn entries_of<'a>(spec: &'a Spec, pci: usize) -> impl Iterator<Item = &'a paddock_spec::IrqRecord> {
    spec.irqs
        .iter()
        .filter(move |q| q.kind == IrqKind::MsiX as u8 && q.pci.get() as usize == pci)
}

impl Builder<'_> {
    /// The devices with MSI-X IRQs that were found and whose driver is
    /// still to be built: (PCI record index, record, owner, device).
    fn msix_devices<'s>(
        &self,
        system: &System<'s>,
    ) -> heapless::Vec<(usize, &'s PciRecord, usize, pci::Found), { MAX_PCI_DEVICES }> {
        let spec = system.spec;
        let mut out = heapless::Vec::new();
        for (i, record) in spec.pci.iter().enumerate() {
            let owner = record.owner.get() as usize;
            let built = system.running.get(owner).is_some_and(|r| !r.refused);
            if let (Some(found), true) = (self.pci.get(i).and_then(Option::as_ref), built) {
                if entries_of(&spec, i).next().is_some() {
                    // Cannot overflow: at most one entry per PCI record.
                    let _ = out.push((i, record, owner, *found));
                }
            }
        }
        out
    }

    /// Refuses (never builds) each driver whose MSI-X IRQs cannot be set
    /// up as planned, with a report line: no capability, an entry past the
    /// table, or BAR frames the plan maps that cover a table or PBA page.
    pub(super) fn msix_check(&mut self, system: &mut System) {
        let spec = system.spec;
        for (i, record, owner, ref found) in self.msix_devices(system) {
            let refusal = match locate(found) {
                Err(r) => Some(r),
                Ok(layout) => entries_of(&spec, i)
                    .find(|q| q.pin.get() >= u32::from(layout.entries))
                    .map(|q| MsixRefusal::EntryBeyond {
                        entry: q.pin.get(),
                        entries: layout.entries,
                    })
                    .or_else(|| covering_frames(&spec, i, found, &layout)),
            };
            if let Some(refusal) = refusal {
                println!(
                    "paddock: MSI-X: `{}` on `{}` at {}: refusing to start its driver: {refusal}",
                    spec.components.get(owner).map_or("?", |c| spec.str(c.name)),
                    spec.str(record.name),
                    found.bdf
                );
                system.running[owner].refused = true;
            }
        }
    }

    /// Writes each planned entry (CPU 0's address, data 0x30 + vector,
    /// unmasked) through the root task's own mapping of the table page,
    /// then enables MSI-X and clears the function mask. Runs after the
    /// planned objects exist, so the table frames come from the device
    /// memory after the BAR frames the plan maps.
    pub(super) fn msix_program<'s>(
        &mut self,
        system: &mut System<'s>,
    ) -> Result<(), BuildError<'s>> {
        let spec = system.spec;
        let mut frames = heapless::Vec::<(u64, CPtr), MAX_TABLE_PAGES>::new();
        for (i, record, _, ref found) in self.msix_devices(system) {
            let what = spec.str(record.name);
            let layout = locate(found).map_err(|_| BuildError::Unsupported {
                component: what,
                what: "an MSI-X capability that changed since boot",
            })?;
            for q in entries_of(&spec, i) {
                let entry = q.pin.get();
                let at = layout.table.saturating_add(u64::from(entry) * ENTRY_BYTES);
                let page = page_down(at);
                let frame = match frames.iter().find(|(p, _)| *p == page) {
                    Some(&(_, frame)) => frame,
                    None => {
                        let frame = self
                            .alloc
                            .alloc_device_frames(self.slots, page, 1)
                            .map_err(|error| BuildError::Alloc { what, error })?;
                        frames
                            .push((page, frame))
                            .map_err(|_| BuildError::TooMany {
                                what: "MSI-X table pages",
                                count: MAX_TABLE_PAGES + 1,
                                max: MAX_TABLE_PAGES,
                            })?;
                        frame
                    }
                };
                let offset = (at - page) as usize;
                let data = paddock_spec::MSI_CPU_VECTOR_BASE + q.vector.get();
                self.scratch
                    .with_device_frame(frame, |w| {
                        w.write32(offset, MSI_ADDRESS);
                        w.write32(offset + 4, 0);
                        w.write32(offset + 8, data);
                        // Vector control: bit 0 clear, the entry unmasked.
                        w.write32(offset + 12, 0);
                    })
                    .map_err(|error| BuildError::Invocation {
                        what: "writing the MSI-X table",
                        component: what,
                        error,
                    })?;
                println!(
                    "paddock: MSI-X `{what}` at {}: entry {entry} -> vector {} (data {data:#x}; table {:#x}, PBA {:#x}, {} entries)",
                    found.bdf,
                    q.vector.get(),
                    layout.table,
                    layout.pba,
                    layout.entries
                );
            }
            let fail = |error| BuildError::Invocation {
                what: "enabling MSI-X",
                component: what,
                error,
            };
            let control = pci::read(found.bdf, layout.cap + 2, 2).map_err(fail)? as u16;
            let control = (control | CONTROL_ENABLE) & !CONTROL_FUNCTION_MASK;
            pci::write(found.bdf, layout.cap + 2, 2, control.into()).map_err(fail)?;
            // Cannot overflow: one entry per PCI record at most.
            let _ = system.msix.push((i as u32, layout));
        }
        Ok(())
    }
}

/// The dump's `msix` facts: for each device whose MSI-X the root task
/// programmed, how many pages of the mappings the dump reads back
/// (`dumped`: every device BAR, DMA, ring and shared mapping of a built
/// component; the rest is RAM the root task allocated) the kernel says
/// are a table or PBA page (`X86PageGetAddress` of each mapping copy; a
/// page whose address cannot be read counts as one: the fact fails closed).
pub fn print_facts(system: &System, prefix: &str, dumped: impl Fn(usize) -> bool) {
    let spec = &system.spec;
    for &(pci, layout) in system.msix.iter() {
        let Some(record) = spec.pci.get(pci as usize) else {
            continue;
        };
        let mut mapped = 0u32;
        for (index, m) in spec.mappings.iter().enumerate() {
            if !dumped(index) {
                continue;
            }
            let first = copy_slots(system, false, index);
            let pages = system
                .objects
                .get(m.object.get() as usize)
                .map_or(0, |o| m.pages.get().min(o.count));
            for page in 0..u64::from(pages) {
                match sel4::vspace::page_address(first + page) {
                    Ok(paddr) if !layout.covers(paddr, paddr.saturating_add(PAGE)) => {}
                    _ => mapped += 1,
                }
            }
        }
        let owner = record.owner.get() as usize;
        println!(
            "{prefix} msix {} {} table={:#x} pba={:#x} mapped={mapped}@observed",
            spec.components.get(owner).map_or("?", |c| spec.str(c.name)),
            spec.str(record.name),
            layout.table,
            layout.pba,
        );
    }
}

/// The first BAR frames object of PCI record `pci` whose pages cover the
/// table or the PBA.
fn covering_frames(
    spec: &Spec,
    pci: usize,
    found: &pci::Found,
    layout: &MsixLayout,
) -> Option<MsixRefusal> {
    spec.objects
        .iter()
        .filter(|o| o.kind == ObjectKind::DeviceFrames as u8 && o.aux.get() as usize == pci)
        .find_map(|o| {
            let bar = o.aux2.get();
            let base = found.bars.get(bar as usize)?.0;
            let bytes = u64::from(o.count.get()) * PAGE;
            layout
                .covers(base, base.saturating_add(bytes))
                .then_some(MsixRefusal::CoversTable { bar, bytes })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    // virtio-pci in QEMU 7.2: table at BAR1 + 0, PBA at BAR1 + 0x800,
    // 4 entries; the virtio structures in BAR4.
    const BARS: [(u64, u64); 6] = [
        (0, 0),
        (0xfebd_1000, 0x1000),
        (0, 0),
        (0, 0),
        (0xfe00_0000, 0x4000),
        (0, 0),
    ];

    fn layout() -> MsixLayout {
        MsixLayout::decode(0x98, 3, 1, 0x801, &BARS).unwrap()
    }

    #[test]
    fn the_table_and_pba_are_read_from_the_capability() {
        let l = layout();
        assert_eq!((l.entries, l.table, l.pba), (4, 0xfebd_1000, 0xfebd_1800));
        assert!(matches!(
            MsixLayout::decode(0x98, 3, 2, 0x801, &BARS),
            Err(MsixRefusal::NoBar(2))
        ));
        // An offset past the BAR's end is not believed.
        assert!(matches!(
            MsixLayout::decode(0x98, 3, 1, 0x1001, &BARS),
            Err(MsixRefusal::NoBar(1))
        ));
    }

    #[test]
    fn frames_over_the_table_page_are_refused_and_others_are_not() {
        let l = layout();
        // Mapping the table's BAR (the check must fail this plan).
        assert!(l.covers(0xfebd_1000, 0xfebd_2000));
        // A page of another BAR, and the page just before the table's.
        assert!(!l.covers(0xfe00_0000, 0xfe00_4000));
        assert!(!l.covers(0xfebd_0000, 0xfebd_1000));
        // A PBA on a page of its own past a one-page table.
        let far = MsixLayout::decode(
            0x98,
            3,
            1,
            0x2001,
            &[(0, 0), (0x10_0000, 0x4000), (0, 0), (0, 0), (0, 0), (0, 0)],
        )
        .unwrap();
        assert!(far.covers(0x10_2000, 0x10_3000));
        assert!(!far.covers(0x10_1000, 0x10_2000));
    }
}
