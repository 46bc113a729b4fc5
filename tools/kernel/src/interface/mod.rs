//! Generation of user-space bindings from the kernel's interface files.
