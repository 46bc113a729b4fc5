//! `blk-bench`: the storage measurement as a client of the isolated
//! `virtio-blk` driver (see the library).
#![no_std]
#![no_main]

use paddock_blk::BlockClient;
use paddock_blk_bench::{heap, run, stop, Buffers, IdleCount, Params};
use paddock_fat_client::attach;
use paddock_runtime::{entry, log, Component};

entry!(main);

fn main(c: Component) -> ! {
    let params = Params::of(&c);
    let (_, rest) = heap(&c, 0).unwrap_or_else(|e| stop(&c, &e));
    let buffers = Buffers::carve(rest, &params).unwrap_or_else(|e| stop(&c, &e));
    let attached = attach(&c).unwrap_or_else(|e| stop(&c, &e));
    let client = BlockClient::new(
        attached.control.requests,
        attached.control.responses,
        attached.geometry,
        attached.window,
        attached.channel,
    )
    .unwrap_or_else(|e| stop(&c, &e));
    if let Err(e) = run("isolated", client, buffers, &params, &IdleCount::of(&c)) {
        stop(&c, &e);
    }
    log!("done");
    loop {
        let _ = c.wait();
    }
}
