//! `ps2-keyboard`: the driver of the PS/2 keyboard behind the i8042.
//!
//! Holds the IOPort caps `io.data` (0x60) and `io.status` (0x64), the IRQ
//! handler `irq.kbd` (IOAPIC pin 1), and produces the ring `keys` (32
//! slots) of key events in their four-byte wire form.
//!
//! One event loop: wait on the notification, then by badge bit
//! * IRQ: read the bytes the controller holds, decode them, ack the IRQ,
//!   and send the events;
//! * `keys`: the client gave buffers back, send what waited for room.
//!
//! A keyboard cannot be told to wait, so events that find the ring full
//! queue here (up to [`BACKLOG`]); beyond that they are dropped, counted
//! and reported.
#![no_std]
#![no_main]

mod ports;

use paddock_component_support::rings::{self, Writer};
use paddock_ps2_keyboard::{Config, Controller, Decoded, Decoder, Error, WIRE_SIZE};
use paddock_runtime::sel4::{self, CPtr};
use paddock_runtime::{entry, log, Component};
use ports::I8042;

entry!(main);

/// Key events, to the client.
const KEYS_RING: &str = "keys";
/// Slots the ring is declared with.
const SLOTS: u32 = 32;
/// Events held while the ring is full.
const BACKLOG: usize = 64;

fn main(c: Component) -> ! {
    let data = c.slot("io.data").unwrap_or_else(|e| panic!("{e}"));
    let status = c.slot("io.status").unwrap_or_else(|e| panic!("{e}"));
    let irq = c.slot("irq.kbd").unwrap_or_else(|e| panic!("{e}"));
    let irq_bit = c.badge_bit("irq.kbd").unwrap_or_else(|e| panic!("{e}"));
    let keys = rings::writer(&c, KEYS_RING, SLOTS).unwrap_or_else(|e| panic!("{e}"));

    let mut controller = Controller::new(I8042::new(data, status), Config::default());
    let set = match controller.init() {
        Ok(set) => set,
        Err(e) => panic!("i8042: {e}"),
    };
    log!("i8042 up, keyboard reset, scancode {set:?}, IOAPIC pin 1");

    let mut driver = Driver {
        controller,
        decoder: Decoder::new(set),
        keys,
        backlog: Backlog::new(),
        dropped: 0,
    };
    ack(irq);
    let mut bits = irq_bit;
    loop {
        if bits & irq_bit != 0 {
            // Ack (unmask the edge-triggered pin) before reading: a byte
            // that arrived between the last read and a later ack would
            // raise its edge on a masked pin and never be signalled.
            ack(irq);
            driver.read_keyboard();
        }
        let again = driver.send();
        bits = if again {
            driver.keys.bit
        } else {
            c.wait().unwrap_or_else(|e| panic!("{e}"))
        };
    }
}

fn ack(irq: CPtr) {
    if let Err(e) = sel4::irq::ack(irq) {
        panic!("acking the keyboard IRQ: {e}");
    }
}

struct Driver {
    controller: Controller<I8042>,
    decoder: Decoder,
    keys: Writer,
    backlog: Backlog,
    dropped: u32,
}

impl Driver {
    /// Reads and decodes what the controller holds.
    fn read_keyboard(&mut self) {
        let Self {
            controller,
            decoder,
            backlog,
            dropped,
            ..
        } = self;
        let result = controller.read_available(&mut |byte| match decoder.feed(byte) {
            Some(Decoded::Key(event)) if !backlog.push(event.to_wire()) => {
                *dropped += 1;
                if dropped.is_power_of_two() {
                    log!("client too slow: {dropped} key events dropped");
                }
            }
            Some(Decoded::Key(_)) => {}
            Some(Decoded::Reply(reply)) => log!("keyboard says {reply:?}"),
            Some(Decoded::Unknown {
                extended,
                code,
                released,
            }) => log!("unknown scancode {code:#04x} (extended {extended}, released {released})"),
            None => {}
        });
        match result {
            Ok(_) => {}
            Err(Error::Io(e)) => panic!("i8042 port access failed: {e}"),
            Err(e) => log!("i8042: {e}"),
        }
    }

    /// Moves the backlog into the ring and signals the client. Returns
    /// `true` if buffers came back while asking for a signal (send again).
    fn send(&mut self) -> bool {
        let result = (|| {
            while let Some(event) = self.backlog.front() {
                if self.keys.io.write(event)? < WIRE_SIZE {
                    // Out of buffers: every buffer holds whole events, so
                    // nothing of this one was taken.
                    return self.keys.wants_more();
                }
                self.backlog.pop();
            }
            self.keys.flush().map(|()| false)
        })();
        result.unwrap_or_else(|e| panic!("the client broke the ring protocol: {e}"))
    }
}

/// A fixed queue of wire events.
struct Backlog {
    events: [[u8; WIRE_SIZE]; BACKLOG],
    head: usize,
    len: usize,
}

impl Backlog {
    fn new() -> Self {
        Self {
            events: [[0; WIRE_SIZE]; BACKLOG],
            head: 0,
            len: 0,
        }
    }

    fn push(&mut self, event: [u8; WIRE_SIZE]) -> bool {
        if self.len == BACKLOG {
            return false;
        }
        self.events[(self.head + self.len) % BACKLOG] = event;
        self.len += 1;
        true
    }

    fn front(&self) -> Option<&[u8; WIRE_SIZE]> {
        (self.len > 0).then(|| &self.events[self.head])
    }

    fn pop(&mut self) {
        if self.len > 0 {
            self.head = (self.head + 1) % BACKLOG;
            self.len -= 1;
        }
    }
}
