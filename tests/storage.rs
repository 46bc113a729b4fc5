//! Storage through the isolated virtio-blk driver (images/storage.toml):
//! files written on the host are listed and checksummed identically in
//! the guest by embedded-sdmmc over the block protocol, and the file the
//! guest writes reads back on the host, with mtools, byte for byte; a
//! rogue block client is refused and dropped while an honest one is
//! served; a missing device is refused by name; the device's DMA outside
//! its windows is stopped by VT-d, as the kernel reports.

use paddock::image::BuildOptions;
use paddock::qemu::{BatchOptions, Outcome};
use paddock_protocol::started::Started;
use paddock_tests::{boot_succeeding, random, workspace};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

const DONE: &str = "[files] done";

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The guest's `file NAME SIZE bytes sha256 HEX` lines: (name, size, hex).
fn listed(log: &str) -> Vec<(String, u64, String)> {
    let mut files: Vec<_> = log
        .lines()
        .filter_map(|l| l.strip_prefix("[files] file "))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next()?.to_string();
            let size = words.next()?.parse().ok()?;
            let hash = words.nth(2)?.to_string();
            Some((name, size, hash))
        })
        .collect();
    files.sort();
    files
}

/// What the guest writes to WRITTEN.TXT (drivers/components/fat-client).
fn written_by_the_guest() -> Vec<u8> {
    (1..=200)
        .flat_map(|i| format!("paddock wrote line {i} of 200 through virtio-blk\n").into_bytes())
        .collect()
}

/// `name` in the packed disk of image `image`, read by mtools.
fn mtype(image: &str, name: &str) -> Vec<u8> {
    let disk = workspace()
        .join("target/images")
        .join(image)
        .join("files.img");
    paddock_tests::mtype(&disk, name)
}

fn boot(description: &Path, disk_from: Option<PathBuf>, until: &[&str]) -> Outcome {
    boot_succeeding(
        description,
        BuildOptions {
            disk_from,
            ..BuildOptions::default()
        },
        BatchOptions {
            timeout: Duration::from_secs(120),
            echo: false,
            until: until.iter().map(|u| u.to_string()).collect(),
            ..BatchOptions::default()
        },
    )
}

/// Checks the guest's listing of `files` and its write.
fn check_files_and_write(log: &str, image: &str, files: &[(String, Vec<u8>)]) {
    let mut expected: Vec<_> = files
        .iter()
        .map(|(n, b)| (n.clone(), b.len() as u64, hex(b)))
        .collect();
    expected.sort();
    assert_eq!(listed(log), expected, "{log}");
    let written = written_by_the_guest();
    let line = format!(
        "[files] wrote WRITTEN.TXT {} bytes sha256 {}",
        written.len(),
        hex(&written)
    );
    assert!(log.contains(&line), "missing `{line}`:\n{log}");
    assert_eq!(
        mtype(image, "WRITTEN.TXT"),
        written,
        "WRITTEN.TXT on the disk"
    );
}

#[test]
fn files_written_on_the_host_are_read_in_the_guest_and_back() {
    let ws = workspace();
    let folder = ws.join("target/test-storage/files");
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let sizes = [
        ("EMPTY.BIN", 0),
        ("ONE.BIN", 1),
        ("B511.BIN", 511),
        ("B512.BIN", 512),
        ("B4K.BIN", 4096),
        ("B1M.BIN", 1 << 20),
    ];
    let files: Vec<(String, Vec<u8>)> = sizes
        .iter()
        .enumerate()
        .map(|(k, (name, n))| (name.to_string(), random(k as u32 + 7, *n)))
        .collect();
    for (name, bytes) in &files {
        std::fs::write(folder.join(name), bytes).unwrap();
    }
    let outcome = boot(&ws.join("images/storage.toml"), Some(folder), &[DONE]);
    let log = &outcome.log;
    // The device was found by id, wherever QEMU put it, and its queue
    // interrupt is the MSI-X entry the plan gave it.
    assert!(
        log.contains("paddock: PCI `blk`: 1af4:1042 at 00:"),
        "{log}"
    );
    // Two MSI-X entries of one device, each its own IRQ handler: the root
    // task programmed both; completions arrive on entry 1 (every file was
    // read through them), configuration changes are bound to entry 0.
    for entry in [0, 1] {
        let programmed = "paddock: MSI-X `blk` at 00:";
        assert!(
            log.lines()
                .any(|l| l.starts_with(programmed)
                    && l.contains(&format!(": entry {entry} -> vector "))),
            "MSI-X entry {entry} not programmed:\n{log}"
        );
    }
    assert!(log.contains("completions on MSI-X entry 1"), "{log}");
    assert!(
        log.contains("[blk] configuration changes on MSI-X entry 0"),
        "{log}"
    );
    check_files_and_write(log, "storage", &files);
    assert!(
        !log.contains("IOMMU: DMA"),
        "an honest driver caused a DMA fault:\n{log}"
    );
}

/// The files of images/storage-files, as the host has them.
fn default_files() -> Vec<(String, Vec<u8>)> {
    let dir = workspace().join("images/storage-files");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_rogue_block_client_is_refused_and_dropped_while_the_honest_one_is_served() {
    let ws = workspace();
    let outcome = boot(
        &ws.join("tests/fixtures/system/storage-rogue.toml"),
        None,
        &[DONE, "paddock: witness `blk`: dropped rogue: broke"],
    );
    let (log, record) = (&outcome.log, &outcome.record);
    // The driver's reports in the root task's record, which the rogue
    // cannot write: 8 refused, then the rogue dropped.
    assert!(
        record.contains("paddock: witness `blk`: refused 8 of rogue"),
        "{record}"
    );
    assert!(
        record.contains("paddock: witness `blk`: dropped rogue: broke"),
        "{record}"
    );
    assert!(!record.contains("of files"), "{record}");
    // The driver, not the rogue, gives the verdict: eight malformed
    // requests refused (each kind once, and an id submitted twice), then
    // the rogue dropped for its impossible queue tail...
    assert!(
        log.contains("[blk] refused 8 malformed requests of `rogue` (8 so far); serving on"),
        "{log}"
    );
    assert!(
        log.contains(
            "[blk] dropped client `rogue`: it broke the block protocol (peer tail 1009 outside"
        ),
        "{log}"
    );
    // ...and the honest client's files and write are intact, as the host
    // reads them.
    check_files_and_write(log, "storage-rogue", &default_files());
    // Nothing of the honest client's was refused.
    assert!(!log.contains("requests of `files`"), "{log}");
}

#[test]
fn a_missing_virtio_device_is_refused_by_name() {
    let ws = workspace();
    let outcome = boot(
        &ws.join("tests/fixtures/system/storage-missing.toml"),
        None,
        &["paddock: system ready"],
    );
    let log = &outcome.log;
    assert!(
        log.contains(
            "PCI device `blk` of component `blk` (1af4:1042) is not present: refusing to start its driver"
        ),
        "{log}"
    );
    match Started::find(log) {
        Some(Ok(started)) => assert_eq!(started.refused, 1, "{log}"),
        other => panic!("no readable started line ({other:?}):\n{log}"),
    }
}

#[test]
fn the_devices_dma_outside_its_windows_is_stopped_by_vt_d() {
    let ws = workspace();
    let outcome = boot(
        &ws.join("tests/fixtures/system/storage-stray.toml"),
        None,
        &["[blk] sector 0 in its own window ends"],
    );
    let log = &outcome.log;
    // Where QEMU put the device, as the root task found it by id.
    let at = log
        .lines()
        .find_map(|l| l.strip_prefix("paddock: PCI `blk`: 1af4:1042 at "))
        .and_then(|l| l.split(',').next())
        .unwrap_or_else(|| panic!("the device was not found:\n{log}"));
    let (bus, rest) = at.split_once(':').unwrap();
    let (dev, func) = rest.split_once('.').unwrap();
    let bdf = u32::from_str_radix(bus, 16).unwrap() << 8
        | u32::from_str_radix(dev, 16).unwrap() << 3
        | u32::from_str_radix(func, 16).unwrap();
    // The kernel's VT-d fault report names the device and the stray IOVA
    // (the stray driver's own claim, "completed", is the device's word,
    // not the memory's).
    let fault =
        format!("IOMMU: DMA write page fault from bus/dev/fun {bdf:#x} on address 0x0:4000000");
    assert!(log.contains(&fault), "no VT-d fault `{fault}`:\n{log}");
    // The same device reading into its own window: no fault, and the data
    // (the disk's master boot record) arrives.
    assert!(!log.contains("on address 0x0:102000"), "{log}");
    assert!(
        log.contains("[blk] sector 0 in its own window ends 55 aa (a master boot record)"),
        "{log}"
    );
}
