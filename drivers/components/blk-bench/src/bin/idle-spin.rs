//! `idle-spin`: runs at the lowest priority and spins, so the guest never
//! halts while every other thread waits (the library says why). It counts
//! its turns of the loop in the shared region `idle-count`, if the plan
//! gives it one, for the measurement to take its own instructions out.
//! With the parameter `spin = 0` it only blocks.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use paddock_blk_bench::IDLE_COUNT;
use paddock_runtime::{entry, Component};

entry!(main);

fn main(c: Component) -> ! {
    // `spin = 0`: block instead, so the kernel's idle thread halts, as in
    // tools/bench-storage's runs without -icount (Linux's default idle).
    if c.param("spin") == Some(0) {
        loop {
            let _ = c.wait();
        }
    }
    let Ok(region) = c.region(IDLE_COUNT) else {
        loop {
            core::hint::spin_loop();
        }
    };
    // SAFETY: the root task mapped the region read-write here for the
    // component's life and the address is page aligned; this loop is its
    // only writer (the bench maps it read-only). Each turn is exactly
    // `IDLE_LOOP_INSTRUCTIONS` instructions: `pause`, one read-modify-write
    // of the counter in memory, the jump back. It never returns, so the
    // flags it changes matter to no code after it.
    unsafe {
        core::arch::asm!(
            "2:",
            "pause",
            "inc qword ptr [{count}]",
            "jmp 2b",
            count = in(reg) region.vaddr,
            options(noreturn, nostack)
        );
    }
}
