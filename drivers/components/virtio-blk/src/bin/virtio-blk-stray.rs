//! `virtio-blk-stray`: a compromised virtio-blk driver. It brings the
//! device up as the real driver does, then has it read eight sectors into
//! an IOVA outside every window the plan gave the device (the `stray_iova`
//! parameter), then into the last page of its own `queues` window (which
//! the virtqueue does not use: the fixture gives the window a third page)
//! and checks that sector 0, the disk's master boot record, arrived there.
//! VT-d must stop the first: the kernel reports the DMA fault, with the
//! device and the address; that report, not this driver's, is the verdict
//! (tests/storage.rs).
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use paddock_runtime::{entry, log, sel4, Component};
use paddock_virtio::{Iova, Segment};
use paddock_virtio_blk_driver::{device, memory};

entry!(main);

fn main(c: Component) -> ! {
    c.finish(run(&c))
}

fn run(c: &Component) -> Result<(), &'static str> {
    let (mut device, _) = device::bring_up(c)?;
    let stray = c.param("stray_iova").ok_or("no `stray_iova` parameter")?;
    let queues = c
        .iova(memory::QUEUES_WINDOW)
        .map_err(|_| "no `queues` window")?;
    let mapped = c
        .region(memory::QUEUES_WINDOW)
        .map_err(|_| "no `queues` window")?;
    if mapped.size < 3 * 4096 {
        return Err("the `queues` window needs a third page for the test read");
    }
    let last_page = mapped.vaddr + mapped.size - 4096;
    let irq = c.slot("irq.queue").map_err(|_| "no IRQ `queue`")?;
    for (what, iova) in [
        ("outside every window", stray),
        (
            "inside its own `queues` window",
            queues.vaddr + queues.size - 4096,
        ),
    ] {
        let data = Segment {
            iova: Iova(iova),
            len: 4096,
        };
        device
            .read(0, &[data])
            .map_err(|_| "the read was refused")?;
        device.kick();
        log!("asked the device to read 8 sectors to IOVA {iova:#x} ({what})");
        // The device answers, or breaks: wait for it a while.
        let mut outcome = None;
        for _ in 0..200_000 {
            match device.complete() {
                Ok(Some(done)) => {
                    outcome = Some(done.result.is_ok());
                    break;
                }
                Ok(None) => sel4::syscall::yield_now(),
                Err(_) => break,
            }
        }
        let _ = sel4::irq::ack(irq);
        log!(
            "the read to {iova:#x}: {}",
            match outcome {
                Some(true) => "completed",
                Some(false) => "failed with an error status",
                None => "no completion",
            }
        );
    }
    // SAFETY: the last page of the `queues` window is mapped read-write
    // for the component's life and nothing else here views it; the device
    // may have written it, hence volatile reads of plain bytes.
    let signature = unsafe {
        [
            core::ptr::read_volatile((last_page + 510) as *const u8),
            core::ptr::read_volatile((last_page + 511) as *const u8),
        ]
    };
    log!(
        "sector 0 in its own window ends {:02x} {:02x}{}",
        signature[0],
        signature[1],
        if signature == [0x55, 0xaa] {
            " (a master boot record)"
        } else {
            ""
        }
    );
    Ok(())
}
