#![no_main]
// The `spec` target: see `paddock_fuzz_targets::spec`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| paddock_fuzz_targets::spec(data));
