//! Entry and panic glue of a component program.

use crate::Component;

// The root task enters with RSP = top of the planned stack (16-byte
// aligned), RDI = info page, RSI = IPC buffer. Keep the alignment the SysV
// ABI expects at a call, clear RBP to end backtraces, pass RDI/RSI on.
#[cfg(not(test))]
core::arch::global_asm!(
    ".section .text.start, \"ax\"",
    ".global _start",
    "_start:",
    "xor ebp, ebp",
    "call {entry}",
    "ud2",
    entry = sym runtime_entry,
);

extern "Rust" {
    /// Defined by [`entry!`](crate::entry) in the component program.
    fn __paddock_component_main(component: Component) -> !;
}

#[cfg(not(test))]
extern "C" fn runtime_entry(info: *const u8, ipc_buffer: *mut u64) -> ! {
    // SAFETY: the root task maps this thread's IPC buffer at the address it
    // passes in RSI, for the component's lifetime.
    unsafe { sel4::ipc::set_ipc_buffer(ipc_buffer) };
    // SAFETY: the root task maps the info page read-only at the address it
    // passes in RDI and never changes it while the component runs.
    let component = match unsafe { Component::from_page(info) } {
        Ok(c) => c,
        Err(e) => panic!("unreadable info page: {e}"),
    };
    static mut NAME: &str = "";
    // SAFETY: written once, before anything reads it, by the only thread.
    let name: &'static &'static str = unsafe {
        NAME = component.name();
        &*core::ptr::addr_of!(NAME)
    };
    crate::log::set_name(name);
    crate::log::set_log_cap(&component);
    crate::witness::set_root_task(&component);
    // SAFETY: the symbol is defined by `entry!` with this exact signature.
    unsafe { __paddock_component_main(component) }
}

/// Names the component's main function: `fn main(c: Component) -> !`.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[no_mangle]
        fn __paddock_component_main(component: $crate::Component) -> ! {
            let main: fn($crate::Component) -> ! = $main;
            main(component)
        }
    };
}

#[cfg(not(test))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    match info.location() {
        Some(at) => crate::log!(
            "panicked at {}:{}:{}: {}",
            at.file(),
            at.line(),
            at.column(),
            info.message()
        ),
        None => crate::log!("panicked: {}", info.message()),
    }
    // An invalid instruction: the kernel reports a user exception to the
    // root task, which applies this component's restart policy.
    loop {
        // SAFETY: ud2 only raises #UD; it touches no memory or registers.
        unsafe { core::arch::asm!("ud2", options(nomem, nostack)) }
    }
}

/// The prebuilt libcore refers to this symbol even with `panic = "abort"`.
#[cfg(not(test))]
#[no_mangle]
extern "C" fn rust_eh_personality() {}
