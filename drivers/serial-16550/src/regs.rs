//! The 16550 register file: offsets from the UART's base port, and typed
//! views of the registers whose bits the driver interprets.
//!
//! Offsets are relative so that the driver never names an absolute port:
//! the component maps offset `n` to its IOPort capability for `base + n`.

/// Register offsets from the base port.
///
/// Access is noted as R (read-only), W (write-only) or RW. Three offsets
/// carry different registers depending on LCR's divisor-latch access bit
/// (DLAB) or on the direction of the access.
pub mod offset {
    /// Receiver buffer (R, DLAB=0): the oldest received byte.
    pub const RBR: u8 = 0;
    /// Transmitter holding register (W, DLAB=0): the next byte to send.
    pub const THR: u8 = 0;
    /// Divisor latch, low byte (RW, DLAB=1).
    pub const DLL: u8 = 0;
    /// Interrupt enable (RW, DLAB=0).
    pub const IER: u8 = 1;
    /// Divisor latch, high byte (RW, DLAB=1).
    pub const DLM: u8 = 1;
    /// Interrupt identification (R, any DLAB).
    pub const IIR: u8 = 2;
    /// FIFO control (W, any DLAB).
    pub const FCR: u8 = 2;
    /// Line control (RW, any DLAB); bit 7 is DLAB itself.
    pub const LCR: u8 = 3;
    /// Modem control (RW, any DLAB).
    pub const MCR: u8 = 4;
    /// Line status (R, any DLAB). Reading it clears the error bits.
    pub const LSR: u8 = 5;
    /// Modem status (R, any DLAB). Reading it clears the delta bits.
    pub const MSR: u8 = 6;
    /// Scratch (RW, any DLAB): no effect on the UART; used to probe for it.
    pub const SCR: u8 = 7;
    /// Number of ports the UART decodes (`base ..= base + 7`).
    pub const SPAN: u8 = 8;
}

/// The UART's input clock divided by 16: the baud rate at divisor 1.
pub const BASE_BAUD: u32 = 115_200;

/// Depth of the transmit and receive FIFOs of a 16550A.
pub const FIFO_DEPTH: u8 = 16;

/// Declares a newtype over a register byte with named single-bit flags.
macro_rules! flags {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $flag:ident = $bit:expr;)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
        pub struct $name(pub u8);

        impl $name {
            $($(#[$fmeta])* pub const $flag: Self = Self(1 << $bit);)*

            /// No bit set.
            pub const EMPTY: Self = Self(0);

            /// The raw register value.
            pub const fn bits(self) -> u8 {
                self.0
            }

            /// Whether every bit of `other` is set in `self`.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether any bit of `other` is set in `self`.
            pub const fn intersects(self, other: Self) -> bool {
                self.0 & other.0 != 0
            }

            /// `self` with the bits of `other` set.
            pub const fn with(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }

            /// `self` with the bits of `other` cleared.
            pub const fn without(self, other: Self) -> Self {
                Self(self.0 & !other.0)
            }
        }

        impl core::ops::BitOr for $name {
            type Output = Self;
            fn bitor(self, rhs: Self) -> Self {
                self.with(rhs)
            }
        }
    };
}

flags! {
    /// Interrupt enable register (IER).
    Ier {
        /// Received data available (and, with FIFOs, the character timeout).
        RX_DATA = 0;
        /// Transmitter holding register empty.
        THR_EMPTY = 1;
        /// Receiver line status: overrun, parity, framing error, break.
        LINE_STATUS = 2;
        /// Modem status change.
        MODEM_STATUS = 3;
    }
}

flags! {
    /// Line status register (LSR).
    Lsr {
        /// At least one byte waits in RBR / the receive FIFO.
        DATA_READY = 0;
        /// A byte arrived while the receive FIFO was full and was lost.
        OVERRUN = 1;
        /// The byte at the head of the receive FIFO has a parity error.
        PARITY = 2;
        /// The byte at the head of the receive FIFO had no valid stop bit.
        FRAMING = 3;
        /// The line was held low for a whole character: a break.
        BREAK = 4;
        /// THR (with FIFOs: the whole transmit FIFO) is empty.
        THR_EMPTY = 5;
        /// THR and the shift register are both empty: the line is idle.
        TX_IDLE = 6;
        /// Some byte in the receive FIFO has an error.
        FIFO_ERROR = 7;
    }
}

impl Lsr {
    /// The bits that report a receive error; reading LSR clears them.
    pub const ERRORS: Self =
        Self(Self::OVERRUN.0 | Self::PARITY.0 | Self::FRAMING.0 | Self::BREAK.0);
}

flags! {
    /// Modem control register (MCR).
    Mcr {
        /// Data terminal ready.
        DTR = 0;
        /// Request to send.
        RTS = 1;
        /// Auxiliary output 1.
        OUT1 = 2;
        /// Auxiliary output 2: on PCs it gates the UART's interrupt line
        /// onto the ISA bus, so without it no IRQ ever arrives.
        OUT2 = 3;
        /// Local loopback: the transmitter feeds the receiver and the modem
        /// outputs feed the modem inputs.
        LOOP = 4;
    }
}

flags! {
    /// Modem status register (MSR): the upper nibble is the line state.
    Msr {
        /// Clear to send changed.
        DELTA_CTS = 0;
        /// Data set ready changed.
        DELTA_DSR = 1;
        /// Ring indicator went inactive.
        TRAILING_RI = 2;
        /// Data carrier detect changed.
        DELTA_DCD = 3;
        /// Clear to send (RTS in loopback).
        CTS = 4;
        /// Data set ready (DTR in loopback).
        DSR = 5;
        /// Ring indicator (OUT1 in loopback).
        RI = 6;
        /// Data carrier detect (OUT2 in loopback).
        DCD = 7;
    }
}

/// Line control register (LCR): frame format and the DLAB switch.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Lcr(pub u8);

impl Lcr {
    /// Two stop bits (1.5 with 5-bit words) instead of one.
    pub const TWO_STOP_BITS: u8 = 1 << 2;
    /// A parity bit is sent and checked.
    pub const PARITY_ENABLE: u8 = 1 << 3;
    /// Even parity (with `PARITY_ENABLE`); odd when clear.
    pub const EVEN_PARITY: u8 = 1 << 4;
    /// Stick parity: the parity bit is constant.
    pub const STICK_PARITY: u8 = 1 << 5;
    /// Hold the line in the break condition.
    pub const SET_BREAK: u8 = 1 << 6;
    /// Divisor latch access: offsets 0 and 1 become DLL and DLM.
    pub const DLAB: u8 = 1 << 7;

    /// Word length of 5..=8 data bits, encoded in bits 0-1 as `bits - 5`.
    /// `None` for any other length.
    pub const fn word_length(data_bits: u8) -> Option<u8> {
        match data_bits {
            5..=8 => Some(data_bits - 5),
            _ => None,
        }
    }

    /// Data bits per character (5..=8).
    pub const fn data_bits(self) -> u8 {
        (self.0 & 0b11) + 5
    }

    /// The raw register value.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// `self` with DLAB set.
    pub const fn with_dlab(self) -> Self {
        Self(self.0 | Self::DLAB)
    }

    /// `self` with DLAB cleared.
    pub const fn without_dlab(self) -> Self {
        Self(self.0 & !Self::DLAB)
    }
}

/// Receive FIFO level at which the "data available" interrupt fires.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RxTrigger {
    /// One byte.
    Bytes1 = 0b00,
    /// Four bytes.
    Bytes4 = 0b01,
    /// Eight bytes.
    Bytes8 = 0b10,
    /// Fourteen bytes: fewest interrupts; the character timeout delivers
    /// shorter bursts.
    Bytes14 = 0b11,
}

/// FIFO control register (FCR), write-only.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Fcr(pub u8);

impl Fcr {
    /// Enable both FIFOs (required for the other bits to take effect).
    pub const ENABLE: u8 = 1 << 0;
    /// Empty the receive FIFO (self-clearing).
    pub const CLEAR_RX: u8 = 1 << 1;
    /// Empty the transmit FIFO (self-clearing).
    pub const CLEAR_TX: u8 = 1 << 2;
    /// DMA mode select; unused on PCs.
    pub const DMA_MODE: u8 = 1 << 3;

    /// FIFOs enabled and both emptied, receive trigger at `trigger`.
    pub const fn enable_and_reset(trigger: RxTrigger) -> Self {
        Self(Self::ENABLE | Self::CLEAR_RX | Self::CLEAR_TX | ((trigger as u8) << 6))
    }

    /// The raw register value.
    pub const fn bits(self) -> u8 {
        self.0
    }
}

/// Why the UART interrupts, in its fixed priority order (highest first).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InterruptId {
    /// Receiver line status (error or break); cleared by reading LSR.
    LineStatus,
    /// Receive FIFO at or above its trigger; cleared by draining below it.
    RxData,
    /// Bytes below the trigger sat unread for four character times;
    /// cleared by reading RBR.
    RxTimeout,
    /// THR empty; cleared by reading IIR (which reported it) or writing THR.
    ThrEmpty,
    /// Modem status change; cleared by reading MSR.
    ModemStatus,
}

/// Interrupt identification register (IIR), read-only.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Iir(pub u8);

impl Iir {
    /// Bit 0 is *clear* while an interrupt is pending.
    pub const NONE_PENDING: u8 = 1 << 0;
    /// Bits 6-7 both set: FIFOs enabled and working (16550A).
    pub const FIFOS_ENABLED: u8 = 0b11 << 6;

    /// The pending interrupt, `Ok(None)` if none, `Err(raw)` for an
    /// identification no 16550 produces (a device returning garbage).
    pub const fn pending(self) -> Result<Option<InterruptId>, u8> {
        if self.0 & Self::NONE_PENDING != 0 {
            return Ok(None);
        }
        match self.0 & 0b1110 {
            0b0110 => Ok(Some(InterruptId::LineStatus)),
            0b0100 => Ok(Some(InterruptId::RxData)),
            0b1100 => Ok(Some(InterruptId::RxTimeout)),
            0b0010 => Ok(Some(InterruptId::ThrEmpty)),
            0b0000 => Ok(Some(InterruptId::ModemStatus)),
            _ => Err(self.0),
        }
    }

    /// The raw register value.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether the UART reports working FIFOs.
    pub const fn fifos_enabled(self) -> bool {
        self.0 & Self::FIFOS_ENABLED == Self::FIFOS_ENABLED
    }
}

impl InterruptId {
    /// The IIR value (FIFOs enabled) that reports this interrupt; the
    /// inverse of [`Iir::pending`], for device models.
    pub const fn iir_bits(self) -> u8 {
        let id = match self {
            Self::LineStatus => 0b0110,
            Self::RxData => 0b0100,
            Self::RxTimeout => 0b1100,
            Self::ThrEmpty => 0b0010,
            Self::ModemStatus => 0b0000,
        };
        id | Iir::FIFOS_ENABLED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iir_decodes_every_identification() {
        for id in [
            InterruptId::LineStatus,
            InterruptId::RxData,
            InterruptId::RxTimeout,
            InterruptId::ThrEmpty,
            InterruptId::ModemStatus,
        ] {
            assert_eq!(Iir(id.iir_bits()).pending(), Ok(Some(id)));
        }
        assert_eq!(Iir(0xC1).pending(), Ok(None));
        assert_eq!(Iir(0x08).pending(), Err(0x08));
    }

    #[test]
    fn fcr_with_14_byte_trigger() {
        assert_eq!(Fcr::enable_and_reset(RxTrigger::Bytes14).bits(), 0xC7);
    }

    #[test]
    fn lcr_word_length() {
        assert_eq!(Lcr::word_length(8), Some(0b11));
        assert_eq!(Lcr::word_length(5), Some(0));
        assert_eq!(Lcr::word_length(9), None);
        assert_eq!(Lcr(0b11).data_bits(), 8);
    }
}
