//! Names of the plan's symbols made from parts, for programs that find
//! their peers' resources by convention (`shared.<client>-blk-control`,
//! `<device>.bar4`).

/// A symbol name built from parts (the plan's names are at most 40
/// bytes; a longer one is cut, and then names nothing).
pub type Name = heapless::String<64>;

/// `<prefix><name><suffix>`.
pub fn symbol(prefix: &str, name: &str, suffix: &str) -> Name {
    let mut out = Name::new();
    for part in [prefix, name, suffix] {
        if out.push_str(part).is_err() {
            break;
        }
    }
    out
}
