//! Seed inputs for every target, made from the repository: its images
//! and description fixtures, the specs they plan to, and well-formed
//! pages, blobs, programs and operation sequences written by the same
//! code that writes them for real. `tools/fuzz` hands them to libFuzzer,
//! which keeps the ones that add coverage.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use paddock_protocol::blob::{self, Kind};
use paddock_protocol::component::{self, Symbol, SymbolKind, INFO_SIZE, STATUS_SIZE};
use paddock_protocol::started::Started;
use zerocopy::IntoBytes;

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.toml` under `dir`, recursively, in name order.
fn tomls(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            tomls(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

/// The descriptions of the repository: images and test fixtures.
pub fn descriptions() -> Vec<(PathBuf, String)> {
    let mut paths = Vec::new();
    tomls(&root().join("images"), &mut paths);
    tomls(&root().join("tests/fixtures"), &mut paths);
    paths
        .into_iter()
        .filter_map(|p| Some((p.clone(), std::fs::read_to_string(&p).ok()?)))
        .collect()
}

/// The encoded spec of every image that plans.
pub fn specs() -> Vec<Vec<u8>> {
    let mut paths = Vec::new();
    tomls(&root().join("images"), &mut paths);
    paths
        .iter()
        .filter_map(|p| paddock_caps::load_planned(p).ok())
        .map(|(_, plan)| paddock_caps::encode::encode(&plan))
        .collect()
}

/// A minimal x86_64 executable with `segments` PT_LOAD segments of
/// `(flags, file bytes)`, each at its own page.
pub fn tiny_elf(segments: &[(u32, usize)]) -> Vec<u8> {
    let phoff = 64usize;
    let data_at = phoff + 56 * segments.len();
    let total: usize = data_at + segments.iter().map(|s| s.1).sum::<usize>();
    let mut b = vec![0u8; total];
    b[..4].copy_from_slice(b"\x7fELF");
    b[4] = 2; // ELFCLASS64
    b[5] = 1; // little-endian
    b[6] = 1; // EV_CURRENT
    b[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    b[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    b[24..32].copy_from_slice(&0x40_1000u64.to_le_bytes());
    b[32..40].copy_from_slice(&(phoff as u64).to_le_bytes());
    b[52..54].copy_from_slice(&64u16.to_le_bytes());
    b[54..56].copy_from_slice(&56u16.to_le_bytes());
    b[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
    let mut offset = data_at;
    for (i, &(flags, len)) in segments.iter().enumerate() {
        let ph = phoff + 56 * i;
        let vaddr = 0x40_1000u64 + 0x1000 * i as u64;
        b[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        b[ph + 4..ph + 8].copy_from_slice(&flags.to_le_bytes());
        b[ph + 8..ph + 16].copy_from_slice(&(offset as u64).to_le_bytes());
        b[ph + 16..ph + 24].copy_from_slice(&vaddr.to_le_bytes());
        b[ph + 24..ph + 32].copy_from_slice(&vaddr.to_le_bytes());
        b[ph + 32..ph + 40].copy_from_slice(&(len as u64).to_le_bytes());
        b[ph + 40..ph + 48].copy_from_slice(&(len as u64 + 0x100).to_le_bytes());
        b[ph + 48..ph + 56].copy_from_slice(&0x1000u64.to_le_bytes());
        for (j, byte) in b[offset..offset + len].iter_mut().enumerate() {
            *byte = 0x90 ^ j as u8;
        }
        offset += len;
    }
    b
}

fn elfs() -> Vec<Vec<u8>> {
    const R: u32 = 4;
    const W: u32 = 2;
    const X: u32 = 1;
    vec![
        tiny_elf(&[(R | X, 16)]),
        tiny_elf(&[(R | X, 32), (R, 8), (R | W, 24)]),
        tiny_elf(&[(R | W | X, 4)]),
    ]
}

fn blobs(specs: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let elfs = elfs();
    let mut out = Vec::new();
    for spec in specs.iter().take(2) {
        let mut b = Vec::new();
        blob::pack(
            &[
                (Kind::Spec, "spec", spec),
                (Kind::Program, "hello", &elfs[0]),
                (Kind::Program, "world", &elfs[1]),
            ],
            &mut b,
        )
        .expect("short names");
        out.push(b);
    }
    let mut b = Vec::new();
    blob::pack(&[(Kind::Program, "only", &elfs[0])], &mut b).expect("short names");
    out.push(b);
    out
}

fn info_pages_for_components() -> Vec<Vec<u8>> {
    let symbols = [
        Symbol {
            kind: SymbolKind::Slot,
            name: "notification",
            value: 2,
            size: 0,
        },
        Symbol {
            kind: SymbolKind::Vaddr,
            name: "ring.serial-rx.queues",
            value: 0x80_0001_8000,
            size: 4096,
        },
        Symbol {
            kind: SymbolKind::BadgeBit,
            name: "serial-rx",
            value: 1,
            size: 0,
        },
        Symbol {
            kind: SymbolKind::Param,
            name: "baud",
            value: 115_200,
            size: 0,
        },
    ];
    let mut page = vec![0u8; INFO_SIZE];
    component::write_info(&mut page, "console-client", 12, 1, symbols.into_iter())
        .expect("fits a page");
    // Trailing zeros add nothing: the target pads to a page.
    let used = 64 + 64 * symbols.len();
    let mut status = vec![0u8; STATUS_SIZE];
    for (i, name) in ["serial", "keyboard", "console-client"].iter().enumerate() {
        let p = component::status_page_of(i).expect("a small index");
        component::write_status_entry(
            &mut status[p * INFO_SIZE..(p + 1) * INFO_SIZE],
            i,
            name,
            i as u64,
        )
        .expect("a valid entry");
    }
    vec![page[..used].to_vec(), status[..200].to_vec()]
}

fn device_info_pages() -> Vec<Vec<u8>> {
    use crate::info_pages::{BLK_BYTES, CLOCK_BYTES, NET_BYTES};
    let mut net = [0u64; NET_BYTES / 8];
    let layout = paddock_net::NetLayout::DEFAULT;
    paddock_net::InfoPage::from_bytes(net.as_mut_bytes())
        .expect("an aligned page")
        .publish(&paddock_net::NetInfo {
            mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56],
            mtu: 1500,
            layout,
            generation: 1,
        });
    let mut blk = [0u32; BLK_BYTES / 4];
    paddock_blk::InfoPage::from_bytes(blk.as_mut_bytes())
        .expect("an aligned page")
        .publish(&paddock_blk::Geometry {
            capacity_blocks: 1 << 20,
            block_size: 512,
            queue_depth: 32,
            max_blocks_per_request: 256,
            read_only: false,
        });
    let clock = [0u64; CLOCK_BYTES / 8].map(AtomicU64::new);
    let page = crate::timer_page::ClockPage::new(&clock).expect("a page");
    page.publish(
        crate::clock::Params::calibrate(1_000, 5_000, 25_001_000, 10_005_000)
            .expect("a TSC's slope"),
    );
    let mut seed = Vec::new();
    seed.extend_from_slice(net.as_bytes());
    seed.extend_from_slice(blk.as_bytes());
    for w in &clock {
        seed.extend_from_slice(&w.load(std::sync::atomic::Ordering::Relaxed).to_le_bytes());
    }
    for n in [layout.rx_buffers, layout.tx_buffers, layout.buf_size] {
        seed.extend_from_slice(&n.to_le_bytes());
    }
    seed.extend_from_slice(&30_000_000u64.to_le_bytes());
    seed.extend_from_slice(&1_000_000u64.to_le_bytes());
    vec![seed]
}

/// A small dump of the shape the root task prints, and a started line.
fn logs() -> Vec<Vec<u8>> {
    let started = Started {
        components: 2,
        work_us: 8123,
        work_ticks: 8_123_456,
        audit_us: 30125,
        audit_ticks: 30_125_321,
        kernel_kib: 1240,
        slots_left: 15210,
        refused: 0,
    };
    let p = paddock_protocol::DUMP_PREFIX;
    let spec = "ab".repeat(32);
    let log = format!(
        "paddock: system `hello`: 2 components\n\
         {p} begin hello 2 spec={spec}\n\
         {p} cap ping 1 fault-endpoint type=fault-endpoint@observed rights=rwg@recorded badge=0x1@observed\n\
         {p} map ping 0x8000000000 ring.ping.queues pages=1@recorded paddr=0xc70000@observed digest=b3e7e75fcc68e14e@observed\n\
         {p} frames 3 ring.ping.data pages=1@recorded paddr=0xc71000@observed digest=0011223344556677@observed\n\
         {p} slots ping planned=4 unplanned=0@observed\n\
         {p} refused pong\n\
         {p} end caps=1 frames=2 mismatches=0\n\
         {started}\n\
         paddock: system ready\n"
    );
    vec![log.into_bytes()]
}

/// Operation sequences for `ring` (see its input format): each role
/// sending, receiving, publishing and sleeping, with a peer that behaves.
fn ring_programs() -> Vec<Vec<u8>> {
    let shape = 3 | (3 << 2); // 8 slots, 4 buffers of 64 bytes
    let mut out = Vec::new();
    for role in 0..7u8 {
        let mut p = vec![shape, role];
        // alloc, append 5 bytes, send, publish, request a signal
        p.extend_from_slice(&[0, 1, 5, b'h', b'e', b'l', b'l', b'o', 2, 3, 4]);
        // the peer moves the active tail by one and writes a slot
        p.extend_from_slice(&[
            0x80 | (3 << 1),
            1,
            0x80 | (5 << 1),
            0,
            0,
            0,
            0,
            1,
            5,
            0,
            0,
            0,
        ]);
        p.extend_from_slice(&[0, 1, 0, 2, 3, 5]);
        out.push(p);
    }
    out
}

/// Operation sequences for `virtio-used`: push, publish, complete, pop.
fn virtio_programs() -> Vec<Vec<u8>> {
    let segment = |iova: u64, len: u32| {
        let mut s = iova.to_le_bytes().to_vec();
        s.extend_from_slice(&len.to_le_bytes());
        s
    };
    let mut p = vec![3u8];
    // push one readable and one writable segment
    p.push(0);
    p.push(1 | (1 << 2));
    p.extend(segment(0x2000_0000, 16));
    p.extend(segment(0x2000_1000, 512));
    p.push(1); // publish
    p.extend_from_slice(&[0x80 | (3 << 1), 0, 0, 2, 0, 0]); // device completes it
    p.push(2); // pop
    let mut two = p.clone();
    two.extend_from_slice(&[0x80 | (1 << 1) | 1, 2, 4]);
    vec![p, two]
}

/// Operation sequences for `blk-queues`: a valid read, accepted,
/// completed and published; a write to a read-only device.
fn blk_programs() -> Vec<Vec<u8>> {
    let request = |op: u32, id: u32, block: u64, count: u32, offset: u64| {
        let r = match op {
            1 => paddock_blk::Request::read(id, block, count, offset),
            2 => paddock_blk::Request::write(id, block, count, offset),
            _ => paddock_blk::Request::flush(id),
        };
        r.as_bytes().to_vec()
    };
    // 512-byte blocks, depth 4, 8 blocks per request, read-write, 1024
    // blocks, a 64 KiB window.
    let header = [0u8, 3, 7, 0, 0, 4, 0, 4];
    let mut read = header.to_vec();
    read.push(0x80 | (1 << 1));
    read.extend(request(1, 0, 10, 2, 0));
    read.extend_from_slice(&[0, 1, 0, 2, 3]);
    let mut write = header.to_vec();
    write[3] = 1; // read-only
    write.push(0x80 | (1 << 1));
    write.extend(request(2, 1, 0, 1, 512));
    write.extend_from_slice(&[0, 2]);
    vec![read, write]
}

/// Operation sequences for `net-queues`: a frame received and given
/// back, a frame sent and returned.
fn net_programs() -> Vec<Vec<u8>> {
    // 4 RX and 4 TX buffers; the client gives RX buffer 0 back and sends
    // a 60-byte frame from TX buffer 4 (window offsets count from RX 0).
    let mut p = vec![3 | (3 << 3), 0];
    p.extend_from_slice(&[0, 1, 60, 0, 7]);
    p.extend_from_slice(&[0x80, 0, 0, 0]);
    p.extend_from_slice(&[0x80 | (1 << 2), 4, 60, 0, 3, 4, 7, 8, 1]);
    vec![p]
}

/// Seeds of target `name`.
pub fn seeds(name: &str) -> Vec<Vec<u8>> {
    match name {
        "description" => descriptions()
            .into_iter()
            .map(|(_, t)| t.into_bytes())
            .collect(),
        "spec" => specs(),
        "boot-blob" => blobs(&specs()),
        "component-info" => info_pages_for_components(),
        "info-pages" => device_info_pages(),
        "elf" => elfs(),
        "runtime-log" => logs(),
        "ring" => ring_programs(),
        "virtio-used" => virtio_programs(),
        "blk-queues" => blk_programs(),
        "net-queues" => net_programs(),
        _ => Vec::new(),
    }
}
