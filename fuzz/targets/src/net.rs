//! `net-queues`: the network driver's end of a client's four queues
//! (`paddock_net::DriverQueues`), the client hostile. The input
//! interleaves the driver's calls (take an empty RX buffer, complete it,
//! take a TX frame, complete it, publish, sleep) with the client's
//! writes: buffers given back and frames sent, honest-looking or not, and
//! any header word or slot of any queue. Every buffer the driver hands
//! the device must lie in its part of the window, never twice at once.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering::Relaxed;

use paddock_net::{Control, DmaBuf, DriverQueues, NetLayout, MAX_FRAME, MIN_FRAME};
use paddock_ring::{Descriptor, Queue};
use zerocopy::IntoBytes;

use crate::input::Input;

const BUF_SIZE: u32 = 2048;
const GUARD_BYTES: usize = 128;
const GUARD: u8 = 0x3C;

#[derive(Clone, Copy, zerocopy::IntoBytes, zerocopy::FromBytes, zerocopy::Immutable)]
#[repr(C, align(128))]
struct Line([u8; 128]);

/// Input: the buffer counts (one byte), whether the driver restarted,
/// then operations: a byte with the top bit clear is a driver call, with
/// it set a client write, each followed by its arguments.
pub fn net_queues(data: &[u8]) {
    let mut input = Input::new(data);
    let (Some(shape), Some(restart)) = (input.byte(), input.byte()) else {
        return;
    };
    let layout = NetLayout::for_buffers(
        1 + u32::from(shape & 7) % 5,
        1 + u32::from(shape >> 3 & 7) % 5,
        BUF_SIZE,
    )
    .expect("a valid layout");
    let control_bytes = layout.control_bytes().next_multiple_of(128);
    let mut mem = vec![Line([0; 128]); (2 * GUARD_BYTES + control_bytes) / 128];
    let bytes = mem.as_mut_bytes();
    let (low, rest) = bytes.split_at_mut(GUARD_BYTES);
    let (control, high) = rest.split_at_mut(control_bytes);
    low.fill(GUARD);
    high.fill(GUARD);
    {
        let control = Control::from_bytes(control, layout).expect("an aligned region");
        let attached = if restart & 1 == 1 {
            DriverQueues::reattach(control)
        } else {
            DriverQueues::new(control)
        };
        let mut driver = attached.expect("zeroed queues attach");
        let mut rx: Vec<DmaBuf> = Vec::new();
        let mut tx: Vec<DmaBuf> = Vec::new();
        let mut with_device = BTreeSet::new();
        let rx_part = 0..layout.tx_data_offset() as u32;
        let tx_part = layout.tx_data_offset() as u32..layout.window_bytes() as u32;
        while let Some(op) = input.byte() {
            if op & 0x80 != 0 {
                client(op, &control, &mut input);
                continue;
            }
            match op % 9 {
                0 => {
                    if let Ok(Some(buf)) = driver.take_free_rx() {
                        check(&buf, &rx_part, &mut with_device);
                        rx.push(buf);
                    }
                }
                1 => {
                    if let Some(buf) = rx.pop() {
                        with_device.remove(&buf.window_offset());
                        let len = u32::from(input.u16()) % (BUF_SIZE + 64);
                        let _ = driver.complete_rx(buf, len);
                    }
                }
                2 => driver.count_rx_drop(),
                3 => {
                    if let Ok(Some(buf)) = driver.next_tx() {
                        check(&buf, &tx_part, &mut with_device);
                        assert!((MIN_FRAME..=MAX_FRAME).contains(&buf.len()), "{buf:?}");
                        tx.push(buf);
                    }
                }
                4 => {
                    if let Some(buf) = tx.pop() {
                        with_device.remove(&buf.window_offset());
                        let _ = driver.complete_tx(buf);
                    }
                }
                5 => {
                    if let Some(refusal) = driver.take_refusal() {
                        assert!(!(MIN_FRAME..=MAX_FRAME).contains(&refusal.len));
                    }
                }
                6 => {
                    let _ = (driver.stats(), driver.refused());
                }
                7 => {
                    let _ = driver.publish();
                }
                _ => {
                    let _ = driver.request_signal(input.byte().unwrap_or(0) & 1 == 1);
                }
            }
        }
        let _ = driver.info().state();
    }
    assert!(
        low.iter().chain(high.iter()).all(|&b| b == GUARD),
        "memory outside the control region changed"
    );
}

/// A buffer for the device: inside `part`, whole, and not already with
/// the device.
fn check(buf: &DmaBuf, part: &std::ops::Range<u32>, with_device: &mut BTreeSet<u32>) {
    let at = buf.window_offset();
    assert!(
        part.contains(&at) && at + buf.capacity() <= part.end,
        "{buf:?} outside {part:?}"
    );
    assert!(buf.len() <= buf.capacity(), "{buf:?}");
    assert!(with_device.insert(at), "{buf:?} handed to the device twice");
}

/// The client writes shared memory.
fn client(op: u8, control: &Control<'_>, input: &mut Input<'_>) {
    let queues = [
        control.rx_active,
        control.rx_free,
        control.tx_active,
        control.tx_free,
    ];
    let q: Queue<'_> = queues[usize::from(op & 3)];
    match (op >> 2) & 7 {
        // A buffer given back (RX free) or a frame sent (TX active), in the
        // next slot, published: what an honest client does.
        0 | 1 => {
            let q = if op >> 2 & 7 == 0 {
                control.rx_free
            } else {
                control.tx_active
            };
            let index = u32::from(input.byte().unwrap_or(0) % 8);
            let len = u32::from(input.u16()) % (BUF_SIZE + 64);
            let offset = index * BUF_SIZE;
            let tail = q.header().tail.load(Relaxed);
            q.slots()[(tail % q.capacity()) as usize].write(Descriptor { offset, len });
            q.header().tail.store(tail.wrapping_add(1), Relaxed);
        }
        2 => q.header().tail.store(input.u32(), Relaxed),
        3 => q.header().head.store(input.u32(), Relaxed),
        4 => q.header().signal_requested.store(input.u32(), Relaxed),
        5 => {
            let delta = u32::from(input.byte().unwrap_or(1));
            let head = q.header().head.load(Relaxed);
            q.header().head.store(head.wrapping_add(delta), Relaxed);
        }
        _ => {
            let index = input.u32() as usize % q.slots().len();
            let d = Descriptor {
                offset: input.u32(),
                len: input.u32(),
            };
            q.slots()[index].write(d);
        }
    }
}
