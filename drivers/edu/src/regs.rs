//! The `edu` register map (QEMU `docs/specs/edu.rst`).
//!
//! Registers below 0x80 accept only 4-byte accesses; the DMA registers
//! from 0x80 take 4 or 8, and this crate uses 8 so bus addresses above
//! 4 GiB are not truncated. The width is part of each register's type.

/// PCI vendor ID (QEMU).
pub const VENDOR_ID: u16 = 0x1234;
/// PCI device ID of `edu`.
pub const DEVICE_ID: u16 = 0x11e8;
/// Size of BAR 0.
pub const BAR_SIZE: usize = 1 << 20;

/// A 32-bit register at a byte offset in BAR 0.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Reg32(pub usize);

/// A 64-bit register at a byte offset in BAR 0.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Reg64(pub usize);

/// Identification (R): `0xRRrr00ed`, major `RR`, minor `rr`.
pub const IDENTIFICATION: Reg32 = Reg32(0x00);
/// Liveness check (RW): reads back the bitwise NOT of what was written.
pub const LIVENESS: Reg32 = Reg32(0x04);
/// Factorial (RW): write n, read n! once [`status::COMPUTING`] clears.
pub const FACTORIAL: Reg32 = Reg32(0x08);
/// Status (RW): [`status`] bits.
pub const STATUS: Reg32 = Reg32(0x20);
/// Interrupt status (R): the causes currently raised, [`irq`] bits.
pub const IRQ_STATUS: Reg32 = Reg32(0x24);
/// Interrupt raise (W): ORs the value into the interrupt status.
pub const IRQ_RAISE: Reg32 = Reg32(0x60);
/// Interrupt acknowledge (W): clears the value's bits from the interrupt
/// status; the line (INTx) drops when none is left. Needed with MSI too.
pub const IRQ_ACK: Reg32 = Reg32(0x64);
/// DMA source bus address (RW). Ignored while a transfer runs.
pub const DMA_SOURCE: Reg64 = Reg64(0x80);
/// DMA destination bus address (RW). Ignored while a transfer runs.
pub const DMA_DESTINATION: Reg64 = Reg64(0x88);
/// DMA byte count (RW). Ignored while a transfer runs.
pub const DMA_COUNT: Reg64 = Reg64(0x90);
/// DMA command (RW): [`dma`] bits.
pub const DMA_COMMAND: Reg64 = Reg64(0x98);

/// Offset in BAR space of the device's DMA buffer, which is also the
/// address DMA registers use to name it.
pub const DMA_BUFFER: u64 = 0x40000;
/// Size of the device's DMA buffer.
pub const DMA_BUFFER_SIZE: u32 = 4096;
/// The longest transfer the device accepts, and the end of the buffer a
/// transfer may reach. QEMU 7.2's edu checks a transfer's end exclusively,
/// so one that reaches the buffer's last byte stops the whole machine with
/// "hardware error: EDU: DMA range ... out of bounds"; the last byte is
/// therefore never used.
pub const DMA_USABLE: u32 = DMA_BUFFER_SIZE - 1;

/// The low byte of [`IDENTIFICATION`].
pub const MAGIC: u32 = 0xed;

/// Bits of [`STATUS`].
pub mod status {
    /// A factorial is being computed (read-only).
    pub const COMPUTING: u32 = 0x01;
    /// Raise [`irq::FACTORIAL`](super::irq::FACTORIAL) when it is done.
    pub const IRQ_ON_FACTORIAL: u32 = 0x80;
}

/// Bits of [`DMA_COMMAND`].
pub mod dma {
    /// Start the transfer; reads back set until it has finished.
    pub const START: u64 = 0x01;
    /// Direction: set copies device buffer -> bus address (to host RAM),
    /// clear copies bus address -> device buffer.
    pub const TO_HOST: u64 = 0x02;
    /// Raise [`irq::DMA`](super::irq::DMA) when done.
    pub const IRQ_ON_DONE: u64 = 0x04;
}

/// Interrupt causes in [`IRQ_STATUS`].
pub mod irq {
    /// A factorial finished (with the status bit set).
    pub const FACTORIAL: u32 = 0x001;
    /// A DMA transfer finished (with its command bit set).
    pub const DMA: u32 = 0x100;
}
