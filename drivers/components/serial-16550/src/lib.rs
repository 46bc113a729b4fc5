//! The driver of the 16550 UART on COM2, as a component.
//!
//! Holds the IOPort cap `io.com2` (0x2F8..=0x2FF), the IRQ handler
//! `irq.uart` (IOAPIC pin 3), and two rings to its client: it produces
//! `serial-rx` (bytes received) and consumes `serial-tx` (bytes to send),
//! both declared with 64 slots. The line settings come from the
//! description's `[component.params]` (`baud`, `data_bits`, `parity`,
//! `stop_bits`; 115200 8N1 when absent), with the FIFOs on.
//!
//! One event loop ([`driver::run`]): wait on the notification, then by
//! badge bit
//! * IRQ: service the UART (received bytes into `serial-rx`, a free
//!   transmitter filled from `serial-tx`), then ack the IRQ;
//! * `serial-rx`: the client gave buffers back, resume receiving;
//! * `serial-tx`: the client sent bytes, start transmitting.
//!
//! Back-pressure instead of loss: when `serial-rx` has no buffer left, the
//! byte in hand is kept and the receive interrupt masked, so later bytes
//! wait in the UART's FIFO (and QEMU's stops taking input from its
//! backend) until the client makes room.
//!
//! Programs: `serial-16550` (the driver) and `serial-16550-loopback` (the
//! same with the UART looped back, for measurements). [`ports`] is also
//! what a program uses to drive the UART itself, without isolation.
#![no_std]

pub mod driver;
pub mod ports;
