//! Creating the spec's kernel objects, in its order: memory objects from
//! RAM untypeds, device frames over PCI BARs and at the physical addresses
//! the description declares, IOSpaces and their IO page
//! tables, and the DMA windows mapped into them.

use super::*;

impl Builder<'_> {
    pub(super) fn create_objects<'s>(
        &mut self,
        system: &mut System<'s>,
    ) -> Result<(), BuildError<'s>> {
        let spec = system.spec;
        for (index, o) in spec.objects.iter().enumerate() {
            let what = spec.str(o.name);
            let kind = ObjectKind::from_u8(o.kind);
            let owner = (o.owner.get() != NONE).then(|| o.owner.get() as usize);
            let owner_name = owner
                .and_then(|i| spec.components.get(i))
                .map_or(what, |c| name_of(&spec, c));
            let refused = owner.is_some_and(|ci| system.running.get(ci).is_some_and(|r| r.refused));
            let device_missing = matches!(
                kind,
                Some(ObjectKind::DeviceFrames | ObjectKind::IoPageTable)
            ) && !self.present(o.aux.get());
            if refused || device_missing {
                // Kept in the table (indices stay the spec's), holding nothing.
                self.record(system, 0, 0)?;
                continue;
            }
            let count = o.count.get();
            let alloc_err = |error| BuildError::Alloc { what, error };
            let (ty, size_bits, object_bits, n) = match kind {
                Some(ObjectKind::Tcb) => (object_type::TCBObject, 0, constants::TCBBits, 1),
                Some(ObjectKind::CNode) => (
                    object_type::CapTableObject,
                    u64::from(count),
                    constants::SlotBits + count as usize,
                    1,
                ),
                Some(ObjectKind::VSpace) => {
                    (object_type::X64_PML4Object, 0, constants::PML4Bits, 1)
                }
                Some(ObjectKind::Pdpt) => (object_type::X86_PDPTObject, 0, constants::PDPTBits, 1),
                Some(ObjectKind::PageDirectory) => (
                    object_type::X86_PageDirectoryObject,
                    0,
                    constants::PageDirBits,
                    1,
                ),
                Some(ObjectKind::PageTable) => (
                    object_type::X86_PageTableObject,
                    0,
                    constants::PageTableBits,
                    1,
                ),
                Some(ObjectKind::Notification) => (
                    object_type::NotificationObject,
                    0,
                    constants::NotificationBits,
                    1,
                ),
                Some(ObjectKind::Endpoint) => {
                    (object_type::EndpointObject, 0, constants::EndpointBits, 1)
                }
                Some(ObjectKind::Frames) => (
                    object_type::X86_4K,
                    0,
                    constants::PageBits,
                    u64::from(count),
                ),
                Some(ObjectKind::DeviceFrames) => {
                    let first = self.device_frames(system, o, what)?;
                    self.record(system, first, count)?;
                    continue;
                }
                Some(ObjectKind::PlatformFrames) => {
                    let paddr = o.base.get();
                    let result =
                        self.alloc
                            .alloc_device_frames(self.slots, paddr, u64::from(count));
                    let first = result.map_err(|error| BuildError::DeviceMemory {
                        component: owner_name,
                        what,
                        paddr,
                        pages: count,
                        next: self.alloc.device_next(paddr),
                        error,
                    })?;
                    self.record(system, first, count)?;
                    continue;
                }
                Some(ObjectKind::IoPageTable) => {
                    let first = self.io_page_table(system, o, what)?;
                    self.record(system, first, 1)?;
                    continue;
                }
                None => {
                    return Err(BuildError::Unsupported {
                        component: owner_name,
                        what: "an object kind this root task does not know",
                    })
                }
            };
            let first = self
                .alloc
                .alloc(self.slots, ty, size_bits, object_bits as u8, n)
                .map_err(alloc_err)?;
            self.record(system, first, n as u32)?;
            if index == 0 {
                // The plan lists the shared fault endpoint first.
                system.fault_endpoint = first;
            }
            let Some(ci) = owner.filter(|&i| i < system.running.len()) else {
                continue;
            };
            let paging_err = |error| BuildError::Paging {
                component: owner_name,
                error,
            };
            match kind {
                Some(ObjectKind::VSpace) => {
                    sel4::vspace::asid_pool_assign(init_cap::InitThreadASIDPool, first).map_err(
                        |error| BuildError::Invocation {
                            what: "assigning an ASID",
                            component: owner_name,
                            error,
                        },
                    )?;
                    system.running[ci].paging = Paging::new(first);
                }
                Some(ObjectKind::Pdpt) => system.running[ci]
                    .paging
                    .map_table(Level::Pdpt, first, o.base.get())
                    .map_err(paging_err)?,
                Some(ObjectKind::PageDirectory) => system.running[ci]
                    .paging
                    .map_table(Level::PageDirectory, first, o.base.get())
                    .map_err(paging_err)?,
                Some(ObjectKind::PageTable) => system.running[ci]
                    .paging
                    .map_table(Level::PageTable, first, o.base.get())
                    .map_err(paging_err)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Frames over a BAR: `aux` is the PCI record, `aux2` the BAR index.
    pub(super) fn device_frames<'s>(
        &mut self,
        system: &System<'s>,
        o: &paddock_spec::ObjectRecord,
        what: &'s str,
    ) -> Result<CPtr, BuildError<'s>> {
        let found = *self.found(o.aux.get(), what)?;
        let bar = o.aux2.get() as usize;
        let (paddr, size) = found.bars.get(bar).copied().unwrap_or((0, 0));
        let wanted = u64::from(o.count.get()) * PAGE;
        if paddr == 0 || size < wanted || !paddr.is_multiple_of(PAGE) {
            return Err(BuildError::BarMismatch {
                what,
                bdf: found.bdf,
                bar,
                size,
                wanted,
            });
        }
        let _ = system;
        self.alloc
            .alloc_device_frames(self.slots, paddr, u64::from(o.count.get()))
            .map_err(|error| BuildError::Alloc { what, error })
    }

    /// An IO page table of level `aux2` for PCI record `aux`, mapped into
    /// that device's IOSpace at `base` (levels come in order, so each map
    /// installs the next level down).
    pub(super) fn io_page_table<'s>(
        &mut self,
        system: &System<'s>,
        o: &paddock_spec::ObjectRecord,
        what: &'s str,
    ) -> Result<CPtr, BuildError<'s>> {
        let Some((ty, bits)) = sel4::iommu::IO_PAGE_TABLE_OBJECT else {
            return Err(BuildError::Unsupported {
                component: what,
                what: "an IO page table on a kernel without IOMMU",
            });
        };
        let iospace =
            system
                .iospaces
                .get(o.aux.get() as usize)
                .copied()
                .ok_or(BuildError::Unsupported {
                    component: what,
                    what: "an IO page table of an unknown device",
                })?;
        let table = self
            .alloc
            .alloc(self.slots, ty, 0, bits as u8, 1)
            .map_err(|error| BuildError::Alloc { what, error })?;
        sel4::iommu::map_io_page_table(table, iospace, o.base.get()).map_err(|error| {
            BuildError::Invocation {
                what: "mapping an IO page table",
                component: what,
                error,
            }
        })?;
        Ok(table)
    }

    /// One IOSpace cap per PCI device, in the device's own VT-d domain.
    pub(super) fn create_iospaces<'s>(
        &mut self,
        system: &mut System<'s>,
    ) -> Result<(), BuildError<'s>> {
        let spec = system.spec;
        for (i, record) in spec.pci.iter().enumerate() {
            let what = spec.str(record.name);
            if !self.present(i as u32) {
                let _ = system.iospaces.push(0);
                continue;
            }
            let found = *self.found(i as u32, what)?;
            let fail = |error| BuildError::Invocation {
                what: "enabling the PCI device",
                component: what,
                error,
            };
            pci::enable(
                found.bdf,
                record.flags & paddock_spec::PCI_BUS_MASTER != 0,
                record.flags & paddock_spec::PCI_INTX != 0,
            )
            .map_err(fail)?;
            if !spec.iommu() {
                let _ = system.iospaces.push(0);
                continue;
            }
            let slot = self.slots.take(1).map_err(|e| BuildError::Alloc {
                what,
                error: AllocError::Slots(e),
            })?;
            let data = sel4::cap::iospace_data(
                record.domain.get(),
                found.bdf.bus,
                found.bdf.dev,
                found.bdf.func,
            );
            sel4::cnode::mint(
                Slots::slot(slot),
                Slots::slot(init_cap::IOSpace),
                CapRights::ALL,
                data,
            )
            .map_err(|error| BuildError::Invocation {
                what: "minting the device's IOSpace",
                component: what,
                error,
            })?;
            let _ = system.iospaces.push(slot);
        }
        Ok(())
    }

    /// Maps the planned DMA frames into each device's IOSpace.
    pub(super) fn map_io<'s>(&mut self, system: &mut System<'s>) -> Result<(), BuildError<'s>> {
        let spec = system.spec;
        // Each page is mapped through its own copy, in the run of slots
        // the dump reads back (`System::io_copies`).
        let mut copy = system.io_copies;
        for m in spec.io_mappings {
            let first_copy = copy;
            copy += u64::from(m.pages.get());
            let what = spec
                .pci
                .get(m.pci.get() as usize)
                .map_or("?", |p| spec.str(p.name));
            if !self.present(m.pci.get()) {
                continue;
            }
            let iospace = system.iospaces[m.pci.get() as usize];
            let caps = system.objects[m.object.get() as usize];
            for page in 0..m.pages.get().min(caps.count) {
                let fail = |error| BuildError::Invocation {
                    what: "mapping a DMA page into the IOSpace",
                    component: what,
                    error,
                };
                let page_copy = first_copy + u64::from(page);
                sel4::cnode::copy(
                    Slots::slot(page_copy),
                    Slots::slot(caps.first + u64::from(page)),
                    CapRights::ALL,
                )
                .map_err(fail)?;
                let iova = m.iova.get() + u64::from(page) * PAGE;
                sel4::iommu::map_io(page_copy, iospace, CapRights::READ_WRITE, iova)
                    .map_err(fail)?;
            }
        }
        Ok(())
    }
}
