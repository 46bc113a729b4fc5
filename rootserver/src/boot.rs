//! The boot sequence of the root task.

use crate::console;
use crate::scratch::Scratch;
use crate::slots::Slots;
use crate::system::Builder;
use crate::untyped::Allocator;
use crate::views::Views;
use crate::{acpi, dump, faults, inject, intx, observe, pci};
use paddock_protocol::started::Started;
use paddock_protocol::{BOOTINFO_PREFIX, SUCCESS_SENTINEL};
use sel4::bootinfo::{init_cap, BootInfo};

/// Entered from `start` on the root task's own stack.
pub fn main(bootinfo: BootInfo) -> ! {
    let started = tsc();
    // SAFETY: the kernel maps the root task's IPC buffer at the address the
    // bootinfo gives, for the task's lifetime; only this thread uses it.
    unsafe { sel4::ipc::set_ipc_buffer(bootinfo.ipc_buffer()) };
    // Start on a line of our own: firmware may have left the cursor mid-line.
    println!();
    inject::announce();
    print_summary(&bootinfo);
    let blob = match paddock_protocol::blob::Blob::parse(boot_blob()) {
        Ok(blob) => blob,
        Err(e) => fail(format_args!("{e}")),
    };
    println!("paddock: boot blob: {} files", blob.files().count());
    let Some(spec_bytes) = blob.spec() else {
        fail(format_args!("the boot blob holds no spec"))
    };
    let spec = match paddock_spec::Spec::decode(spec_bytes) {
        Ok(spec) => spec,
        Err(e) => fail(format_args!("refusing the spec: {e}")),
    };
    println!(
        "paddock: system `{}`: {} components, {} objects, {} caps, {} mappings",
        spec.system_name(),
        spec.components.len(),
        spec.objects.len(),
        spec.caps.len(),
        spec.mappings.len()
    );
    let mut slots = Slots::new(bootinfo.empty());
    let mut alloc = Allocator::new(&bootinfo);
    let mut scratch = match Scratch::new(&mut alloc, &mut slots) {
        Ok(s) => s,
        Err(e) => fail(format_args!("setting up the scratch window: {e}")),
    };
    let searched = match pci::find_all(&spec) {
        Ok(searched) => searched,
        Err(e) => fail(format_args!("{e}")),
    };
    let mut found = heapless::Vec::<Option<pci::Found>, { pci::MAX_DEVICES }>::new();
    for (record, result) in spec.pci.iter().zip(&searched) {
        match result {
            Ok(device) => println!(
                "paddock: PCI `{}`: {:04x}:{:04x} at {}{}",
                spec.str(record.name),
                device.vendor,
                device.device,
                device.bdf,
                MemoryBars(&device.bars)
            ),
            Err(e) => println!("paddock: {e}"),
        }
        // Cannot overflow: both vectors are bounded by MAX_DEVICES.
        let _ = found.push(result.as_ref().ok().copied());
    }
    check_intx_routing(
        &spec,
        &found,
        &bootinfo,
        &mut alloc,
        &mut slots,
        &mut scratch,
    );
    let mut builder = Builder {
        alloc: &mut alloc,
        slots: &mut slots,
        scratch: &mut scratch,
        pci: &found,
    };
    let mut system = match builder.build(spec, blob) {
        Ok(system) => system,
        Err(e) => fail(format_args!("{e}")),
    };
    // The runtime audit (spec digest, views and dump) is timed apart: printing its
    // lines takes most of a boot, and building the system does not need
    // them (paddock_protocol::started).
    let audit_started = tsc();
    // The dump names the exact bytes decoded (the blob is read-only), so
    // a log is never compared with the plan of another spec. Hashing them
    // is the audit's work: about 50 instructions a byte, 14 million for
    // the largest system.
    let spec_digest = observe::spec_digest(spec_bytes);
    // The views need no debug syscall: release kernels observe through
    // them too (only the cap type check is debug-only).
    let views = match Views::install(
        &mut alloc,
        &mut slots,
        bootinfo.init_thread_cnode_size_bits(),
    ) {
        Ok(v) => v,
        Err(e) => fail(format_args!("{e}")),
    };
    let spare = match slots.take(1) {
        Ok(slot) => slot,
        Err(_) => fail(format_args!("no root CNode slot left for the runtime dump")),
    };
    crate::console::set_recording(false);
    let dumped = dump::print(&system, &views, spare, &spec_digest);
    crate::console::set_recording(true);
    let mismatches = match dumped {
        Ok(mismatches) => mismatches,
        Err(e) => fail(format_args!(
            "runtime dump: viewing the CSpace of `{}`: {}",
            spec.str(spec.components[e.component].name),
            e.error
        )),
    };
    if mismatches != 0 {
        fail(format_args!(
            "{mismatches} CSpace slots differ from the plan in the kernel's view"
        ));
    }
    let audit_ticks = tsc().wrapping_sub(audit_started);
    let (mut started_count, mut refused) = (0, 0);
    for (c, running) in spec.components.iter().zip(system.running.iter()) {
        if running.refused {
            refused += 1;
            continue;
        }
        let tcb = system.objects[c.tcb.get() as usize].first;
        if let Err(e) = sel4::tcb::resume(tcb) {
            fail(format_args!("starting `{}`: {e}", spec.str(c.name)));
        }
        started_count += 1;
    }
    let work_ticks = tsc().wrapping_sub(started).wrapping_sub(audit_ticks);
    let mhz = bootinfo.tsc_mhz().max(1);
    println!(
        "{}",
        Started {
            components: started_count,
            work_us: work_ticks / mhz,
            work_ticks,
            audit_us: audit_ticks / mhz,
            audit_ticks,
            kernel_kib: alloc.allocated >> 10,
            slots_left: slots.left(),
            refused,
        }
    );
    println!("{SUCCESS_SENTINEL}");
    faults::serve(&mut system, &mut scratch, &found, &views, mhz)
}

/// Every PCI device found that signals through INTx must reach the line
/// its description declares by the machine's own routing (ACPI), or the
/// boot stops naming the device and both lines (`intx.rs`). ACPI is read
/// only when there is such a device, and before any BAR is mapped: its
/// tables are read through device frames, handed out in address order.
fn check_intx_routing(
    spec: &paddock_spec::Spec,
    found: &[Option<pci::Found>],
    bootinfo: &BootInfo,
    alloc: &mut Allocator,
    slots: &mut Slots,
    scratch: &mut Scratch,
) {
    fn intx<'r>(
        (record, device): (&'r paddock_spec::PciRecord, &Option<pci::Found>),
    ) -> Option<(&'r paddock_spec::PciRecord, pci::Bdf)> {
        let device = device.as_ref()?;
        (record.flags & paddock_spec::PCI_INTX != 0).then_some((record, device.bdf))
    }
    if !spec.pci.iter().zip(found).any(|d| intx(d).is_some()) {
        return;
    }
    let mut routing = acpi::read(bootinfo, alloc, slots, scratch);
    for (record, bdf) in spec.pci.iter().zip(found).filter_map(intx) {
        match intx::check(spec, record, bdf, routing.as_mut().map_err(|e| &*e)) {
            Ok(routed) => println!("paddock: {routed}"),
            Err(e) => fail(format_args!("{e}")),
        }
    }
    // The interpreter and the tables go; the heap is not used again.
    drop(routing);
    let (peak, size) = acpi::heap_use();
    println!(
        "paddock: ACPI: routing read with at most {} KiB of the root task's {} KiB ACPI heap",
        peak.div_ceil(1024),
        size / 1024
    );
}

/// The facts a user checks first: what memory and slots the kernel handed
/// over, and whether an IOMMU is on.
fn print_summary(bi: &BootInfo) {
    let (mut ram, mut device, mut ram_count) = (0u64, 0u64, 0usize);
    for ut in bi.untypeds() {
        if ut.is_device {
            device += ut.size();
        } else {
            ram += ut.size();
            ram_count += 1;
        }
    }
    let empty = bi.empty();
    println!(
        "{BOOTINFO_PREFIX} kernel config {}, console {}",
        sel4::sys::config::NAME,
        console::backend_name()
    );
    println!(
        "{BOOTINFO_PREFIX} {} untypeds ({} RAM, {} device)",
        bi.untyped_count(),
        ram_count,
        bi.untyped_count() - ram_count
    );
    println!(
        "{BOOTINFO_PREFIX} RAM {} bytes ({} MiB), device memory {} bytes ({} GiB)",
        ram,
        ram >> 20,
        device,
        device >> 30
    );
    println!(
        "{BOOTINFO_PREFIX} empty slots [{}, {}) of {}",
        empty.start,
        empty.end,
        1u64 << bi.init_thread_cnode_size_bits()
    );
    match bi.num_io_pt_levels() {
        Some(levels) => println!("{BOOTINFO_PREFIX} IO page-table levels {levels} (VT-d on)"),
        None => println!("{BOOTINFO_PREFIX} IO page-table levels 0 (no IOMMU)"),
    }
    println!("{BOOTINFO_PREFIX} TSC {} MHz", bi.tsc_mhz());
}

/// Reports why the root task cannot go on, prints the failure sentinel and
/// stops.
pub fn fail(reason: core::fmt::Arguments) -> ! {
    println!("rootserver: {reason}");
    println!("{}", paddock_protocol::FAILURE_SENTINEL);
    park()
}

/// Stops this thread for good; the kernel idles or runs the components.
pub fn park() -> ! {
    loop {
        let _ = sel4::tcb::suspend(init_cap::InitThreadTCB);
    }
}

/// The boot blob `paddock build` links in (see `paddock_protocol::blob`).
fn boot_blob() -> &'static [u8] {
    extern "C" {
        static _binary_blob_bin_start: u8;
        static _binary_blob_bin_end: u8;
    }
    // SAFETY: the linker defines both symbols around the blob's bytes in
    // the read-only image, which is never written and lives forever.
    unsafe {
        let start = core::ptr::addr_of!(_binary_blob_bin_start);
        let end = core::ptr::addr_of!(_binary_blob_bin_end);
        core::slice::from_raw_parts(start, end as usize - start as usize)
    }
}

/// The time-stamp counter: wall time under TCG, guest instructions under
/// `-icount` (the basis of repeatable in-guest measurements).
pub(crate) fn tsc() -> u64 {
    // SAFETY: rdtsc reads a counter; it has no memory effects and is
    // available on every x86_64 CPU the kernel supports.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// A device's memory BARs as `, BAR<i> <address> (<size> bytes)` each.
struct MemoryBars<'a>(&'a [(u64, u64); 6]);

impl core::fmt::Display for MemoryBars<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut any = false;
        for (i, &(address, size)) in self.0.iter().enumerate() {
            if size != 0 {
                any = true;
                write!(f, ", BAR{i} {address:#x} ({size:#x} bytes)")?;
            }
        }
        if !any {
            f.write_str(", no memory BAR")?;
        }
        Ok(())
    }
}
