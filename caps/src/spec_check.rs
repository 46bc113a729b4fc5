//! The isolation rules on the bytes `paddock build` embeds.
//!
//! The audit of a description checks the plan the host computed; the root
//! task executes the encoded spec. So before an image is written, the spec
//! bytes are decoded as the root task decodes them, read back into a plan
//! ([`Plan::from_spec`]), and every rule is checked on that: the caps and
//! mappings checked are the encoded ones, while what may be held is still
//! re-derived from the description. The read-back plan must also equal the
//! planned one, so an encoder that drops or alters a record is caught even
//! where no rule would notice.

use crate::audit::{audit, Violation};
use crate::description::Description;
use crate::plan::{FromSpecError, Plan};
use paddock_spec::{DecodeError, Spec};
use std::fmt;

/// Why the spec bytes may not be embedded.
#[derive(Clone, Debug)]
pub enum SpecCheckError {
    /// The root task would refuse the bytes.
    Decode(DecodeError),
    /// The bytes decode, but contradict themselves.
    Unreadable(FromSpecError),
    /// The spec fails isolation rules (and, when the plan did not, differs
    /// from it: `differs` names the first difference).
    Rules {
        violations: Vec<(&'static str, Violation)>,
        differs: Option<String>,
    },
    /// Every rule holds, but the spec is not the plan.
    Differs(String),
}

impl fmt::Display for SpecCheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecCheckError::Decode(e) => write!(f, "the encoded spec is refused: {e}"),
            SpecCheckError::Unreadable(e) => write!(f, "the encoded spec is unreadable: {e}"),
            SpecCheckError::Rules {
                violations,
                differs,
            } => {
                for (i, (rule, v)) in violations.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(
                        f,
                        "the encoded spec fails isolation rule `{rule}`: {}: {}: {}",
                        v.component.as_deref().unwrap_or("-"),
                        v.item,
                        v.message
                    )?;
                }
                if let Some(d) = differs {
                    write!(f, "\nthe encoded spec differs from the plan: {d}")?;
                }
                Ok(())
            }
            SpecCheckError::Differs(d) => write!(f, "the encoded spec differs from the plan: {d}"),
        }
    }
}

impl std::error::Error for SpecCheckError {}

/// Checks `bytes`, the encoding of `planned` for description `d`; returns
/// the plan read back from them.
pub fn check(d: &Description, planned: &Plan, bytes: &[u8]) -> Result<Plan, SpecCheckError> {
    let spec = Spec::decode(bytes).map_err(SpecCheckError::Decode)?;
    let encoded = Plan::from_spec(&spec).map_err(SpecCheckError::Unreadable)?;
    let result = audit(d, &encoded);
    let differs = first_difference(planned, &encoded);
    if !result.passed() {
        return Err(SpecCheckError::Rules {
            violations: result
                .violations()
                .map(|(rule, v)| (rule, v.clone()))
                .collect(),
            differs,
        });
    }
    match differs {
        Some(d) => Err(SpecCheckError::Differs(d)),
        None => Ok(encoded),
    }
}

/// The first record in which two plans differ, in words.
pub fn first_difference(planned: &Plan, encoded: &Plan) -> Option<String> {
    fn list<T: PartialEq + fmt::Debug>(what: &str, a: &[T], b: &[T]) -> Option<String> {
        if let Some(i) = (0..a.len().min(b.len())).find(|&i| a[i] != b[i]) {
            return Some(format!(
                "{what}[{i}] is {:?} in the spec, {:?} in the plan",
                b[i], a[i]
            ));
        }
        (a.len() != b.len())
            .then(|| format!("{} {what} in the spec, {} in the plan", b.len(), a.len()))
    }
    if (&planned.name, planned.kernel, planned.fault_endpoint)
        != (&encoded.name, encoded.kernel, encoded.fault_endpoint)
    {
        return Some(format!(
            "system `{}` ({}, fault endpoint {}) in the spec, `{}` ({}, fault endpoint {}) in the plan",
            encoded.name,
            encoded.kernel,
            encoded.fault_endpoint,
            planned.name,
            planned.kernel,
            planned.fault_endpoint
        ));
    }
    list("components", &planned.components, &encoded.components)
        .or_else(|| list("objects", &planned.objects, &encoded.objects))
        .or_else(|| list("caps", &planned.caps, &encoded.caps))
        .or_else(|| list("mappings", &planned.mappings, &encoded.mappings))
        .or_else(|| list("io_mappings", &planned.io_mappings, &encoded.io_mappings))
        .or_else(|| list("irqs", &planned.irqs, &encoded.irqs))
        .or_else(|| list("pci", &planned.pci, &encoded.pci))
        .or_else(|| list("symbols", &planned.symbols, &encoded.symbols))
}
