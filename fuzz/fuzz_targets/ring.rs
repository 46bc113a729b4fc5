#![no_main]
// The `ring` target: see `paddock_fuzz_targets::ring`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| paddock_fuzz_targets::ring(data));
