//! The protocol over the component runtime: pages and channels found by
//! their planned names.

use crate::client::{ClientCore, Link};
use crate::page::{ClockPage, BYTES, WORDS};
use core::sync::atomic::AtomicU64;
use paddock_runtime::sel4::{self, CPtr};
use paddock_runtime::{Component, NOTIFICATION};

/// The longest name built here: `channel.` or `shared.`, a component
/// name (at most 32 bytes) and `-timer` or `-clock`.
const NAME_BUF: usize = 48;

/// `parts` joined in `buf`.
fn join<'b>(buf: &'b mut [u8; NAME_BUF], parts: &[&str]) -> Result<&'b str, &'static str> {
    let mut at = 0;
    for p in parts {
        let end = at + p.len();
        buf.get_mut(at..end)
            .ok_or("a timer symbol name is too long")?
            .copy_from_slice(p.as_bytes());
        at = end;
    }
    core::str::from_utf8(&buf[..at]).map_err(|_| "a timer symbol name is not UTF-8")
}

/// The clock page in the shared region the plan calls `shared.<region>`.
pub fn page(c: &Component, region: &str) -> Result<ClockPage<'static>, &'static str> {
    let mut buf = [0; NAME_BUF];
    let name = join(&mut buf, &["shared.", region])?;
    let r = c
        .region(name)
        .map_err(|_| "the plan gives no shared region of that name")?;
    if r.size < BYTES as u64 || r.vaddr == 0 || !r.vaddr.is_multiple_of(8) {
        return Err("the timer region is too small or misplaced");
    }
    // SAFETY: the plan maps this region read-write into the component for
    // its whole life (the root task never unmaps a planned region), at
    // least BYTES long and 8-byte aligned (checked above); AtomicU64 has
    // the size and alignment of u64, and every access to the words goes
    // through atomics, so the peer writing them at the same time is no
    // data race.
    let words = unsafe { core::slice::from_raw_parts(r.vaddr as *const AtomicU64, WORDS) };
    ClockPage::new(words).ok_or("the timer region is too small")
}

/// One end of a `[[channel]]`: the cap that signals the peer, this
/// component's notification, and the badge bit the peer's signal sets.
#[derive(Clone, Copy, Debug)]
pub struct Channel {
    slot: CPtr,
    notification: CPtr,
    bit: u64,
}

impl Channel {
    /// The channel the plan calls `channel.<name>`.
    pub fn attach(c: &Component, name: &str) -> Result<Channel, &'static str> {
        let mut buf = [0; NAME_BUF];
        let name = join(&mut buf, &["channel.", name])?;
        Ok(Channel {
            slot: c
                .slot(name)
                .map_err(|_| "the plan gives no channel of that name")?,
            notification: c
                .slot(NOTIFICATION)
                .map_err(|_| "the plan gives no notification")?,
            bit: c
                .badge_bit(name)
                .map_err(|_| "the plan gives the channel no badge bit")?,
        })
    }

    /// Signal the peer.
    pub fn signal(&self) {
        sel4::syscall::signal(self.slot);
    }

    /// The badge bit the peer's signal sets, as a mask.
    pub fn bit(&self) -> u64 {
        self.bit
    }
}

impl Link for Channel {
    fn signal(&mut self) {
        Channel::signal(self)
    }
    fn wait(&mut self) -> u64 {
        sel4::syscall::wait(self.notification)
    }
    fn badge_bit(&self) -> u64 {
        self.bit
    }
}

/// A component's client of the timer: `shared.<own name>-clock` and
/// `channel.<own name>-timer`, with the TSC.
pub type TimerClient = ClientCore<'static, Channel>;

impl TimerClient {
    /// Attach to the timer through the region and channel named after this
    /// component.
    pub fn attach(c: &Component) -> Result<TimerClient, &'static str> {
        let mut buf = [0; NAME_BUF];
        let page = page(c, join(&mut buf, &[c.name(), "-clock"])?)?;
        let channel = Channel::attach(c, join(&mut buf, &[c.name(), "-timer"])?)?;
        Ok(ClientCore::new(page, channel, crate::tsc::read))
    }
}
