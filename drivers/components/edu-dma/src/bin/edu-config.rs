//! Reads the edu device's identity and capability list through the
//! configuration-space access the plan grants, then tries the writes the
//! root task's policy refuses and one it allows. Each outcome is logged;
//! the verdicts on refused writes are the root task's own report lines.
#![no_std]
#![no_main]

use paddock_runtime::pci::{self, Config, PciConfig, CAP_MSI};
use paddock_runtime::{entry, log, Component};

entry!(main);

fn main(c: Component) -> ! {
    match c.pci_config("edu") {
        Ok(config) => probe(&config),
        Err(e) => log!("no configuration-space access: {e}"),
    }
    loop {
        let _ = c.wait();
    }
}

fn probe(config: &PciConfig) {
    match pci::identity(config) {
        Ok(id) => log!(
            "identity: {:04x}:{:04x} class {:02x}{:02x}{:02x} revision {:#x} header type {:#x}",
            id.vendor,
            id.device,
            id.class[0],
            id.class[1],
            id.class[2],
            id.revision,
            id.header_type
        ),
        Err(e) => log!("identity: {e}"),
    }
    let mut msi = None;
    for cap in pci::capabilities(config) {
        match cap {
            Ok(cap) => {
                log!("capability {:#04x} at {:#x}", cap.id, cap.offset);
                if cap.id == CAP_MSI {
                    msi = Some(u16::from(cap.offset));
                }
            }
            Err(e) => log!("capability list: {e}"),
        }
    }
    // Beyond the function's 256 bytes: there is no address to name any
    // other function, so this is the only way out, and it is refused.
    report("read of 4 bytes at 0x100", config.read32(0x100).map(|_| ()));

    let command = config.read16(0x04).unwrap_or(0);
    let bar0 = config.read32(0x10).unwrap_or(0);
    report("write to BAR0", config.write32(0x10, 0xffff_ffff));
    report(
        "write clearing memory decode",
        config.write16(0x04, command & !(1 << 1)),
    );
    report(
        "write setting bus master",
        config.write16(0x04, command | 1 << 2),
    );
    // The rest of what the root task owns in the header: a second decode
    // window, the list it walked, the interrupt routing, and BIST (which
    // may reset the function).
    report(
        "write enabling the expansion ROM",
        config.write32(0x30, 0xfffe_0001),
    );
    report(
        "write to the capabilities pointer",
        config.write8(0x34, 0x80),
    );
    report("write to the interrupt line", config.write8(0x3c, 0x0b));
    report("write starting BIST", config.write8(0x0f, 0x40));
    match msi {
        Some(at) => {
            report("write to the MSI address", config.write32(at + 4, 0));
            let control = config.read16(at + 2).unwrap_or(0);
            report("write disabling MSI", config.write16(at + 2, control & !1));
        }
        None => log!("no MSI capability found"),
    }
    // A device-specific register outside every capability: the driver's.
    let value = 0x5a5a_a5a5;
    match config
        .write32(0x80, value)
        .and_then(|()| config.read32(0x80))
    {
        Ok(back) if back == value => log!("allowed write at 0x80: read back {back:#x}"),
        Ok(back) => log!("allowed write at 0x80: read back {back:#x}, wrote {value:#x}"),
        Err(e) => log!("write at 0x80: {e}"),
    }
    let unchanged =
        config.read32(0x10).ok() == Some(bar0) && config.read16(0x04).ok() == Some(command);
    log!(
        "BAR0 and command {}",
        if unchanged { "unchanged" } else { "CHANGED" }
    );
    log!("configuration checks done");
}

fn report(what: &str, outcome: Result<(), pci::Error>) {
    match outcome {
        Ok(()) => log!("{what}: ALLOWED"),
        Err(e) => log!("{what}: {e}"),
    }
}
