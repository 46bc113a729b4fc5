//! The checks [`Spec::decode`] makes before it returns: after them the
//! accessors cannot fail and nothing in the spec can make the root task
//! index out of bounds or overflow one of its fixed tables.

use crate::limits::*;
use crate::*;

fn bad(table: Table, index: usize, field: &'static str, value: u64) -> DecodeError {
    DecodeError::BadField {
        table,
        index: index as u32,
        field,
        value,
    }
}

/// A string that must also fit a field of `max` bytes.
fn name(spec: &Spec, table: Table, index: usize, s: StrRef, max: usize) -> Result<(), DecodeError> {
    match spec.try_str(s) {
        None => Err(DecodeError::BadString {
            table,
            index: index as u32,
        }),
        Some(text) if text.len() > max => Err(DecodeError::NameTooLong {
            table,
            index: index as u32,
            len: text.len(),
            max,
        }),
        Some(_) => Ok(()),
    }
}

/// Whether `count` MSI messages from kernel vector `first` make a block
/// the device can be programmed with: the messages rounded up to a power
/// of two N, every vector of the block the kernel's, and the CPU vector of
/// the first a multiple of N (the device writes the message number into
/// the data's low log2(N) bits).
pub fn msi_block_fits(first: u8, count: u8) -> bool {
    if count == 0 {
        return true;
    }
    let n = u32::from(count).next_power_of_two();
    usize::from(count) <= MAX_MSI_MESSAGES
        && u32::from(first) + n - 1 <= u32::from(MAX_IRQ_VECTOR)
        && (MSI_CPU_VECTOR_BASE + u32::from(first)).is_multiple_of(n)
}

impl Spec<'_> {
    pub(crate) fn check(&self) -> Result<(), DecodeError> {
        let n_components = self.components.len() as u64;
        let n_objects = self.objects.len() as u64;
        let n_pci = self.pci.len() as u64;
        let n_irqs = self.irqs.len() as u64;
        match self.try_str(self.header.system_name) {
            None => {
                return Err(DecodeError::BadString {
                    table: Table::Components,
                    index: NONE,
                })
            }
            Some(name) if name.len() > SYSTEM_NAME_LEN => {
                return Err(DecodeError::NameTooLong {
                    table: Table::Components,
                    index: NONE,
                    len: name.len(),
                    max: SYSTEM_NAME_LEN,
                })
            }
            Some(_) => {}
        }
        self.counts()?;
        let string = |table, index: usize, s: StrRef| {
            self.try_str(s).map(|_| ()).ok_or(DecodeError::BadString {
                table,
                index: index as u32,
            })
        };
        let index = |table, i: usize, field, value: u32, limit: u64, none_ok: bool| {
            if (none_ok && value == NONE) || u64::from(value) < limit {
                Ok(())
            } else {
                Err(bad(table, i, field, value.into()))
            }
        };
        let within = |table, i: usize, field, r: RangeRef, len: usize| {
            let end = u64::from(r.first.get()) + u64::from(r.count.get());
            if end <= len as u64 {
                Ok(())
            } else {
                Err(bad(table, i, field, end))
            }
        };
        let t = Table::Components;
        for (i, c) in self.components.iter().enumerate() {
            name(self, t, i, c.name, COMPONENT_NAME_LEN)?;
            name(self, t, i, c.program, PROGRAM_NAME_LEN)?;
            if c.symbols.count.get() as usize > MAX_SYMBOLS {
                return Err(DecodeError::TooMany {
                    table: Table::Symbols,
                    count: c.symbols.count.get() as usize,
                    max: MAX_SYMBOLS,
                });
            }
            if RestartKind::from_u8(c.restart).is_none() {
                return Err(bad(t, i, "restart", c.restart.into()));
            }
            if c.priority == u8::MAX {
                return Err(bad(t, i, "priority", c.priority.into()));
            }
            if !(1..=32).contains(&c.cnode_bits) {
                return Err(bad(t, i, "cnode_bits", c.cnode_bits.into()));
            }
            if c.badge.get() == 0 {
                return Err(bad(t, i, "badge", 0));
            }
            for (field, o, kind) in [
                ("tcb", c.tcb, ObjectKind::Tcb),
                ("cnode", c.cnode, ObjectKind::CNode),
                ("vspace", c.vspace, ObjectKind::VSpace),
                ("notification", c.notification, ObjectKind::Notification),
                ("ipc_buffer_object", c.ipc_buffer_object, ObjectKind::Frames),
            ] {
                index(t, i, field, o.get(), n_objects, false)?;
                if self.objects[o.get() as usize].kind != kind as u8 {
                    return Err(bad(t, i, field, o.get().into()));
                }
            }
            within(t, i, "caps", c.caps, self.caps.len())?;
            within(t, i, "mappings", c.mappings, self.mappings.len())?;
            within(t, i, "symbols", c.symbols, self.symbols.len())?;
            for cap in range(self.caps, c.caps) {
                if u64::from(cap.component.get()) != i as u64 {
                    return Err(bad(t, i, "caps", cap.component.get().into()));
                }
                if u64::from(cap.slot.get()) >= 1u64 << c.cnode_bits {
                    return Err(bad(Table::Caps, i, "slot", cap.slot.get().into()));
                }
            }
            for m in range(self.mappings, c.mappings) {
                if u64::from(m.component.get()) != i as u64 {
                    return Err(bad(t, i, "mappings", m.component.get().into()));
                }
            }
            for s in range(self.symbols, c.symbols) {
                if u64::from(s.component.get()) != i as u64 {
                    return Err(bad(t, i, "symbols", s.component.get().into()));
                }
            }
        }
        let t = Table::Objects;
        for (i, o) in self.objects.iter().enumerate() {
            let kind = ObjectKind::from_u8(o.kind).ok_or(bad(t, i, "kind", o.kind.into()))?;
            index(t, i, "owner", o.owner.get(), n_components, true)?;
            self.owner(i, o)?;
            string(t, i, o.name)?;
            match kind {
                ObjectKind::Frames | ObjectKind::DeviceFrames | ObjectKind::PlatformFrames
                    if o.count.get() == 0 =>
                {
                    return Err(bad(t, i, "count", 0));
                }
                ObjectKind::PlatformFrames
                    if o.base.get() & 0xFFF != 0
                        || o.base
                            .get()
                            .checked_add(u64::from(o.count.get()) << 12)
                            .is_none() =>
                {
                    return Err(bad(t, i, "base", o.base.get()));
                }
                ObjectKind::DeviceFrames | ObjectKind::IoPageTable => {
                    index(t, i, "aux", o.aux.get(), n_pci, false)?;
                }
                ObjectKind::CNode if !(1..=32).contains(&o.count.get()) => {
                    return Err(bad(t, i, "count", o.count.get().into()));
                }
                _ => {}
            }
        }
        let t = Table::Caps;
        for (i, c) in self.caps.iter().enumerate() {
            index(t, i, "component", c.component.get(), n_components, false)?;
            let kind = CapKind::from_u8(c.kind).ok_or(bad(t, i, "kind", c.kind.into()))?;
            if c.rights & !0xF != 0 {
                return Err(bad(t, i, "rights", c.rights.into()));
            }
            match kind {
                CapKind::IrqHandler => index(t, i, "object", c.object.get(), n_irqs, false)?,
                CapKind::IoPort | CapKind::IrqControl | CapKind::AsidControl => {}
                CapKind::IoPortControl | CapKind::IoSpace | CapKind::Untyped => {}
                _ => index(t, i, "object", c.object.get(), n_objects, false)?,
            }
            if kind == CapKind::PciConfig {
                // Only the device's own driver may hold its cap.
                let owner = crate::pci_config::decode(c.badge.get())
                    .and_then(|(p, _)| self.pci.get(p))
                    .map(|r| r.owner.get());
                if owner != Some(c.component.get()) {
                    return Err(bad(t, i, "badge", c.badge.get()));
                }
            }
            if kind == CapKind::IoPort {
                let (first, last) = (c.badge.get() >> 16, c.badge.get() & 0xFFFF);
                if first > 0xFFFF || first > last {
                    return Err(bad(t, i, "badge", c.badge.get()));
                }
            }
            string(t, i, c.name)?;
        }
        let t = Table::Mappings;
        for (i, m) in self.mappings.iter().enumerate() {
            index(t, i, "component", m.component.get(), n_components, false)?;
            index(t, i, "object", m.object.get(), n_objects, false)?;
            if m.vaddr.get() & 0xFFF != 0 || m.vaddr.get() >= 1 << 47 {
                return Err(bad(t, i, "vaddr", m.vaddr.get()));
            }
            let o = &self.objects[m.object.get() as usize];
            if m.pages.get() == 0 || m.pages.get() > o.count.get() {
                return Err(bad(t, i, "pages", m.pages.get().into()));
            }
            if !matches!(
                ObjectKind::from_u8(o.kind),
                Some(ObjectKind::Frames | ObjectKind::DeviceFrames | ObjectKind::PlatformFrames)
            ) {
                return Err(bad(t, i, "object", m.object.get().into()));
            }
            if m.rights & !7 != 0 || m.rights & MAP_READ == 0 {
                return Err(bad(t, i, "rights", m.rights.into()));
            }
            if MapPurpose::from_u8(m.purpose).is_none() {
                return Err(bad(t, i, "purpose", m.purpose.into()));
            }
        }
        let t = Table::IoMappings;
        for (i, m) in self.io_mappings.iter().enumerate() {
            index(t, i, "pci", m.pci.get(), n_pci, false)?;
            index(t, i, "object", m.object.get(), n_objects, false)?;
            if m.iova.get() & 0xFFF != 0 {
                return Err(bad(t, i, "iova", m.iova.get()));
            }
            let o = &self.objects[m.object.get() as usize];
            if o.kind != ObjectKind::Frames as u8
                || m.pages.get() == 0
                || m.pages.get() > o.count.get()
            {
                return Err(bad(t, i, "pages", m.pages.get().into()));
            }
        }
        let t = Table::Irqs;
        for (i, q) in self.irqs.iter().enumerate() {
            index(t, i, "component", q.component.get(), n_components, false)?;
            let kind = IrqKind::from_u8(q.kind).ok_or(bad(t, i, "kind", q.kind.into()))?;
            if q.vector.get() > 107 {
                return Err(bad(t, i, "vector", q.vector.get().into()));
            }
            match kind {
                IrqKind::IoApic if q.pin.get() > 23 || q.level > 1 || q.polarity > 1 => {
                    return Err(bad(t, i, "pin", q.pin.get().into()));
                }
                IrqKind::Msi => index(t, i, "pci", q.pci.get(), n_pci, false)?,
                // Table Size is 11 bits: at most 2048 entries.
                IrqKind::MsiX if q.pin.get() > 2047 => {
                    return Err(bad(t, i, "pin", q.pin.get().into()));
                }
                IrqKind::MsiX => index(t, i, "pci", q.pci.get(), n_pci, false)?,
                _ => {}
            }
            index(t, i, "notification", q.notification.get(), n_objects, false)?;
        }
        self.msis()?;
        self.msix_entries()?;
        let t = Table::Pci;
        for (i, p) in self.pci.iter().enumerate() {
            index(t, i, "owner", p.owner.get(), n_components, false)?;
            // Found one way: by id or at an address.
            let found_by = p.flags & (PCI_HAS_ID | PCI_HAS_ADDRESS);
            if p.flags & !PCI_FLAGS != 0
                || found_by == 0
                || found_by == PCI_HAS_ID | PCI_HAS_ADDRESS
                || p.dev >= 32
                || p.func >= 8
            {
                return Err(bad(t, i, "flags", p.flags.into()));
            }
            if !msi_block_fits(p.msi_vector, p.msi_count) {
                return Err(bad(t, i, "msi_vector", p.msi_vector.into()));
            }
            // INTx exactly when a line is named, and the line an IOAPIC one.
            let line = p.intx_irq.get();
            let intx = p.flags & PCI_INTX != 0;
            if intx != (line != NONE) {
                return Err(bad(t, i, "intx_irq", line.into()));
            }
            if intx {
                index(t, i, "intx_irq", line, n_irqs, false)?;
                if self.irqs[line as usize].kind != IrqKind::IoApic as u8 {
                    return Err(bad(t, i, "intx_irq", line.into()));
                }
            }
            string(t, i, p.name)?;
        }
        let t = Table::Symbols;
        for (i, s) in self.symbols.iter().enumerate() {
            index(t, i, "component", s.component.get(), n_components, false)?;
            if SymbolKind::from_u8(s.kind).is_none() {
                return Err(bad(t, i, "kind", s.kind.into()));
            }
            name(self, t, i, s.name, SYMBOL_NAME_LEN)?;
        }
        Ok(())
    }
    /// Tables no larger than the root task's.
    fn counts(&self) -> Result<(), DecodeError> {
        for (table, count, max) in [
            (Table::Components, self.components.len(), MAX_COMPONENTS),
            (Table::Objects, self.objects.len(), MAX_OBJECTS),
            (Table::Irqs, self.irqs.len(), MAX_IRQS),
            (Table::Pci, self.pci.len(), MAX_PCI_DEVICES),
        ] {
            if count > max {
                return Err(DecodeError::TooMany { table, count, max });
            }
        }
        Ok(())
    }

    /// An object's owner: its kind known, and its index consistent with
    /// `owner` (the component index the root task reads).
    fn owner(&self, i: usize, o: &ObjectRecord) -> Result<(), DecodeError> {
        let t = Table::Objects;
        let (owner, index) = (o.owner.get(), o.owner_index.get());
        let ok = match OwnerKind::from_u8(o.owner_kind) {
            None => return Err(bad(t, i, "owner_kind", o.owner_kind.into())),
            Some(OwnerKind::Root) => owner == NONE && index == NONE,
            Some(OwnerKind::Component) => {
                owner == index && (index as usize) < self.components.len()
            }
            Some(OwnerKind::Ring | OwnerKind::Shared) => owner == NONE && index != NONE,
            Some(OwnerKind::Pci) => owner == NONE && (index as usize) < self.pci.len(),
        };
        if ok {
            Ok(())
        } else {
            Err(bad(t, i, "owner_index", index.into()))
        }
    }

    /// Each MSI-X entry of a device is bound once: the root task programs
    /// an entry with one vector, so a second binding would never fire.
    fn msix_entries(&self) -> Result<(), DecodeError> {
        let is_msix = |q: &&IrqRecord| q.kind == IrqKind::MsiX as u8;
        for (i, q) in self.irqs.iter().enumerate().filter(|(_, q)| is_msix(q)) {
            let twice = self.irqs[..i]
                .iter()
                .filter(is_msix)
                .any(|p| p.pci.get() == q.pci.get() && p.pin.get() == q.pin.get());
            if twice {
                return Err(bad(Table::Irqs, i, "pin", q.pin.get().into()));
            }
        }
        Ok(())
    }

    /// Every MSI is a message of its device's block, at the block's vector
    /// for it, bound once; and each device's `msi_count` messages are all
    /// bound. (The counts were checked: at most [`MAX_PCI_DEVICES`]
    /// devices, [`MAX_MSI_MESSAGES`] messages each.)
    fn msis(&self) -> Result<(), DecodeError> {
        let t = Table::Irqs;
        let mut bound = [0u64; MAX_PCI_DEVICES];
        for (i, q) in self.irqs.iter().enumerate() {
            if q.kind != IrqKind::Msi as u8 {
                continue;
            }
            let pci = q.pci.get() as usize;
            let (Some(device), Some(seen)) = (self.pci.get(pci), bound.get_mut(pci)) else {
                return Err(bad(t, i, "pci", q.pci.get().into()));
            };
            let message = q.pin.get();
            if message >= u32::from(device.msi_count)
                || message as usize >= MAX_MSI_MESSAGES
                || *seen & 1 << message != 0
            {
                return Err(bad(t, i, "pin", message.into()));
            }
            *seen |= 1 << message;
            if q.vector.get() != u32::from(device.msi_vector) + message {
                return Err(bad(t, i, "vector", q.vector.get().into()));
            }
        }
        for (i, (p, seen)) in self.pci.iter().zip(bound).enumerate() {
            if seen.count_ones() != u32::from(p.msi_count) {
                return Err(bad(Table::Pci, i, "msi_count", p.msi_count.into()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::msi_block_fits;

    #[test]
    fn msi_blocks_are_aligned_kernel_vectors() {
        // One message fits anywhere; none always.
        assert!(msi_block_fits(24, 1) && msi_block_fits(0, 0));
        // Two or three messages: 0x30 + first even, four-aligned.
        assert!(msi_block_fits(24, 2) && !msi_block_fits(25, 2));
        assert!(msi_block_fits(28, 3) && !msi_block_fits(26, 3));
        // 32 messages: 0x30 + first a multiple of 32, all below 108.
        assert!(msi_block_fits(16, 32) && msi_block_fits(48, 17));
        assert!(!msi_block_fits(80, 32) && !msi_block_fits(24, 32));
        // More than an MSI capability carries.
        assert!(!msi_block_fits(16, 33));
    }
}
