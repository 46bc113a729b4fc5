//! `elf`: the root task's reader of component programs. The root task is
//! a static library for seL4, so its loader module is compiled here on
//! its own, from the same source file.

#[allow(dead_code)]
#[path = "../../../rootserver/src/elf.rs"]
mod loader;

use loader::Elf;

/// Parses `data` as an ELF executable and walks its loadable segments as
/// the root task does when it copies them into a component.
pub fn elf(data: &[u8]) {
    let Ok(elf) = Elf::parse(data) else {
        return;
    };
    let _ = elf.entry();
    for segment in elf.segments() {
        assert!(segment.data.len() as u64 <= segment.mem_size);
        assert!(segment.vaddr.checked_add(segment.mem_size).is_some());
        assert!(!(segment.write && segment.execute));
        let _ = segment.read;
        // The segment's bytes lie inside the file.
        let (start, end) = (data.as_ptr() as usize, data.as_ptr() as usize + data.len());
        let at = segment.data.as_ptr() as usize;
        assert!(segment.data.is_empty() || (at >= start && at + segment.data.len() <= end));
    }
}
