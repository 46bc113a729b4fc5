//! `edu-dma`: moves the client's buffers by DMA through QEMU's edu device.
//! It holds the device's BAR, its MSI, the IOVAs of its DMA windows and two
//! rings; the client's data pages are mapped only in the client.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use paddock_edu::{BusWindow, Direction, DmaRequest, Edu};
#[path = "../shared.rs"]
mod shared;

use paddock_ring::queue::Descriptor;
use paddock_runtime::sel4;
use paddock_runtime::{entry, log, Component};
use shared::{open_device, BarMmio, DriverRings, COPY_DISTANCE};

entry!(main);

fn main(c: Component) -> ! {
    let mut edu = open_device(&c);
    let window = c.iova("dma.edu.data").unwrap_or_else(|e| panic!("{e}"));
    let window = BusWindow {
        iova: window.vaddr,
        size: window.size,
    };
    let irq = c.slot("irq.dma-done").unwrap_or_else(|e| panic!("{e}"));
    let irq_bit = c
        .badge_bit("irq.dma-done")
        .unwrap_or_else(|e| panic!("{e}"));
    let client = c.slot("ring.completions").unwrap_or_else(|e| panic!("{e}"));
    let mut rings = DriverRings::attach(&c).unwrap_or_else(|e| panic!("{e}"));
    log!(
        "ready: data window at IOVA {:#x} ({} bytes)",
        window.iova,
        window.size
    );

    loop {
        // Drain every request, then sleep only if the client asked to be
        // woken and nothing arrived meanwhile.
        while let Some(d) = rings
            .requests
            .pop()
            .unwrap_or_else(|e| panic!("requests: {e:?}"))
        {
            let done = match copy(&mut edu, &c, irq, irq_bit, window, d) {
                Ok(()) => d,
                Err(e) => {
                    log!("refused copy of {} bytes at {:#x}: {e:?}", d.len, d.offset);
                    Descriptor {
                        offset: d.offset,
                        len: 0,
                    }
                }
            };
            if rings.completions.push(done).is_err() {
                log!("completions ring full");
            }
            if rings.completions.publish().is_needed() {
                sel4::syscall::signal(client);
            }
        }
        rings.requests.release();
        match rings.requests.request_signal() {
            Ok(paddock_ring::Idle::Sleep) => {
                let _ = c.wait();
            }
            Ok(paddock_ring::Idle::MoreWork) => {}
            Err(e) => panic!("requests: {e:?}"),
        }
    }
}

/// One copy: host -> device buffer -> host, each leg ended by the MSI.
fn copy(
    edu: &mut Edu<BarMmio>,
    c: &Component,
    irq: sel4::CPtr,
    irq_bit: u64,
    window: BusWindow,
    d: Descriptor,
) -> Result<(), paddock_edu::Error> {
    let (offset, len) = (u64::from(d.offset), u64::from(d.len));
    let from = window.address(offset, len)?;
    let to = window.address(offset + COPY_DISTANCE, len)?;
    for request in [
        DmaRequest::new(Direction::ToDevice, from, 0, d.len)?,
        DmaRequest::new(Direction::ToHost, to, 0, d.len)?,
    ] {
        edu.start_dma(request)?;
        loop {
            let bits = c.wait().unwrap_or(0);
            if bits & irq_bit != 0 {
                let done = edu.handle_interrupt().dma_done;
                let _ = sel4::irq::ack(irq);
                if done.is_some() {
                    break;
                }
            }
        }
    }
    Ok(())
}
