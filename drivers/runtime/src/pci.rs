//! A driver's access to its own PCI function's configuration space.
//!
//! The plan gives a driver that declares `config` access a cap named
//! `pci.<device>`; [`PciConfig`] reads and writes through it, and the root
//! task answers (see `paddock_protocol::pci_config` for the protocol and
//! the write policy). The request names no device: the cap's badge does,
//! so another function's space cannot even be asked for. A refused access
//! is an [`Error`], never a fault; the root task reports it too.
//!
//! [`Config`], [`identity`] and [`capabilities`] come from `paddock-pci`,
//! which knows nothing of seL4, so they run on the host against a fake
//! configuration space and device libraries can take any [`Config`].

pub use paddock_pci::{
    capabilities, identity, Capabilities, Capability, Config, Error, Identity, Row, CAP_MSI,
    CAP_MSIX, CAP_VENDOR,
};
use paddock_protocol::pci_config::{READ, WRITE};
use sel4::ipc::MessageInfo;
use sel4::CPtr;

/// The configuration space of the device the cap names, through the
/// root task.
#[derive(Clone, Copy, Debug)]
pub struct PciConfig {
    cap: CPtr,
}

impl PciConfig {
    /// Access through the cap in slot `cap` (`Component::pci_config`
    /// finds it by name).
    pub fn new(cap: CPtr) -> PciConfig {
        PciConfig { cap }
    }

    fn call(&self, label: u64, mrs: [u64; 4], length: u64) -> Result<u32, Error> {
        let reply = sel4::syscall::call(self.cap, MessageInfo::new(label, 0, 0, length), mrs);
        match Error::decode(reply.info.label(), reply.mrs[0]) {
            Some(e) => Err(e),
            None => Ok(reply.mrs[0] as u32),
        }
    }
}

impl Config for PciConfig {
    fn read(&self, offset: u16, width: u8) -> Result<u32, Error> {
        self.call(READ, [offset.into(), width.into(), 0, 0], 2)
    }

    fn write(&self, offset: u16, width: u8, value: u32) -> Result<(), Error> {
        self.call(WRITE, [offset.into(), width.into(), value.into(), 0], 3)
            .map(|_| ())
    }
}
