#![no_main]
// The `net-queues` target: see `paddock_fuzz_targets::net_queues`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| paddock_fuzz_targets::net_queues(data));
