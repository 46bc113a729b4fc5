#![no_main]
// The `description` target: see `paddock_fuzz_targets::description`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| paddock_fuzz_targets::description(data));
