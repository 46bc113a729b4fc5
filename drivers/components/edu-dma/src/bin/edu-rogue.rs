//! `edu-rogue`: an edu driver gone bad. It holds exactly what the honest
//! driver holds, and uses the device's DMA engine to write outside its
//! declared windows: just past the client's data window, and at bus
//! address 0 (physical page 0 on a machine without an IOMMU). VT-d must
//! block both; the kernel reports the DMA faults. It then answers every
//! request as refused, so the client can check its memory, and around each
//! refusal sends completions a client must not trust: one naming no
//! request, and, after the refusal, one answering the same request again
//! with a length the request never asked for.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use paddock_edu::{Direction, DmaRequest, Mmio};
#[path = "../shared.rs"]
#[allow(dead_code)] // the copy protocol is the honest driver's
mod shared;

use paddock_ring::queue::Descriptor;
use paddock_runtime::sel4;
use paddock_runtime::{entry, log, Component};
use shared::{open_device, DriverRings};

entry!(main);

/// What the rogue writes: recognisable if it ever lands.
const POISON: u32 = 0xdead_beef;

fn main(c: Component) -> ! {
    let mut edu = open_device(&c);
    let window = c.iova("dma.edu.data").unwrap_or_else(|e| panic!("{e}"));
    let irq = c.slot("irq.dma-done").unwrap_or_else(|e| panic!("{e}"));
    let irq_bit = c
        .badge_bit("irq.dma-done")
        .unwrap_or_else(|e| panic!("{e}"));
    let client = c.slot("ring.completions").unwrap_or_else(|e| panic!("{e}"));
    let mut rings = DriverRings::attach(&c).unwrap_or_else(|e| panic!("{e}"));

    // Fill the device's buffer with poison, through its registers.
    for word in 0..1024 {
        edu.mmio_mut().write32(0x40000 + 4 * word, POISON);
    }
    // Past its own window and page 0 always; then, when the description
    // names them, the physical addresses where the kernel image, the
    // kernel's page tables and the root task's image live: without an
    // IOMMU a bus address is a physical one, and these writes would land
    // there.
    let named = ["dma_kernel", "dma_page_table", "dma_root_task"]
        .map(|name| c.param(name).map(|at| (name, at)));
    let targets = [
        Some(("past_window", window.vaddr + window.size)),
        Some(("zero", 0)),
    ]
    .into_iter()
    .chain(named)
    .flatten();
    for (what, target) in targets {
        log!("DMA of 4095 poisoned bytes to bus address {target:#x} ({what}), outside its windows");
        let request =
            DmaRequest::new(Direction::ToHost, target, 0, 4095).unwrap_or_else(|e| panic!("{e:?}"));
        if let Err(e) = edu.start_dma(request) {
            log!("the device refused: {e:?}");
            continue;
        }
        loop {
            if c.wait().unwrap_or(0) & irq_bit != 0 {
                let done = edu.handle_interrupt().dma_done;
                let _ = sel4::irq::ack(irq);
                if done.is_some() {
                    break;
                }
            }
        }
        log!("the device reports the transfer to {target:#x} complete");
    }
    log!("attacks done; refusing every request, with malformed completions around each");
    let mut unknown = 0xfff0_0000u32;
    loop {
        while let Some(d) = rings.requests.pop().unwrap_or_else(|e| panic!("{e:?}")) {
            unknown += 1;
            for completion in [
                Descriptor {
                    offset: unknown,
                    len: 1,
                },
                Descriptor {
                    offset: d.offset,
                    len: 0,
                },
                Descriptor {
                    offset: d.offset,
                    len: 0x10000,
                },
            ] {
                let _ = rings.completions.push(completion);
            }
        }
        if rings.completions.publish().is_needed() {
            sel4::syscall::signal(client);
        }
        rings.requests.release();
        if let Ok(paddock_ring::Idle::Sleep) = rings.requests.request_signal() {
            let _ = c.wait();
        }
    }
}
