//! Cross-check of the generated bindings against real kernel builds.
//!
//! For each configuration the kernel is built (or taken from the cache) and
//! every generated number is compared with what that build itself used:
//! * syscall numbers and invocation labels against the enums in the headers
//!   the kernel build generated (`api/invocation.h`,
//!   `arch/api/sel4_invocation.h`, `arch/api/invocation.h`,
//!   `arch/api/syscall.h`), their `#if`s resolved by the C preprocessor
//!   under the build's `autoconf.h`;
//! * object types, error codes, initial caps, the bootinfo, slot region,
//!   untyped descriptor and IPC buffer layouts, fault labels and the other
//!   enumerators against the kernel's whole preprocessed translation unit
//!   (`kernel_all.c_pp`, compiled from the build's configured source copy):
//!   the kernel's own copies of these declarations, exactly as compiled;
//! * `#define`d constants against the kernel's own constant headers in the
//!   configured source copy.
//!
//! Names are compared both ways: the generator must neither miss an entry
//! the kernel has nor invent one it lacks.

use paddock_kernel::build::{self, BuiltKernel};
use paddock_kernel::config::KernelConfig;
use paddock_kernel::interface::cprobe::{self, CCompiler};
use paddock_kernel::interface::{self, CKind, Interface, Layout};
use paddock_kernel::source::KernelSource;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

type Table = Vec<(String, i64)>;

/// Compares two tables by name. Returns how many entries matched, or every
/// difference: missing or extra names and differing values.
fn compare(
    what: &str,
    ours: &[(String, i64)],
    kernel: &[(String, i64)],
) -> Result<usize, Vec<String>> {
    let ours_map: BTreeMap<&str, i64> = ours.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let kernel_map: BTreeMap<&str, i64> = kernel.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let mut problems = Vec::new();
    for (name, kv) in &kernel_map {
        match ours_map.get(name) {
            None => problems.push(format!(
                "{what}: `{name}` (= {kv}) is in the kernel but not generated"
            )),
            Some(ov) if ov != kv => problems.push(format!(
                "{what}: `{name}` is {ov} in the bindings but {kv} in the kernel"
            )),
            Some(_) => {}
        }
    }
    for (name, ov) in &ours_map {
        if !kernel_map.contains_key(name) {
            problems.push(format!(
                "{what}: `{name}` (= {ov}) is generated but not in the kernel"
            ));
        }
    }
    if ours_map.len() != ours.len() || kernel_map.len() != kernel.len() {
        problems.push(format!("{what}: duplicate names"));
    }
    if problems.is_empty() {
        Ok(kernel_map.len())
    } else {
        Err(problems)
    }
}

/// The values of `names` (C expressions) after `prelude`.
fn values(
    cc: &CCompiler,
    work: &Path,
    label: &str,
    prelude: &str,
    names: &[String],
    includes: &[PathBuf],
) -> Vec<i64> {
    cc.evaluate(work, label, prelude, names, includes)
        .unwrap_or_else(|e| panic!("{label}: {e:#}"))
        .value
}

fn table(names: Vec<String>, values: Vec<i64>) -> Table {
    names.into_iter().zip(values).collect()
}

fn without(names: Vec<String>, drop: impl Fn(&str) -> bool) -> Vec<String> {
    names.into_iter().filter(|n| !drop(n)).collect()
}

fn layout_table(l: &Layout) -> Table {
    let mut t = vec![("sizeof".to_string(), l.size)];
    t.extend(l.fields.iter().cloned());
    t
}

fn has_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

struct Outcome {
    counts: Vec<(String, usize)>,
    problems: Vec<String>,
    unchecked: Vec<String>,
}

impl Outcome {
    fn check(&mut self, what: &str, ours: &[(String, i64)], kernel: &[(String, i64)]) {
        match compare(what, ours, kernel) {
            Ok(n) => self.counts.push((what.to_string(), n)),
            Err(p) => self.problems.extend(p),
        }
    }
    fn count(&self, what: &str) -> usize {
        self.counts
            .iter()
            .find(|(w, _)| w == what)
            .map_or(0, |(_, n)| *n)
    }
}

fn cross_check(config: KernelConfig) -> (Interface, Outcome) {
    let ws = workspace();
    let built: BuiltKernel =
        build::build(&ws, config).unwrap_or_else(|e| panic!("building the {config} kernel: {e:#}"));
    let pristine = KernelSource::locate(&ws).expect("kernel source");
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cross-check-{config}"));
    let ours = interface::generate(&pristine, config, &work.join("generated"))
        .unwrap_or_else(|e| panic!("generating {config}: {e:#}"));
    let cc = CCompiler::find().expect("C compiler");
    let kwork = work.join("kernel");
    let src = built.source.root();
    let mut out = Outcome {
        counts: Vec::new(),
        problems: Vec::new(),
        unchecked: Vec::new(),
    };

    // Syscalls and invocation labels: the kernel build's generated headers.
    let header_dirs = vec![built.build_dir.clone(), src.join("include/plat/pc99")];
    let header_prelude = "\
typedef unsigned long word_t;
#define UNUSED __attribute__((unused))
#include <autoconf.h>
#include <arch/api/invocation.h>
#include <arch/api/syscall.h>
";
    let text = cc
        .preprocess(&kwork, "generated_headers", header_prelude, &header_dirs)
        .expect("preprocessing the kernel's generated headers")
        .value;
    let mut labels = Vec::new();
    for tag in [
        "invocation_label",
        "sel4_arch_invocation_label",
        "arch_invocation_label",
    ] {
        labels.extend(cprobe::enum_by_tag(&text, tag).expect(tag));
    }
    let labels = without(labels, |n| {
        n.starts_with('n') && n.ends_with("InvocationLabels")
    });
    let label_values = values(&cc, &kwork, "labels", header_prelude, &labels, &header_dirs);
    let syscalls = cprobe::enum_by_tag(&text, "syscall").expect("enum syscall");
    let syscall_values = values(
        &cc,
        &kwork,
        "syscalls",
        header_prelude,
        &syscalls,
        &header_dirs,
    );
    let syscalls: Vec<String> = syscalls
        .iter()
        .map(|s| s.strip_prefix("Sys").expect("Sys prefix").to_string())
        .collect();
    let numbered = |list: &[interface::Numbered]| -> Table {
        list.iter().map(|n| (n.name.clone(), n.value)).collect()
    };
    out.check(
        "invocation labels",
        &numbered(&ours.invocations),
        &table(labels, label_values),
    );
    out.check(
        "syscalls",
        &numbered(&ours.syscalls),
        &table(syscalls, syscall_values),
    );

    // Everything declared in C: the kernel's preprocessed translation unit.
    let tu = built.build_dir.join("kernel_all.c_pp");
    let tu_text = std::fs::read_to_string(&tu)
        .unwrap_or_else(|e| panic!("reading {}: {e} (the kernel build keeps it)", tu.display()));
    let tu_prelude = format!("#include \"{}\"\n", tu.display());
    let mut object_types = Vec::new();
    for tag in ["api_object", "_mode_object", "_object"] {
        object_types.extend(cprobe::enum_by_tag(&tu_text, tag).expect(tag));
    }
    let object_types = without(object_types, |n| n.ends_with("Count"));
    let errors = without(
        cprobe::enum_members(&tu_text, "seL4_NoError").unwrap(),
        |n| n == "seL4_NumErrors",
    );
    let caps = without(
        cprobe::enum_members(&tu_text, "seL4_CapNull").unwrap(),
        |n| n == "seL4_NumInitialCaps",
    );
    let fault_tags = cprobe::enum_by_tag(&tu_text, "seL4_Fault_tag").expect("seL4_Fault_tag");
    let structs: Vec<(&str, &str, &Layout)> = vec![
        ("seL4_BootInfo", "seL4_BootInfo", &ours.boot_info),
        ("seL4_SlotRegion", "seL4_SlotRegion", &ours.slot_region),
        ("seL4_UntypedDesc", "seL4_UntypedDesc", &ours.untyped_desc),
        (
            "seL4_BootInfoHeader",
            "seL4_BootInfoHeader",
            &ours.boot_info_header,
        ),
        (
            "struct seL4_IPCBuffer_",
            "seL4_IPCBuffer_",
            &ours.ipc_buffer,
        ),
    ];
    let enum_constants: Vec<&interface::Constant> = ours
        .constants
        .iter()
        .filter(|c| c.kind == CKind::Enumerator && !c.value.c_expr.starts_with("seL4_Fault_"))
        .collect();
    let (present, absent): (Vec<&interface::Constant>, Vec<&interface::Constant>) = enum_constants
        .into_iter()
        .partition(|c| has_word(&tu_text, &c.value.c_expr));
    out.unchecked
        .extend(absent.iter().map(|c| c.value.name.clone()));

    let mut exprs: Vec<String> = Vec::new();
    exprs.extend(object_types.iter().cloned());
    exprs.extend(errors.iter().cloned());
    exprs.extend(caps.iter().cloned());
    exprs.extend(fault_tags.iter().cloned());
    let mut struct_fields = Vec::new();
    for (c_type, tag, _) in &structs {
        let fields = cprobe::struct_fields(&tu_text, tag).expect(tag);
        exprs.push(format!("sizeof({c_type})"));
        exprs.extend(
            fields
                .iter()
                .map(|f| format!("__builtin_offsetof({c_type}, {f})")),
        );
        struct_fields.push(fields);
    }
    exprs.extend(present.iter().map(|c| c.value.c_expr.clone()));
    let mut v = values(&cc, &kwork, "translation_unit", &tu_prelude, &exprs, &[]).into_iter();
    let mut take =
        |names: &[String]| -> Vec<i64> { names.iter().map(|_| v.next().unwrap()).collect() };
    let cvalues = |list: &[interface::CValue]| -> Table {
        list.iter().map(|c| (c.c_expr.clone(), c.value)).collect()
    };
    let object_values = take(&object_types);
    out.check(
        "object types",
        &cvalues(&ours.object_types),
        &table(object_types, object_values),
    );
    let error_values = take(&errors);
    out.check(
        "errors",
        &cvalues(&ours.errors),
        &table(errors, error_values),
    );
    let cap_values = take(&caps);
    out.check(
        "initial caps",
        &cvalues(&ours.init_caps),
        &table(caps, cap_values),
    );
    let fault_values = take(&fault_tags);
    let ours_faults: Table = ours
        .constants
        .iter()
        .filter(|c| c.value.c_expr.starts_with("seL4_Fault_"))
        .map(|c| (c.value.c_expr.clone(), c.value.value))
        .collect();
    out.check(
        "fault labels",
        &ours_faults,
        &table(fault_tags, fault_values),
    );
    for ((c_type, _, layout), fields) in structs.iter().zip(struct_fields) {
        let mut names = vec!["sizeof".to_string()];
        names.extend(fields);
        let offsets = take(&names);
        out.check(
            &format!("{c_type} layout"),
            &layout_table(layout),
            &table(names, offsets),
        );
    }
    let present_names: Vec<String> = present.iter().map(|c| c.value.c_expr.clone()).collect();
    let present_values = take(&present_names);
    let ours_present: Table = present
        .iter()
        .map(|c| (c.value.c_expr.clone(), c.value.value))
        .collect();
    out.check(
        "enumerator constants",
        &ours_present,
        &table(present_names, present_values),
    );

    // `#define`d constants: the kernel's own constant headers.
    let kdirs: Vec<PathBuf> = [
        "include",
        "include/arch/x86",
        "include/plat/pc99",
        "include/arch/x86/arch/64",
    ]
    .iter()
    .map(|d| src.join(d))
    .collect();
    let kprelude = "\
#include <autoconf.h>
#include <api/macros.h>
#include <mode/api/constants.h>
#include <api/constants.h>
";
    let defined = cc
        .defined_macros(&kwork, "kernel_macros", kprelude, &kdirs)
        .expect("listing the kernel's constant macros");
    let macros: Vec<&interface::Constant> = ours
        .constants
        .iter()
        .filter(|c| c.kind == CKind::Macro)
        .collect();
    let (present, absent): (Vec<&interface::Constant>, Vec<&interface::Constant>) = macros
        .into_iter()
        .partition(|c| defined.contains(&c.value.c_expr));
    out.unchecked
        .extend(absent.iter().map(|c| c.value.name.clone()));
    let names: Vec<String> = present.iter().map(|c| c.value.c_expr.clone()).collect();
    let macro_values = values(
        &cc,
        &kwork,
        "kernel_macros_values",
        kprelude,
        &names,
        &kdirs,
    );
    let ours_macros: Table = present
        .iter()
        .map(|c| (c.value.c_expr.clone(), c.value.value))
        .collect();
    out.check("macro constants", &ours_macros, &table(names, macro_values));

    // The bootinfo extra region's chunk ids: `#define`s of the kernel's
    // own copy of the bootinfo types, whose declarations need only the
    // basic types.
    let bprelude = "\
typedef unsigned long seL4_Word;
typedef seL4_Word seL4_NodeId;
typedef seL4_Word seL4_Domain;
typedef unsigned char seL4_Uint8;
typedef struct seL4_IPCBuffer_ seL4_IPCBuffer;
#define SEL4_PACKED __attribute__((packed))
#include <autoconf.h>
#include <api/bootinfo_types.h>
";
    let ids: Vec<String> = cc
        .defined_macros(&kwork, "kernel_bootinfo_ids", bprelude, &kdirs)
        .expect("listing the kernel's bootinfo chunk ids")
        .into_iter()
        .filter(|m| m.starts_with("SEL4_BOOTINFO_HEADER_"))
        .collect();
    let id_values = values(
        &cc,
        &kwork,
        "kernel_bootinfo_id_values",
        bprelude,
        &ids,
        &kdirs,
    );
    out.check(
        "bootinfo chunk ids",
        &cvalues(&ours.boot_info_header_ids),
        &table(ids, id_values),
    );
    (ours, out)
}

fn run(config: KernelConfig) -> (Interface, Outcome) {
    let (ours, out) = cross_check(config);
    assert!(
        out.problems.is_empty(),
        "cross-check {config} found {} differences:\n{}",
        out.problems.len(),
        out.problems.join("\n")
    );
    let bootinfo = out.count("seL4_BootInfo layout");
    let others = out.count("seL4_SlotRegion layout")
        + out.count("seL4_UntypedDesc layout")
        + out.count("seL4_BootInfoHeader layout")
        + out.count("struct seL4_IPCBuffer_ layout");
    println!(
        "cross-check {config}: {} invocation labels, {} syscalls, {} object types, {} errors, \
         {} initial caps, {} fault labels, {bootinfo} bootinfo offsets, {others} slot region/untyped \
         desc/bootinfo header/IPC buffer offsets, {} bootinfo chunk ids, {} constants: all equal",
        out.count("invocation labels"),
        out.count("syscalls"),
        out.count("object types"),
        out.count("errors"),
        out.count("initial caps"),
        out.count("fault labels"),
        out.count("bootinfo chunk ids"),
        out.count("enumerator constants") + out.count("macro constants"),
    );
    if !out.unchecked.is_empty() {
        println!(
            "cross-check {config}: not declared by the kernel, so not compared: {}",
            out.unchecked.join(", ")
        );
    }
    // Every table must have been compared in earnest.
    assert!(
        out.count("invocation labels") >= 50,
        "too few labels compared"
    );
    assert_eq!(out.count("errors"), 11);
    assert_eq!(out.count("initial caps"), 12);
    assert_eq!(bootinfo, 17, "size and 16 field offsets");
    assert_eq!(out.count("seL4_BootInfoHeader layout"), 3);
    assert!(out.count("bootinfo chunk ids") >= 2);
    assert!(out.count("fault labels") >= 5);
    assert!(out.count("enumerator constants") + out.count("macro constants") >= 40);
    (ours, out)
}

fn object_names(i: &Interface) -> BTreeSet<&str> {
    i.object_types.iter().map(|o| o.name.as_str()).collect()
}

fn label_names(i: &Interface) -> BTreeSet<&str> {
    i.invocations.iter().map(|o| o.name.as_str()).collect()
}

#[test]
fn debug_matches_its_kernel() {
    let (ours, out) = run(KernelConfig::DEBUG);
    assert_eq!(out.count("syscalls"), 13);
    assert!(!object_names(&ours).contains("X86_IOPageTableObject"));
    assert!(ours.constant("IOPageTableBits").is_none());
    // In seL4 5.0 the IO page table invocations are not conditional in the
    // XML: the labels exist (and are numbered) in every configuration.
    assert!(label_names(&ours).contains("X86IOPageTableMap"));
    assert_eq!(out.count("object types"), 12);
}

#[test]
fn debug_iommu_matches_its_kernel() {
    let (ours, out) = run(KernelConfig::DEBUG_IOMMU);
    assert_eq!(out.count("syscalls"), 13);
    assert!(object_names(&ours).contains("X86_IOPageTableObject"));
    assert!(label_names(&ours).contains("X86IOPageTableMap"));
    assert_eq!(out.count("object types"), 13);
}

#[test]
fn release_matches_its_kernel() {
    let (ours, out) = run(KernelConfig::RELEASE);
    assert_eq!(out.count("syscalls"), 8);
    assert!(!ours.syscalls.iter().any(|s| s.name.starts_with("Debug")));
    assert!(!object_names(&ours).contains("X86_IOPageTableObject"));
}

#[test]
fn comparison_reports_every_kind_of_difference() {
    let kernel: Table = vec![("A".into(), 1), ("B".into(), 2), ("C".into(), 3)];
    assert_eq!(compare("t", &kernel, &kernel), Ok(3));

    let mut altered = kernel.clone();
    altered[1].1 = 7;
    let problems = compare("labels", &altered, &kernel).unwrap_err();
    assert_eq!(
        problems,
        ["labels: `B` is 7 in the bindings but 2 in the kernel"]
    );

    let missing: Table = kernel[..2].to_vec();
    let problems = compare("t", &missing, &kernel).unwrap_err();
    assert!(problems[0].contains("`C` (= 3) is in the kernel but not generated"));

    let mut extra = kernel.clone();
    extra.push(("D".into(), 4));
    let problems = compare("t", &extra, &kernel).unwrap_err();
    assert!(problems[0].contains("`D` (= 4) is generated but not in the kernel"));
}
