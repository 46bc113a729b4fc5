//! QEMU user-mode networks (`[[network]]`): the `-netdev user` arguments,
//! with every forwarded port bound to the host's loopback address only,
//! and the host ports chosen for a run.
//!
//! The host reaches the guest only at `127.0.0.1:<host port>`. The guest
//! is not `restrict=on`: QEMU's user network then drops the guest's UDP
//! replies to a forwarded port (measured: UDP echo answered nothing), so
//! the guest can reach out through QEMU's NAT as any user-network guest.

use crate::image::Image;
use anyhow::{Context, Result};
use std::fmt;
use std::net::{TcpListener, UdpSocket};

/// One forwarded port of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forward {
    /// `tcp` or `udp`.
    pub protocol: String,
    pub guest: u16,
    /// The port on 127.0.0.1; 0 lets QEMU pick one (only in the command
    /// written next to an image, where nobody needs to know it).
    pub host: u16,
}

impl fmt::Display for Forward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "forward {}/{} -> 127.0.0.1:{}",
            self.protocol, self.guest, self.host
        )
    }
}

/// A network of an image as its description declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    /// The netdev id a `qemu_devices` entry names.
    pub name: String,
    /// Host port 0 where the description gives none.
    pub forwards: Vec<Forward>,
}

impl Network {
    /// The description's networks (validated: ports are in range).
    pub fn from_description(d: &paddock_caps::Description) -> Vec<Network> {
        d.networks
            .iter()
            .map(|n| Network {
                name: n.name.get_ref().clone(),
                forwards: n
                    .forward
                    .iter()
                    .map(|f| {
                        let f = f.get_ref();
                        Forward {
                            protocol: f.protocol.get_ref().clone(),
                            guest: u16::try_from(*f.guest.get_ref()).unwrap_or(0),
                            host: f
                                .host
                                .as_ref()
                                .and_then(|h| u16::try_from(*h.get_ref()).ok())
                                .unwrap_or(0),
                        }
                    })
                    .collect(),
            })
            .collect()
    }

    /// `-netdev user,id=<name>,hostfwd=...`.
    pub fn args(&self) -> [String; 2] {
        let mut netdev = format!("user,id={}", self.name);
        for f in &self.forwards {
            netdev.push_str(&format!(
                ",hostfwd={}:127.0.0.1:{}-:{}",
                f.protocol, f.host, f.guest
            ));
        }
        ["-netdev".into(), netdev]
    }
}

/// The image's networks with a free loopback port for every forward the
/// description leaves open. The port is free when chosen; another program
/// could take it before QEMU binds it, and QEMU then fails to start, saying
/// which port.
pub fn choose_ports(image: &Image) -> Result<Vec<Network>> {
    let mut chosen = image.networks.clone();
    // Hold every probe open until all are chosen, so no two forwards get
    // the same port.
    let mut tcp: Vec<TcpListener> = Vec::new();
    let mut udp: Vec<UdpSocket> = Vec::new();
    for net in &mut chosen {
        for f in &mut net.forwards {
            if f.host != 0 {
                continue;
            }
            let context = || format!("choosing a host port for {}/{}", f.protocol, f.guest);
            f.host = match f.protocol.as_str() {
                "udp" => {
                    let s = UdpSocket::bind("127.0.0.1:0").with_context(context)?;
                    let port = s.local_addr()?.port();
                    udp.push(s);
                    port
                }
                _ => {
                    let s = TcpListener::bind("127.0.0.1:0").with_context(context)?;
                    let port = s.local_addr()?.port();
                    tcp.push(s);
                    port
                }
            };
        }
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_bind_loopback_only_and_print_as_documented() {
        let net = Network {
            name: "net0".into(),
            forwards: vec![
                Forward {
                    protocol: "tcp".into(),
                    guest: 80,
                    host: 8080,
                },
                Forward {
                    protocol: "udp".into(),
                    guest: 7,
                    host: 9007,
                },
            ],
        };
        assert_eq!(
            net.args()[1],
            "user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:127.0.0.1:9007-:7"
        );
        assert_eq!(
            net.forwards[0].to_string(),
            "forward tcp/80 -> 127.0.0.1:8080"
        );
    }
}
