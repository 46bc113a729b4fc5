#![no_main]
// The `boot-blob` target: see `paddock_fuzz_targets::boot_blob`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| paddock_fuzz_targets::boot_blob(data));
