//! Cached out-of-tree kernel builds.
