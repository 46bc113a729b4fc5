//! `latency-client`: measures four paths between components and prints
//! the mean time-stamp-counter ticks of each (guest instructions under
//! QEMU's `-icount shift=0`), as a multiple of the first:
//!
//! 1. `ipc_call_reply`: an seL4 Call to the driver on the channel's
//!    endpoint and its ReplyRecv back.
//! 2. `signal_ping_pong`: a signal to the driver's notification and its
//!    signal back, each side blocked in Wait until woken.
//! 3. `ring_round_trip`: a request buffer sent on ring `requests`
//!    (published, the driver signalled), received by the driver, a
//!    response sent back on ring `responses` and received here.
//! 4. `irq_edu_wake` and `irq_edu_round_trip`, measured by the driver: a
//!    register write that makes its edu device raise an interrupt, until
//!    the driver wakes from Wait on its notification; and the whole
//!    iteration, with the acknowledgement at the device and the kernel.
//!
//! Each runs `iterations` (a parameter, 10000 by default) after a tenth
//! as many of warm-up. Only the measured loop lies between the two TSC
//! readings; everything else the guest does then (the kernel's timer
//! tick, the root task) is counted too, which a quiet system keeps small.
#![no_std]
#![no_main]

use paddock_component_support::rings::{self, End};
use paddock_component_support::tsc;
use paddock_latency::{
    hundredths, label, mean, CHANNEL, ENDPOINT, REFUSED, REQUESTS, RESPONSES, RING_SLOTS,
};
use paddock_ring::{Idle, PeerError, Receiver, Sender};
use paddock_runtime::sel4::ipc::MessageInfo;
use paddock_runtime::sel4::{self, CPtr};
use paddock_runtime::{entry, log, Component, NOTIFICATION};

entry!(main);

/// The most iterations a run takes: more only takes longer.
const MAX_ITERATIONS: u64 = 10_000_000;

/// What the client holds.
struct Client {
    endpoint: CPtr,
    notification: CPtr,
    channel: CPtr,
    channel_bit: u64,
    requests: End<Sender<'static>>,
    responses: End<Receiver<'static>>,
}

fn main(c: Component) -> ! {
    let result = run(&c);
    c.finish(result)
}

fn run(c: &Component) -> Result<(), &'static str> {
    let missing = |_| "the plan lacks a cap this benchmark needs (see images/latency.toml)";
    let mut client = Client {
        endpoint: c.slot(ENDPOINT).map_err(missing)?,
        notification: c.slot(NOTIFICATION).map_err(missing)?,
        channel: c.slot(CHANNEL).map_err(missing)?,
        channel_bit: c.badge_bit(CHANNEL).map_err(missing)?,
        requests: rings::sender(c, REQUESTS, RING_SLOTS).map_err(|e| {
            log!("{e}");
            "cannot attach the request ring"
        })?,
        responses: rings::receiver(c, RESPONSES, RING_SLOTS).map_err(|e| {
            log!("{e}");
            "cannot attach the response ring"
        })?,
    };
    let n = c
        .param("iterations")
        .unwrap_or(10_000)
        .clamp(1, MAX_ITERATIONS);
    let warm = (n / 10).max(1);
    log!(
        "{n} iterations each after {warm} of warm-up; TSC ticks (guest instructions under -icount)"
    );

    let ipc = client.ipc(warm, n)?;
    report("ipc_call_reply", n, ipc, ipc);
    let signal = client.signals(warm, n)?;
    report("signal_ping_pong", n, signal, ipc);
    let ring = client.ring(warm, n)?;
    report("ring_round_trip", n, ring, ipc);
    let (wake, round_trip) = client.irq(warm, n)?;
    report("irq_edu_wake", n, wake, ipc);
    report("irq_edu_round_trip", n, round_trip, ipc);
    log!("done");
    Ok(())
}

/// The driver broke the ring protocol: says how, for the log.
fn broke(e: PeerError) -> &'static str {
    log!("ring: {e}");
    "the driver broke the ring protocol"
}

/// One figure line: `<name>: <n> iterations, <ticks> ticks each (<r>x
/// ipc_call_reply)`.
fn report(name: &str, n: u64, ticks: u64, ipc: u64) {
    let r = hundredths(ticks, ipc);
    log!(
        "{name}: {n} iterations, {ticks} ticks each ({}.{:02}x ipc_call_reply)",
        r / 100,
        r % 100
    );
}

impl Client {
    /// Calls the driver with `label` and `mr0`; the reply's error label is
    /// checked.
    fn call(&self, label: u64, mrs: [u64; 4]) -> Result<[u64; 4], &'static str> {
        let reply = sel4::syscall::call(self.endpoint, MessageInfo::new(label, 0, 0, 1), mrs);
        match reply.info.label() {
            0 => Ok(reply.mrs),
            REFUSED => Err("the driver refused a request"),
            _ => Err("the call failed"),
        }
    }

    /// Mean ticks of one call and reply.
    fn ipc(&self, warm: u64, n: u64) -> Result<u64, &'static str> {
        for _ in 0..warm {
            self.call(label::PING, [0; 4])?;
        }
        let mut failed = false;
        let start = tsc::read();
        for _ in 0..n {
            let reply = sel4::syscall::call(
                self.endpoint,
                MessageInfo::new(label::PING, 0, 0, 1),
                [0; 4],
            );
            failed |= reply.info.label() != 0;
        }
        let ticks = tsc::read().wrapping_sub(start);
        if failed {
            return Err("a call was not answered");
        }
        Ok(mean(ticks, n))
    }

    /// Blocks until the driver's signal on the channel arrives.
    fn wait_channel(&self) {
        while sel4::syscall::wait(self.notification) & self.channel_bit == 0 {}
    }

    /// Mean ticks of one signal to the driver and its signal back.
    fn signals(&self, warm: u64, n: u64) -> Result<u64, &'static str> {
        self.call(label::SIGNALS, [warm + n, 0, 0, 0])?;
        for _ in 0..warm {
            sel4::syscall::signal(self.channel);
            self.wait_channel();
        }
        let start = tsc::read();
        for _ in 0..n {
            sel4::syscall::signal(self.channel);
            self.wait_channel();
        }
        Ok(mean(tsc::read().wrapping_sub(start), n))
    }

    /// Mean ticks of one request through ring `requests` and its response
    /// through ring `responses`.
    fn ring(&mut self, warm: u64, n: u64) -> Result<u64, &'static str> {
        self.call(label::RING, [warm + n, 0, 0, 0])?;
        for i in 0..warm {
            self.ring_once(i)?;
        }
        let start = tsc::read();
        for i in warm..warm + n {
            self.ring_once(i)?;
        }
        Ok(mean(tsc::read().wrapping_sub(start), n))
    }

    /// One request carrying its sequence number; the response must carry
    /// it back.
    fn ring_once(&mut self, sequence: u64) -> Result<(), &'static str> {
        let mut buf = loop {
            if let Some(buf) = self.requests.io.alloc().map_err(broke)? {
                break buf;
            }
            if self.requests.io.request_signal().map_err(broke)? == Idle::Sleep {
                sel4::syscall::wait(self.notification);
            }
        };
        self.requests.io.append(&mut buf, &sequence.to_le_bytes());
        self.requests.io.send(buf).map_err(broke)?;
        let notify = self.requests.io.publish();
        self.requests.peer.notify(notify);
        let response = loop {
            if let Some(buf) = self.responses.io.recv().map_err(broke)? {
                break buf;
            }
            if self.responses.io.request_signal().map_err(broke)? == Idle::Sleep {
                sel4::syscall::wait(self.notification);
            }
        };
        let mut echoed = [0u8; 8];
        let read = self.responses.io.read(&response, 0, &mut echoed);
        self.responses.io.give_back(response).map_err(broke)?;
        let notify = self.responses.io.publish();
        self.responses.peer.notify(notify);
        if read != echoed.len() || u64::from_le_bytes(echoed) != sequence {
            return Err("the driver answered another request");
        }
        Ok(())
    }

    /// Mean ticks from the interrupt's raise to the driver's wake-up, and
    /// of the driver's whole iteration.
    fn irq(&self, warm: u64, n: u64) -> Result<(u64, u64), &'static str> {
        let [wake, total, ..] = self.call(label::IRQ, [n, warm, 0, 0])?;
        Ok((mean(wake, n), mean(total, n)))
    }
}
