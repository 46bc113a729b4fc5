//! The driver proper: probe, DMA, interrupts, and the factorial unit.

use crate::dma::{DmaRequest, DEFAULT_DMA_MASK};
use crate::error::Error;
use crate::mmio::Mmio;
use crate::regs::{self, dma, irq, status, Reg32, Reg64};

/// Liveness patterns: neither is all ones or all zeros, so a BAR reading
/// as all ones (device gone) or as RAM fails at least one.
const LIVENESS_PATTERNS: [u32; 2] = [0x1234_5678, 0xA5A5_0FF0];

/// Largest factorial argument whose result fits the 32-bit register.
const MAX_FACTORIAL: u32 = 12;

/// The device's version from its identification register.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Version {
    /// Major.
    pub major: u8,
    /// Minor.
    pub minor: u8,
}

/// What one interrupt was about.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Interrupt {
    /// The interrupt status read (and acknowledged); 0 if the interrupt
    /// was not this device's (a shared INTx line).
    pub raised: u32,
    /// The transfer that finished, if this interrupt reported one.
    pub dma_done: Option<DmaRequest>,
    /// A factorial finished; read it with [`Edu::factorial_result`].
    pub factorial_done: bool,
}

/// One `edu` device behind `M`.
pub struct Edu<M> {
    mmio: M,
    dma_mask: u64,
    in_flight: Option<DmaRequest>,
}

impl<M: Mmio> Edu<M> {
    /// Wrap the BAR mapping; nothing is accessed until a method is called.
    /// Assumes QEMU's default 28-bit DMA mask.
    pub fn new(mmio: M) -> Self {
        Self {
            mmio,
            dma_mask: DEFAULT_DMA_MASK,
            in_flight: None,
        }
    }

    /// For a device started with a wider `dma_mask=`.
    pub fn with_dma_mask(mut self, mask: u64) -> Self {
        self.dma_mask = mask;
        self
    }

    /// Check that the BAR is an `edu` and that it responds: the magic
    /// byte in the identification register, and the liveness register
    /// inverting two patterns.
    pub fn probe(&mut self) -> Result<Version, Error> {
        let id = self.read32(regs::IDENTIFICATION);
        if id & 0xFF != regs::MAGIC || id & 0xFF00 != 0 {
            return Err(Error::NotEdu { id });
        }
        for wrote in LIVENESS_PATTERNS {
            self.write32(regs::LIVENESS, wrote);
            let read = self.read32(regs::LIVENESS);
            if read != !wrote {
                return Err(Error::NotAlive { wrote, read });
            }
        }
        let [_, _, minor, major] = id.to_le_bytes();
        Ok(Version { major, minor })
    }

    /// Start `request` with an interrupt on completion.
    ///
    /// Refused, before any register is written, if the bus range exceeds
    /// the device's DMA mask or a transfer is still running (the device
    /// would silently keep the old addresses).
    pub fn start_dma(&mut self, request: DmaRequest) -> Result<(), Error> {
        if !request.fits_mask(self.dma_mask) {
            return Err(Error::BusRange {
                iova: request.iova(),
                len: request.len(),
            });
        }
        if let Some(running) = self.in_flight {
            return Err(Error::Busy {
                running: Some(running.direction()),
            });
        }
        if self.read64(regs::DMA_COMMAND) & dma::START != 0 {
            return Err(Error::Busy { running: None });
        }
        self.write64(regs::DMA_SOURCE, request.source());
        self.write64(regs::DMA_DESTINATION, request.destination());
        self.write64(regs::DMA_COUNT, u64::from(request.len()));
        self.write64(regs::DMA_COMMAND, request.command());
        self.in_flight = Some(request);
        Ok(())
    }

    /// The transfer started and not yet reported finished.
    pub fn in_flight(&self) -> Option<DmaRequest> {
        self.in_flight
    }

    /// If the running transfer has finished (command start bit clear),
    /// forget it and return it; for polling without the interrupt.
    pub fn poll_dma(&mut self) -> Option<DmaRequest> {
        self.in_flight?;
        if self.read64(regs::DMA_COMMAND) & dma::START != 0 {
            return None;
        }
        self.in_flight.take()
    }

    /// Poll up to `polls` times for the running transfer to finish.
    pub fn wait_dma(&mut self, polls: u32) -> Result<DmaRequest, Error> {
        for _ in 0..polls {
            if let Some(done) = self.poll_dma() {
                return Ok(done);
            }
        }
        Err(Error::Timeout)
    }

    /// Service the device's interrupt, then the caller acks it at the
    /// kernel. Reads the interrupt status, acknowledges exactly those
    /// causes (which lowers INTx; with MSI the device needs it too), and
    /// reports a finished transfer only if the command register agrees
    /// the transfer is over.
    pub fn handle_interrupt(&mut self) -> Interrupt {
        let raised = self.read32(regs::IRQ_STATUS);
        if raised == 0 {
            return Interrupt::default();
        }
        self.write32(regs::IRQ_ACK, raised);
        let dma_done = if raised & irq::DMA != 0 {
            self.poll_dma()
        } else {
            None
        };
        Interrupt {
            raised,
            dma_done,
            factorial_done: raised & irq::FACTORIAL != 0,
        }
    }

    /// Raise interrupt causes by hand (the device's self-test facility):
    /// checks the whole IRQ path without DMA.
    pub fn raise_interrupt(&mut self, causes: u32) {
        self.write32(regs::IRQ_RAISE, causes);
    }

    /// Start computing `n!`, with an interrupt when done if `irq`.
    pub fn start_factorial(&mut self, n: u32, irq: bool) -> Result<(), Error> {
        if n > MAX_FACTORIAL {
            return Err(Error::FactorialOverflow { n });
        }
        if self.read32(regs::STATUS) & status::COMPUTING != 0 {
            return Err(Error::Busy { running: None });
        }
        self.write32(regs::STATUS, if irq { status::IRQ_ON_FACTORIAL } else { 0 });
        self.write32(regs::FACTORIAL, n);
        Ok(())
    }

    /// The factorial result, once the computation has finished.
    pub fn factorial_result(&mut self) -> Option<u32> {
        if self.read32(regs::STATUS) & status::COMPUTING != 0 {
            return None;
        }
        Some(self.read32(regs::FACTORIAL))
    }

    /// The BAR accessor.
    pub fn mmio(&self) -> &M {
        &self.mmio
    }

    /// The BAR accessor, mutably (for tests that drive a device model).
    pub fn mmio_mut(&mut self) -> &mut M {
        &mut self.mmio
    }

    fn read32(&mut self, reg: Reg32) -> u32 {
        self.mmio.read32(reg.0)
    }

    fn write32(&mut self, reg: Reg32, value: u32) {
        self.mmio.write32(reg.0, value)
    }

    fn read64(&mut self, reg: Reg64) -> u64 {
        self.mmio.read64(reg.0)
    }

    fn write64(&mut self, reg: Reg64, value: u64) {
        self.mmio.write64(reg.0, value)
    }
}
