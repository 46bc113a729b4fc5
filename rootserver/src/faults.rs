//! Serving the components' faults: report, then apply the restart policy.
//! Configuration-space requests arrive on the same endpoint under their
//! own badges and are told apart first (`crate::config_space`); a shared
//! line holder's reports of late sharers come under the holder's own badge
//! with a label no fault has (`crate::line_report`).
//!
//! Every component's fault endpoint cap is badged with its own badge, so
//! the badge of a fault message names the component. The root task never
//! replies to a fault: a component is either stopped for good or restarted
//! from its image (fresh program, stack, heap and IPC buffer, a new info
//! page with the next generation; same caps; rings and shared regions
//! kept, since peers own half of them).

use crate::pci;
use crate::scratch::Scratch;
use crate::system::{self, System};
use crate::views::Views;
use core::fmt;
use paddock_spec::RestartKind;
use sel4::ipc;
use sel4::sys::constants as k;
use sel4::Word;

/// A fault, decoded from the kernel's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A page fault: `addr` is the faulting address, `fsr` the x86 error
    /// code (bit 0 protection, bit 1 write, bit 4 instruction fetch).
    Vm {
        ip: Word,
        addr: Word,
        fsr: Word,
    },
    /// A CPU exception (`number` is the vector: 6 invalid opcode, 13
    /// general protection...).
    UserException {
        ip: Word,
        number: Word,
        code: Word,
    },
    /// A syscall number the kernel does not know.
    UnknownSyscall {
        ip: Word,
        number: Word,
    },
    /// A cap lookup failed where the kernel needed one (no reply cap...).
    Cap {
        ip: Word,
        addr: Word,
    },
    Other {
        label: Word,
    },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Fault::Vm { ip, addr, fsr } => write!(
                f,
                "VMFault: {} {} at address {addr:#x}, ip {ip:#x}",
                if fsr & 0x10 != 0 {
                    "instruction fetch"
                } else if fsr & 2 != 0 {
                    "write"
                } else {
                    "read"
                },
                if fsr & 1 != 0 {
                    "(protection violation)"
                } else {
                    "(not mapped)"
                },
            ),
            Fault::UserException { ip, number, code } => write!(
                f,
                "UserException: CPU exception {number} (code {code:#x}), ip {ip:#x}"
            ),
            Fault::UnknownSyscall { ip, number } => {
                write!(f, "UnknownSyscall: syscall {number}, ip {ip:#x}")
            }
            Fault::Cap { ip, addr } => write!(f, "CapFault: cap {addr:#x}, ip {ip:#x}"),
            Fault::Other { label } => write!(f, "fault with label {label}"),
        }
    }
}

/// Message register `i` of the message just received.
fn mr(reply: &sel4::syscall::Reply, i: usize) -> Word {
    if i < ipc::REGISTER_MRS {
        reply.mrs[i]
    } else {
        ipc::get_mr(i)
    }
}

pub fn decode(reply: &sel4::syscall::Reply) -> Fault {
    let label = reply.info.label();
    let at = |i| mr(reply, i);
    match label {
        k::Fault_VMFault => Fault::Vm {
            ip: at(k::VMFault_IP),
            addr: at(k::VMFault_Addr),
            fsr: at(k::VMFault_FSR),
        },
        k::Fault_UserException => Fault::UserException {
            ip: at(k::UserException_FaultIP),
            number: at(k::UserException_Number),
            code: at(k::UserException_Code),
        },
        k::Fault_UnknownSyscall => Fault::UnknownSyscall {
            ip: at(k::UnknownSyscall_FaultIP),
            number: at(k::UnknownSyscall_Syscall),
        },
        k::Fault_CapFault => Fault::Cap {
            ip: at(k::CapFault_IP),
            addr: at(k::CapFault_Addr),
        },
        label => Fault::Other { label },
    }
}

/// What the policy decided.
enum Decision {
    Restart,
    Stop(&'static str),
}

/// Receives faults and configuration-space requests forever; `pci` is
/// each PCI record's device as found at boot.
pub fn serve(
    system: &mut System,
    scratch: &mut Scratch,
    pci: &[Option<pci::Found>],
    views: &Views,
    tsc_mhz: u64,
) -> ! {
    loop {
        let reply = sel4::syscall::recv(system.fault_endpoint);
        // A configuration badge is never a component's (bit 27): checked
        // before anything else.
        if let Some((device, write)) = paddock_spec::pci_config::decode(reply.badge) {
            crate::config_space::serve(system, pci, &reply, device, write);
            continue;
        }
        let Some(ci) = system
            .spec
            .components
            .iter()
            .position(|c| c.badge.get() == reply.badge)
        else {
            println!(
                "paddock: fault message with unknown badge {:#x} ignored",
                reply.badge
            );
            continue;
        };
        // A line holder's report comes on its fault endpoint cap too.
        if reply.info.label() == paddock_protocol::line_report::LATE {
            crate::line_report::serve(system, &reply, ci);
            continue;
        }
        if reply.info.label() == paddock_protocol::record::WITNESS {
            crate::witness::serve(system, &reply, ci);
            continue;
        }
        let fault = decode(&reply);
        let c = &system.spec.components[ci];
        let name = system.spec.str(c.name);
        let generation = system.running[ci].generation;
        let overflow = match fault {
            Fault::Vm { addr, .. } => stack_overflow(system, ci, addr),
            _ => None,
        };
        match overflow {
            Some((guard, sp)) => println!(
                "paddock: fault: component `{name}` (generation {generation}): {fault} (in the guard page at {guard:#x} below its stack, stack pointer {sp:#x}: a stack overflow)"
            ),
            None => println!("paddock: fault: component `{name}` (generation {generation}): {fault}"),
        }
        // What the faulting component holds now, in the kernel's view: a
        // component that somehow gained a cap would show it here, whatever
        // it printed.
        if let Some(n) = crate::dump::unplanned(system, views.opened(ci), ci) {
            println!(
                "paddock: `{name}` holds {} planned caps and {n} others (the kernel's view of its CSpace)",
                system.spec.caps_of(c).len()
            );
        }
        let crash_loop = count_fault(&mut system.running[ci], tsc_mhz);
        let decision = match RestartKind::from_u8(c.restart) {
            _ if crash_loop => Decision::Stop(CRASH_LOOP),
            Some(RestartKind::Always) => Decision::Restart,
            Some(RestartKind::Limit) if generation < u64::from(c.restart_limit.get()) => {
                Decision::Restart
            }
            Some(RestartKind::Limit) => Decision::Stop("its restart limit is reached"),
            _ => Decision::Stop("its restart policy is `never`"),
        };
        match decision {
            Decision::Restart => match restart(system, scratch, ci) {
                Ok(()) => println!(
                    "paddock: restarted `{name}` (generation {})",
                    system.running[ci].generation
                ),
                Err(e) => {
                    stop(system, ci);
                    println!("paddock: restarting `{name}` failed ({e}); stopped it");
                }
            },
            Decision::Stop(why) => {
                stop(system, ci);
                println!("paddock: stopped `{name}`: {why}");
            }
        }
    }
}

/// A component that faults more than this many times within
/// [`CRASH_LOOP_WINDOW_MS`] is stopped whatever its restart policy: each
/// restart is root-task work at the highest priority (reloading the
/// program, zeroing the stack and heap), so a loop of them would starve
/// every other component.
const CRASH_LOOP_FAULTS: u32 = 100;
const CRASH_LOOP_WINDOW_MS: u64 = 1000;
/// Why such a component was stopped (the two numbers above).
const CRASH_LOOP: &str = "a crash loop: more than 100 faults within 1000 ms";

/// Counts a fault of a component; whether it is over the crash-loop budget.
/// The window is measured with the TSC (guest instructions under
/// `-icount`, which keeps it repeatable).
fn count_fault(running: &mut system::Running, tsc_mhz: u64) -> bool {
    let now = crate::boot::tsc();
    let window = CRASH_LOOP_WINDOW_MS
        .saturating_mul(1000)
        .saturating_mul(tsc_mhz.max(1));
    if running.recent_faults == 0 || now.wrapping_sub(running.window_start) > window {
        running.window_start = now;
        running.recent_faults = 0;
    }
    running.recent_faults = running.recent_faults.saturating_add(1);
    running.recent_faults > CRASH_LOOP_FAULTS
}

/// The unmapped page the plan leaves below a stack (a 4 KiB page).
const GUARD_BYTES: u64 = 4096;

/// Whether component `ci`'s fault at `addr` is its stack overflowing into
/// the guard page the plan leaves below it: then the guard page's address
/// and the thread's stack pointer.
///
/// seL4 5.0.0 reports only the low 32 bits of a fault address on x86_64
/// (`handleVMFault` keeps it in a `uint32_t`), so the address alone
/// cannot tell the guard page (at 512 GiB and up) from low memory; the
/// stack pointer, read from the faulting thread, can.
fn stack_overflow(system: &System, ci: usize, addr: Word) -> Option<(u64, u64)> {
    let spec = system.spec;
    let c = &spec.components[ci];
    let stack = spec.mappings_of(c).iter().find(|m| {
        paddock_spec::MapPurpose::from_u8(m.purpose) == Some(paddock_spec::MapPurpose::Stack)
    })?;
    let base = stack.vaddr.get();
    let guard = base.checked_sub(GUARD_BYTES)?;
    let (_, sp) = sel4::tcb::read_ip_and_sp(tcb(system, ci)).ok()?;
    // The stack pointer has left the stack downwards, to the guard page or
    // just below it (a push there faults), and the reported low 32 bits
    // are those of an address in the guard page.
    let sp_below = sp < base && sp >= guard.saturating_sub(GUARD_BYTES);
    let offset = (addr.wrapping_sub(guard)) & 0xffff_ffff;
    (sp_below && offset < GUARD_BYTES).then_some((guard, sp))
}

fn tcb(system: &System, ci: usize) -> sel4::CPtr {
    system.objects[system.spec.components[ci].tcb.get() as usize].first
}

fn stop(system: &mut System, ci: usize) {
    let _ = sel4::tcb::suspend(tcb(system, ci));
    system.running[ci].stopped = true;
}

/// Restarts component `ci` from its image, with its caps and shared
/// memory as they are.
fn restart<'s>(
    system: &mut System<'s>,
    scratch: &mut Scratch,
    ci: usize,
) -> Result<(), system::BuildError<'s>> {
    let spec = system.spec;
    let c = &spec.components[ci];
    let component = spec.str(c.name);
    let invocation = |what| {
        move |error| system::BuildError::Invocation {
            what,
            component,
            error,
        }
    };
    sel4::tcb::suspend(tcb(system, ci)).map_err(invocation("suspending"))?;

    // The program, from its ELF again (the component may have written its
    // data and bss).
    let bytes =
        system
            .blob
            .program(spec.str(c.program))
            .ok_or(system::BuildError::MissingProgram {
                component,
                program: spec.str(c.program),
            })?;
    let elf = crate::elf::Elf::parse(bytes)
        .map_err(|error| system::BuildError::BadProgram { component, error })?;
    for &(page, frame) in &system.running[ci].program_frames {
        let seg = elf
            .segments()
            .find(|s| s.vaddr < page + 4096 && page < s.vaddr + s.mem_size);
        scratch
            .with_frame(frame, |bytes| match &seg {
                Some(seg) => system::fill_program_page(bytes, page, seg),
                None => bytes.fill(0),
            })
            .map_err(invocation("reloading the program"))?;
    }
    // Private memory starts zeroed, as on the first start.
    for m in spec.mappings_of(c) {
        if !system::wiped_on_restart(m.purpose) {
            continue;
        }
        let caps = system.objects[m.object.get() as usize];
        for page in 0..caps.count {
            scratch
                .with_frame(caps.first + u64::from(page), |bytes| bytes.fill(0))
                .map_err(invocation("wiping private memory"))?;
        }
    }
    let generation = system.running[ci].generation + 1;
    system::write_info_page(
        scratch,
        &spec,
        ci,
        system.running[ci].info_frame,
        generation,
    )?;
    system.running[ci].generation = generation;
    system::set_generation(scratch, system, ci, generation)
        .map_err(|error| system::BuildError::Info { component, error })?;
    system::write_start_registers(system, ci).map_err(invocation("resetting registers"))?;
    sel4::tcb::resume(tcb(system, ci)).map_err(invocation("resuming"))
}
