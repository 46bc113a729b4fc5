//! Network services for a client component, on smoltcp without a heap:
//! DHCP (or a static address), UDP and TCP echo (port 7 by default), and
//! an HTTP server (port 80) showing a status [`Snapshot`].
//!
//! The component's loop:
//!
//! ```text
//! loop {
//!     apps.poll(now(), &mut queues);
//!     if queues.publish().is_needed() { signal(driver) }
//!     while let Some(event) = apps.take_event() { log(event) }
//!     match apps.poll_delay(now()) {
//!         Some(d) if d == 0 => continue,
//!         delay => if queues.request_signal()? == Idle::Sleep { wait(notification or delay) }
//!     }
//! }
//! ```
//!
//! All memory comes from an [`AppStorage`] the caller places (a static,
//! typically); sockets and buffers have fixed sizes.

pub mod http;
pub mod status;

use core::fmt;

use smoltcp::iface::{Config, Interface, PollResult, SocketHandle, SocketSet, SocketStorage};
use smoltcp::phy::Device;
use smoltcp::socket::{dhcpv4, tcp, udp};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Address, Ipv4Cidr};

pub use http::{HttpConn, Route};
pub use status::{ComponentStatus, RingStatus, ServiceCounters, Snapshot};

/// Bytes of each TCP echo buffer (receive and send).
pub const TCP_ECHO_BUFFER: usize = 64 * 1024;
/// Bytes of each UDP echo buffer (receive and send).
pub const UDP_BUFFER: usize = 8 * 1024;
/// Datagrams each UDP echo buffer holds.
pub const UDP_PACKETS: usize = 16;
/// HTTP connections served at once.
pub const HTTP_SOCKETS: usize = 2;
/// Bytes of each HTTP socket's receive buffer.
pub const HTTP_RX: usize = 2048;
/// Bytes of each HTTP socket's send buffer.
pub const HTTP_TX: usize = 8192;
const SOCKETS: usize = 3 + HTTP_SOCKETS;

/// Every buffer the services use. Make one with [`AppStorage::new`] where
/// it can live as long as the services (a static).
pub struct AppStorage<'a> {
    sockets: [SocketStorage<'a>; SOCKETS],
    udp_rx_meta: [udp::PacketMetadata; UDP_PACKETS],
    udp_rx: [u8; UDP_BUFFER],
    udp_tx_meta: [udp::PacketMetadata; UDP_PACKETS],
    udp_tx: [u8; UDP_BUFFER],
    tcp_rx: [u8; TCP_ECHO_BUFFER],
    tcp_tx: [u8; TCP_ECHO_BUFFER],
    http_rx: [[u8; HTTP_RX]; HTTP_SOCKETS],
    http_tx: [[u8; HTTP_TX]; HTTP_SOCKETS],
}

impl Default for AppStorage<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl AppStorage<'_> {
    /// Empty storage.
    pub const fn new() -> Self {
        Self {
            sockets: [SocketStorage::EMPTY; SOCKETS],
            udp_rx_meta: [udp::PacketMetadata::EMPTY; UDP_PACKETS],
            udp_rx: [0; UDP_BUFFER],
            udp_tx_meta: [udp::PacketMetadata::EMPTY; UDP_PACKETS],
            udp_tx: [0; UDP_BUFFER],
            tcp_rx: [0; TCP_ECHO_BUFFER],
            tcp_tx: [0; TCP_ECHO_BUFFER],
            http_rx: [[0; HTTP_RX]; HTTP_SOCKETS],
            http_tx: [[0; HTTP_TX]; HTTP_SOCKETS],
        }
    }
}

/// How the interface gets its address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addressing {
    /// Ask a DHCP server; [`NetEvent::Leased`] reports the lease.
    Dhcp,
    /// A fixed address and optional default gateway.
    Static {
        /// Address and prefix.
        address: Ipv4Cidr,
        /// Default gateway.
        gateway: Option<Ipv4Address>,
    },
}

/// What the services are set up with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetConfig {
    /// The interface's MAC (from the driver's info page).
    pub mac: [u8; 6],
    /// How to get an address.
    pub addressing: Addressing,
    /// UDP and TCP echo port.
    pub echo_port: u16,
    /// HTTP port.
    pub http_port: u16,
    /// Seeds TCP's initial sequence numbers and DHCP's transaction ids:
    /// take it from something that differs between boots (the TSC).
    pub random_seed: u64,
}

impl NetConfig {
    /// DHCP, echo on 7, HTTP on 80.
    pub fn new(mac: [u8; 6], random_seed: u64) -> Self {
        Self {
            mac,
            addressing: Addressing::Dhcp,
            echo_port: 7,
            http_port: 80,
            random_seed,
        }
    }
}

/// Something for the component to log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetEvent {
    /// DHCP gave an address.
    Leased {
        /// The address and prefix.
        address: Ipv4Cidr,
        /// The default gateway, if any.
        router: Option<Ipv4Address>,
        /// The first DNS server, if any.
        dns: Option<Ipv4Address>,
    },
    /// The lease ended: no address until the next one.
    LeaseLost,
}

impl fmt::Display for NetEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Leased {
                address,
                router,
                dns,
            } => {
                write!(f, "dhcp: leased {address}")?;
                if let Some(r) = router {
                    write!(f, ", router {r}")?;
                }
                if let Some(d) = dns {
                    write!(f, ", dns {d}")?;
                }
                Ok(())
            }
            Self::LeaseLost => f.write_str("dhcp: lease lost"),
        }
    }
}

/// The interface and its services.
pub struct NetApps<'a> {
    iface: Interface,
    sockets: SocketSet<'a>,
    config: NetConfig,
    dhcp: Option<SocketHandle>,
    /// DHCP holds a lease.
    leased: bool,
    udp: SocketHandle,
    tcp: SocketHandle,
    tcp_was_open: bool,
    http: [(SocketHandle, HttpConn); HTTP_SOCKETS],
    status: Snapshot,
    served: ServiceCounters,
    events: heapless::Deque<NetEvent, 4>,
    scratch: [u8; 1536],
}

impl<'a> NetApps<'a> {
    /// The services over `storage`, on an interface with `config`'s MAC.
    pub fn new(
        config: NetConfig,
        storage: &'a mut AppStorage<'a>,
        device: &mut impl Device,
        now: Instant,
    ) -> Self {
        let mut iface_config = Config::new(HardwareAddress::Ethernet(EthernetAddress(config.mac)));
        iface_config.random_seed = config.random_seed;
        let mut iface = Interface::new(iface_config, device, now);
        let AppStorage {
            sockets,
            udp_rx_meta,
            udp_rx,
            udp_tx_meta,
            udp_tx,
            tcp_rx,
            tcp_tx,
            http_rx,
            http_tx,
        } = storage;
        let mut set = SocketSet::new(&mut sockets[..]);
        let dhcp = match config.addressing {
            Addressing::Dhcp => Some(set.add(dhcpv4::Socket::new())),
            Addressing::Static { address, gateway } => {
                iface.update_ip_addrs(|a| {
                    // Room for one address: the interface holds at least one.
                    let _ = a.push(IpCidr::Ipv4(address));
                });
                if let Some(gw) = gateway {
                    // Only fails when the route table is full; it is empty.
                    let _ = iface.routes_mut().add_default_ipv4_route(gw);
                }
                None
            }
        };
        let udp = set.add(udp::Socket::new(
            udp::PacketBuffer::new(&mut udp_rx_meta[..], &mut udp_rx[..]),
            udp::PacketBuffer::new(&mut udp_tx_meta[..], &mut udp_tx[..]),
        ));
        let tcp = set.add(tcp::Socket::new(
            tcp::SocketBuffer::new(&mut tcp_rx[..]),
            tcp::SocketBuffer::new(&mut tcp_tx[..]),
        ));
        let mut http_rx = http_rx.iter_mut();
        let mut http_tx = http_tx.iter_mut();
        let http = core::array::from_fn(|_| {
            let (rx, tx) = match (http_rx.next(), http_tx.next()) {
                (Some(rx), Some(tx)) => (&mut rx[..], &mut tx[..]),
                // The arrays have HTTP_SOCKETS elements, as many as calls.
                _ => (&mut [][..], &mut [][..]),
            };
            let socket = tcp::Socket::new(tcp::SocketBuffer::new(rx), tcp::SocketBuffer::new(tx));
            (set.add(socket), HttpConn::new())
        });
        Self {
            iface,
            sockets: set,
            config,
            dhcp,
            leased: false,
            udp,
            tcp,
            tcp_was_open: false,
            http,
            status: Snapshot::default(),
            served: ServiceCounters::default(),
            events: heapless::Deque::new(),
            scratch: [0; 1536],
        }
    }

    /// The status the HTTP server shows; update it as the system changes.
    pub fn status_mut(&mut self) -> &mut Snapshot {
        &mut self.status
    }

    /// What the services counted.
    pub fn served(&self) -> ServiceCounters {
        self.served
    }

    /// The interface's IPv4 address, once it has one.
    pub fn address(&self) -> Option<Ipv4Address> {
        self.iface.ipv4_addr()
    }

    /// The next event to log.
    pub fn take_event(&mut self) -> Option<NetEvent> {
        self.events.pop_front()
    }

    /// Moves frames and serves every socket; `true` if anything happened.
    pub fn poll(&mut self, now: Instant, device: &mut impl Device) -> bool {
        let ingress =
            self.iface.poll(now, device, &mut self.sockets) == PollResult::SocketStateChanged;
        let mut work = self.dhcp();
        work |= self.udp_echo();
        work |= self.tcp_echo();
        work |= self.http();
        // Send what the services just queued without waiting for the next
        // call.
        let egress =
            self.iface.poll(now, device, &mut self.sockets) == PollResult::SocketStateChanged;
        ingress || work || egress
    }

    /// How long the interface may sleep before its next timer (`None`: until
    /// a frame arrives).
    pub fn poll_delay(&mut self, now: Instant) -> Option<Duration> {
        self.iface.poll_delay(now, &self.sockets)
    }

    fn dhcp(&mut self) -> bool {
        let Some(handle) = self.dhcp else {
            return false;
        };
        let event = match self.sockets.get_mut::<dhcpv4::Socket>(handle).poll() {
            None => return false,
            Some(dhcpv4::Event::Configured(c)) => NetEvent::Leased {
                address: c.address,
                router: c.router,
                dns: c.dns_servers.first().copied(),
            },
            Some(dhcpv4::Event::Deconfigured) => NetEvent::LeaseLost,
        };
        match event {
            NetEvent::Leased {
                address, router, ..
            } => {
                self.leased = true;
                self.iface.update_ip_addrs(|a| {
                    a.clear();
                    let _ = a.push(IpCidr::Ipv4(address));
                });
                match router {
                    Some(r) => {
                        let _ = self.iface.routes_mut().add_default_ipv4_route(r);
                    }
                    None => {
                        self.iface.routes_mut().remove_default_ipv4_route();
                    }
                }
            }
            NetEvent::LeaseLost => {
                self.iface.update_ip_addrs(|a| a.clear());
                self.iface.routes_mut().remove_default_ipv4_route();
                // The socket starts out deconfigured: only a lease that
                // existed can be lost.
                if !core::mem::replace(&mut self.leased, false) {
                    return true;
                }
            }
        }
        if self.events.is_full() {
            self.events.pop_front();
        }
        // Room made just above.
        let _ = self.events.push_back(event);
        true
    }

    fn udp_echo(&mut self) -> bool {
        let s = self.sockets.get_mut::<udp::Socket>(self.udp);
        if !s.is_open() {
            // Cannot fail: the port is non-zero... unless configured 0,
            // which leaves echo off.
            let _ = s.bind(self.config.echo_port);
        }
        let mut work = false;
        while s.can_send() {
            let Ok((n, meta)) = s.recv_slice(&mut self.scratch) else {
                break;
            };
            // A datagram that does not fit the send buffer is dropped, as
            // UDP may.
            if s.send_slice(&self.scratch[..n], meta).is_ok() {
                self.served.udp_echoed += 1;
            }
            work = true;
        }
        work
    }

    fn tcp_echo(&mut self) -> bool {
        let s = self.sockets.get_mut::<tcp::Socket>(self.tcp);
        if !s.is_open() {
            // Closed, or done with a connection (TIME-WAIT is skipped: the
            // next client may connect at once).
            let _ = s.listen(self.config.echo_port);
            self.tcp_was_open = false;
            return false;
        }
        if s.is_active() && !self.tcp_was_open {
            self.tcp_was_open = true;
            self.served.tcp_connections += 1;
        }
        let mut work = false;
        // Echo only what the send buffer can take now; the rest waits in
        // the receive buffer, whose shrinking window slows the peer down.
        while s.can_recv() && s.can_send() {
            let room = s.send_capacity() - s.send_queue();
            let scratch = &mut self.scratch;
            let n = s
                .recv(|buf| {
                    let n = buf.len().min(room).min(scratch.len());
                    scratch[..n].copy_from_slice(&buf[..n]);
                    (n, n)
                })
                .unwrap_or(0);
            if n == 0 {
                break;
            }
            // Fits: `n <= room`.
            let _ = s.send_slice(&self.scratch[..n]);
            self.served.tcp_echoed += n as u64;
            work = true;
        }
        // The peer finished sending and everything it sent is echoed.
        if !s.may_recv() && s.may_send() {
            s.close();
            work = true;
        }
        work
    }

    fn http(&mut self) -> bool {
        let mut work = false;
        let address = self.iface.ipv4_addr();
        for (handle, conn) in &mut self.http {
            let s = self.sockets.get_mut::<tcp::Socket>(*handle);
            let (status, served) = (&self.status, &self.served);
            let addr = Addr(address);
            let answered = conn.poll(s, self.config.http_port, |route, body| match route {
                Route::Status => status::render_json(body, status, &addr, served),
                _ => status::render_html(body, status, &addr, served),
            });
            if answered {
                self.served.http_requests += 1;
                work = true;
            }
        }
        work
    }
}

/// The interface's address for display, or "no address".
struct Addr(Option<Ipv4Address>);

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(a) => write!(f, "{a}"),
            None => f.write_str("no address"),
        }
    }
}
