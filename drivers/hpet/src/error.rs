//! Everything the driver can report instead of panicking.

/// A driver error.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    /// COUNTER_CLK_PERIOD is zero or above 100 ns (100,000,000 fs): not an
    /// HPET, an absent one (all ones), or a broken one.
    BadPeriod {
        /// The period read, in femtoseconds.
        period_fs: u32,
    },
    /// The comparator asked for is not implemented.
    NoSuchTimer {
        /// Comparator asked for.
        timer: u8,
        /// Comparators implemented.
        timers: u8,
    },
    /// INT_ROUTE_CAP does not allow the IOAPIC input asked for.
    RouteNotAllowed {
        /// IOAPIC input asked for.
        pin: u8,
        /// INT_ROUTE_CAP as read.
        allowed: u32,
    },
    /// The configuration written did not read back (route or trigger).
    ConfigNotAccepted {
        /// Written.
        wrote: u64,
        /// Read back.
        read: u64,
    },
    /// A time that does not fit in 64 bits of ticks or nanoseconds.
    TimeOutOfRange,
    /// The counter ran past every comparator value programmed while
    /// programming it: the device is not counting as its period says.
    CounterUnstable,
    /// A client number at or beyond the queue's capacity.
    NoSuchClient {
        /// Client asked for.
        client: usize,
        /// Clients the queue holds.
        capacity: usize,
    },
    /// A deadline that can never be reached (`u64::MAX` ns means "never",
    /// and is refused rather than silently never firing).
    InvalidDeadline {
        /// The deadline, in nanoseconds.
        ns: u64,
    },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::BadPeriod { period_fs } => {
                write!(f, "HPET period {period_fs} fs is outside 1..=100000000 fs")
            }
            Self::NoSuchTimer { timer, timers } => {
                write!(
                    f,
                    "HPET timer {timer} does not exist ({timers} implemented)"
                )
            }
            Self::RouteNotAllowed { pin, allowed } => write!(
                f,
                "HPET timer cannot route to IOAPIC input {pin} (allowed {allowed:#010x})"
            ),
            Self::ConfigNotAccepted { wrote, read } => write!(
                f,
                "HPET timer configuration {wrote:#x} read back as {read:#x}"
            ),
            Self::TimeOutOfRange => write!(f, "time does not fit in 64 bits"),
            Self::CounterUnstable => write!(f, "HPET counter outran every comparator value"),
            Self::NoSuchClient { client, capacity } => {
                write!(f, "timer client {client} out of range ({capacity} clients)")
            }
            Self::InvalidDeadline { ns } => write!(f, "deadline {ns} ns can never be reached"),
        }
    }
}
