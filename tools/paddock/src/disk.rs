//! The disks of a description (`[[disk]]`): each becomes a raw image file
//! in the image's folder, made anew on every build, so that a run starts
//! from what the description says and a guest's writes never reach the
//! user's own files.
//!
//! A `folder` is packed into a new FAT volume with Debian's `dosfstools`
//! (`mkfs.fat`) and `mtools` (`mcopy`), in the one partition of a master
//! boot record (embedded-sdmmc, the guest's FAT client, reads volumes
//! through the partition table; Linux and mtools read either); an `image`
//! is copied. Paths are
//! relative to the description. The guest's FAT client reads 8.3 names
//! only: a longer name is stored by `mcopy` with a long-name entry and
//! shows in the guest under its short alias (`LONGNA~1.TXT`).

use anyhow::{bail, Context, Result};
use paddock_caps::description::{Disk, DEFAULT_DISK_MIB, DEFAULT_FAT};
use paddock_caps::diagnostics::Error;
use paddock_caps::{Description, Diagnostics};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A disk made for a run: QEMU's drive id and the image file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltDisk {
    pub name: String,
    pub file: PathBuf,
}

/// The QEMU arguments that back drive `name` with `file`.
pub fn drive_args(disk: &BuiltDisk) -> Vec<String> {
    vec![
        "-drive".to_string(),
        format!(
            "file={},if=none,id={},format=raw",
            disk.file.display(),
            disk.name
        ),
    ]
}

/// Makes every disk of `description` in `dir`. `folder_override` packs
/// that folder instead of the description's, for a description with
/// exactly one folder disk (`./simulate --disk-from DIR`).
pub fn make_all(
    description: &Description,
    dir: &Path,
    folder_override: Option<&Path>,
) -> Result<Vec<BuiltDisk>> {
    let base = description
        .source
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    if let Some(folder) = folder_override {
        let folders = description
            .disks
            .iter()
            .filter(|d| d.folder.is_some())
            .count();
        if folders != 1 {
            bail!(
                "--disk-from {} needs a description with exactly one [[disk]] made from a folder; {} has {folders}",
                folder.display(),
                description.source.path.display()
            );
        }
    }
    let mut built = vec![];
    for disk in &description.disks {
        let name = disk.name.get_ref().clone();
        let file = dir.join(format!("{name}.img"));
        match (&disk.folder, &disk.image) {
            (Some(folder), _) => {
                let source = match folder_override {
                    Some(path) => path.to_path_buf(),
                    None => base.join(folder.get_ref()),
                };
                if !source.is_dir() {
                    return Err(at(
                        description,
                        folder.span(),
                        format!("disk `{name}`: folder {} does not exist", source.display()),
                        "this folder",
                    ));
                }
                pack(disk, &source, &file)?;
            }
            (None, Some(image)) => {
                let source = base.join(image.get_ref());
                if !source.is_file() {
                    return Err(at(
                        description,
                        image.span(),
                        format!("disk `{name}`: image {} does not exist", source.display()),
                        "this image",
                    ));
                }
                fs::copy(&source, &file).with_context(|| {
                    format!("copying {} to {}", source.display(), file.display())
                })?;
            }
            (None, None) => bail!("disk `{name}` has no source"),
        }
        built.push(BuiltDisk { name, file });
    }
    Ok(built)
}

/// An error at `span` of the description, rendered with its file and line.
fn at(
    description: &Description,
    span: std::ops::Range<usize>,
    message: String,
    label: &str,
) -> anyhow::Error {
    let source = &description.source;
    anyhow::anyhow!(
        "{}",
        Diagnostics::new(
            &source.path,
            &source.text,
            vec![Error::new(message).at(span, label)]
        )
    )
}

/// Where the partition starts, in 512-byte sectors: 1 MiB, as partitioning
/// tools align it.
pub const PARTITION_START: u64 = 2048;

/// The mtools image name of a packed disk's partition (`file@@offset`).
pub fn partition_spec(file: &Path) -> String {
    format!("{}@@{}", file.display(), PARTITION_START * 512)
}

/// A master boot record with one partition of `sectors` sectors from
/// [`PARTITION_START`], of MBR type `kind`: four 16-byte entries at 446,
/// the signature 0x55AA at 510.
fn master_boot_record(sectors: u64, kind: u8) -> [u8; 512] {
    let mut mbr = [0u8; 512];
    let entry = &mut mbr[446..462];
    entry[4] = kind;
    entry[8..12].copy_from_slice(&(PARTITION_START as u32).to_le_bytes());
    entry[12..16].copy_from_slice(&(sectors as u32).to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xAA;
    mbr
}

/// A new disk at `file`: a master boot record and one FAT partition
/// holding the files of `folder` (and its subfolders).
fn pack(disk: &Disk, folder: &Path, file: &Path) -> Result<()> {
    let size_mib = disk
        .size_mib
        .as_ref()
        .map_or(DEFAULT_DISK_MIB, |v| *v.get_ref());
    let fat = disk.fat.as_ref().map_or(DEFAULT_FAT, |v| *v.get_ref());
    // MBR partition types with LBA addressing.
    let kind = if fat == 16 { 0x0E } else { 0x0C };
    let sectors = (size_mib as u64) << 11;
    let mut bytes = vec![0u8; ((PARTITION_START + sectors) * 512) as usize];
    bytes[..512].copy_from_slice(&master_boot_record(sectors, kind));
    fs::write(file, &bytes).with_context(|| format!("writing {}", file.display()))?;
    // A fixed volume id: the same folder gives the same image.
    run(Command::new("mkfs.fat")
        .args([
            "-F",
            &fat.to_string(),
            "-i",
            "50414444",
            "-n",
            "PADDOCK",
            "--offset",
        ])
        .arg(PARTITION_START.to_string())
        .arg(file)
        .arg((size_mib * 1024).to_string()))?;
    let mut entries: Vec<PathBuf> = fs::read_dir(folder)
        .with_context(|| format!("reading {}", folder.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    if entries.is_empty() {
        return Ok(());
    }
    run(Command::new("mcopy")
        .env("MTOOLS_SKIP_CHECK", "1")
        .args(["-s", "-p", "-Q", "-i"])
        .arg(partition_spec(file))
        .args(&entries)
        .arg("::/"))
}

fn run(command: &mut Command) -> Result<()> {
    let program = command.get_program().to_string_lossy().into_owned();
    let out = command
        .output()
        .with_context(|| format!("running {program} (Debian's dosfstools and mtools; ./simulate and ./test install them)"))?;
    if !out.status.success() {
        bail!(
            "{program} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}
