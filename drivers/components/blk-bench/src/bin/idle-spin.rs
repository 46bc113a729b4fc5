//! `idle-spin`: runs at the lowest priority and spins, so the guest never
//! halts while every other thread waits (the library says why).
#![no_std]
#![no_main]

use paddock_runtime::{entry, Component};

entry!(main);

fn main(_c: Component) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
