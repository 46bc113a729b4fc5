//! Register offsets and fields of the IA-PC HPET (specification 1.0a,
//! section 2.3), and decoded views of the capability registers.
//!
//! All registers are 64 bits wide and naturally aligned; the driver reads
//! and writes them whole.

/// General Capabilities and ID register (read-only).
pub const GENERAL_CAPS: usize = 0x000;
/// General Configuration register.
pub const GENERAL_CONFIG: usize = 0x010;
/// General Interrupt Status register (write 1 to clear, level mode only).
pub const GENERAL_INT_STATUS: usize = 0x020;
/// Main Counter Value register.
pub const MAIN_COUNTER: usize = 0x0F0;
/// Size of the register block (one 4 KiB page covers it).
pub const BLOCK_SIZE: usize = 0x400;

/// The most comparators a block can have (NUM_TIM_CAP is 5 bits).
pub const MAX_TIMERS: usize = 32;
/// The longest period the specification allows: 100 ns, in femtoseconds.
pub const MAX_PERIOD_FS: u32 = 100_000_000;
/// Femtoseconds in a nanosecond.
pub const FS_PER_NS: u64 = 1_000_000;

/// Timer N Configuration and Capability register.
pub const fn timer_config(n: u8) -> usize {
    0x100 + 0x20 * n as usize
}

/// Timer N Comparator Value register.
pub const fn timer_comparator(n: u8) -> usize {
    0x108 + 0x20 * n as usize
}

/// Timer N FSB Interrupt Route register.
pub const fn timer_fsb_route(n: u8) -> usize {
    0x110 + 0x20 * n as usize
}

/// Fields of the General Capabilities and ID register.
pub mod caps {
    /// REV_ID, bits 7:0; must not be zero.
    pub const REV_ID_MASK: u64 = 0xFF;
    /// NUM_TIM_CAP, bits 12:8: the number of the last timer.
    pub const NUM_TIM_SHIFT: u32 = 8;
    /// Width mask of NUM_TIM_CAP.
    pub const NUM_TIM_MASK: u64 = 0x1F;
    /// COUNT_SIZE_CAP, bit 13: the main counter is 64 bits wide.
    pub const COUNT_SIZE: u64 = 1 << 13;
    /// LEG_RT_CAP, bit 15: legacy replacement routing is supported.
    pub const LEG_RT: u64 = 1 << 15;
    /// VENDOR_ID, bits 31:16.
    pub const VENDOR_SHIFT: u32 = 16;
    /// COUNTER_CLK_PERIOD, bits 63:32, in femtoseconds.
    pub const PERIOD_SHIFT: u32 = 32;
}

/// Fields of the General Configuration register.
pub mod config {
    /// ENABLE_CNF: the main counter runs and timers may interrupt.
    pub const ENABLE: u64 = 1 << 0;
    /// LEG_RT_CNF: timer 0 to IRQ0/IOAPIC 2, timer 1 to IRQ8, whatever
    /// their INT_ROUTE_CNF says.
    pub const LEG_RT: u64 = 1 << 1;
}

/// Fields of a Timer N Configuration and Capability register.
pub mod timer {
    /// Tn_INT_TYPE_CNF: 1 level-triggered, 0 edge-triggered.
    pub const INT_TYPE_LEVEL: u64 = 1 << 1;
    /// Tn_INT_ENB_CNF: the timer may raise its interrupt.
    pub const INT_ENB: u64 = 1 << 2;
    /// Tn_TYPE_CNF: periodic mode (the driver uses one-shot, 0).
    pub const TYPE_PERIODIC: u64 = 1 << 3;
    /// Tn_PER_INT_CAP: periodic mode is supported.
    pub const PER_INT_CAP: u64 = 1 << 4;
    /// Tn_SIZE_CAP: the comparator is 64 bits wide.
    pub const SIZE_CAP: u64 = 1 << 5;
    /// Tn_VAL_SET_CNF: periodic accumulator write.
    pub const VAL_SET: u64 = 1 << 6;
    /// Tn_32MODE_CNF: force a 64-bit timer into 32-bit mode.
    pub const MODE32: u64 = 1 << 8;
    /// Tn_INT_ROUTE_CNF, bits 13:9: the IOAPIC input.
    pub const INT_ROUTE_SHIFT: u32 = 9;
    /// Width mask of Tn_INT_ROUTE_CNF.
    pub const INT_ROUTE_MASK: u64 = 0x1F;
    /// Tn_FSB_EN_CNF: deliver by FSB (MSI-like) message instead.
    pub const FSB_EN: u64 = 1 << 14;
    /// Tn_FSB_INT_DEL_CAP: FSB delivery is supported.
    pub const FSB_INT_DEL_CAP: u64 = 1 << 15;
    /// Tn_INT_ROUTE_CAP, bits 63:32: bit i set if IOAPIC input i is allowed.
    pub const INT_ROUTE_CAP_SHIFT: u32 = 32;
}

/// The General Capabilities and ID register, decoded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct GeneralCaps {
    /// COUNTER_CLK_PERIOD: femtoseconds per main counter tick.
    pub period_fs: u32,
    /// PCI-style vendor identification.
    pub vendor_id: u16,
    /// Legacy replacement routing is supported.
    pub legacy_route: bool,
    /// The main counter is 64 bits wide (else 32).
    pub counter_64: bool,
    /// Number of comparators (NUM_TIM_CAP + 1).
    pub timers: u8,
    /// Implementation revision.
    pub rev_id: u8,
}

impl GeneralCaps {
    /// Decode a raw register value. No check: see
    /// [`Timer::new`](crate::Timer::new) for what is refused.
    pub const fn decode(raw: u64) -> Self {
        Self {
            period_fs: (raw >> caps::PERIOD_SHIFT) as u32,
            vendor_id: (raw >> caps::VENDOR_SHIFT) as u16,
            legacy_route: raw & caps::LEG_RT != 0,
            counter_64: raw & caps::COUNT_SIZE != 0,
            timers: ((raw >> caps::NUM_TIM_SHIFT) & caps::NUM_TIM_MASK) as u8 + 1,
            rev_id: (raw & caps::REV_ID_MASK) as u8,
        }
    }

    /// Encode (for models of the device).
    pub const fn encode(&self) -> u64 {
        ((self.period_fs as u64) << caps::PERIOD_SHIFT)
            | ((self.vendor_id as u64) << caps::VENDOR_SHIFT)
            | if self.legacy_route { caps::LEG_RT } else { 0 }
            | if self.counter_64 { caps::COUNT_SIZE } else { 0 }
            | ((self.timers.saturating_sub(1) as u64 & caps::NUM_TIM_MASK) << caps::NUM_TIM_SHIFT)
            | self.rev_id as u64
    }
}

/// The read-only capability half of a Timer N Configuration and
/// Capability register, decoded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TimerCaps {
    /// INT_ROUTE_CAP: bit i set if IOAPIC input i may be routed to.
    pub route_cap: u32,
    /// FSB (message) delivery is supported.
    pub fsb: bool,
    /// The comparator is 64 bits wide (else 32).
    pub comparator_64: bool,
    /// Periodic mode is supported.
    pub periodic: bool,
}

impl TimerCaps {
    /// Decode from a raw Timer N Configuration and Capability value.
    pub const fn decode(raw: u64) -> Self {
        Self {
            route_cap: (raw >> timer::INT_ROUTE_CAP_SHIFT) as u32,
            fsb: raw & timer::FSB_INT_DEL_CAP != 0,
            comparator_64: raw & timer::SIZE_CAP != 0,
            periodic: raw & timer::PER_INT_CAP != 0,
        }
    }

    /// Encode the capability bits (for models of the device).
    pub const fn encode(&self) -> u64 {
        ((self.route_cap as u64) << timer::INT_ROUTE_CAP_SHIFT)
            | if self.fsb { timer::FSB_INT_DEL_CAP } else { 0 }
            | if self.comparator_64 {
                timer::SIZE_CAP
            } else {
                0
            }
            | if self.periodic { timer::PER_INT_CAP } else { 0 }
    }

    /// Whether IOAPIC input `pin` may be routed to.
    pub const fn allows_pin(&self, pin: u8) -> bool {
        pin < 32 && self.route_cap & (1 << pin) != 0
    }
}
