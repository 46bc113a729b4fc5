//! `[[network]]`: named once, attached to exactly one QEMU device, and
//! forwarding each guest port once from a distinct host port.

use super::*;
use std::collections::BTreeMap;

const NETWORK: super::attachments::Attachable = super::attachments::Attachable {
    key: "netdev",
    what: "network",
    table: "[[network]]",
    help: |id| format!("add a [[network]] named `{id}`"),
};

/// The protocols QEMU's user network forwards.
pub const PROTOCOLS: [&str; 2] = ["tcp", "udp"];

impl Validator<'_> {
    pub(super) fn networks(&mut self) {
        let d = self.d;
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        let mut hosts: BTreeMap<(String, i64), Span> = BTreeMap::new();
        for net in &d.networks {
            let name = net.name.get_ref().as_str();
            if !self.name("network name", name, net.name.span()) {
                continue;
            }
            if let Some(first) = seen.insert(name, net.name.span()) {
                self.push(
                    Error::new(format!("network `{name}` is declared twice"))
                        .at(net.name.span(), "declared again here")
                        .also(first, "first declared here"),
                );
            }
            let attached = self.attachments(NETWORK.key, name);
            if attached != 1 {
                self.push(
                    Error::new(format!(
                        "network `{name}` is attached to {attached} QEMU devices, not one"
                    ))
                    .at(net.name.span(), "this network")
                    .help(format!("attach it once in [system] qemu_devices, e.g. \"virtio-net-pci,netdev={name},iommu_platform=on,disable-legacy=on\"")),
                );
            }
            let mut guests: BTreeMap<(String, i64), Span> = BTreeMap::new();
            for f in &net.forward {
                self.forward(name, f, &mut guests, &mut hosts);
            }
        }
        self.unknown_attachments(&NETWORK, |id| {
            d.networks.iter().any(|n| n.name.get_ref() == id)
        });
    }

    fn forward(
        &mut self,
        network: &str,
        f: &Spanned<Forward>,
        guests: &mut BTreeMap<(String, i64), Span>,
        hosts: &mut BTreeMap<(String, i64), Span>,
    ) {
        let protocol = f.get_ref().protocol.get_ref().as_str();
        if !PROTOCOLS.contains(&protocol) {
            self.push(
                Error::new(format!(
                    "network `{network}`: protocol `{protocol}` is not one QEMU forwards"
                ))
                .at(f.get_ref().protocol.span(), "not tcp or udp")
                .help("give `protocol = \"tcp\"` or `protocol = \"udp\"`"),
            );
            return;
        }
        let ports = [
            ("guest", Some(&f.get_ref().guest)),
            ("host", f.get_ref().host.as_ref()),
        ];
        let mut ok = true;
        for (which, port) in ports {
            let Some(port) = port else { continue };
            if !(1..=65535).contains(port.get_ref()) {
                self.push(
                    Error::new(format!(
                        "network `{network}`: {which} port {} is outside 1..=65535",
                        port.get_ref()
                    ))
                    .at(port.span(), "not a port"),
                );
                ok = false;
            }
        }
        if !ok {
            return;
        }
        let guest = (protocol.to_string(), *f.get_ref().guest.get_ref());
        if let Some(first) = guests.insert(guest.clone(), f.span()) {
            self.push(
                Error::new(format!(
                    "network `{network}` forwards {protocol}/{} twice",
                    guest.1
                ))
                .at(f.span(), "forwarded again here")
                .also(first, "first forwarded here"),
            );
        }
        if let Some(host) = &f.get_ref().host {
            let key = (protocol.to_string(), *host.get_ref());
            if let Some(first) = hosts.insert(key, host.span()) {
                self.push(
                    Error::new(format!(
                        "host port {protocol}/{} is forwarded twice",
                        host.get_ref()
                    ))
                    .at(host.span(), "used again here")
                    .also(first, "first used here")
                    .help("give another `host` port, or none to have one chosen at each boot"),
                );
            }
        }
    }
}
