#![no_main]
// The `info-pages` target: see `paddock_fuzz_targets::info_pages`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| paddock_fuzz_targets::info_pages(data));
