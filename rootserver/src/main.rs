//! paddock's root task.
//!
//! The kernel starts it with the bootinfo address in RDI and no stack; it
//! reports what the kernel handed over, then builds the planned system.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

#[macro_use]
mod console;
mod start;

use paddock_protocol::{BOOTINFO_PREFIX, SUCCESS_SENTINEL};
use sel4::bootinfo::{init_cap, BootInfo};

/// Entered from `start` on the root task's own stack.
fn main(bootinfo: BootInfo) -> ! {
    // SAFETY: the kernel maps the root task's IPC buffer at the address the
    // bootinfo gives, for the task's lifetime; only this thread uses it.
    unsafe { sel4::ipc::set_ipc_buffer(bootinfo.ipc_buffer()) };
    print_summary(&bootinfo);
    println!("{SUCCESS_SENTINEL}");
    park()
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
        "{BOOTINFO_PREFIX} RAM {} bytes ({} MiB), device memory {} bytes",
        ram,
        ram >> 20,
        device
    );
    println!(
        "{BOOTINFO_PREFIX} empty slots [{}, {}) of {}",
        empty.start,
        empty.end,
        1u64 << bi.init_thread_cnode_size_bits()
    );
    println!(
        "{BOOTINFO_PREFIX} IO page-table levels {}",
        bi.num_io_pt_levels()
    );
    println!("{BOOTINFO_PREFIX} TSC {} MHz", bi.tsc_mhz());
}

/// Stops this thread for good; the kernel idles or runs the components.
fn park() -> ! {
    loop {
        let _ = sel4::tcb::suspend(init_cap::InitThreadTCB);
    }
}
