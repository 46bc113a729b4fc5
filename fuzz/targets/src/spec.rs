//! `spec`: the binary spec the root task decodes at boot. The root task
//! interprets only what `decode` accepted, so after a successful decode
//! every accessor it uses must work on the result too.

use paddock_spec::Spec;

/// Decodes `data` and, if it is accepted, walks every table the way the
/// root task does: names, per-component ranges, symbol look-ups.
pub fn spec(data: &[u8]) {
    let Ok(spec) = Spec::decode(data) else {
        return;
    };
    let _ = (spec.system_name(), spec.iommu());
    for c in spec.components {
        let name = spec.str(c.name);
        for cap in spec.caps_of(c) {
            let _ = paddock_spec::cap_kind_name(cap.kind);
            let _ = paddock_spec::rights_text(cap.rights);
        }
        let _ = spec.mappings_of(c).len();
        for s in spec.symbols_of(c) {
            let symbol = spec.str(s.name);
            if let Some(kind) = paddock_spec::SymbolKind::from_u8(s.kind) {
                assert!(
                    spec.symbol(c, kind, symbol).is_some(),
                    "symbol `{symbol}` of `{name}` not found by name"
                );
            }
        }
    }
    for p in spec.pci {
        let _ = spec.str(p.name);
    }
}
