#![no_main]
// The `elf` target: see `paddock_fuzz_targets::elf`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| paddock_fuzz_targets::elf(data));
