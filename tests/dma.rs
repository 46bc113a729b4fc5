//! DMA through QEMU's edu device behind VT-d, in QEMU: copies of several
//! sizes arrive intact, and a rogue driver's writes outside its windows are
//! blocked and reported. Verdicts come from the system's own output.

use paddock::qemu::{Outcome, Verdict};
use paddock_tests::boot_until;
use std::time::Duration;

fn run(image: &str, until: &[&str]) -> String {
    boot(image, until).log
}

fn boot(image: &str, until: &[&str]) -> Outcome {
    let outcome = boot_until(image, Duration::from_secs(120), until)
        .unwrap_or_else(|e| panic!("building {image}: {e:#}"));
    assert!(
        matches!(outcome.verdict, Verdict::Success(_)),
        "{image} ended with {:?}; console:\n{}",
        outcome.verdict,
        outcome.log
    );
    outcome
}

#[test]
fn dma_copies_of_several_sizes_arrive_intact() {
    let log = run("dma", &["DMA copies intact"]);
    // The root task found the device and programmed its IOSpace.
    assert!(log.contains("paddock: PCI `edu`: 1234:11e8 at "), "{log}");
    assert!(log.contains("IO page-table levels 3"), "{log}");
    for (len, offset) in [
        (1, "0x0"),
        (1000, "0x123"),
        (64, "0x1000"),
        (4095, "0x2000"),
    ] {
        let line = format!("[edu-client] DMA copy of {len} bytes at {offset}: intact");
        assert!(log.contains(&line), "missing `{line}` in:\n{log}");
    }
    assert!(
        log.contains(
            "[edu-client] 4 of 4 DMA copies intact, 0 refused, 0 malformed completions ignored; source buffer unchanged"
        ),
        "{log}"
    );
    assert!(
        !log.contains("IOMMU: DMA"),
        "an honest driver caused a DMA fault:\n{log}"
    );
}

#[test]
fn dma_outside_the_declared_windows_is_blocked_by_vt_d() {
    let witnessed = "paddock: witness `edu-client`: ok 0 no 4 bad 8 src ok";
    let outcome = boot(
        "dma-containment",
        &["DMA copies intact", "attacks done", witnessed],
    );
    let (log, record) = (&outcome.log, &outcome.record);
    for target in ["0x110000", "0x0"] {
        assert!(
            log.contains(&format!("bus address {target} (")),
            "the rogue did not attempt {target}:\n{log}"
        );
        // The kernel's VT-d fault report names the device and the address.
        let fault = format!(
            "IOMMU: DMA write page fault from bus/dev/fun 0x18 on address 0x0:{}",
            &target[2..]
        );
        assert!(log.contains(&fault), "no VT-d fault for {target}:\n{log}");
    }
    // The client's memory: its data is as it wrote it, and no copy landed.
    // It ignored the rogue's 8 malformed completions (one naming no
    // request, one repeating a request, for each of the 4) and carried on.
    assert!(
        log.contains(
            "[edu-client] 0 of 4 DMA copies intact, 4 refused, 8 malformed completions ignored; source buffer unchanged"
        ),
        "{log}"
    );
    assert!(!log.contains("CHANGED"), "{log}");
    assert!(!log.contains("CORRUPT"), "{log}");
    // The same, from the client itself through the root task's record,
    // which the rogue cannot write; and the client never faulted.
    assert!(record.contains(witnessed), "{record}");
    assert!(
        !record.contains("paddock: fault: component `edu-client`"),
        "{record}"
    );
}

/// Runs a binutils program on `file` (Debian's binutils, which the
/// provisioning installs).
fn binutils(program: &str, args: &[&str], file: &std::path::Path) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} {}", file.display());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The physical address of kernel symbol `name` (its link address less
/// the kernel window's base, for the symbols above it).
fn kernel_symbol(symbols: &str, name: &str) -> u64 {
    let address = symbols
        .lines()
        .find(|l| l.split_whitespace().last() == Some(name))
        .and_then(|l| u64::from_str_radix(l.split_whitespace().next()?, 16).ok())
        .unwrap_or_else(|| panic!("no symbol `{name}` in the kernel"));
    address & 0x7fff_ffff
}

#[test]
fn dma_aimed_at_the_kernel_its_page_tables_and_the_root_task_is_blocked_by_vt_d() {
    // The targets come from the kernel this image boots, before it boots:
    // the page of its current-thread pointer (`ksCurThread`), its global
    // PML4 (the top page table of every address space's kernel half), and
    // the root task's image, which the kernel moves to the first page past
    // its own end (program headers). Its load address, 1 MiB, would not
    // do: that bus address is inside the client's data window here.
    let ws = paddock_tests::workspace();
    let description = ws.join("images/dma-containment.toml");
    let image = paddock_tests::build_description(&description, Default::default())
        .unwrap_or_else(|e| panic!("{e:#}"));
    let symbols = binutils("objdump", &["-t"], &image.kernel);
    let headers = binutils("readelf", &["-lW"], &image.kernel);
    let (mut start, mut end) = (u64::MAX, 0);
    for l in headers
        .lines()
        .filter(|l| l.trim_start().starts_with("LOAD"))
    {
        let f: Vec<&str> = l.split_whitespace().collect();
        let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
        let (paddr, memsz) = (hex(f[3]), hex(f[5]));
        start = start.min(paddr);
        end = end.max(paddr + memsz);
    }
    let root_task = end.div_ceil(0x1000) * 0x1000;
    let global_pml4 = kernel_symbol(&symbols, "x64KSGlobalPML4");
    let kernel_data = kernel_symbol(&symbols, "ksCurThread") & !0xfff;
    let text = std::fs::read_to_string(&description).unwrap().replacen(
        "restart = \"always\"\n",
        &format!(
            "restart = \"always\"\n\n[component.params]\ndma_kernel = {kernel_data:#x}\ndma_page_table = {global_pml4:#x}\ndma_root_task = {root_task:#x}\n"
        ),
        1,
    );
    let text = text.replace(
        "name = \"dma-containment\"",
        "name = \"dma-kernel-targets\"",
    );
    let dir = ws.join("target/dma-targets");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dma-kernel-targets.toml");
    std::fs::write(&path, text).unwrap();
    let outcome = paddock_tests::boot_succeeding(
        &path,
        Default::default(),
        paddock::qemu::BatchOptions {
            timeout: Duration::from_secs(120),
            echo: false,
            until: vec![
                "attacks done".into(),
                "paddock: witness `edu-client`: ok 0 no 4 bad 8 src ok".into(),
            ],
            ..Default::default()
        },
    );
    let (log, record) = (&outcome.log, &outcome.record);
    // The kernel itself says where it and the root task are.
    assert!(
        log.contains(&format!("Kernel loaded to: start={start:#x} end=")),
        "{log}"
    );
    assert!(
        log.contains(&format!("to={root_task:#x} ")),
        "the root task's image is not at {root_task:#x}:\n{log}"
    );
    for (what, target) in [
        ("dma_kernel", kernel_data),
        ("dma_page_table", global_pml4),
        ("dma_root_task", root_task),
    ] {
        assert!(
            log.contains(&format!(
                "bus address {target:#x} ({what}), outside its windows"
            )),
            "the rogue did not aim at {what}:\n{log}"
        );
        let fault =
            format!("IOMMU: DMA write page fault from bus/dev/fun 0x18 on address 0x0:{target:x}");
        assert!(
            log.contains(&fault),
            "no VT-d fault for {what} at {target:#x}:\n{log}"
        );
    }
    // The system ran on: the root task saw no fault of anyone's, and the
    // client reported as always.
    assert!(!record.contains("paddock: fault:"), "{record}");
    assert!(
        record.contains("paddock: witness `edu-client`: ok 0 no 4 bad 8 src ok"),
        "{record}"
    );
}
