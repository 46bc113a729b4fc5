//! Reading a component's program: an ELF64 x86_64 executable, static, with
//! PT_LOAD segments only where memory is concerned. Every field is checked
//! against the file before use; a bad file is an error value naming what is
//! wrong, never a panic.

/// Why a program was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    TooShort,
    NotElf64LittleEndian,
    NotX86_64Executable,
    BadProgramHeaders,
    /// A segment's file bytes lie outside the file, or memsz < filesz.
    BadSegment {
        index: usize,
    },
    /// A segment is both writable and executable.
    WritableAndExecutable {
        index: usize,
    },
}

impl core::fmt::Display for ElfError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ElfError::TooShort => f.write_str("truncated ELF file"),
            ElfError::NotElf64LittleEndian => f.write_str("not a little-endian ELF64 file"),
            ElfError::NotX86_64Executable => f.write_str("not an x86_64 executable"),
            ElfError::BadProgramHeaders => f.write_str("program header table out of bounds"),
            ElfError::BadSegment { index } => write!(f, "segment {index} out of bounds"),
            ElfError::WritableAndExecutable { index } => {
                write!(f, "segment {index} is both writable and executable")
            }
        }
    }
}

const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;
const EM_X86_64: u16 = 62;
const ET_EXEC: u16 = 2;
const PHDR_LEN: usize = 56;

/// A checked ELF file.
#[derive(Clone, Copy, Debug)]
pub struct Elf<'a> {
    bytes: &'a [u8],
    entry: u64,
    phoff: usize,
    phnum: usize,
}

/// One PT_LOAD segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    pub vaddr: u64,
    pub mem_size: u64,
    /// The bytes to copy to `vaddr`; the rest of `mem_size` is zero.
    pub data: &'a [u8],
    pub read: bool,
    pub write: bool,
    pub execute: bool,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

impl<'a> Elf<'a> {
    /// Checks the header, the program header table and every PT_LOAD
    /// segment.
    pub fn parse(bytes: &'a [u8]) -> Result<Elf<'a>, ElfError> {
        if bytes.len() < 64 {
            return Err(ElfError::TooShort);
        }
        // Magic, ELFCLASS64, ELFDATA2LSB.
        if bytes[..4] != *b"\x7fELF" || bytes[4] != 2 || bytes[5] != 1 {
            return Err(ElfError::NotElf64LittleEndian);
        }
        if u16_at(bytes, 16) != Some(ET_EXEC) || u16_at(bytes, 18) != Some(EM_X86_64) {
            return Err(ElfError::NotX86_64Executable);
        }
        let entry = u64_at(bytes, 24).ok_or(ElfError::TooShort)?;
        let phoff = u64_at(bytes, 32).ok_or(ElfError::TooShort)?;
        let phentsize = u16_at(bytes, 54).ok_or(ElfError::TooShort)?;
        let phnum = u16_at(bytes, 56).ok_or(ElfError::TooShort)? as usize;
        let phoff = usize::try_from(phoff).map_err(|_| ElfError::BadProgramHeaders)?;
        if usize::from(phentsize) != PHDR_LEN
            || phoff
                .checked_add(phnum * PHDR_LEN)
                .is_none_or(|end| end > bytes.len())
        {
            return Err(ElfError::BadProgramHeaders);
        }
        let elf = Elf {
            bytes,
            entry,
            phoff,
            phnum,
        };
        for index in 0..phnum {
            elf.segment(index)?;
        }
        Ok(elf)
    }

    pub fn entry(&self) -> u64 {
        self.entry
    }

    /// Program header `index` as a segment; `Ok(None)` if it is not PT_LOAD.
    fn segment(&self, index: usize) -> Result<Option<Segment<'a>>, ElfError> {
        let at = self.phoff + index * PHDR_LEN;
        let b = self.bytes;
        let bad = ElfError::BadSegment { index };
        if u32_at(b, at).ok_or(bad)? != PT_LOAD {
            return Ok(None);
        }
        let flags = u32_at(b, at + 4).ok_or(bad)?;
        let offset = u64_at(b, at + 8).ok_or(bad)?;
        let vaddr = u64_at(b, at + 16).ok_or(bad)?;
        let file_size = u64_at(b, at + 32).ok_or(bad)?;
        let mem_size = u64_at(b, at + 40).ok_or(bad)?;
        if file_size > mem_size || vaddr.checked_add(mem_size).is_none() {
            return Err(bad);
        }
        let start = usize::try_from(offset).map_err(|_| bad)?;
        let end = start
            .checked_add(usize::try_from(file_size).map_err(|_| bad)?)
            .ok_or(bad)?;
        let data = b.get(start..end).ok_or(bad)?;
        let (write, execute) = (flags & PF_W != 0, flags & PF_X != 0);
        if write && execute {
            return Err(ElfError::WritableAndExecutable { index });
        }
        Ok(Some(Segment {
            vaddr,
            mem_size,
            data,
            read: flags & PF_R != 0,
            write,
            execute,
        }))
    }

    /// The PT_LOAD segments, in file order.
    pub fn segments(&self) -> impl Iterator<Item = Segment<'a>> + '_ {
        (0..self.phnum).filter_map(move |i| self.segment(i).ok().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal executable: header, one program header, 4 bytes of code.
    fn tiny(flags: u32, filesz: u64, memsz: u64) -> std::vec::Vec<u8> {
        let mut b = std::vec![0u8; 64 + 56 + 4];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
        b[18..20].copy_from_slice(&EM_X86_64.to_le_bytes());
        b[24..32].copy_from_slice(&0x40_1000u64.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&1u16.to_le_bytes());
        let ph = 64;
        b[ph..ph + 4].copy_from_slice(&PT_LOAD.to_le_bytes());
        b[ph + 4..ph + 8].copy_from_slice(&flags.to_le_bytes());
        b[ph + 8..ph + 16].copy_from_slice(&120u64.to_le_bytes());
        b[ph + 16..ph + 24].copy_from_slice(&0x40_1000u64.to_le_bytes());
        b[ph + 32..ph + 40].copy_from_slice(&filesz.to_le_bytes());
        b[ph + 40..ph + 48].copy_from_slice(&memsz.to_le_bytes());
        b
    }

    #[test]
    fn reads_a_well_formed_executable() {
        let file = tiny(PF_R | PF_X, 4, 4096);
        let elf = Elf::parse(&file).unwrap();
        assert_eq!(elf.entry(), 0x40_1000);
        let segs: std::vec::Vec<_> = elf.segments().collect();
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].data.len(), 4);
        assert!(segs[0].execute && !segs[0].write);
    }

    #[test]
    fn refuses_hostile_files() {
        assert_eq!(Elf::parse(&[0; 10]).unwrap_err(), ElfError::TooShort);
        assert_eq!(
            Elf::parse(&tiny(PF_R | PF_W | PF_X, 4, 4)).unwrap_err(),
            ElfError::WritableAndExecutable { index: 0 }
        );
        assert_eq!(
            Elf::parse(&tiny(PF_R, 400, 400)).unwrap_err(),
            ElfError::BadSegment { index: 0 }
        );
        assert_eq!(
            Elf::parse(&tiny(PF_R, 8, 4)).unwrap_err(),
            ElfError::BadSegment { index: 0 }
        );
        let mut file = tiny(PF_R, 4, 4);
        file[56..58].copy_from_slice(&u16::MAX.to_le_bytes());
        assert_eq!(Elf::parse(&file).unwrap_err(), ElfError::BadProgramHeaders);
        let mut file = tiny(PF_R, 4, 4);
        file[18] = 3;
        assert_eq!(
            Elf::parse(&file).unwrap_err(),
            ElfError::NotX86_64Executable
        );
    }
}
