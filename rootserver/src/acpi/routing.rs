//! PCI interrupt routing, evaluated from the DSDT's AML with the `aml`
//! crate (rust-osdev): `\_PIC(1)` tells the firmware the interrupt model
//! is the APIC's, then the host bridge's `_PRT` maps each (slot, pin) to a
//! global system interrupt, directly or through a link device whose
//! `_CRS` names it (q35's `GSIA`..`GSIH`). The MADT's I/O APICs turn the
//! GSI into an IOAPIC and pin.
//!
//! The AML interpreter gets no hardware: its [`Handler`] answers PCI
//! configuration reads through the root task's own configuration access
//! and refuses every memory, IO port and configuration write access
//! (q35's `_PRT` and link devices need none). A refused access is
//! recorded, and any routing evaluated after one is refused too: a
//! result computed from a made-up value is not a routing.

use super::tables::{gsi_to_pin, IoApic, Table, MAX_IOAPICS};
use super::AcpiError;
use crate::pci::Bdf;
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;
use aml::pci_routing::{PciRoutingTable, Pin};
use aml::resource::{InterruptPolarity, InterruptTrigger};
use aml::{AmlContext, AmlError, AmlName, AmlValue, DebugVerbosity, Handler};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The routing table of the PCI host bridge of bus 0 (q35 and i440fx
/// both name it `PCI0`).
pub const PRT_PATH: &str = "\\_SB.PCI0._PRT";
const PIC_PATH: &str = "\\_PIC";
/// `\_PIC`'s argument for the APIC interrupt model.
const PIC_MODE_APIC: u64 = 1;

/// Reads `width` (1, 2 or 4) bytes of a function's configuration space.
pub type ConfigRead = fn(Bdf, u8, u8) -> Result<u32, sel4::Error>;

/// Where a PCI interrupt pin arrives, by the firmware's routing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub gsi: u32,
    /// The I/O APIC (its index in MADT order, as the kernel numbers them)
    /// and its pin.
    pub ioapic: usize,
    pub pin: u32,
    pub level: bool,
    pub active_low: bool,
}

/// Why one device's pin could not be routed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteError {
    /// Only bus 0 routes through the host bridge's `_PRT`; a device behind
    /// a bridge would need the bridge's own table, which is not read.
    BehindBridge { bus: u8 },
    /// The Interrupt Pin register is not 1..=4 (INTA..INTD).
    NoPin { register: u8 },
    /// `_PRT` has no entry for the slot and pin.
    NoEntry,
    /// Evaluating `_PRT`'s entry (the link device's `_CRS`) failed.
    Aml(AmlError),
    /// The AML touched hardware the root task refuses it.
    Refused(Refusal),
    /// No I/O APIC's range covers the GSI.
    NoIoApic { gsi: u32 },
}

impl core::fmt::Display for RouteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RouteError::BehindBridge { bus } => write!(
                f,
                "it is on bus {bus}, behind a bridge: only bus 0's routing (`{PRT_PATH}`) is read"
            ),
            RouteError::NoPin { register } => write!(
                f,
                "its Interrupt Pin register reads {register}: the device has no INTx pin"
            ),
            RouteError::NoEntry => write!(f, "`{PRT_PATH}` has no entry for its slot and pin"),
            RouteError::Aml(e) => write!(f, "evaluating its `{PRT_PATH}` entry failed: {e:?}"),
            RouteError::Refused(r) => write!(f, "{r}"),
            RouteError::NoIoApic { gsi } => {
                write!(f, "no I/O APIC of the MADT takes GSI {gsi}")
            }
        }
    }
}

/// The first hardware access the AML asked for and was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub kind: AccessKind,
    pub address: u64,
    /// How many were refused in all.
    pub count: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessKind {
    Memory,
    IoPort,
    ConfigWrite,
    /// A configuration read outside segment 0 or the 256-byte space, or
    /// one the access itself failed.
    ConfigRead,
    /// The AML executed `Fatal`.
    Fatal,
}

impl core::fmt::Display for Refusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let what = match self.kind {
            AccessKind::Memory => "memory at",
            AccessKind::IoPort => "IO port",
            AccessKind::ConfigWrite => "a PCI configuration write at",
            AccessKind::ConfigRead => "a PCI configuration read at",
            AccessKind::Fatal => "Fatal, with argument",
        };
        write!(
            f,
            "the firmware's AML asked for {what} {:#x}, which the root task refuses it ({} refused in all)",
            self.address, self.count
        )
    }
}

/// The refusals of one interpreter, shared between its handler and the
/// [`Routing`] that reads them.
#[derive(Default)]
struct Refusals {
    count: AtomicU32,
    /// The first: kind in the top byte, address below.
    first: AtomicU64,
}

impl Refusals {
    fn refuse(&self, kind: AccessKind, address: u64) {
        let code = (kind as u64) << 56 | (address & ((1 << 56) - 1));
        if self.count.fetch_add(1, Ordering::Relaxed) == 0 {
            self.first.store(code, Ordering::Relaxed);
        }
    }

    fn get(&self) -> Option<Refusal> {
        let count = self.count.load(Ordering::Relaxed);
        if count == 0 {
            return None;
        }
        let code = self.first.load(Ordering::Relaxed);
        let kind = match code >> 56 {
            0 => AccessKind::Memory,
            1 => AccessKind::IoPort,
            2 => AccessKind::ConfigWrite,
            3 => AccessKind::ConfigRead,
            _ => AccessKind::Fatal,
        };
        Some(Refusal {
            kind,
            address: code & ((1 << 56) - 1),
            count,
        })
    }
}

/// What the interpreter may touch: configuration reads, nothing else.
struct AmlHandler {
    config: ConfigRead,
    refusals: Arc<Refusals>,
}

impl AmlHandler {
    fn memory(&self, address: usize) -> u64 {
        self.refusals.refuse(AccessKind::Memory, address as u64);
        u64::MAX
    }

    fn io(&self, port: u16) -> u32 {
        self.refusals.refuse(AccessKind::IoPort, port.into());
        u32::MAX
    }

    fn config_read(&self, segment: u16, bus: u8, dev: u8, func: u8, offset: u16, width: u8) -> u32 {
        let at = u64::from(bus) << 16 | u64::from(dev) << 11 | u64::from(func) << 8;
        let ones = u32::MAX >> (32 - 8 * u32::from(width));
        let (Ok(offset8), true, true, true) = (
            u8::try_from(offset),
            segment == 0,
            dev < 32 && func < 8,
            offset.is_multiple_of(width.into()),
        ) else {
            self.refusals
                .refuse(AccessKind::ConfigRead, at | u64::from(offset));
            return ones;
        };
        match (self.config)(Bdf { bus, dev, func }, offset8, width) {
            Ok(v) => v & ones,
            Err(_) => {
                self.refusals
                    .refuse(AccessKind::ConfigRead, at | u64::from(offset));
                ones
            }
        }
    }

    fn config_write(&self, bus: u8, dev: u8, func: u8, offset: u16) {
        let at = u64::from(bus) << 16 | u64::from(dev) << 11 | u64::from(func) << 8;
        self.refusals
            .refuse(AccessKind::ConfigWrite, at | u64::from(offset));
    }
}

impl Handler for AmlHandler {
    fn read_u8(&self, address: usize) -> u8 {
        self.memory(address) as u8
    }
    fn read_u16(&self, address: usize) -> u16 {
        self.memory(address) as u16
    }
    fn read_u32(&self, address: usize) -> u32 {
        self.memory(address) as u32
    }
    fn read_u64(&self, address: usize) -> u64 {
        self.memory(address)
    }
    fn write_u8(&mut self, address: usize, _: u8) {
        self.memory(address);
    }
    fn write_u16(&mut self, address: usize, _: u16) {
        self.memory(address);
    }
    fn write_u32(&mut self, address: usize, _: u32) {
        self.memory(address);
    }
    fn write_u64(&mut self, address: usize, _: u64) {
        self.memory(address);
    }
    fn read_io_u8(&self, port: u16) -> u8 {
        self.io(port) as u8
    }
    fn read_io_u16(&self, port: u16) -> u16 {
        self.io(port) as u16
    }
    fn read_io_u32(&self, port: u16) -> u32 {
        self.io(port)
    }
    fn write_io_u8(&self, port: u16, _: u8) {
        self.io(port);
    }
    fn write_io_u16(&self, port: u16, _: u16) {
        self.io(port);
    }
    fn write_io_u32(&self, port: u16, _: u32) {
        self.io(port);
    }
    fn read_pci_u8(&self, segment: u16, bus: u8, device: u8, function: u8, offset: u16) -> u8 {
        self.config_read(segment, bus, device, function, offset, 1) as u8
    }
    fn read_pci_u16(&self, segment: u16, bus: u8, device: u8, function: u8, offset: u16) -> u16 {
        self.config_read(segment, bus, device, function, offset, 2) as u16
    }
    fn read_pci_u32(&self, segment: u16, bus: u8, device: u8, function: u8, offset: u16) -> u32 {
        self.config_read(segment, bus, device, function, offset, 4)
    }
    fn write_pci_u8(&self, _: u16, bus: u8, device: u8, function: u8, offset: u16, _: u8) {
        self.config_write(bus, device, function, offset);
    }
    fn write_pci_u16(&self, _: u16, bus: u8, device: u8, function: u8, offset: u16, _: u16) {
        self.config_write(bus, device, function, offset);
    }
    fn write_pci_u32(&self, _: u16, bus: u8, device: u8, function: u8, offset: u16, _: u32) {
        self.config_write(bus, device, function, offset);
    }
    /// The default panics; a firmware's `Fatal` is recorded instead and the
    /// evaluation fails with `AmlError::FatalError`.
    fn handle_fatal_error(&self, fatal_type: u8, fatal_code: u32, fatal_arg: u64) {
        let _ = (fatal_type, fatal_code);
        self.refusals.refuse(AccessKind::Fatal, fatal_arg);
    }
}

/// The evaluated routing of bus 0: the interpreter (kept, since a link
/// device's `_CRS` is evaluated per route), the host bridge's `_PRT` and
/// the I/O APICs.
pub struct Routing {
    context: AmlContext,
    prt: PciRoutingTable,
    ioapics: heapless::Vec<IoApic, MAX_IOAPICS>,
    refusals: Arc<Refusals>,
}

impl Routing {
    /// Parses the DSDT, selects the APIC interrupt model and reads the
    /// host bridge's `_PRT`.
    pub fn new(
        dsdt: &Table,
        ioapics: heapless::Vec<IoApic, MAX_IOAPICS>,
        config: ConfigRead,
    ) -> Result<Routing, AcpiError> {
        let refusals = Arc::new(Refusals::default());
        let handler = AmlHandler {
            config,
            refusals: refusals.clone(),
        };
        let mut context = AmlContext::new(Box::new(handler), DebugVerbosity::None);
        context.parse_table(dsdt.body()).map_err(AcpiError::Dsdt)?;
        // `_PIC` is optional: without it the firmware has one model only.
        let pic = AmlName::from_str(PIC_PATH).map_err(AcpiError::Pic)?;
        match context.invoke_method(
            &pic,
            aml::value::Args::from_list(vec![AmlValue::Integer(PIC_MODE_APIC)])
                .map_err(AcpiError::Pic)?,
        ) {
            Ok(_) | Err(AmlError::ValueDoesNotExist(_)) => {}
            Err(e) => return Err(AcpiError::Pic(e)),
        }
        let path = AmlName::from_str(PRT_PATH).map_err(AcpiError::Prt)?;
        let prt = PciRoutingTable::from_prt_path(&path, &mut context).map_err(AcpiError::Prt)?;
        if let Some(r) = refusals.get() {
            return Err(AcpiError::Refused(r));
        }
        Ok(Routing {
            context,
            prt,
            ioapics,
            refusals,
        })
    }

    /// Where the device at `bdf`, whose Interrupt Pin register reads
    /// `interrupt_pin`, signals.
    pub fn route(&mut self, bdf: Bdf, interrupt_pin: u8) -> Result<Route, RouteError> {
        if bdf.bus != 0 {
            return Err(RouteError::BehindBridge { bus: bdf.bus });
        }
        let pin = match interrupt_pin {
            1 => Pin::IntA,
            2 => Pin::IntB,
            3 => Pin::IntC,
            4 => Pin::IntD,
            register => return Err(RouteError::NoPin { register }),
        };
        let irq = self
            .prt
            .route(bdf.dev.into(), bdf.func.into(), pin, &mut self.context)
            .map_err(|e| match e {
                AmlError::PrtNoEntry => RouteError::NoEntry,
                e => RouteError::Aml(e),
            })?;
        if let Some(r) = self.refusals.get() {
            return Err(RouteError::Refused(r));
        }
        let (ioapic, pin) =
            gsi_to_pin(&self.ioapics, irq.irq).ok_or(RouteError::NoIoApic { gsi: irq.irq })?;
        Ok(Route {
            gsi: irq.irq,
            ioapic,
            pin,
            level: irq.trigger == InterruptTrigger::Level,
            active_low: irq.polarity == InterruptPolarity::ActiveLow,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tables::{self, tests::FakeMemory, Rsdp};
    use super::*;

    const TABLES: &[u8] = include_bytes!("testdata/q35-tables.bin");
    const TABLES_AT: u64 = 0x1ffe_0000;
    const RSDP: &[u8] = include_bytes!("testdata/q35-rsdp.bin");
    const RSDP_AT: u64 = 0xf_59d0;

    fn no_config(_: Bdf, _: u8, _: u8) -> Result<u32, sel4::Error> {
        Err(sel4::Error::ILLEGAL_OPERATION)
    }

    /// QEMU 7.2's q35 tables (`-machine q35 -m 512M -device
    /// edu,addr=04.0`), saved from guest memory with the monitor's
    /// `pmemsave` after boot: the table area 0x1ffe0000..0x1ffe235f
    /// (FACS, DSDT, FADT, MADT, HPET, MCFG, WAET, RSDT) and the RSDP at
    /// 0xf59d0.
    fn q35() -> Routing {
        let mut m = FakeMemory::default();
        m.put(TABLES_AT, TABLES.to_vec());
        let rsdp = Rsdp::parse(RSDP, RSDP_AT).unwrap().unwrap();
        let t = tables::walk(&mut m, RSDP_AT, rsdp).unwrap();
        assert_eq!(t.rsdp.oem_text(), "BOCHS");
        assert_eq!(t.dsdt.paddr, 0x1ffe_0040);
        Routing::new(&t.dsdt, t.ioapics, no_config).unwrap()
    }

    fn at(dev: u8) -> Bdf {
        Bdf {
            bus: 0,
            dev,
            func: 0,
        }
    }

    #[test]
    fn q35_routes_slots_through_pirq_e_to_h_to_gsis_20_to_23() {
        let mut r = q35();
        // What was measured on QEMU 7.2 with edu (INTA): slots 4 and 8
        // on pin 20, slot 5 on 21, slot 7 on 23; level, active high.
        for (dev, gsi) in [(4, 20), (8, 20), (5, 21), (7, 23), (6, 22)] {
            assert_eq!(
                r.route(at(dev), 1),
                Ok(Route {
                    gsi,
                    ioapic: 0,
                    pin: gsi,
                    level: true,
                    active_low: false
                }),
                "slot {dev}"
            );
        }
        // INTB of slot 4 is INTA of slot 5; every function of a slot
        // shares its routing.
        assert_eq!(r.route(at(4), 2).unwrap().gsi, 21);
        let func3 = Bdf {
            bus: 0,
            dev: 4,
            func: 3,
        };
        assert_eq!(r.route(func3, 4).unwrap().gsi, 23);
    }

    #[test]
    fn what_cannot_be_routed_is_named() {
        let mut r = q35();
        assert_eq!(r.route(at(4), 0), Err(RouteError::NoPin { register: 0 }));
        assert_eq!(r.route(at(4), 5), Err(RouteError::NoPin { register: 5 }));
        let bridged = Bdf {
            bus: 1,
            dev: 0,
            func: 0,
        };
        assert_eq!(
            r.route(bridged, 1),
            Err(RouteError::BehindBridge { bus: 1 })
        );
        let mut none = Routing {
            ioapics: heapless::Vec::new(),
            ..q35()
        };
        assert_eq!(none.route(at(4), 1), Err(RouteError::NoIoApic { gsi: 20 }));
    }

    #[test]
    fn a_dsdt_that_is_not_aml_is_refused() {
        let bogus = Table {
            paddr: 0x1000,
            bytes: tables::tests::table(b"DSDT", 2, &[0xff; 16]),
        };
        assert!(matches!(
            Routing::new(&bogus, heapless::Vec::new(), no_config),
            Err(AcpiError::Dsdt(_))
        ));
        let empty = Table {
            paddr: 0x1000,
            bytes: tables::tests::table(b"DSDT", 2, &[0x10, 0x05, b'_', b'S', b'B', b'_']),
        };
        // A DSDT without a host bridge has no `_PRT`.
        assert!(matches!(
            Routing::new(&empty, heapless::Vec::new(), no_config),
            Err(AcpiError::Prt(_)) | Err(AcpiError::Dsdt(_))
        ));
    }

    #[test]
    fn the_handler_refuses_hardware_and_remembers_the_first() {
        let refusals = Arc::new(Refusals::default());
        let mut h = AmlHandler {
            config: |bdf, offset, width| {
                assert_eq!((bdf.dev, offset, width), (4, 0x3d, 1));
                Ok(0x0100)
            },
            refusals: refusals.clone(),
        };
        assert_eq!(h.read_pci_u8(0, 0, 4, 0, 0x3d), 0);
        assert_eq!(refusals.get(), None);
        assert_eq!(h.read_u32(0xfed0_0000), u32::MAX);
        h.write_u8(0x1234, 1);
        h.write_io_u8(0xcf9, 6);
        assert_eq!(h.read_pci_u8(1, 0, 4, 0, 0x3d), 0xff);
        assert_eq!(
            refusals.get(),
            Some(Refusal {
                kind: AccessKind::Memory,
                address: 0xfed0_0000,
                count: 4
            })
        );
    }
}
