//! `edu-msi-window`: the attacker of `images/msi-window.toml`. An edu
//! driver gone bad, holding its device (DMA mask widened to 32 bits), one
//! scratch DMA window and its MSI. It puts one word,
//! `0x30 + victim_vector` (the MSI data the kernel expects for that
//! vector), in its scratch page, moves it into the device buffer by DMA
//! (edu's buffer is reachable only by DMA), and copies it out by DMA twice: first to an ordinary bus address
//! outside its window (the control, which VT-d must block), then to
//! 0xFEE00000, the MSI address window (destination APIC 0, fixed
//! delivery). After each transfer it signals the victim's checkpoint
//! channel. What it logs is only what it tried; the outcome is read from
//! the victim and the kernel.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

#[path = "../shared.rs"]
#[allow(dead_code)] // the copy protocol is the edu-dma driver's
mod shared;

use paddock_edu::{Direction, DmaRequest, Edu};
use paddock_runtime::sel4;
use paddock_runtime::{entry, log, Component};
use shared::{open_device, BarMmio};

entry!(main);

/// The device's DMA mask as `images/msi-window.toml` sets it.
const DMA_MASK: u64 = 0xffff_ffff;
/// The control target: ordinary memory address, outside every window.
const CONTROL_TARGET: u64 = 0x30_0000;
/// The start of the MSI address window (0xFEE00000-0xFEEFFFFF).
const MSI_WINDOW: u64 = 0xfee0_0000;
/// The CPU vector of the kernel's vector 0.
const CPU_VECTOR_BASE: u64 = 0x30;

fn main(c: Component) -> ! {
    let mut edu = open_device(&c).with_dma_mask(DMA_MASK);
    let irq = c.slot("irq.dma-done").unwrap_or_else(|e| panic!("{e}"));
    let irq_bit = c
        .badge_bit("irq.dma-done")
        .unwrap_or_else(|e| panic!("{e}"));
    let checkpoint = c
        .slot("channel.checkpoint")
        .unwrap_or_else(|e| panic!("{e}"));
    let Some(vector) = c.param("victim_vector") else {
        panic!("no `victim_vector` in the description's params");
    };
    let data = CPU_VECTOR_BASE + vector;
    let Ok(word) = u32::try_from(data) else {
        panic!("vector {vector} gives no 32-bit MSI data");
    };
    let scratch = c
        .region("dma.edu.scratch")
        .unwrap_or_else(|e| panic!("{e}"));
    let scratch_iova = c.iova("dma.edu.scratch").unwrap_or_else(|e| panic!("{e}"));
    // SAFETY: the root task mapped the scratch window's page read-write
    // here, page-aligned, for this component alone; the device reads it
    // only during the transfer below.
    unsafe { (scratch.vaddr as *mut u32).write_volatile(word) };
    let load = DmaRequest::new(Direction::ToDevice, scratch_iova.vaddr, 0, 4)
        .unwrap_or_else(|e| panic!("{e:?}"));
    match edu.start_dma(load) {
        Ok(()) => wait_done(&c, &mut edu, irq, irq_bit),
        Err(e) => panic!("loading the device buffer: {e:?}"),
    }
    log!("device buffer loaded with {data:#x} from its scratch window");

    for (what, target) in [
        ("an ordinary address outside its window", CONTROL_TARGET),
        ("the MSI address window", MSI_WINDOW),
    ] {
        log!(
            "DMA of 4 bytes holding {data:#x} (vector {vector}) to bus address {target:#x}, {what}"
        );
        match DmaRequest::new(Direction::ToHost, target, 0, 4) {
            Ok(request) => match edu.start_dma(request) {
                Ok(()) => {
                    wait_done(&c, &mut edu, irq, irq_bit);
                    log!("the device reports the transfer to {target:#x} finished");
                }
                Err(e) => log!("the driver library refused: {e:?}"),
            },
            Err(e) => log!("no such request: {e:?}"),
        }
        sel4::syscall::signal(checkpoint);
    }
    log!("attacks done");
    loop {
        let _ = c.wait();
    }
}

/// Waits for the device's DMA-done interrupt.
fn wait_done(c: &Component, edu: &mut Edu<BarMmio>, irq: sel4::CPtr, irq_bit: u64) {
    loop {
        if c.wait().unwrap_or(0) & irq_bit != 0 {
            let done = edu.handle_interrupt().dma_done;
            let _ = sel4::irq::ack(irq);
            if done.is_some() {
                return;
            }
        }
    }
}
