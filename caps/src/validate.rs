//! Whole-system validation, run after parsing.

use crate::description::Description;
use crate::diagnostics::Error;

/// Every error in the description, in source order of their first check.
pub fn validate(_d: &Description) -> Vec<Error> {
    Vec::new()
}
