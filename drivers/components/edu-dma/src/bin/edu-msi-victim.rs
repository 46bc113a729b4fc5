//! `edu-msi-victim`: the honest witness of `images/msi-window.toml`. It
//! holds one edu device with its MSI bound, checks the interrupt path once
//! by having the device raise an interrupt, and then counts every
//! interrupt the kernel delivers on its vector. Each one is judged by the
//! device's own interrupt status register: set means the device raised it,
//! 0 means something else wrote the vector's message. When the peer signals
//! a checkpoint, it prints its counts; the signal carries no data, so the
//! peer can only choose when the counts are printed, never what they say.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

#[path = "../shared.rs"]
#[allow(dead_code)] // the copy protocol is the edu-dma driver's
mod shared;

use paddock_edu::regs::irq;
use paddock_runtime::sel4;
use paddock_runtime::{entry, log, Component};
use shared::open_device;

entry!(main);

fn main(c: Component) -> ! {
    let mut edu = open_device(&c);
    let irq = c.slot("irq.msi").unwrap_or_else(|e| panic!("{e}"));
    let irq_bit = c.badge_bit("irq.msi").unwrap_or_else(|e| panic!("{e}"));
    let checkpoint_bit = c
        .badge_bit("channel.checkpoint")
        .unwrap_or_else(|e| panic!("{e}"));

    // The self-test: one interrupt the device itself raises.
    edu.raise_interrupt(irq::FACTORIAL);
    log!("MSI bound; the device raises one interrupt as a self-test");

    let mut own = 0u32;
    let mut foreign = 0u32;
    let mut checkpoints = 0u32;
    loop {
        let bits = c.wait().unwrap_or(0);
        if bits & irq_bit != 0 {
            let raised = edu.handle_interrupt().raised;
            if raised != 0 {
                own += 1;
                log!("interrupt raised by its device (interrupt status {raised:#x})");
            } else {
                foreign += 1;
                log!(
                    "interrupt on its vector with its device's interrupt status 0: not raised by its device ({foreign} so far)"
                );
            }
            if let Err(e) = sel4::irq::ack(irq) {
                log!("acknowledging the interrupt failed: {e:?}");
            }
        }
        if bits & checkpoint_bit != 0 {
            checkpoints += 1;
            log!(
                "checkpoint {checkpoints}: {own} interrupts raised by its device, {foreign} not raised by it"
            );
        }
    }
}
