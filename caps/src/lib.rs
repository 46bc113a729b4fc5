//! System descriptions, validation, the capability plan and the audit.
