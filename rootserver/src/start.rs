//! Entry, stack and panic glue of a freestanding seL4 root task.

use crate::console;
use paddock_protocol::FAILURE_SENTINEL;
use sel4::bootinfo::BootInfo;

const STACK_SIZE: usize = 1024 * 1024;

#[repr(C, align(16))]
struct Stack([u8; STACK_SIZE]);

/// The root task's stack, in .bss. Only `_start` names it, by symbol.
static mut STACK: Stack = Stack([0; STACK_SIZE]);

// The kernel enters with RDI = bootinfo and RSP = 0. Point RSP at the top of
// STACK (16-byte aligned, as the SysV ABI wants before a call), clear RBP so
// backtraces end here, and pass RDI through untouched.
core::arch::global_asm!(
    ".section .text.start, \"ax\"",
    ".global _start",
    "_start:",
    "lea rsp, [rip + {stack} + {size}]",
    "xor ebp, ebp",
    "call {entry}",
    "ud2",
    stack = sym STACK,
    size = const STACK_SIZE,
    entry = sym rust_entry,
);

extern "C" fn rust_entry(bootinfo: *const u8) -> ! {
    // SAFETY: the kernel passes the address of the bootinfo page, which stays
    // mapped for the root task's lifetime.
    let bootinfo = unsafe { BootInfo::new(bootinfo) };
    crate::boot::main(bootinfo)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    match info.location() {
        Some(at) => println!(
            "rootserver panicked at {}:{}:{}: {}",
            at.file(),
            at.line(),
            at.column(),
            info.message()
        ),
        None => println!("rootserver panicked: {}", info.message()),
    }
    console::print_str(FAILURE_SENTINEL);
    console::print_str("\n");
    crate::boot::park()
}

/// The prebuilt libcore refers to this symbol even with `panic = "abort"`.
#[no_mangle]
extern "C" fn rust_eh_personality() {}
