//! A model of QEMU's `edu`: the register semantics of `hw/misc/edu.c` as
//! documented (identification, liveness, factorial with a busy bit,
//! interrupt raise/ack, DMA registers frozen while a transfer runs, the
//! 4 KiB buffer at 0x40000, the DMA mask), with "bus memory" the device
//! copies to and from. Time is explicit: [`FakeEdu::tick`] completes the
//! running transfer and factorial, as QEMU's timer and thread do.

use paddock_edu::regs::{dma, irq, status, DMA_BUFFER, DMA_BUFFER_SIZE};
use paddock_edu::{Mmio, DEFAULT_DMA_MASK};

pub struct FakeEdu {
    pub id: u32,
    pub liveness: u32,
    pub factorial: u32,
    pub status: u32,
    pub irq_status: u32,
    pub src: u64,
    pub dst: u64,
    pub count: u64,
    pub cmd: u64,
    pub buffer: [u8; DMA_BUFFER_SIZE as usize],
    /// Bus memory from address 0.
    pub memory: Vec<u8>,
    pub dma_mask: u64,
    /// Accesses of the wrong width (ignored by the device).
    pub bad_width: usize,
    /// Transfers that fell outside the device buffer or bus memory.
    pub bad_dma: usize,
    pub accesses: usize,
    /// Nothing behind the BAR: reads all ones.
    pub absent: bool,
    /// Liveness register that does not invert.
    pub dead: bool,
}

impl Default for FakeEdu {
    fn default() -> Self {
        Self {
            id: 0x0100_00ed,
            liveness: 0,
            factorial: 0,
            status: 0,
            irq_status: 0,
            src: 0,
            dst: 0,
            count: 0,
            cmd: 0,
            buffer: [0; DMA_BUFFER_SIZE as usize],
            memory: vec![0; 1 << 20],
            dma_mask: DEFAULT_DMA_MASK,
            bad_width: 0,
            bad_dma: 0,
            accesses: 0,
            absent: false,
            dead: false,
        }
    }
}

impl FakeEdu {
    /// The interrupt line (INTx) level.
    pub fn irq_line(&self) -> bool {
        self.irq_status != 0
    }

    /// Time passes: the running transfer and factorial finish.
    pub fn tick(&mut self) {
        if self.status & status::COMPUTING != 0 {
            self.factorial = (1..=self.factorial).product::<u32>().max(1);
            self.status &= !status::COMPUTING;
            if self.status & status::IRQ_ON_FACTORIAL != 0 {
                self.irq_status |= irq::FACTORIAL;
            }
        }
        if self.cmd & dma::START == 0 {
            return;
        }
        let n = self.count as usize;
        let (dev, host) = if self.cmd & dma::TO_HOST != 0 {
            (self.src, self.dst)
        } else {
            (self.dst, self.src)
        };
        let host = (host & self.dma_mask) as usize;
        let dev_ok = dev >= DMA_BUFFER && dev - DMA_BUFFER + n as u64 <= u64::from(DMA_BUFFER_SIZE);
        if !dev_ok || host + n > self.memory.len() {
            self.bad_dma += 1;
        } else {
            let d = (dev - DMA_BUFFER) as usize;
            if self.cmd & dma::TO_HOST != 0 {
                self.memory[host..host + n].copy_from_slice(&self.buffer[d..d + n]);
            } else {
                self.buffer[d..d + n].copy_from_slice(&self.memory[host..host + n]);
            }
        }
        self.cmd &= !dma::START;
        if self.cmd & dma::IRQ_ON_DONE != 0 {
            self.irq_status |= irq::DMA;
        }
    }

    fn running(&self) -> bool {
        self.cmd & dma::START != 0
    }
}

impl Mmio for FakeEdu {
    fn read32(&mut self, offset: usize) -> u32 {
        self.accesses += 1;
        if self.absent {
            return u32::MAX;
        }
        match offset {
            0x00 => self.id,
            0x04 => self.liveness,
            0x08 => self.factorial,
            0x20 => self.status,
            0x24 => self.irq_status,
            _ => {
                self.bad_width += usize::from(offset >= 0x80);
                u32::MAX
            }
        }
    }

    fn write32(&mut self, offset: usize, value: u32) {
        self.accesses += 1;
        if self.absent {
            return;
        }
        match offset {
            0x04 => self.liveness = if self.dead { value } else { !value },
            0x08 if self.status & status::COMPUTING == 0 => {
                self.factorial = value;
                self.status |= status::COMPUTING;
            }
            0x20 => {
                self.status = (self.status & status::COMPUTING) | (value & status::IRQ_ON_FACTORIAL)
            }
            0x60 => self.irq_status |= value,
            0x64 => self.irq_status &= !value,
            o if o >= 0x80 => self.bad_width += 1,
            _ => {}
        }
    }

    fn read64(&mut self, offset: usize) -> u64 {
        self.accesses += 1;
        if self.absent {
            return u64::MAX;
        }
        match offset {
            0x80 => self.src,
            0x88 => self.dst,
            0x90 => self.count,
            0x98 => self.cmd,
            _ => {
                self.bad_width += 1;
                u64::MAX
            }
        }
    }

    fn write64(&mut self, offset: usize, value: u64) {
        self.accesses += 1;
        if self.absent {
            return;
        }
        // Like QEMU: DMA registers are frozen while a transfer runs, and a
        // command without the start bit is ignored.
        let running = self.running();
        match offset {
            0x80 if !running => self.src = value,
            0x88 if !running => self.dst = value,
            0x90 if !running => self.count = value,
            0x98 if !running && value & dma::START != 0 => self.cmd = value,
            0x80 | 0x88 | 0x90 | 0x98 => {}
            _ => self.bad_width += 1,
        }
    }
}
