//! A host model of a network client and its driver, back to back through
//! real queues in memory: the client runs `ClientQueues` (and, for the
//! service tests, `NetApps`); the driver runs `DriverQueues` over the
//! window's shape only; a fake NIC plays the device (it reaches the window
//! "by DMA", the driver never does) and puts frames on a wire whose other
//! end is a smoltcp interface acting as the peer host.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

use paddock_net::apps::{Addressing, AppStorage, NetApps, NetConfig};
use paddock_net::smoltcp;
use paddock_net::{ClientQueues, Control, DriverQueues, NetInfo, NetLayout, PeerError, Window};
use smoltcp::iface::{Config, Interface, SocketSet, SocketStorage};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Address, Ipv4Cidr};

pub const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
pub const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
pub const CLIENT_IP: Ipv4Address = Ipv4Address::new(10, 0, 0, 2);
pub const PEER_IP: Ipv4Address = Ipv4Address::new(10, 0, 0, 1);

#[derive(Clone, Copy, zerocopy::IntoBytes, zerocopy::FromBytes, zerocopy::Immutable)]
#[repr(C, align(128))]
struct Line([u8; 128]);

/// Zeroed memory, aligned as a queue must be (128 bytes), that lives for the rest of the test.
pub fn leak_bytes(bytes: usize) -> &'static mut [u8] {
    use zerocopy::IntoBytes;
    let lines = vec![Line([0; 128]); bytes.div_ceil(128)].leak();
    lines.as_mut_bytes()
}

/// A leaked, zeroed, aligned window the client and the fake NIC share.
pub fn leak_window(layout: NetLayout) -> &'static [AtomicU8] {
    use zerocopy::FromBytes;
    <[AtomicU8]>::mut_from_bytes(leak_bytes(layout.window_bytes())).unwrap()
}

/// One client's shared memory.
#[derive(Clone, Copy)]
pub struct Shared {
    pub control: Control<'static>,
    pub window: &'static [AtomicU8],
    pub layout: NetLayout,
}

impl Shared {
    pub fn new(layout: NetLayout) -> Self {
        let control = Control::from_bytes(leak_bytes(layout.control_bytes()), layout).unwrap();
        Self {
            control,
            window: leak_window(layout),
            layout,
        }
    }

    pub fn client_window(&self) -> Window<'static> {
        Window::new(self.window, self.layout).unwrap()
    }

    /// The driver attaches and publishes the page.
    pub fn driver(&self, mac: [u8; 6]) -> DriverQueues<'static> {
        let d = DriverQueues::new(self.control).unwrap();
        d.info().publish(&NetInfo {
            mac,
            mtu: 1500,
            layout: self.layout,
            generation: 1,
        });
        d
    }

    pub fn client(&self) -> ClientQueues<'static> {
        ClientQueues::attach(self.control, self.client_window()).unwrap()
    }
}

/// The device: moves frames between the window and the wire, as the
/// driver tells it. Returns the driver's error for a misbehaving client.
pub fn nic_step(
    driver: &mut DriverQueues<'_>,
    window: &[AtomicU8],
    to_client: &mut VecDeque<Vec<u8>>,
    from_client: &mut VecDeque<Vec<u8>>,
) -> Result<(), PeerError> {
    while let Some(buf) = driver.next_tx()? {
        let start = buf.window_offset() as usize;
        let frame = window[start..start + buf.len() as usize]
            .iter()
            .map(|b| b.load(Relaxed))
            .collect();
        from_client.push_back(frame);
        driver.complete_tx(buf)?;
    }
    while !to_client.is_empty() {
        let Some(buf) = driver.take_free_rx()? else {
            break;
        };
        let frame = to_client.pop_front().unwrap();
        let start = buf.window_offset() as usize;
        assert!(frame.len() <= buf.capacity() as usize);
        for (d, s) in window[start..start + frame.len()].iter().zip(&frame) {
            d.store(*s, Relaxed);
        }
        driver.complete_rx(buf, frame.len() as u32)?;
    }
    let _ = driver.publish();
    Ok(())
}

/// The peer host's end of the wire.
#[derive(Default)]
pub struct Wire {
    /// Frames for the client (the peer sent them).
    pub to_client: VecDeque<Vec<u8>>,
    /// Frames from the client (the peer receives them).
    pub from_client: VecDeque<Vec<u8>>,
}

pub struct WireRx(Vec<u8>);
pub struct WireTx<'a>(&'a mut VecDeque<Vec<u8>>);

impl phy::RxToken for WireRx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for WireTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0; len];
        let r = f(&mut frame);
        self.0.push_back(frame);
        r
    }
}

impl Device for Wire {
    type RxToken<'a> = WireRx;
    type TxToken<'a> = WireTx<'a>;

    fn receive(&mut self, _: Instant) -> Option<(WireRx, WireTx<'_>)> {
        let frame = self.from_client.pop_front()?;
        Some((WireRx(frame), WireTx(&mut self.to_client)))
    }

    fn transmit(&mut self, _: Instant) -> Option<WireTx<'_>> {
        Some(WireTx(&mut self.to_client))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = 1514;
        caps
    }
}

/// Everything of one end-to-end test: the client's services, its queues,
/// the driver, the wire and the peer host.
pub struct World {
    pub now: Instant,
    pub apps: NetApps<'static>,
    pub client: ClientQueues<'static>,
    pub driver: DriverQueues<'static>,
    pub shared: Shared,
    pub wire: Wire,
    pub peer: Interface,
    pub peer_sockets: SocketSet<'static>,
}

impl World {
    pub fn new(addressing: Addressing) -> Self {
        let shared = Shared::new(NetLayout::DEFAULT);
        let driver = shared.driver(CLIENT_MAC);
        let mut client = shared.client();
        let now = Instant::from_millis(0);
        let storage = Box::leak(Box::new(AppStorage::new()));
        let mut config = NetConfig::new(client.info().mac, 7);
        config.addressing = addressing;
        let mut apps = NetApps::new(config, storage, &mut client, now);
        apps.status_mut().system = paddock_net::apps::status::name("host-model");
        apps.status_mut().add_component("virtio-net", "running", 1);
        apps.status_mut().add_component("net-client", "running", 0);

        let mut wire = Wire::default();
        let mut peer_config = Config::new(HardwareAddress::Ethernet(EthernetAddress(PEER_MAC)));
        peer_config.random_seed = 99;
        let mut peer = Interface::new(peer_config, &mut wire, now);
        peer.update_ip_addrs(|a| {
            a.push(IpCidr::Ipv4(Ipv4Cidr::new(PEER_IP, 24))).unwrap();
        });
        let storage: &'static mut [SocketStorage<'static>] =
            Vec::from([SocketStorage::EMPTY; 4]).leak();
        Self {
            now,
            apps,
            client,
            driver,
            shared,
            wire,
            peer,
            peer_sockets: SocketSet::new(storage),
        }
    }

    /// The client with a static address on the peer's subnet.
    pub fn with_static_address() -> Self {
        Self::new(Addressing::Static {
            address: Ipv4Cidr::new(CLIENT_IP, 24),
            gateway: Some(PEER_IP),
        })
    }

    /// One round: the client's services, the driver and device, the peer.
    pub fn step(&mut self) {
        self.now += smoltcp::time::Duration::from_millis(1);
        self.apps.poll(self.now, &mut self.client);
        let _ = self.client.publish();
        assert_eq!(self.client.fault(), None);
        nic_step(
            &mut self.driver,
            self.shared.window,
            &mut self.wire.to_client,
            &mut self.wire.from_client,
        )
        .unwrap();
        self.peer
            .poll(self.now, &mut self.wire, &mut self.peer_sockets);
    }

    /// Steps until `done` holds, at most `max` rounds; panics after that.
    pub fn run_until(&mut self, max: usize, mut done: impl FnMut(&mut Self) -> bool) {
        for _ in 0..max {
            if done(self) {
                return;
            }
            self.step();
        }
        panic!("not done after {max} rounds");
    }
}

/// xorshift64*: seeded, reproducible test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Leaked socket buffer storage for the peer.
pub fn leak_buf(n: usize) -> &'static mut [u8] {
    vec![0u8; n].leak()
}
