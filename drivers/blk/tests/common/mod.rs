//! Host-test rig: zeroed shared memory, a modelled driver that serves
//! requests from a `Vec<u8>` disk through `DriverQueues` (so every request
//! passes the real checks), and a `DriverSignal` that runs that driver
//! whenever the client waits.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use paddock_blk::Idle;
use paddock_blk::{
    Accepted, BlockClient, Control, ControlLayout, DataWindow, DriverQueues, DriverSignal,
    Geometry, Op, RequestChecker, Status,
};
use zerocopy::IntoBytes;

#[derive(Clone, Copy, zerocopy::IntoBytes, zerocopy::FromBytes, zerocopy::Immutable)]
#[repr(C, align(128))]
struct Line([u8; 128]);

/// A zeroed block, aligned as a queue must be (128 bytes), of at least `bytes` bytes.
pub struct Mem(Vec<Line>);

impl Mem {
    pub fn new(bytes: usize) -> Self {
        Self(vec![Line([0; 128]); bytes.div_ceil(128)])
    }

    pub fn bytes(&mut self) -> &mut [u8] {
        self.0.as_mut_bytes()
    }
}

/// The device side of the model: a disk, and blocks that fail.
pub struct ModelDriver<'a> {
    pub queues: DriverQueues<'a>,
    /// What the device reaches by DMA: the client's window.
    window: DataWindow<'a>,
    pub disk: Vec<u8>,
    block_size: usize,
    /// Reads and writes touching these blocks fail with `IoError`.
    pub bad_blocks: HashSet<u64>,
    /// Whether the driver owes the client a signal.
    pub client_signalled: bool,
    /// Signals received from the client.
    pub signals_received: u64,
    /// Requests served, by op.
    pub reads: u64,
    pub writes: u64,
    pub flushes: u64,
    /// Largest request seen, in blocks.
    pub largest_request: u32,
    /// Most requests in flight at once (all answered in one `serve`).
    pub most_in_flight: u32,
}

impl<'a> ModelDriver<'a> {
    /// Publishes the device's description and takes the driver's end.
    pub fn start(
        control: Control<'a>,
        window: DataWindow<'a>,
        geometry: Geometry,
        disk: Vec<u8>,
    ) -> Self {
        assert_eq!(
            disk.len() as u64,
            geometry.capacity_blocks * u64::from(geometry.block_size)
        );
        let checker = RequestChecker::new(geometry, window.len() as u64).unwrap();
        let queues = DriverQueues::new(control.requests, control.responses, checker).unwrap();
        control.info.publish(&geometry);
        Self {
            queues,
            window,
            disk,
            block_size: geometry.block_size as usize,
            bad_blocks: HashSet::new(),
            // It published the page: the client may be waiting for that.
            client_signalled: true,
            signals_received: 0,
            reads: 0,
            writes: 0,
            flushes: 0,
            largest_request: 0,
            most_in_flight: 0,
        }
    }

    /// Serves every request there is, as a driver does on a wake-up: take
    /// accepted requests (refusals are answered by `DriverQueues`), let the
    /// "device" run them, answer, publish, and go idle the lossless way.
    pub fn serve(&mut self) {
        loop {
            let mut batch = Vec::new();
            while let Some(accepted) = self.queues.next_request().expect("honest client") {
                batch.push(accepted);
            }
            self.most_in_flight = self.most_in_flight.max(batch.len() as u32);
            for accepted in batch {
                let (status, done) = self.execute(&accepted);
                self.queues.complete(accepted.id, status, done).unwrap();
            }
            if self.queues.publish().is_needed() {
                self.client_signalled = true;
            }
            match self.queues.request_signal().expect("honest client") {
                Idle::Sleep => return,
                Idle::MoreWork => {}
            }
        }
    }

    /// What the device does with an accepted request: DMA between the disk
    /// and `window`, at the byte range the checker accepted.
    fn execute(&mut self, a: &Accepted) -> (Status, u32) {
        self.largest_request = self.largest_request.max(a.count);
        let bs = self.block_size;
        match a.op {
            Op::Flush => {
                self.flushes += 1;
                return (Status::Ok, 0);
            }
            Op::Read => self.reads += 1,
            Op::Write => self.writes += 1,
        }
        for i in 0..a.count {
            let block = a.block + u64::from(i);
            if self.bad_blocks.contains(&block) {
                return (Status::IoError, i);
            }
            let disk = block as usize * bs..(block as usize + 1) * bs;
            let window = a.window.start as usize + i as usize * bs;
            let ok = match a.op {
                Op::Read => self.window.copy_in(window, &self.disk[disk]),
                _ => self.window.copy_out(window, &mut self.disk[disk]),
            };
            assert!(ok, "the checker accepted a range outside the window");
        }
        (Status::Ok, a.count)
    }
}

/// The client's `DriverSignal` in a single-threaded test: waiting runs the
/// driver. A wait that the driver does not answer with a signal is a lost
/// wake-up, which on seL4 would hang: here it fails the test.
pub struct InlineSignal<'a> {
    pub driver: Rc<RefCell<ModelDriver<'a>>>,
    pub waits: u64,
}

impl DriverSignal for InlineSignal<'_> {
    fn signal_driver(&mut self) {
        self.driver.borrow_mut().signals_received += 1;
    }

    fn wait_for_driver(&mut self) {
        self.waits += 1;
        let mut driver = self.driver.borrow_mut();
        driver.serve();
        assert!(
            std::mem::take(&mut driver.client_signalled),
            "the client waits but the driver never signals it: lost wake-up"
        );
    }
}

/// Memory for one client and its driver.
pub struct Rig {
    pub control: Mem,
    pub window: Mem,
    pub layout: ControlLayout,
}

impl Rig {
    pub fn new(depth: u32, window_bytes: usize) -> Self {
        let layout = ControlLayout::for_depth(depth).unwrap();
        Self {
            control: Mem::new(layout.total_bytes()),
            window: Mem::new(window_bytes),
            layout,
        }
    }

    /// Starts the model driver over `disk` and attaches a client.
    pub fn start(
        &mut self,
        geometry: Geometry,
        disk: Vec<u8>,
    ) -> (
        Rc<RefCell<ModelDriver<'_>>>,
        BlockClient<'_, InlineSignal<'_>>,
    ) {
        let window_bytes = self.window.bytes().len();
        let control = Control::from_bytes(self.control.bytes(), self.layout).unwrap();
        let window = DataWindow::from_bytes(&mut self.window.bytes()[..window_bytes]).unwrap();
        let driver = Rc::new(RefCell::new(ModelDriver::start(
            control, window, geometry, disk,
        )));
        let signal = InlineSignal {
            driver: driver.clone(),
            waits: 0,
        };
        let client = BlockClient::attach(control, window, signal).unwrap();
        (driver, client)
    }
}

/// A geometry of `blocks` 512-byte blocks.
pub fn geometry(blocks: u64, depth: u32, max_blocks: u32) -> Geometry {
    Geometry {
        capacity_blocks: blocks,
        block_size: 512,
        queue_depth: depth,
        max_blocks_per_request: max_blocks,
        read_only: false,
    }
}

/// Deterministic pseudo-random bytes (xorshift64*), so failures replay.
pub fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}
