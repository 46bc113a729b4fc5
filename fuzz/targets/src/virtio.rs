//! `virtio-used`: a driver's split virtqueue against a hostile device.
//! The input interleaves the driver's calls (push a chain, publish, pop a
//! completion) with the device's writes to the shared rings: used entries
//! with any id and length, any used index, and overwrites of what the
//! driver wrote. The queue must answer with values or errors; what it
//! hands back as completed must be a chain the driver made available and
//! has not had back yet, with no more bytes than the chain could take.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::{Relaxed, Release};

use paddock_virtio::queue::layout::{
    avail_ring_bytes, used_ring_bytes, AvailRing, Descriptor, UsedRing,
};
use paddock_virtio::{Iova, QueueIovas, QueueMemory, Segment, Used, Virtqueue};
use zerocopy::IntoBytes;

use crate::input::Input;

/// The largest queue the target makes.
const N: usize = 8;

#[derive(Clone, Copy, zerocopy::IntoBytes, zerocopy::FromBytes, zerocopy::Immutable)]
#[repr(C, align(16))]
struct Block([u8; 16]);

fn blocks(bytes: usize) -> Vec<Block> {
    vec![Block([0; 16]); bytes.div_ceil(16)]
}

/// What the driver has done with a chain, as the target tracks it.
#[derive(Clone, Copy, Debug)]
struct Chain {
    descriptors: u16,
    writable: u32,
    published: bool,
}

/// Input: a size byte, then operations: a byte with the top bit clear is
/// a driver call, with it set a device write, each followed by its
/// arguments.
pub fn virtio_used(data: &[u8]) {
    let mut input = Input::new(data);
    let Some(size) = input.byte() else {
        return;
    };
    let size = 1u16 << (size % 4);
    let mut descriptors = blocks(16 * N);
    let mut avail = blocks(avail_ring_bytes(size));
    let mut used = blocks(used_ring_bytes(size));
    let descriptors =
        Descriptor::table_from_bytes(descriptors.as_mut_bytes(), size).expect("an aligned table");
    let avail = AvailRing::from_bytes(avail.as_mut_bytes(), size).expect("an aligned ring");
    let used = UsedRing::from_bytes(used.as_mut_bytes(), size).expect("an aligned ring");
    let iovas = QueueIovas {
        descriptors: Iova(0x1000_0000),
        available: Iova(0x1001_0000),
        used: Iova(0x1002_0000),
    };
    let memory = QueueMemory::new(descriptors, avail, used, iovas).expect("agreeing parts");
    let mut q = Virtqueue::<N>::new(memory, size).expect("a valid size");
    let mut chains: BTreeMap<u16, Chain> = BTreeMap::new();

    while let Some(op) = input.byte() {
        if op & 0x80 != 0 {
            device(op, descriptors, avail, used, &chains, &mut input);
            continue;
        }
        match op % 5 {
            0 => push(&mut q, &mut chains, &mut input),
            1 => {
                let _ = q.publish();
                for chain in chains.values_mut() {
                    chain.published = true;
                }
            }
            2 => {
                if let Ok(Some(Used { head, len })) = q.pop_used() {
                    let chain = chains.remove(&head);
                    let Some(chain) = chain.filter(|c| c.published) else {
                        panic!("completion of {head}, not a chain in flight");
                    };
                    assert!(len <= chain.writable, "{len} bytes into {chain:?}");
                }
            }
            3 => q.suppress_interrupts(input.byte().unwrap_or(0) & 1 == 1),
            _ => {
                if let Some(head) = q.next_head() {
                    assert!(head < size && !chains.contains_key(&head));
                }
            }
        }
        // The driver's own counts follow from what it did, whatever the
        // device wrote.
        let held: u16 = chains.values().map(|c| c.descriptors).sum();
        assert_eq!(q.free_descriptors(), size - held);
        let published = chains.values().filter(|c| c.published).count();
        assert_eq!(usize::from(q.in_flight()), published);
    }
}

fn push(q: &mut Virtqueue<'_, N>, chains: &mut BTreeMap<u16, Chain>, input: &mut Input<'_>) {
    let shape = input.byte().unwrap_or(0);
    let segment = |input: &mut Input<'_>| Segment {
        iova: Iova(input.u64()),
        len: input.u32(),
    };
    let readable: Vec<Segment> = (0..shape & 3).map(|_| segment(input)).collect();
    let writable: Vec<Segment> = (0..(shape >> 2) & 3).map(|_| segment(input)).collect();
    if let Ok(head) = q.push(&[&readable], &[&writable]) {
        let bytes: u64 = writable.iter().map(|s| u64::from(s.len)).sum();
        let previous = chains.insert(
            head,
            Chain {
                descriptors: (readable.len() + writable.len()) as u16,
                writable: bytes as u32,
                published: false,
            },
        );
        assert!(previous.is_none(), "head {head} handed out twice");
    }
}

/// The device writes shared memory.
fn device(
    op: u8,
    descriptors: &[Descriptor],
    avail: &AvailRing,
    used: &UsedRing,
    chains: &BTreeMap<u16, Chain>,
    input: &mut Input<'_>,
) {
    let entry = |i: u16| &used.ring[usize::from(i) % used.ring.len()];
    match (op >> 1) & 7 {
        0 => used.idx.store(input.u16(), Release),
        1 => {
            let idx = used.idx.load(Relaxed);
            used.idx.store(idx.wrapping_add(u16::from(op & 1)), Release);
        }
        2 => {
            let e = entry(input.u16());
            e.id.store(input.u32(), Relaxed);
            e.len.store(input.u32(), Relaxed);
        }
        // An honest-looking completion of a chain the device knows of (or
        // of a stale one), as a device races the driver.
        3 => {
            let pick = usize::from(input.byte().unwrap_or(0));
            let id = chains
                .keys()
                .nth(pick % chains.len().max(1))
                .copied()
                .unwrap_or(0);
            let idx = used.idx.load(Relaxed);
            let e = entry(idx);
            e.id.store(u32::from(id), Relaxed);
            e.len.store(input.u32() % 4096, Relaxed);
            used.idx.store(idx.wrapping_add(1), Release);
        }
        4 => used.flags.store(input.u16(), Relaxed),
        5 => {
            let d = &descriptors[usize::from(input.byte().unwrap_or(0)) % descriptors.len()];
            d.addr.store(input.u64(), Relaxed);
            d.len.store(input.u32(), Relaxed);
            d.flags.store(input.u16(), Relaxed);
            d.next.store(input.u16(), Relaxed);
        }
        6 => {
            avail.idx.store(input.u16(), Relaxed);
            avail.flags.store(input.u16(), Relaxed);
        }
        _ => {
            let i = usize::from(input.byte().unwrap_or(0)) % avail.ring.len();
            avail.ring[i].store(input.u16(), Relaxed);
        }
    }
}
