//! `latency-driver`: the other end of `latency-client`'s measurements
//! (the protocol is in the crate's documentation). It serves calls on the
//! channel's endpoint with ReplyRecv, answers signals and ring requests
//! when asked to, and drives an `edu` device whose interrupt arrives on an
//! IOAPIC pin of its own: it raises the interrupt with a register write,
//! waits on its notification, then acknowledges at the device and at the
//! kernel, timing each step with the time-stamp counter.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

#[path = "../../../edu-dma/src/shared.rs"]
#[allow(dead_code)] // the copy protocol is the edu-dma driver's
mod shared;

use paddock_component_support::rings::{self, End};
use paddock_component_support::tsc;
use paddock_edu::regs::irq;
use paddock_edu::Edu;
use paddock_latency::{label, CHANNEL, ENDPOINT, REFUSED, REQUESTS, RESPONSES, RING_SLOTS};
use paddock_ring::{Idle, PeerError, Receiver, Sender};
use paddock_runtime::sel4::ipc::MessageInfo;
use paddock_runtime::sel4::{self, CPtr};
use paddock_runtime::{entry, log, Component, NOTIFICATION};
use shared::BarMmio;

entry!(main);

/// The edu device and its interrupt line.
struct Device {
    edu: Edu<BarMmio>,
    handler: CPtr,
    bit: u64,
}

/// What the driver holds.
struct Driver {
    endpoint: CPtr,
    notification: CPtr,
    channel: CPtr,
    channel_bit: u64,
    requests: End<Receiver<'static>>,
    responses: End<Sender<'static>>,
    device: Option<Device>,
}

fn main(c: Component) -> ! {
    match attach(&c) {
        Ok(mut driver) => driver.serve(),
        Err(why) => c.finish(Err(why)),
    }
}

fn attach(c: &Component) -> Result<Driver, &'static str> {
    let missing = |_| "the plan lacks a cap this benchmark needs (see images/latency.toml)";
    // Without an edu device the other measurements still run; the client
    // is refused the interrupt one.
    let device = match (c.slot("irq.intx"), c.badge_bit("irq.intx")) {
        (Ok(handler), Ok(bit)) if c.region("edu.bar0").is_ok() => Some(Device {
            edu: shared::open_device(c),
            handler,
            bit,
        }),
        _ => {
            log!("no edu device with an `intx` IRQ: the interrupt figure will be refused");
            None
        }
    };
    Ok(Driver {
        endpoint: c.slot(ENDPOINT).map_err(missing)?,
        notification: c.slot(NOTIFICATION).map_err(missing)?,
        channel: c.slot(CHANNEL).map_err(missing)?,
        channel_bit: c.badge_bit(CHANNEL).map_err(missing)?,
        requests: rings::receiver(c, REQUESTS, RING_SLOTS).map_err(|e| {
            log!("{e}");
            "cannot attach the request ring"
        })?,
        responses: rings::sender(c, RESPONSES, RING_SLOTS).map_err(|e| {
            log!("{e}");
            "cannot attach the response ring"
        })?,
        device,
    })
}

/// A reply with no error and `mrs`.
const fn ok(words: u64) -> MessageInfo {
    MessageInfo::new(0, 0, 0, words)
}

impl Driver {
    /// Serves calls forever. A call's own reply comes first for the
    /// signal and ring phases (the client then starts them); the
    /// interrupt phase replies with its totals.
    fn serve(&mut self) -> ! {
        let mut call = sel4::syscall::recv(self.endpoint);
        loop {
            let [count, warm, ..] = call.mrs;
            call = match call.info.label() {
                label::PING => sel4::syscall::reply_recv(self.endpoint, ok(0), [0; 4]),
                label::SIGNALS => {
                    sel4::syscall::reply(ok(0), [0; 4]);
                    self.signals(count);
                    sel4::syscall::recv(self.endpoint)
                }
                label::RING => {
                    sel4::syscall::reply(ok(0), [0; 4]);
                    if let Err(e) = self.ring(count) {
                        // The client then waits for a response that never
                        // comes; its log ends there, and so does the run.
                        log!("ring: {e}; no more responses");
                    }
                    sel4::syscall::recv(self.endpoint)
                }
                label::IRQ => match self.irq(warm, count) {
                    Some((wake, total)) => {
                        sel4::syscall::reply_recv(self.endpoint, ok(2), [wake, total, 0, 0])
                    }
                    None => sel4::syscall::reply_recv(
                        self.endpoint,
                        MessageInfo::new(REFUSED, 0, 0, 0),
                        [0; 4],
                    ),
                },
                _ => sel4::syscall::reply_recv(
                    self.endpoint,
                    MessageInfo::new(REFUSED, 0, 0, 0),
                    [0; 4],
                ),
            };
        }
    }

    /// Answers `count` signals on the channel, one each.
    fn signals(&self, count: u64) {
        for _ in 0..count {
            while sel4::syscall::wait(self.notification) & self.channel_bit == 0 {}
            sel4::syscall::signal(self.channel);
        }
    }

    /// Answers `count` requests: each request's bytes go back in a
    /// response.
    fn ring(&mut self, count: u64) -> Result<(), PeerError> {
        let mut bytes = [0u8; 8];
        for _ in 0..count {
            let request = loop {
                if let Some(buf) = self.requests.io.recv()? {
                    break buf;
                }
                if self.requests.io.request_signal()? == Idle::Sleep {
                    sel4::syscall::wait(self.notification);
                }
            };
            let len = self.requests.io.read(&request, 0, &mut bytes);
            self.requests.io.give_back(request)?;
            let notify = self.requests.io.publish();
            self.requests.peer.notify(notify);
            let mut response = loop {
                if let Some(buf) = self.responses.io.alloc()? {
                    break buf;
                }
                if self.responses.io.request_signal()? == Idle::Sleep {
                    sel4::syscall::wait(self.notification);
                }
            };
            // `read` never returns more than `bytes` holds.
            let echo = bytes.get(..len).unwrap_or(&[]);
            self.responses.io.append(&mut response, echo);
            self.responses.io.send(response)?;
            let notify = self.responses.io.publish();
            self.responses.peer.notify(notify);
        }
        Ok(())
    }

    /// Raises `warm` interrupts, then `count` measured ones, one at a
    /// time; returns the total ticks from each raise to the wake-up, and
    /// of the measured loop. `None` without a device.
    fn irq(&mut self, warm: u64, count: u64) -> Option<(u64, u64)> {
        let d = self.device.as_mut()?;
        let (mut wake, mut start, mut spurious) = (0u64, tsc::read(), 0u64);
        for i in 0..warm.saturating_add(count) {
            if i == warm {
                start = tsc::read();
                wake = 0;
            }
            let raised_at = tsc::read();
            d.edu.raise_interrupt(irq::FACTORIAL);
            while sel4::syscall::wait(self.notification) & d.bit == 0 {}
            wake = wake.wrapping_add(tsc::read().wrapping_sub(raised_at));
            if d.edu.handle_interrupt().raised == 0 {
                spurious += 1;
            }
            if let Err(e) = sel4::irq::ack(d.handler) {
                log!("acknowledging the line failed: {e:?}");
                return None;
            }
        }
        let total = tsc::read().wrapping_sub(start);
        if spurious > 0 {
            log!("{spurious} wake-ups found the device's status clear");
        }
        Some((wake, total))
    }
}
