//! The client's services end to end: smoltcp on the client over
//! `ClientQueues`, frames moved by `DriverQueues` and a fake NIC, and a
//! smoltcp peer host on the wire.

mod common;

use common::{leak_buf, Rng, World, CLIENT_IP, CLIENT_MAC, PEER_IP, PEER_MAC};
use paddock_net::smoltcp;
use smoltcp::socket::{tcp, udp};
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    EthernetRepr, IpAddress, IpEndpoint,
};

#[test]
fn arp_request_answered_with_the_published_mac() {
    let mut w = World::with_static_address();
    let arp = ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Request,
        source_hardware_addr: EthernetAddress(PEER_MAC),
        source_protocol_addr: PEER_IP,
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: CLIENT_IP,
    };
    let eth = EthernetRepr {
        src_addr: EthernetAddress(PEER_MAC),
        dst_addr: EthernetAddress::BROADCAST,
        ethertype: EthernetProtocol::Arp,
    };
    let mut frame = vec![0u8; eth.buffer_len() + arp.buffer_len()];
    let mut f = EthernetFrame::new_unchecked(&mut frame[..]);
    eth.emit(&mut f);
    arp.emit(&mut ArpPacket::new_unchecked(f.payload_mut()));
    w.wire.to_client.push_back(frame);

    // Drive the client and driver only: the peer interface would consume
    // the reply.
    let mut reply = None;
    for _ in 0..10 {
        w.now += smoltcp::time::Duration::from_millis(1);
        w.apps.poll(w.now, &mut w.client);
        let _ = w.client.publish();
        common::nic_step(
            &mut w.driver,
            w.shared.window,
            &mut w.wire.to_client,
            &mut w.wire.from_client,
        )
        .unwrap();
        if let Some(f) = w.wire.from_client.pop_front() {
            reply = Some(f);
            break;
        }
    }
    let reply = reply.expect("an ARP reply");
    let f = EthernetFrame::new_checked(&reply[..]).unwrap();
    assert_eq!(f.ethertype(), EthernetProtocol::Arp);
    assert_eq!(f.src_addr(), EthernetAddress(CLIENT_MAC));
    assert_eq!(f.dst_addr(), EthernetAddress(PEER_MAC));
    let arp = ArpRepr::parse(&ArpPacket::new_checked(f.payload()).unwrap()).unwrap();
    let ArpRepr::EthernetIpv4 {
        operation,
        source_hardware_addr,
        source_protocol_addr,
        ..
    } = arp
    else {
        panic!("not an Ethernet/IPv4 ARP reply")
    };
    assert_eq!(operation, ArpOperation::Reply);
    assert_eq!(source_hardware_addr, EthernetAddress(CLIENT_MAC));
    assert_eq!(source_protocol_addr, CLIENT_IP);
    assert_eq!(w.driver.stats().rx_frames, 1);
    assert_eq!(w.driver.stats().tx_frames, 1);
}

#[test]
fn udp_echo_of_many_datagrams() {
    let mut w = World::with_static_address();
    let socket = udp::Socket::new(
        udp::PacketBuffer::new(
            vec![udp::PacketMetadata::EMPTY; 8].leak(),
            leak_buf(16 * 1024),
        ),
        udp::PacketBuffer::new(
            vec![udp::PacketMetadata::EMPTY; 8].leak(),
            leak_buf(16 * 1024),
        ),
    );
    let h = w.peer_sockets.add(socket);
    w.peer_sockets.get_mut::<udp::Socket>(h).bind(5000).unwrap();
    let to = IpEndpoint::new(IpAddress::Ipv4(CLIENT_IP), 7);
    let mut rng = Rng(1);
    for i in 0..300usize {
        let payload = rng.bytes(1 + (i * 37) % 1472);
        w.peer_sockets
            .get_mut::<udp::Socket>(h)
            .send_slice(&payload, to)
            .unwrap();
        let mut got = None;
        w.run_until(200, |w| {
            let s = w.peer_sockets.get_mut::<udp::Socket>(h);
            if let Ok((data, meta)) = s.recv() {
                assert_eq!(meta.endpoint, to);
                got = Some(data.to_vec());
            }
            got.is_some()
        });
        assert_eq!(got.unwrap(), payload, "datagram {i}");
    }
    assert_eq!(w.apps.served().udp_echoed, 300);
}

/// Sends `data` to the echo port over one connection, reading the echo
/// as it comes; returns what came back once the client has closed.
fn tcp_echo(
    w: &mut World,
    h: smoltcp::iface::SocketHandle,
    local_port: u16,
    data: &[u8],
) -> Vec<u8> {
    let s = w.peer_sockets.get_mut::<tcp::Socket>(h);
    s.connect(w.peer.context(), (CLIENT_IP, 7), local_port)
        .unwrap();
    let (mut sent, mut back, mut closed) = (0, Vec::with_capacity(data.len()), false);
    w.run_until(200_000, |w| {
        let s = w.peer_sockets.get_mut::<tcp::Socket>(h);
        if s.can_send() && sent < data.len() {
            sent += s.send_slice(&data[sent..]).unwrap();
        }
        if sent == data.len() && !closed && s.send_queue() == 0 && s.may_send() {
            s.close();
            closed = true;
        }
        while s.can_recv() {
            s.recv(|b| {
                back.extend_from_slice(b);
                (b.len(), ())
            })
            .unwrap();
        }
        // Done once both sides have closed and everything came back.
        !s.is_open() || (closed && !s.may_recv() && back.len() == data.len())
    });
    // Let the last ACKs settle so the client side is back to listening.
    for _ in 0..50 {
        w.step();
    }
    back
}

fn peer_tcp(w: &mut World, rx: usize, tx: usize) -> smoltcp::iface::SocketHandle {
    let socket = tcp::Socket::new(
        tcp::SocketBuffer::new(leak_buf(rx)),
        tcp::SocketBuffer::new(leak_buf(tx)),
    );
    w.peer_sockets.add(socket)
}

#[test]
fn tcp_echo_of_a_mebibyte_and_then_more_connections() {
    let mut w = World::with_static_address();
    let h = peer_tcp(&mut w, 64 * 1024, 64 * 1024);
    let data = Rng(0x5eed).bytes(1 << 20);
    let back = tcp_echo(&mut w, h, 40000, &data);
    assert_eq!(back.len(), data.len());
    assert!(back == data, "echoed bytes differ");
    // It all went through the queues, both ways.
    let stats = w.driver.stats();
    assert!(
        stats.rx_bytes > 1 << 20 && stats.tx_bytes > 1 << 20,
        "{stats:?}"
    );
    for (i, port) in [40001u16, 40002].into_iter().enumerate() {
        let w_ref = &mut w;
        let s = w_ref.peer_sockets.get_mut::<tcp::Socket>(h);
        s.abort();
        w_ref.step();
        let data = Rng(i as u64 + 7).bytes(20_000 + i * 5000);
        assert!(
            tcp_echo(w_ref, h, port, &data) == data,
            "connection {}",
            i + 2
        );
    }
    assert_eq!(w.apps.served().tcp_connections, 3);
    assert_eq!(w.apps.served().tcp_echoed, (1 << 20) + 20_000 + 25_000);
    assert_eq!(w.driver.refused(), 0);
}

/// Sends `request` to the HTTP port and reads until the server closes.
fn http(w: &mut World, h: smoltcp::iface::SocketHandle, port: u16, request: &[u8]) -> String {
    let s = w.peer_sockets.get_mut::<tcp::Socket>(h);
    s.abort();
    w.step();
    let s = w.peer_sockets.get_mut::<tcp::Socket>(h);
    s.connect(w.peer.context(), (CLIENT_IP, 80), port).unwrap();
    let (mut sent, mut back) = (0, Vec::new());
    w.run_until(10_000, |w| {
        let s = w.peer_sockets.get_mut::<tcp::Socket>(h);
        if s.can_send() && sent < request.len() {
            sent += s.send_slice(&request[sent..]).unwrap();
        }
        while s.can_recv() {
            s.recv(|b| {
                back.extend_from_slice(b);
                (b.len(), ())
            })
            .unwrap();
        }
        if s.state() == tcp::State::CloseWait {
            s.close();
        }
        !s.is_open()
    });
    String::from_utf8(back).unwrap()
}

fn body_of(response: &str) -> &str {
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(body.len(), len, "whole body received");
    body
}

#[test]
fn http_pages_and_errors() {
    let mut w = World::with_static_address();
    let h = peer_tcp(&mut w, 16 * 1024, 4096);

    let r = http(
        &mut w,
        h,
        41000,
        b"GET / HTTP/1.1\r\nHost: 10.0.0.2\r\nUser-Agent: test\r\n\r\n",
    );
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    assert!(r.contains("Connection: close\r\n"));
    let body = body_of(&r);
    assert!(body.contains("<td>virtio-net</td>"), "{body}");
    assert!(body.contains("host-model"));
    assert!(body.ends_with("</html>\n"));

    let r = http(&mut w, h, 41001, b"GET /status HTTP/1.0\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    assert!(r.contains("Content-Type: application/json\r\n"));
    let body = body_of(&r);
    assert!(body.starts_with("{\"system\":\"host-model\""), "{body}");
    assert!(body.contains("\"address\":\"10.0.0.2\""));
    assert!(body.contains("{\"name\":\"net-client\",\"state\":\"running\",\"generation\":0}"));
    assert!(body.contains("\"http_requests\":1"));

    let r = http(&mut w, h, 41002, b"GET /missing HTTP/1.0\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 404 Not Found\r\n"), "{r}");
    body_of(&r);

    let r = http(&mut w, h, 41003, b"HELLO THERE\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{r}");

    let r = http(&mut w, h, 41004, &[b'A'; 3000]);
    assert!(r.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{r}");

    let r = http(&mut w, h, 41005, b"HEAD / HTTP/1.0\r\n\r\n");
    assert!(
        r.starts_with("HTTP/1.1 200 OK\r\n") && r.ends_with("\r\n\r\n"),
        "{r}"
    );
    assert_eq!(w.apps.served().http_requests, 6);
}

/// A one-lease DHCP server on the peer, from smoltcp's wire types.
fn dhcp_answer(request: &[u8]) -> Option<Vec<u8>> {
    use smoltcp::wire::{DhcpMessageType, DhcpPacket, DhcpRepr, Ipv4Address};
    let packet = DhcpPacket::new_checked(request).ok()?;
    let req = DhcpRepr::parse(&packet).ok()?;
    let message_type = match req.message_type {
        DhcpMessageType::Discover => DhcpMessageType::Offer,
        DhcpMessageType::Request => DhcpMessageType::Ack,
        _ => return None,
    };
    let reply = DhcpRepr {
        message_type,
        transaction_id: req.transaction_id,
        secs: 0,
        client_hardware_address: req.client_hardware_address,
        client_ip: Ipv4Address::UNSPECIFIED,
        your_ip: CLIENT_IP,
        server_ip: PEER_IP,
        router: Some(PEER_IP),
        subnet_mask: Some(Ipv4Address::new(255, 255, 255, 0)),
        relay_agent_ip: Ipv4Address::UNSPECIFIED,
        broadcast: false,
        requested_ip: None,
        client_identifier: None,
        server_identifier: Some(PEER_IP),
        parameter_request_list: None,
        dns_servers: None,
        max_size: None,
        lease_duration: Some(3600),
        renew_duration: None,
        rebind_duration: None,
        additional_options: &[],
    };
    let mut out = vec![0; reply.buffer_len()];
    reply
        .emit(&mut DhcpPacket::new_unchecked(&mut out[..]))
        .unwrap();
    Some(out)
}

#[test]
fn dhcp_lease_is_taken_and_reported() {
    use paddock_net::apps::{Addressing, NetEvent};
    use smoltcp::wire::{Ipv4Address, Ipv4Cidr};
    let mut w = World::new(Addressing::Dhcp);
    assert_eq!(w.apps.address(), None);
    let socket = udp::Socket::new(
        udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 4].leak(), leak_buf(4096)),
        udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 4].leak(), leak_buf(4096)),
    );
    let h = w.peer_sockets.add(socket);
    w.peer_sockets.get_mut::<udp::Socket>(h).bind(67).unwrap();
    let mut event = None;
    w.run_until(30_000, |w| {
        let s = w.peer_sockets.get_mut::<udp::Socket>(h);
        if let Ok((data, _)) = s.recv() {
            if let Some(reply) = dhcp_answer(data) {
                let to = IpEndpoint::new(IpAddress::Ipv4(Ipv4Address::BROADCAST), 68);
                s.send_slice(&reply, to).unwrap();
            }
        }
        event = w.apps.take_event();
        event.is_some()
    });
    let event = event.unwrap();
    assert_eq!(
        event,
        NetEvent::Leased {
            address: Ipv4Cidr::new(CLIENT_IP, 24),
            router: Some(PEER_IP),
            dns: None,
        }
    );
    assert_eq!(
        event.to_string(),
        "dhcp: leased 10.0.0.2/24, router 10.0.0.1"
    );
    assert_eq!(w.apps.address(), Some(CLIENT_IP));
}
