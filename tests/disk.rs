//! Disks made by `paddock build` (`[[disk]]`), checked with mtools, which
//! nobody here wrote: a folder's files arrive in the FAT volume byte for
//! byte; an image is copied and the original left alone; a missing folder
//! is an error at its line of the description.

use paddock::disk;
use paddock_caps::Description;
use paddock_tests::mtype;
use std::fs;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let dir = paddock_tests::workspace()
        .join("target/test-disk")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn description(dir: &Path, disk: &str) -> Description {
    let text = format!(
        r#"[system]
name = "disk-test"
kernel = "debug"
iommu = true
qemu_machine = "q35"
qemu_devices = ["intel-iommu", "virtio-blk-pci,drive=files,iommu_platform=on,disable-legacy=on"]

[[disk]]
name = "files"
{disk}
"#
    );
    let path = dir.join("disk-test.toml");
    fs::write(&path, &text).unwrap();
    paddock_caps::load(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .description
}

#[test]
fn a_folder_becomes_a_fat_volume_with_the_same_bytes() {
    let dir = scratch("folder");
    let files = dir.join("files");
    fs::create_dir_all(&files).unwrap();
    let mut seed = 0x1234_5678u32;
    let mut random = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect()
    };
    let contents = [
        ("EMPTY.BIN", random(0)),
        ("ONE.BIN", random(1)),
        ("SECTOR.BIN", random(512)),
        ("BIG.BIN", random(70_000)),
    ];
    for (name, bytes) in &contents {
        fs::write(files.join(name), bytes).unwrap();
    }
    let d = description(&dir, "folder = \"files\"\nsize_mib = 40");
    let out = scratch("folder-out");
    let built = disk::make_all(&d, &out, None).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(built.len(), 1);
    assert_eq!(built[0].file, out.join("files.img"));
    // A master boot record, then the 40 MiB partition from 1 MiB.
    assert_eq!(fs::metadata(&built[0].file).unwrap().len(), 41 << 20);
    let head = fs::read(&built[0].file).unwrap();
    assert_eq!(&head[510..512], &[0x55, 0xAA]);
    assert_eq!(head[446 + 4], 0x0C, "FAT32 with LBA");
    for (name, bytes) in &contents {
        assert_eq!(&mtype(&built[0].file, name), bytes, "{name}");
    }
    let args = disk::drive_args(&built[0]);
    assert_eq!(
        args[1],
        format!(
            "file={},if=none,id=files,format=raw",
            built[0].file.display()
        )
    );

    // --disk-from: another folder packed in place of the description's.
    let other = dir.join("other");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join("HELLO.TXT"), b"hello\n").unwrap();
    let built = disk::make_all(&d, &out, Some(&other)).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(mtype(&built[0].file, "HELLO.TXT"), b"hello\n");
}

#[test]
fn an_image_is_copied_and_the_original_never_written() {
    let dir = scratch("image");
    let original = dir.join("disk.img");
    fs::write(&original, vec![0xA5u8; 4096]).unwrap();
    let d = description(&dir, "image = \"disk.img\"");
    let out = scratch("image-out");
    let built = disk::make_all(&d, &out, None).unwrap_or_else(|e| panic!("{e:#}"));
    fs::write(&built[0].file, b"the guest wrote here").unwrap();
    assert_eq!(fs::read(&original).unwrap(), vec![0xA5u8; 4096]);
}

#[test]
fn a_missing_folder_is_named_at_its_line() {
    let dir = scratch("missing");
    let d = description(&dir, "folder = \"nowhere\"");
    let e = disk::make_all(&d, &scratch("missing-out"), None).unwrap_err();
    let text = format!("{e:#}");
    assert!(text.contains("disk `files`: folder"), "{text}");
    assert!(text.contains("nowhere does not exist"), "{text}");
    assert!(text.contains("disk-test.toml:10:10"), "{text}");
    // --disk-from needs exactly one folder disk.
    let d = description(&dir, "image = \"disk.img\"");
    let e = disk::make_all(&d, &scratch("missing-out"), Some(&dir)).unwrap_err();
    assert!(
        format!("{e:#}").contains("exactly one [[disk]] made from a folder"),
        "{e:#}"
    );
}
