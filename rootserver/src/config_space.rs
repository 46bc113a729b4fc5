//! Serving drivers' configuration-space requests.
//!
//! A driver granted `config` access on a PCI device calls the root task's
//! endpoint through a cap whose badge names that device
//! (`paddock_spec::pci_config`); the request carries an offset, a width and,
//! for a write, a value, never an address. Reads of the function's 256
//! bytes are served; writes go through the policy of
//! `paddock_protocol::pci_config` against the capability list walked at
//! boot. Every refusal is an error reply and a report line naming the
//! component, the device, the access and the policy row.

use crate::pci::{self, Found};
use crate::system::System;
use paddock_protocol::pci_config::{self as protocol, Error};
use sel4::ipc::MessageInfo;
use sel4::syscall::Reply;

/// What a request asks for.
#[derive(Clone, Copy)]
enum Request {
    Read { offset: u64, width: u64 },
    Write { offset: u64, width: u64, value: u64 },
}

impl Request {
    fn parse(message: &Reply) -> Option<Request> {
        let [offset, width, value, _] = message.mrs;
        let length = message.info.length();
        match message.info.label() {
            protocol::READ if length >= 2 => Some(Request::Read { offset, width }),
            protocol::WRITE if length >= 3 => Some(Request::Write {
                offset,
                width,
                value,
            }),
            _ => None,
        }
    }
}

impl core::fmt::Display for Request {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Request::Read { offset, width } => write!(f, "read of {width} bytes at {offset:#x}"),
            Request::Write {
                offset,
                width,
                value,
            } => write!(
                f,
                "write of {width} bytes at {offset:#x} (value {value:#x})"
            ),
        }
    }
}

/// Answers the request just received with badge `(pci, may_write)`, then
/// returns to the caller's loop; never blocks on the driver.
pub fn serve(
    system: &System,
    found: &[Option<Found>],
    message: &Reply,
    pci: usize,
    may_write: bool,
) {
    let spec = &system.spec;
    let record = spec.pci.get(pci);
    let device = record.map_or("?", |r| spec.str(r.name));
    let component = record
        .and_then(|r| spec.components.get(r.owner.get() as usize))
        .map_or("?", |c| spec.str(c.name));
    let device_found = found.get(pci).copied().flatten();
    let request = Request::parse(message);
    let outcome = match (request, device_found) {
        (None, _) => Err(Error::BadRequest),
        (Some(_), None) => Err(Error::Unavailable),
        (Some(request), Some(device)) => answer(&device, request, may_write),
    };
    let (label, mr0) = match outcome {
        Ok(value) => (0, u64::from(value)),
        Err(e) => {
            match (request, e) {
                (Some(request), Error::Refused(row)) => println!(
                    "paddock: PCI config: `{component}` on `{device}`: {request} refused by policy row {} ({}; owner: {})",
                    row as u8,
                    row.name(),
                    row.info().owner
                ),
                (Some(request), e) => {
                    println!("paddock: PCI config: `{component}` on `{device}`: {request} refused: {e}")
                }
                (None, e) => println!(
                    "paddock: PCI config: `{component}` on `{device}`: message with label {} refused: {e}",
                    message.info.label()
                ),
            }
            e.encode()
        }
    };
    sel4::syscall::reply(MessageInfo::new(label, 0, 0, 1), [mr0, 0, 0, 0]);
}

fn answer(device: &Found, request: Request, may_write: bool) -> Result<u32, Error> {
    let unavailable = |_| Error::Unavailable;
    match request {
        Request::Read { offset, width } => {
            let (offset, width) = protocol::check_access(offset, width)?;
            pci::read(device.bdf, offset, width).map_err(unavailable)
        }
        Request::Write {
            offset,
            width,
            value,
        } => {
            let (offset, width) = protocol::check_access(offset, width)?;
            if !may_write {
                return Err(Error::ReadOnly);
            }
            let value = u32::try_from(value).map_err(|_| Error::BadRequest)?;
            if width < 4 && value >> (8 * u32::from(width)) != 0 {
                return Err(Error::BadRequest);
            }
            let current = pci::read(device.bdf, offset, width).map_err(unavailable)?;
            protocol::check_write(&device.layout, offset, width, current, value)?;
            pci::write(device.bdf, offset, width, value)
                .map(|()| 0)
                .map_err(unavailable)
        }
    }
}
