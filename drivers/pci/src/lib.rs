//! A driver's view of its own PCI function's configuration space.
//!
//! [`Config`] is the access (reads and writes of a width at an offset of
//! one function); [`identity`] and [`capabilities`] are built on it. The
//! crate knows nothing of seL4: `paddock_runtime::pci::PciConfig`
//! implements [`Config`] through the root task, device libraries (such as
//! `paddock-virtio`) take any [`Config`], and host tests use a fake
//! configuration space.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub use paddock_protocol::pci_config::{Error, Row, CAP_MSI, CAP_MSIX, CAP_VENDOR};

/// Byte-, word- and dword-wide access to one function's configuration
/// space. Offsets are bytes from the function's start.
pub trait Config {
    /// Reads `width` (1, 2 or 4) bytes at `offset`.
    fn read(&self, offset: u16, width: u8) -> Result<u32, Error>;
    /// Writes the low `width` bytes of `value` at `offset`.
    fn write(&self, offset: u16, width: u8, value: u32) -> Result<(), Error>;

    fn read8(&self, offset: u16) -> Result<u8, Error> {
        self.read(offset, 1).map(|v| v as u8)
    }
    fn read16(&self, offset: u16) -> Result<u16, Error> {
        self.read(offset, 2).map(|v| v as u16)
    }
    fn read32(&self, offset: u16) -> Result<u32, Error> {
        self.read(offset, 4)
    }
    fn write8(&self, offset: u16, value: u8) -> Result<(), Error> {
        self.write(offset, 1, value.into())
    }
    fn write16(&self, offset: u16, value: u16) -> Result<(), Error> {
        self.write(offset, 2, value.into())
    }
    fn write32(&self, offset: u16, value: u32) -> Result<(), Error> {
        self.write(offset, 4, value)
    }
}

/// Who the function says it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub vendor: u16,
    pub device: u16,
    pub revision: u8,
    /// Base class, subclass and programming interface.
    pub class: [u8; 3],
    pub header_type: u8,
}

pub fn identity(c: &impl Config) -> Result<Identity, Error> {
    let id = c.read32(0x00)?;
    let class = c.read32(0x08)?;
    Ok(Identity {
        vendor: id as u16,
        device: (id >> 16) as u16,
        revision: class as u8,
        class: [(class >> 24) as u8, (class >> 16) as u8, (class >> 8) as u8],
        header_type: c.read8(0x0e)?,
    })
}

/// One entry of the capability list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability {
    pub offset: u8,
    pub id: u8,
}

/// The capability list, in list order. The device is not trusted: a
/// pointer into the header ends the walk, and so does the 48th entry (a
/// list cannot be longer, so more is a loop); a failed read is yielded
/// once as an error and ends it too.
pub fn capabilities(c: &impl Config) -> Capabilities<'_, impl Config> {
    Capabilities {
        config: c,
        next: None,
        left: 48,
    }
}

pub struct Capabilities<'c, C: Config> {
    config: &'c C,
    /// `None` before the first entry.
    next: Option<u8>,
    left: u8,
}

impl<C: Config> Iterator for Capabilities<'_, C> {
    type Item = Result<Capability, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let at = match self.next {
            Some(at) => at,
            None => {
                // Status bit 4: the function has a list at all.
                match self.config.read16(0x06) {
                    Ok(status) if status & 1 << 4 == 0 => return None,
                    Ok(_) => {}
                    Err(e) => return Some(Err(e)),
                }
                match self.config.read8(0x34) {
                    Ok(p) => p & 0xfc,
                    Err(e) => return Some(Err(e)),
                }
            }
        };
        if at < 0x40 || self.left == 0 {
            return None;
        }
        self.left -= 1;
        match self.config.read16(at.into()) {
            Ok(header) => {
                self.next = Some((header >> 8) as u8 & 0xfc);
                Some(Ok(Capability {
                    offset: at,
                    id: header as u8,
                }))
            }
            Err(e) => {
                self.left = 0;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::RefCell;

    /// 256 bytes of configuration space, with the bounds the root task
    /// checks and one protected range standing in for its policy.
    struct Fake(RefCell<[u8; 256]>);

    impl Fake {
        fn edu() -> Fake {
            let mut b = [0u8; 256];
            b[0..4].copy_from_slice(&[0x34, 0x12, 0xe8, 0x11]);
            b[0x06] = 1 << 4;
            b[0x08..0x0c].copy_from_slice(&[0x10, 0x00, 0xff, 0x00]);
            b[0x34] = 0x40;
            b[0x40..0x42].copy_from_slice(&[CAP_MSI, 0x50]);
            b[0x50..0x52].copy_from_slice(&[CAP_VENDOR, 0x00]);
            Fake(RefCell::new(b))
        }
    }

    impl Config for Fake {
        fn read(&self, offset: u16, width: u8) -> Result<u32, Error> {
            let at = usize::from(offset);
            let bytes = self.0.borrow();
            let slice = bytes
                .get(at..at + usize::from(width))
                .ok_or(Error::OutOfRange)?;
            Ok(slice.iter().rev().fold(0, |v, &b| v << 8 | u32::from(b)))
        }
        fn write(&self, offset: u16, width: u8, value: u32) -> Result<(), Error> {
            if (0x10..0x28).contains(&offset) {
                return Err(Error::Refused(Row::Bars));
            }
            let at = usize::from(offset);
            let mut bytes = self.0.borrow_mut();
            let slice = bytes
                .get_mut(at..at + usize::from(width))
                .ok_or(Error::OutOfRange)?;
            for (i, b) in slice.iter_mut().enumerate() {
                *b = (value >> (8 * i)) as u8;
            }
            Ok(())
        }
    }

    #[test]
    fn identity_and_capabilities() {
        let f = Fake::edu();
        assert_eq!(
            identity(&f),
            Ok(Identity {
                vendor: 0x1234,
                device: 0x11e8,
                revision: 0x10,
                class: [0x00, 0xff, 0x00],
                header_type: 0,
            })
        );
        let caps: Vec<_> = capabilities(&f).collect();
        assert_eq!(
            caps,
            [
                Ok(Capability {
                    offset: 0x40,
                    id: CAP_MSI
                }),
                Ok(Capability {
                    offset: 0x50,
                    id: CAP_VENDOR
                })
            ]
        );
    }

    #[test]
    fn a_looping_list_ends() {
        let f = Fake::edu();
        f.0.borrow_mut()[0x51] = 0x40;
        assert_eq!(capabilities(&f).count(), 48);
    }

    #[test]
    fn no_list_and_errors() {
        let f = Fake::edu();
        f.0.borrow_mut()[0x06] = 0;
        assert_eq!(capabilities(&f).count(), 0);
        assert_eq!(f.read32(0x100), Err(Error::OutOfRange));
        assert_eq!(f.write32(0x10, 0), Err(Error::Refused(Row::Bars)));
        assert_eq!(f.write16(0x80, 0xbeef), Ok(()));
        assert_eq!(f.read16(0x80), Ok(0xbeef));
        assert_eq!(f.read8(0x81), Ok(0xbe));
    }
}
