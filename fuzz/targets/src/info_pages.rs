//! `info-pages`: the pages a client maps read-only from a driver it does
//! not trust: the network and block info pages and the timer's clock
//! page. The driver may write anything there, at any time.

use std::sync::atomic::AtomicU64;

use paddock_net::NetLayout;
use zerocopy::IntoBytes;

use crate::input::Input;
use crate::timer_page::{ClockPage, WORDS as CLOCK_WORDS};

/// Bytes of input each page takes, in order: the network page, the block
/// page, the clock page; what follows picks the network layout the client
/// expects and the times the clock is read at.
pub const NET_BYTES: usize = paddock_net::INFO_BYTES;
pub const BLK_BYTES: usize = paddock_blk::INFO_BYTES;
pub const CLOCK_BYTES: usize = CLOCK_WORDS * 8;

/// Reads `data` as the three pages, as their clients do.
pub fn info_pages(data: &[u8]) {
    let mut input = Input::new(data);
    let (net_page, blk_page, clock_page) = (
        input.bytes(NET_BYTES),
        input.bytes(BLK_BYTES),
        input.bytes(CLOCK_BYTES),
    );
    net(net_page, &mut input);
    blk(blk_page);
    clock(clock_page, &mut input);
}

fn net(net: &[u8], input: &mut Input<'_>) {
    // 8-byte aligned, as the page is.
    let mut page = [0u64; NET_BYTES / 8];
    fill(page.as_mut_bytes(), net);
    let layout =
        NetLayout::for_buffers(input.u32(), input.u32(), input.u32()).unwrap_or(NetLayout::DEFAULT);
    let view = paddock_net::InfoPage::from_bytes(page.as_mut_bytes())
        .expect("an aligned page of the right size");
    let _ = view.state();
    let _ = view.stats();
    if let Ok(info) = view.read(&layout) {
        assert_eq!(info.layout, layout, "a page accepted for another layout");
        assert!((paddock_net::MIN_MTU..=paddock_net::MAX_MTU).contains(&info.mtu));
    }
}

fn blk(blk: &[u8]) {
    let mut page = [0u32; BLK_BYTES / 4];
    fill(page.as_mut_bytes(), blk);
    let view = paddock_blk::InfoPage::from_bytes(page.as_mut_bytes())
        .expect("an aligned page of the right size");
    let _ = view.snapshot();
    if let Ok(geometry) = view.read() {
        assert_eq!(geometry.validate(), Ok(()), "{geometry:?} accepted");
    }
}

fn clock(clock: &[u8], input: &mut Input<'_>) {
    let mut words = [0u64; CLOCK_WORDS];
    fill(words.as_mut_bytes(), clock);
    let words = words.map(AtomicU64::new);
    let page = ClockPage::new(&words).expect("a page of the right size");
    let _ = (page.answered(), page.refused(), page.expired());
    if let Ok(params) = page.read() {
        assert_eq!(params.checked(), Ok(params));
        let _ = params.ns_at(input.u64());
        let _ = params.ticks_in(input.u64());
    }
}

fn fill(page: &mut [u8], from: &[u8]) {
    page[..from.len()].copy_from_slice(from);
}
