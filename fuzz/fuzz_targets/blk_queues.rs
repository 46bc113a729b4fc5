#![no_main]
// The `blk-queues` target: see `paddock_fuzz_targets::blk_queues`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| paddock_fuzz_targets::blk_queues(data));
