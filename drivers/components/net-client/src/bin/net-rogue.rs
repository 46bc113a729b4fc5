//! `net-rogue`: a compromised network client. It attaches like an honest
//! one, then queues two frames of impossible lengths (4 bytes, 1,600
//! bytes: refused by the driver one by one, which serves on), then writes
//! a tail index far past anything its queue holds (a protocol break, for
//! which the driver drops it). With parameter `attack`, the break is
//! another: 1, a frame whose buffer lies past the client's TX buffers (a
//! descriptor outside its window); 2, one RX buffer given back twice,
//! though the driver never sent it. Every step is printed before it is
//! taken; what happened is for the driver to say, not this program.
#![no_std]
#![no_main]

use core::sync::atomic::Ordering;

use paddock_net::NetLayout;
use paddock_net_client::{attach, memory};
use paddock_ring::{Descriptor, Producer};
use paddock_runtime::{entry, log, sel4, Component};

entry!(main);

fn main(c: Component) -> ! {
    c.finish(run(&c))
}

fn run(c: &Component) -> Result<(), &'static str> {
    let m = memory(c, NetLayout::DEFAULT)?;
    let (control, (driver, _)) = (
        m.control,
        m.driver.ok_or("no channel `channel.<self>-net`")?,
    );
    let _ = attach(c, m).map_err(|_| "the driver's info page was refused")?;
    log!("attached; queueing frames of 4 and 1600 bytes");
    let mut tx = Producer::new(control.tx_active).map_err(|_| "the TX queue is inconsistent")?;
    let buf = control.layout.buf_size;
    for (n, len) in [4u32, 1600].into_iter().enumerate() {
        let d = Descriptor {
            offset: n as u32 * buf,
            len,
        };
        tx.push(d).map_err(|_| "the TX queue is full")?;
    }
    let _ = tx.publish();
    sel4::syscall::signal(driver);
    // The driver runs at a higher priority: it has handled the signal
    // before this component runs again.
    match c.param("attack").unwrap_or(0) {
        1 => {
            let past = control.layout.tx_buffers * buf;
            log!("queueing a frame in a buffer at {past:#x}, past its TX buffers");
            tx.push(Descriptor {
                offset: past,
                len: 64,
            })
            .map_err(|_| "the TX queue is full")?;
            let _ = tx.publish();
            sel4::syscall::signal(driver);
            log!("done");
            return Ok(());
        }
        2 => {
            log!("giving RX buffer 0 back twice, though the driver never sent it");
            let mut free =
                Producer::new(control.rx_free).map_err(|_| "the RX free queue is inconsistent")?;
            for _ in 0..2 {
                free.push(Descriptor { offset: 0, len: 0 })
                    .map_err(|_| "the RX free queue is full")?;
            }
            let _ = free.publish();
            sel4::syscall::signal(driver);
            log!("done");
            return Ok(());
        }
        _ => {}
    }
    log!("writing a TX tail 5000 past its head");
    let header = control.tx_active.header();
    let head = header.head.load(Ordering::Acquire);
    header
        .tail
        .store(head.wrapping_add(5000), Ordering::Release);
    sel4::syscall::signal(driver);
    log!("done");
    Ok(())
}
