//! Errors returned by kernel invocations.

use crate::sys::error as code;
use core::fmt;

/// An invocation failed: the reply's label was this `seL4_Error` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error(pub u64);

pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    /// The kernel's name of the error, from the generated error codes.
    pub fn name(self) -> &'static str {
        match self.0 {
            code::InvalidArgument => "InvalidArgument",
            code::InvalidCapability => "InvalidCapability",
            code::IllegalOperation => "IllegalOperation",
            code::RangeError => "RangeError",
            code::AlignmentError => "AlignmentError",
            code::FailedLookup => "FailedLookup",
            code::TruncatedMessage => "TruncatedMessage",
            code::DeleteFirst => "DeleteFirst",
            code::RevokeFirst => "RevokeFirst",
            code::NotEnoughMemory => "NotEnoughMemory",
            _ => "unknown error",
        }
    }

    pub const ILLEGAL_OPERATION: Error = Error(code::IllegalOperation);
    pub const INVALID_CAPABILITY: Error = Error(code::InvalidCapability);
    pub const FAILED_LOOKUP: Error = Error(code::FailedLookup);
    pub const DELETE_FIRST: Error = Error(code::DeleteFirst);
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

/// Turns a reply label into a result.
pub(crate) fn check(label: u64) -> Result<()> {
    if label == code::NoError {
        Ok(())
    } else {
        Err(Error(label))
    }
}
