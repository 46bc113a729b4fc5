//! `boot-blob` and `component-info`: what the root task reads from the
//! boot blob linked into it, and what a component reads from the info and
//! status pages the root task maps into it.

use paddock_protocol::blob::Blob;
use paddock_protocol::component::{
    status_entries, status_generation, Info, INFO_SIZE, NAME_LEN, STATUS_SIZE,
};

/// Parses `data` as a boot blob and reads every file it names, as the
/// root task does (its spec, then each program by name).
pub fn boot_blob(data: &[u8]) {
    let Ok(blob) = Blob::parse(data) else {
        return;
    };
    let _ = blob.spec();
    for file in blob.files() {
        assert!(file.name.len() <= paddock_protocol::blob::NAME_LEN);
        let program = blob.program(file.name);
        if file.kind == paddock_protocol::blob::Kind::Program {
            assert!(
                program.is_some(),
                "program `{}` listed but not found",
                file.name
            );
        }
    }
}

/// Parses `data` as an info page, as is and padded to a page (a page is
/// what a component maps), and as the status region.
pub fn component_info(data: &[u8]) {
    info_page(data);
    let mut page = vec![0u8; INFO_SIZE];
    let n = data.len().min(INFO_SIZE);
    page[..n].copy_from_slice(&data[..n]);
    info_page(&page);

    let mut region = vec![0u8; STATUS_SIZE];
    let n = data.len().min(STATUS_SIZE);
    region[..n].copy_from_slice(&data[..n]);
    for (name, _) in status_entries(&region) {
        assert!(!name.is_empty() && name.len() <= NAME_LEN);
        assert!(
            status_generation(&region, name).is_some(),
            "`{name}` listed but not found"
        );
    }
}

fn info_page(page: &[u8]) {
    let Ok(info) = Info::parse(page) else {
        return;
    };
    assert!(info.name().len() <= NAME_LEN);
    let _ = (info.cnode_bits(), info.generation());
    for symbol in info.symbols() {
        assert!(
            info.find(symbol.kind, symbol.name).is_some(),
            "symbol `{}` listed but not found",
            symbol.name
        );
    }
}
