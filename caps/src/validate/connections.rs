//! Rings, channels and shared regions: between declared, different
//! components, with sizes the ring layout and the page size allow.

use super::*;
use std::collections::BTreeMap;

// Every slot count validation accepts (a power of two up to
// MAX_RING_SLOTS) is one the ring layout takes.
const _: () = assert!(
    MAX_RING_SLOTS <= paddock_ring::layout::MAX_SLOTS as u64
        && paddock_ring::layout::is_valid_slot_count(MAX_RING_SLOTS as u32)
);

type Connections = (
    Vec<Option<model::Ring>>,
    Vec<Option<model::Channel>>,
    Vec<Option<model::Shared>>,
);

impl Validator<'_> {
    pub(super) fn connections(&mut self) -> Connections {
        let d = self.d;
        let rings = d.rings.iter().map(|r| self.ring(r)).collect();
        let channels = d.channels.iter().map(|c| self.channel(c)).collect();
        let shared = d.shared.iter().map(|s| self.shared(s)).collect();
        (rings, channels, shared)
    }

    fn ring(&mut self, r: &Ring) -> Option<model::Ring> {
        let what = format!("ring `{}`", s(&r.name));
        let producer = self.component_ref(&what, &r.producer);
        let consumer = self.component_ref(&what, &r.consumer);
        if producer.is_some() && producer == consumer {
            self.push(
                Error::new(format!(
                    "ring `{}` joins `{}` to itself",
                    s(&r.name),
                    s(&r.producer)
                ))
                .at(r.consumer.span(), "consumer")
                .also(r.producer.span(), "is also the producer")
                .help("a ring connects two different components"),
            );
        }
        let slots = self.power_of_two(
            "ring slots",
            &r.slots,
            MIN_RING_SLOTS,
            MAX_RING_SLOTS,
            r.name.span(),
        );
        let data_size = self.power_of_two(
            "ring data_size",
            &r.data_size,
            PAGE_SIZE,
            MAX_RING_DATA,
            r.name.span(),
        );
        let slots = u32::try_from(slots?).ok()?;
        Some(model::Ring {
            name: s(&r.name).to_string(),
            producer: producer?,
            consumer: consumer?,
            slots,
            queues_size: Self::queues_size(slots),
            data_size: data_size?,
        })
    }

    /// The two queues (active, then free, as `paddock-ring` lays them
    /// out), page-rounded.
    fn queues_size(slots: u32) -> u64 {
        use paddock_ring::layout::{HEADER_BYTES, SLOT_BYTES};
        let queue = HEADER_BYTES as u64 + u64::from(slots) * SLOT_BYTES as u64;
        (2 * queue).div_ceil(PAGE_SIZE) * PAGE_SIZE
    }

    fn channel(&mut self, ch: &Channel) -> Option<model::Channel> {
        let ends = ch.ends.get_ref();
        if ends.len() != 2 {
            self.push(
                Error::new(format!("channel `{}` has {} ends", s(&ch.name), ends.len()))
                    .at(ch.ends.span(), "not two components")
                    .help("a channel joins exactly two components: `ends = [\"a\", \"b\"]`"),
            );
            return None;
        }
        let what = format!("channel `{}`", s(&ch.name));
        let a = self.component_ref(&what, &ends[0]);
        let b = self.component_ref(&what, &ends[1]);
        if a.is_some() && a == b {
            self.push(
                Error::new(format!(
                    "channel `{}` joins `{}` to itself",
                    s(&ch.name),
                    s(&ends[0])
                ))
                .at(ends[1].span(), "second end")
                .also(ends[0].span(), "is also the first end")
                .help("a channel connects two different components"),
            );
        }
        let server = match &ch.server {
            None => None,
            Some(server) => {
                let at = ends.iter().position(|e| s(e) == s(server));
                if at.is_none() {
                    self.push(
                        Error::new(format!(
                            "channel `{}` is served by `{}`, which is not one of its ends",
                            s(&ch.name),
                            s(server)
                        ))
                        .at(server.span(), "not an end of this channel")
                        .also(ch.ends.span(), "the ends")
                        .help("`server` names the end that receives the other end's calls"),
                    );
                }
                Some(at?)
            }
        };
        Some(model::Channel {
            name: s(&ch.name).to_string(),
            ends: [a?, b?],
            server,
        })
    }

    fn shared(&mut self, sh: &SharedRegion) -> Option<model::Shared> {
        let size = self.pages(
            "shared region size",
            &sh.size,
            false,
            MAX_SHARED,
            sh.name.span(),
        );
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        let mut maps = Some(vec![]);
        for m in &sh.maps {
            let what = format!("shared region `{}`", s(&sh.name));
            let component = self.component_ref(&what, &m.component);
            if component.is_some() {
                if let Some(first) = seen.insert(s(&m.component), m.component.span()) {
                    self.push(
                        Error::new(format!(
                            "`{}` maps shared region `{}` twice",
                            s(&m.component),
                            s(&sh.name)
                        ))
                        .at(m.component.span(), "mapped again here")
                        .also(first, "first mapped here")
                        .help("give each component one mapping with the rights it needs"),
                    );
                }
            }
            let access = match *m.rights.get_ref() {
                Rights::R => Some(model::Access::Read),
                Rights::Rw => Some(model::Access::ReadWrite),
                Rights::Rx => Some(model::Access::ReadExecute),
                Rights::Rwx => {
                    self.push(
                        Error::new(format!(
                            "mapping of `{}` by `{}` is both writable and executable",
                            s(&sh.name),
                            s(&m.component)
                        ))
                        .at(m.rights.span(), "writable and executable")
                        .help("use `rw` for data or `rx` for code, never both"),
                    );
                    None
                }
            };
            match (component, access, maps.as_mut()) {
                (Some(component), Some(access), Some(v)) => {
                    v.push(model::SharedMap { component, access })
                }
                _ => maps = None,
            }
        }
        Some(model::Shared {
            name: s(&sh.name).to_string(),
            size: size?,
            cached: *sh.cached.get_ref(),
            maps: maps?,
        })
    }
}
