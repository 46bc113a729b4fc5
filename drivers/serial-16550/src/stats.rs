//! What the driver tells its caller after servicing the UART.

/// Running totals since [`Uart::init`](crate::Uart::init).
///
/// Counters wrap rather than saturate: a component reporting them cares
/// about differences between two reads.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Stats {
    /// Bytes handed to the receive consumer.
    pub rx_bytes: u64,
    /// Bytes written to the transmitter.
    pub tx_bytes: u64,
    /// Times the UART reported a byte lost to a full receive FIFO.
    pub overruns: u32,
    /// Received bytes with a parity error (still delivered).
    pub parity_errors: u32,
    /// Received bytes without a valid stop bit (still delivered).
    pub framing_errors: u32,
    /// Break conditions (their placeholder NUL bytes are not delivered).
    pub breaks: u32,
    /// Modem status changes.
    pub modem_changes: u32,
    /// Times receiving paused because the consumer had no room.
    pub rx_pauses: u32,
}

/// What one call did.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Events {
    /// Bytes handed to the receive consumer.
    pub received: usize,
    /// Bytes written to the transmitter.
    pub sent: usize,
    /// Interrupt causes serviced (IIR reads that reported one).
    pub interrupts: usize,
    /// Whether receiving is paused on return: the consumer had no room and
    /// bytes wait in the UART until [`Uart::resume_rx`](crate::Uart::resume_rx).
    pub rx_paused: bool,
    /// Whether a receive error (overrun, parity, framing, break) was seen;
    /// the details are in [`Stats`].
    pub line_errors: bool,
}
