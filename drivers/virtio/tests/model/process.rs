//! The modelled device's work: take each new chain from an available ring,
//! carry out what it holds (a virtio-blk request on the disk here, a
//! virtio-net frame in `net.rs`), write the used entry (or, when told to,
//! a lie).

use std::sync::atomic::Ordering;

use paddock_virtio::blk::request::{kind, status as blk_status, ID_BYTES};
use paddock_virtio::queue::layout::flags;

use super::device::{Kind, Model, Tamper};

pub(super) struct Segment {
    pub addr: u64,
    pub len: u32,
    pub writable: bool,
}

impl Model {
    /// Processes every chain the driver has made available, on every
    /// queue.
    pub fn process(&mut self) {
        for index in 0..self.b.kind.queues() {
            self.process_queue(index, usize::MAX);
        }
    }

    /// Processes the oldest chain the driver has made available on queue
    /// 0, if any.
    pub fn process_one(&mut self) {
        self.process_queue(0, 1)
    }

    /// Processes at most `chains` chains of queue `index`.
    pub fn process_queue(&mut self, index: u16, chains: usize) {
        if let Err(fault) = self.try_process(index, chains) {
            self.faults.push(fault);
        }
    }

    fn try_process(&mut self, index: u16, mut chains: usize) -> Result<(), String> {
        let at = usize::from(index);
        let q = self.queues[at];
        if q.enable != 1 {
            return Ok(());
        }
        let descriptors = self.dma.descriptors(q.desc, q.size)?;
        let avail = self.dma.avail(q.driver, q.size)?;
        let used = self.dma.used(q.device, q.size)?;
        let mask = q.size - 1;
        let avail_idx = u16::from_le(avail.idx.load(Ordering::Acquire));
        while self.queues[at].last_avail != avail_idx && chains > 0 {
            chains -= 1;
            let slot = usize::from(self.queues[at].last_avail & mask);
            let head = u16::from_le(avail.ring[slot].load(Ordering::Relaxed));
            let mut chain = Vec::new();
            let mut next = head;
            loop {
                let d = descriptors
                    .get(usize::from(next))
                    .ok_or(format!("descriptor {next} outside the table"))?;
                let f = u16::from_le(d.flags.load(Ordering::Relaxed));
                chain.push(Segment {
                    addr: u64::from_le(d.addr.load(Ordering::Relaxed)),
                    len: u32::from_le(d.len.load(Ordering::Relaxed)),
                    writable: f & flags::WRITE != 0,
                });
                if f & flags::NEXT == 0 {
                    break;
                }
                if chain.len() >= usize::from(q.size) {
                    return Err(format!("chain at {head} loops"));
                }
                next = u16::from_le(d.next.load(Ordering::Relaxed));
            }
            let written = match (self.b.kind, index) {
                (Kind::Blk, _) => self.execute(&chain)?,
                (Kind::Net, 0) => match self.receive(&chain)? {
                    Some(written) => written,
                    // Nothing from the wire: the device keeps the buffer.
                    None => break,
                },
                (Kind::Net, _) => self.transmit(&chain)?,
            };
            let writable: u32 = chain.iter().filter(|s| s.writable).map(|s| s.len).sum();
            self.complete(at, used, head, written, writable, mask);
            self.queues[at].last_avail = self.queues[at].last_avail.wrapping_add(1);
        }
        Ok(())
    }

    fn complete(
        &mut self,
        at: usize,
        used: &paddock_virtio::queue::layout::UsedRing,
        head: u16,
        written: u32,
        writable: u32,
        mask: u16,
    ) {
        let tamper = self.b.tamper.take();
        let mut entry = (u32::from(head), written);
        match tamper {
            Some(Tamper::UsedId(id)) => entry.0 = id,
            Some(Tamper::LenExtra(extra)) => entry.1 = writable + extra,
            Some(Tamper::Len(len)) => entry.1 = len,
            _ => {}
        }
        let copies = if matches!(tamper, Some(Tamper::CompleteTwice)) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let q = &mut self.queues[at];
            let e = &used.ring[usize::from(q.used_idx & mask)];
            e.id.store(entry.0.to_le(), Ordering::Relaxed);
            e.len.store(entry.1.to_le(), Ordering::Relaxed);
            q.used_idx = q.used_idx.wrapping_add(1);
        }
        let mut published = self.queues[at].used_idx;
        if let Some(Tamper::UsedIdxJump(n)) = tamper {
            published = published.wrapping_add(n);
        }
        used.idx.store(published.to_le(), Ordering::Release);
    }

    /// Carries out one request; returns the bytes written into the chain.
    fn execute(&mut self, chain: &[Segment]) -> Result<u32, String> {
        self.requests += 1;
        let (Some(header), Some(status)) = (chain.first(), chain.last()) else {
            return Err("empty chain".into());
        };
        if chain.len() < 2
            || header.writable
            || header.len != 16
            || !status.writable
            || status.len != 1
        {
            return Err("not a virtio-blk request: header, data, status".into());
        }
        let slot = self.dma.header(header.addr)?;
        let status_byte = self.dma.status(status.addr)?;
        let type_code = u32::from_le(slot.kind.load(Ordering::Relaxed));
        let sector = u64::from_le(slot.sector.load(Ordering::Relaxed));
        let data = &chain[1..chain.len() - 1];
        let bytes: u64 = data.iter().map(|s| u64::from(s.len)).sum();
        let start = sector
            .checked_mul(512)
            .filter(|s| s + bytes <= self.disk.len() as u64);
        let failing = self
            .b
            .io_error_sector
            .is_some_and(|bad| (sector..sector + bytes.div_ceil(512)).contains(&bad));
        let mut written = 0u32;
        let mut result = blk_status::OK;
        match type_code {
            kind::IN | kind::OUT => match start {
                Some(_) if failing => result = blk_status::IOERR,
                None => result = blk_status::IOERR,
                Some(mut at) => {
                    for s in data {
                        if s.writable != (type_code == kind::IN) {
                            return Err("data segment in the wrong direction".into());
                        }
                        let window = self.dma.bytes(s.addr, s.len)?;
                        for cell in window {
                            if type_code == kind::IN {
                                cell.store(self.disk[at as usize], Ordering::Relaxed);
                            } else {
                                self.disk[at as usize] = cell.load(Ordering::Relaxed);
                            }
                            at += 1;
                        }
                        if s.writable {
                            written += s.len;
                        }
                    }
                }
            },
            kind::FLUSH => self.flushes += 1,
            kind::GET_ID if self.b.get_id => {
                let s = data.first().ok_or("GET_ID without a buffer")?;
                let window = self.dma.bytes(s.addr, ID_BYTES)?;
                for (cell, &b) in window.iter().zip(&self.id) {
                    cell.store(b, Ordering::Relaxed);
                }
                written = ID_BYTES;
            }
            _ => result = blk_status::UNSUPP,
        }
        if !self.b.skip_status {
            let value = self.b.status_override.unwrap_or(result);
            status_byte.store(value, Ordering::Relaxed);
            written += 1;
        }
        Ok(written)
    }
}
