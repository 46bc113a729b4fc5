//! `[[disk]]`: named once, one source each, sizes a FAT volume can take,
//! and attached to exactly the QEMU devices that name them.

use super::*;
use std::collections::BTreeMap;

/// FAT16 and FAT32 volume sizes `mkfs.fat` makes with the cluster count
/// its type needs (fewer than 65,525 clusters is not FAT32; fewer than
/// 4,085 is not FAT16).
pub const FAT16_MIB: std::ops::RangeInclusive<i64> = 8..=2047;
pub const FAT32_MIB: std::ops::RangeInclusive<i64> = 36..=8192;

const DISK: super::attachments::Attachable = super::attachments::Attachable {
    key: "drive",
    what: "drive",
    table: "[[disk]]",
    help: |id| format!("add a [[disk]] named `{id}` with a `folder` or an `image`"),
};

impl Validator<'_> {
    pub(super) fn disks(&mut self) {
        let d = self.d;
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for disk in &d.disks {
            let name = disk.name.get_ref().as_str();
            if !self.name("disk name", name, disk.name.span()) {
                continue;
            }
            if let Some(first) = seen.insert(name, disk.name.span()) {
                self.push(
                    Error::new(format!("disk `{name}` is declared twice"))
                        .at(disk.name.span(), "declared again here")
                        .also(first, "first declared here"),
                );
            }
            self.disk_source(disk);
            let attached = self.attachments(DISK.key, name);
            if attached != 1 {
                self.push(
                    Error::new(format!(
                        "disk `{name}` is attached to {attached} QEMU devices, not one"
                    ))
                    .at(disk.name.span(), "this disk")
                    .help(format!("attach it once in [system] qemu_devices, e.g. \"virtio-blk-pci,drive={name},iommu_platform=on,disable-legacy=on\"")),
                );
            }
        }
        self.unknown_attachments(&DISK, |id| {
            d.disks.iter().any(|disk| disk.name.get_ref() == id)
        });
    }

    fn disk_source(&mut self, disk: &Disk) {
        let name = disk.name.get_ref();
        match (&disk.folder, &disk.image) {
            (Some(_), None) => {}
            (None, Some(image)) => {
                for (what, span) in [
                    ("size_mib", disk.size_mib.as_ref().map(|v| v.span())),
                    ("fat", disk.fat.as_ref().map(|v| v.span())),
                ] {
                    if let Some(span) = span {
                        self.push(
                            Error::new(format!("`{what}` of disk `{name}` applies to a packed folder, not to an image"))
                                .at(span, "for a folder only")
                                .also(image.span(), "the disk is this image")
                                .help(format!("remove `{what}`: the image is used at its own size and format")),
                        );
                    }
                }
                return;
            }
            (Some(folder), Some(image)) => {
                self.push(
                    Error::new(format!("disk `{name}` has both a `folder` and an `image`"))
                        .at(image.span(), "an image")
                        .also(folder.span(), "and a folder")
                        .help("give one: a folder to pack into a FAT volume, or an existing image"),
                );
                return;
            }
            (None, None) => {
                self.push(
                    Error::new(format!("disk `{name}` has neither a `folder` nor an `image`"))
                        .at(disk.name.span(), "this disk")
                        .help("give `folder = \"<dir>\"` (packed into a FAT volume) or `image = \"<file>\"` (a raw image, copied)"),
                );
                return;
            }
        }
        let fat = disk.fat.as_ref().map_or(DEFAULT_FAT, |f| *f.get_ref());
        let range = match fat {
            16 => FAT16_MIB,
            32 => FAT32_MIB,
            other => {
                let at = disk.fat.as_ref().map(|f| f.span()).unwrap_or_default();
                self.push(
                    Error::new(format!(
                        "disk `{name}`: FAT{other} is not a FAT this builder makes"
                    ))
                    .at(at, "not 16 or 32")
                    .help("give `fat = 16` or `fat = 32`"),
                );
                return;
            }
        };
        let size = disk
            .size_mib
            .as_ref()
            .map_or(DEFAULT_DISK_MIB, |v| *v.get_ref());
        if !range.contains(&size) {
            let at = disk
                .size_mib
                .as_ref()
                .map(|v| v.span())
                .or_else(|| disk.fat.as_ref().map(|f| f.span()))
                .unwrap_or_else(|| disk.name.span());
            self.push(
                Error::new(format!(
                    "disk `{name}`: a FAT{fat} volume of {size} MiB is outside {}..={} MiB",
                    range.start(),
                    range.end()
                ))
                .at(at, "this size")
                .help(format!(
                    "give `size_mib` between {} and {}",
                    range.start(),
                    range.end()
                )),
            );
        }
    }
}
