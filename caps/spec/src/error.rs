//! Why a spec was refused.

use crate::Table;
use core::fmt;

/// Why a spec was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than the header, or than the header's `total_len`.
    Truncated {
        needed: usize,
        len: usize,
    },
    BadMagic,
    Version {
        found: u32,
        expected: u32,
    },
    /// More bytes than `total_len` says.
    TrailingBytes {
        total_len: usize,
        len: usize,
    },
    /// A table does not lie inside the spec.
    TableOutOfBounds {
        table: Table,
    },
    /// A field holds an impossible value (an unknown enum, a bad index, an
    /// unaligned address...).
    BadField {
        table: Table,
        index: u32,
        field: &'static str,
        value: u64,
    },
    /// A string is out of the string table or not UTF-8.
    BadString {
        table: Table,
        index: u32,
    },
    /// More records than the root task holds ([`limits`]): components,
    /// objects, IRQs or PCI devices; for [`Table::Symbols`], one
    /// component's symbols (an info page's worth).
    TooMany {
        table: Table,
        count: usize,
        max: usize,
    },
    /// A name longer than the field that holds it (a component's or
    /// program's name, a symbol's, the system's).
    NameTooLong {
        table: Table,
        index: u32,
        len: usize,
        max: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::Truncated { needed, len } => {
                write!(f, "spec truncated: needs {needed} bytes, has {len}")
            }
            DecodeError::BadMagic => f.write_str("not a paddock spec (bad magic)"),
            DecodeError::Version { found, expected } => write!(
                f,
                "spec version {found} is not the supported version {expected}: rebuild the image"
            ),
            DecodeError::TrailingBytes { total_len, len } => {
                write!(f, "spec is {total_len} bytes but {len} were given")
            }
            DecodeError::TableOutOfBounds { table } => {
                write!(f, "table `{}` lies outside the spec", table.name())
            }
            DecodeError::BadField {
                table,
                index,
                field,
                value,
            } => write!(
                f,
                "{}[{index}].{field} has the invalid value {value:#x}",
                table.name()
            ),
            DecodeError::BadString { table, index } => {
                write!(f, "{}[{index}] has a bad string", table.name())
            }
            DecodeError::TooMany { table, count, max } => write!(
                f,
                "table `{}` has {count} records where the root task holds {max}",
                table.name()
            ),
            DecodeError::NameTooLong {
                table,
                index,
                len,
                max,
            } => write!(
                f,
                "{}[{index}] has a name of {len} bytes where {max} fit",
                table.name()
            ),
        }
    }
}
