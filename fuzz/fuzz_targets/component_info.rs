#![no_main]
// The `component-info` target: see `paddock_fuzz_targets::component_info`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| paddock_fuzz_targets::component_info(data));
