#![no_main]
// The `virtio-used` target: see `paddock_fuzz_targets::virtio_used`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| paddock_fuzz_targets::virtio_used(data));
