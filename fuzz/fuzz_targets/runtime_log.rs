#![no_main]
// The `runtime-log` target: see `paddock_fuzz_targets::runtime_log`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| paddock_fuzz_targets::runtime_log(data));
