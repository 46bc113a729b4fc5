//! Shared helpers of the host and system tests.
