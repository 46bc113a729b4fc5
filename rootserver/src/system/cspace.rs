//! Each component's CSpace (the planned caps in the planned slots, IRQ
//! handlers issued and bound on the way) and its thread's configuration.

use super::*;

impl Builder<'_> {
    pub(super) fn fill_cspace<'s>(
        &mut self,
        system: &mut System<'s>,
        ci: usize,
    ) -> Result<(), BuildError<'s>> {
        let spec = system.spec;
        let c = &spec.components[ci];
        let component = name_of(&spec, c);
        let cnode = system.objects[c.cnode.get() as usize].first;
        let first = c.caps.first.get() as usize;
        for (index, cap) in (first..).zip(spec.caps_of(c)) {
            let dest = Slot::new(cnode, u64::from(cap.slot.get()), c.cnode_bits);
            let rights = cap_rights(cap.rights);
            let badge = cap.badge.get();
            let object = |o: u32| system.objects.get(o as usize).map(|x| x.first);
            let fail = |what, error| BuildError::Invocation {
                what,
                component,
                error,
            };
            match CapKind::from_u8(cap.kind) {
                Some(CapKind::FaultEndpoint)
                | Some(CapKind::Notification)
                | Some(CapKind::NotificationSend)
                | Some(CapKind::CallEndpoint)
                | Some(CapKind::ServeEndpoint)
                | Some(CapKind::PciConfig) => {
                    if system
                        .objects
                        .get(cap.object.get() as usize)
                        .is_some_and(|o| o.count == 0)
                    {
                        // Its object belongs to a refused component: the
                        // slot stays empty (and the dump says so).
                        continue;
                    }
                    let src = object(cap.object.get())
                        .ok_or(fail("finding the cap's object", sel4::Error::FAILED_LOOKUP))?;
                    let badge = crate::inject::send_badge(&spec, index, badge);
                    let data = sel4::cap::badge_data(badge).ok_or(fail(
                        "badging a cap",
                        sel4::Error(sel4::sys::error::RangeError),
                    ))?;
                    sel4::cnode::mint(dest, Slots::slot(src), rights, data)
                        .map_err(|e| fail("minting a badged cap", e))?;
                }
                Some(CapKind::IoPort) => {
                    // The badge is the port range, `first << 16 | last`.
                    sel4::cnode::mint(
                        dest,
                        Slot::new(init_cap::InitThreadCNode, init_cap::IOPort, ROOT_DEPTH),
                        rights,
                        crate::inject::port_range(&spec, index, badge),
                    )
                    .map_err(|e| fail("minting an IO port range", e))?;
                }
                Some(CapKind::IrqHandler) => {
                    let handler = self.irq_handler(system, cap.object.get() as usize, component)?;
                    sel4::cnode::copy(dest, Slots::slot(handler), rights)
                        .map_err(|e| fail("handing over an IRQ handler", e))?;
                }
                _ => {
                    return Err(BuildError::Unsupported {
                        component,
                        what: "a cap of this kind for a component",
                    })
                }
            }
        }
        Ok(())
    }

    /// Issues the handler of IRQ record `index` and binds it to the badged
    /// notification the plan names; returns the root task's handler cap.
    pub(super) fn irq_handler<'s>(
        &mut self,
        system: &mut System<'s>,
        index: usize,
        component: &'s str,
    ) -> Result<CPtr, BuildError<'s>> {
        let fail = |what, error| BuildError::Invocation {
            what,
            component,
            error,
        };
        let irq = system
            .spec
            .irqs
            .get(index)
            .ok_or(fail("finding the IRQ", sel4::Error::FAILED_LOOKUP))?;
        let no_slot = |_| {
            fail(
                "finding a slot",
                sel4::Error(sel4::sys::error::NotEnoughMemory),
            )
        };
        let handler = self.slots.take(1).map_err(no_slot)?;
        let vector = u64::from(irq.vector.get());
        match IrqKind::from_u8(irq.kind) {
            Some(IrqKind::IoApic) => sel4::irq::get_ioapic(
                init_cap::IRQControl,
                Slots::slot(handler),
                0,
                u64::from(irq.pin.get()),
                if irq.level != 0 {
                    sel4::irq::Trigger::Level
                } else {
                    sel4::irq::Trigger::Edge
                },
                if irq.polarity != 0 {
                    sel4::irq::Polarity::ActiveLow
                } else {
                    sel4::irq::Polarity::ActiveHigh
                },
                vector,
            ),
            Some(IrqKind::Msi) => {
                let found = *self.found(irq.pci.get(), component)?;
                let bdf = found.bdf;
                let issued = sel4::irq::get_msi(
                    init_cap::IRQControl,
                    Slots::slot(handler),
                    bdf.bus.into(),
                    bdf.dev.into(),
                    bdf.func.into(),
                    u64::from(irq.pin.get()),
                    vector,
                );
                // The device's MSI is programmed once, for its whole block,
                // when the handler of its last message exists.
                let device = system.spec.pci.get(irq.pci.get() as usize);
                if let (true, Some(device)) = (issued.is_ok(), device) {
                    if irq.pin.get() + 1 == u32::from(device.msi_count) {
                        let (first, count) = (device.msi_vector.into(), device.msi_count.into());
                        pci::program_msi(bdf, first, count, component).map_err(BuildError::Pci)?;
                    }
                }
                issued
            }
            // The table entry is the root task's to program (system/msix.rs).
            Some(IrqKind::MsiX) => {
                let bdf = self.found(irq.pci.get(), component)?.bdf;
                sel4::irq::get_msi(
                    init_cap::IRQControl,
                    Slots::slot(handler),
                    bdf.bus.into(),
                    bdf.dev.into(),
                    bdf.func.into(),
                    u64::from(irq.pin.get()),
                    vector,
                )
            }
            None => {
                return Err(BuildError::Unsupported {
                    component,
                    what: "an IRQ of unknown kind",
                })
            }
        }
        .map_err(|e| fail("issuing the IRQ handler", e))?;
        let ntfn = system
            .objects
            .get(irq.notification.get() as usize)
            .ok_or(fail(
                "finding the IRQ's notification",
                sel4::Error::FAILED_LOOKUP,
            ))?
            .first;
        let badged = self.slots.take(1).map_err(no_slot)?;
        let data = sel4::cap::badge_data(irq.badge.get()).ok_or(fail(
            "badging the IRQ",
            sel4::Error(sel4::sys::error::RangeError),
        ))?;
        sel4::cnode::mint(
            Slots::slot(badged),
            Slots::slot(ntfn),
            CapRights::WRITE,
            data,
        )
        .map_err(|e| fail("minting the IRQ's notification", e))?;
        sel4::irq::set_notification(handler, badged)
            .map_err(|e| fail("IRQHandler_SetNotification", e))?;
        system.irq_handlers[index] = handler;
        Ok(handler)
    }

    pub(super) fn configure_thread(
        &mut self,
        system: &System,
        ci: usize,
    ) -> Result<(), sel4::Error> {
        let spec = system.spec;
        let c = &spec.components[ci];
        let obj = |o: u32| system.objects[o as usize].first;
        let fault_slot = spec
            .caps_of(c)
            .iter()
            .find(|cap| cap.kind == CapKind::FaultEndpoint as u8)
            .map_or(0, |cap| u64::from(cap.slot.get()));
        let word_bits = constants::WordBits as u64;
        sel4::tcb::configure(
            obj(c.tcb.get()),
            fault_slot,
            0,
            c.priority,
            obj(c.cnode.get()),
            sel4::cap::guard_data(0, word_bits - u64::from(c.cnode_bits)),
            obj(c.vspace.get()),
            c.ipc_buffer.get(),
            obj(c.ipc_buffer_object.get()),
        )?;
        write_start_registers(system, ci)
    }
}
