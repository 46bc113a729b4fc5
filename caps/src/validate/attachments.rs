//! What QEMU devices attach by id: a disk (`drive=<id>`) or a network
//! (`netdev=<id>`). Each declared one must be attached exactly once, and
//! each id a device names must be declared.

use super::*;

/// The value of `<key>=` in a QEMU `-device` argument (after its driver).
pub fn device_option<'a>(device: &'a str, key: &str) -> Option<&'a str> {
    device
        .split(',')
        .skip(1)
        .find_map(|o| o.strip_prefix(key)?.strip_prefix('='))
}

/// A kind of thing QEMU devices attach by id.
pub(super) struct Attachable<'k> {
    /// The `-device` option that names it: `drive`, `netdev`.
    pub key: &'k str,
    /// What the error calls an unknown one: `drive`, `network`.
    pub what: &'k str,
    /// Its table: `[[disk]]`, `[[network]]`.
    pub table: &'k str,
    /// What to add, for the id: "add a ... named `<id>`".
    pub help: fn(&str) -> String,
}

impl Validator<'_> {
    /// How many QEMU devices attach `id` with `key=`.
    pub(super) fn attachments(&self, key: &str, id: &str) -> usize {
        self.d
            .system
            .qemu_devices
            .iter()
            .filter(|dev| device_option(dev, key) == Some(id))
            .count()
    }

    /// An error for every QEMU device attaching an id `declared` lacks.
    pub(super) fn unknown_attachments(
        &mut self,
        kind: &Attachable,
        declared: impl Fn(&str) -> bool,
    ) {
        let d = self.d;
        for (k, dev) in d.system.qemu_devices.iter().enumerate() {
            let Some(id) = device_option(dev, kind.key) else {
                continue;
            };
            if declared(id) {
                continue;
            }
            let at = d
                .system
                .spans
                .qemu_device
                .get(k)
                .cloned()
                .unwrap_or_default();
            self.push(
                Error::new(format!(
                    "QEMU device `{dev}` attaches {} `{id}`, which no {} declares",
                    kind.what, kind.table
                ))
                .at(at, format!("unknown {}", kind.what))
                .help((kind.help)(id)),
            );
        }
    }
}
