//! The numbers of seL4's user-space interface, generated from the kernel
//! source and a [`KernelConfig`], never typed by hand.
//!
//! [`generate`] reads the pristine source (read-only) and needs no kernel
//! build: the XML interface files give syscall numbers and invocation
//! labels ([`xml`], conditions evaluated by [`condition`]); libsel4's C
//! headers and `.bf` files, evaluated by the host C compiler under the
//! configuration's `autoconf.h` ([`cprobe`]), give object types, error
//! codes, initial capability slots, the bootinfo and IPC buffer layouts and
//! the remaining constants. [`Interface::to_rust`] renders the result as the
//! Rust source that the `sel4` crate includes.
//!
//! `tests/cross_check.rs` compares all of it against what a real kernel
//! build of the same configuration produced.

pub mod condition;
pub mod cprobe;
mod render;
pub mod xml;

use crate::config::{KernelConfig, Value};
use crate::source::KernelSource;
use anyhow::{ensure, Context, Result};
use cprobe::CCompiler;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

pub use xml::Numbered;

/// A value from a C header: its Rust name, the C expression it was read
/// from and what the compiler made of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CValue {
    pub name: String,
    pub c_expr: String,
    pub value: i64,
}

/// How a constant is spelled in the C headers, which decides where a
/// cross-check can find it in a compiled kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CKind {
    /// An enumerator: survives preprocessing.
    Enumerator,
    /// A `#define`: gone after preprocessing.
    Macro,
}

/// One entry of the generated `constants` module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constant {
    pub value: CValue,
    pub kind: CKind,
    /// The Rust type it is emitted with (`usize` for object sizes in bits,
    /// counts and message register indices; `u64` for values that travel in
    /// message words: labels, attributes, priorities, the message limits).
    pub rust_type: &'static str,
}

/// The layout of one C struct: its size and each field's byte offset, by
/// the field's C name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// A C type name usable in `sizeof` and `__builtin_offsetof`.
    pub c_type: String,
    pub size: i64,
    pub fields: Vec<(String, i64)>,
}

/// Everything generated for one configuration.
#[derive(Clone, Debug)]
pub struct Interface {
    pub config: KernelConfig,
    pub syscalls: Vec<Numbered>,
    pub invocations: Vec<Numbered>,
    pub object_types: Vec<CValue>,
    pub errors: Vec<CValue>,
    pub init_caps: Vec<CValue>,
    pub boot_info: Layout,
    pub slot_region: Layout,
    pub untyped_desc: Layout,
    /// `seL4_BootInfoHeader`: the header of each chunk of the bootinfo's
    /// extra region.
    pub boot_info_header: Layout,
    /// The chunk ids (`SEL4_BOOTINFO_HEADER_*` without the prefix) this
    /// kernel defines.
    pub boot_info_header_ids: Vec<CValue>,
    pub ipc_buffer: Layout,
    pub constants: Vec<Constant>,
    /// Every file the result depends on (XML, headers, `.bf`).
    pub inputs: BTreeSet<PathBuf>,
}

/// The libsel4 headers that libsel4's own build would generate. They are
/// replaced by stand-ins so that `sel4/types.h` can be included from the
/// pristine source: of what they define, only `seL4_MessageInfo_t` is used
/// by the declarations read here (the `tag` of `seL4_IPCBuffer`), and it is
/// one 64-bit word (`block seL4_MessageInfo` in `shared_types_64.bf`). The
/// cross-check confirms the resulting IPC buffer layout against the kernel.
const STAND_INS: &[(&str, &str)] = &[
    ("sel4/syscall.h", ""),
    ("sel4/types_gen.h", ""),
    ("sel4/sel4_arch/types_gen.h", ""),
    (
        "sel4/shared_types_gen.h",
        "typedef struct seL4_MessageInfo { seL4_Uint64 words[1]; } seL4_MessageInfo_t;\n",
    ),
];

/// What the probe includes: the configuration, then libsel4's umbrella of
/// types and constants and the bootinfo types.
const PRELUDE: &str = "\
#define HAVE_AUTOCONF 1
#include <autoconf.h>
#include <sel4/types.h>
#include <sel4/bootinfo_types.h>
";

/// The prefix of the bootinfo extra region's chunk ids.
const HEADER_ID_PREFIX: &str = "SEL4_BOOTINFO_HEADER_";

/// Chunk ids the root task looks for, emitted whether this kernel defines
/// them or not (`None` then), so code can ask without naming a number.
pub const WANTED_HEADER_IDS: &[&str] = &["X86_ACPI_RSDP"];

/// The `.bf` file holding the fault labels (`tagged_union seL4_Fault`).
const FAULT_BF: &str = "libsel4/arch_include/x86/sel4/arch/shared_types.bf";

/// `#define`d constants, read by name (`seL4_` + name).
const MACRO_CONSTANTS: &[(&str, &str)] = &[
    ("WordBits", "usize"),
    ("PageBits", "usize"),
    ("LargePageBits", "usize"),
    ("HugePageBits", "usize"),
    ("SlotBits", "usize"),
    ("TCBBits", "usize"),
    ("EndpointBits", "usize"),
    ("NotificationBits", "usize"),
    ("PageTableBits", "usize"),
    ("PageDirBits", "usize"),
    ("PDPTBits", "usize"),
    ("PML4Bits", "usize"),
    ("ASIDPoolBits", "usize"),
    ("MinUntypedBits", "usize"),
    ("MaxUntypedBits", "usize"),
    ("MsgMaxExtraCaps", "u64"),
    ("UntypedRetypeMaxObjects", "usize"),
    ("GuardSizeBits", "usize"),
    ("GuardBits", "usize"),
    ("BadgeBits", "usize"),
    ("DataFault", "u64"),
    ("InstructionFault", "u64"),
];

/// Enumerators read by name.
const ENUM_CONSTANTS: &[(&str, &str)] = &[
    // The message limits describe fields of the message info word, a u64.
    ("MsgMaxLength", "u64"),
    ("MsgLengthBits", "u64"),
    ("MsgExtraCapBits", "u64"),
    ("MinPrio", "u64"),
    ("MaxPrio", "u64"),
];

/// Whole enums, found by one of their members: every enumerator becomes a
/// constant (message register indices of each fault, lookup failure kinds,
/// x86 cache attributes).
const ENUM_GROUPS: &[(&str, &str)] = &[
    ("seL4_VMFault_IP", "usize"),
    ("seL4_UnknownSyscall_RAX", "usize"),
    ("seL4_UserException_FaultIP", "usize"),
    ("seL4_CapFault_IP", "usize"),
    ("seL4_NoFailure", "u64"),
    ("seL4_X86_Default_VMAttributes", "u64"),
];

/// Generates the interface numbers of `config` from `source`, using
/// `work` (created if needed) for the compiler's scratch files.
pub fn generate(source: &KernelSource, config: KernelConfig, work: &Path) -> Result<Interface> {
    let mut inputs = BTreeSet::new();
    let mut read = |path: PathBuf| -> Result<String> {
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        inputs.insert(path);
        Ok(text)
    };
    let syscalls = xml::syscalls(&read(source.syscall_xml())?, &config)
        .context("reading syscall numbers from syscall.xml")?;
    let invocations = xml::invocations(
        &read(source.sel4_xml())?,
        &read(source.sel4_arch_xml())?,
        &read(source.arch_xml())?,
        &config,
    )
    .context("reading invocation labels from the interface XML files")?;

    let cc = CCompiler::find()?;
    let include = work.join("include");
    write_headers(&include, &config)?;
    let mut dirs = vec![include.clone()];
    dirs.extend(source.libsel4_include_dirs());

    let pre = cc
        .preprocess(work, "libsel4_types", PRELUDE, &dirs)
        .context("preprocessing libsel4's headers")?;
    inputs.extend(pre.inputs);
    let text = &pre.value;

    // Names first (which ones exist under this configuration)...
    let object_names: Vec<String> = ["seL4_UntypedObject", "seL4_X86_PDPTObject", "seL4_X86_4K"]
        .iter()
        .map(|m| cprobe::enum_members(text, m))
        .collect::<Result<Vec<_>>>()?
        .concat();
    let (object_names, object_counts) = split_sentinels(object_names, |n| n.ends_with("Count"));
    let (error_names, error_counts) =
        split_sentinels(cprobe::enum_members(text, "seL4_NoError")?, |n| {
            n == "seL4_NumErrors"
        });
    let (cap_names, cap_counts) =
        split_sentinels(cprobe::enum_members(text, "seL4_CapNull")?, |n| {
            n == "seL4_NumInitialCaps"
        });
    let layout_of = |c_type: &str, tag: &str| -> Result<(String, Vec<String>)> {
        Ok((c_type.to_string(), cprobe::struct_fields(text, tag)?))
    };
    let structs = [
        layout_of("seL4_BootInfo", "seL4_BootInfo")?,
        layout_of("seL4_SlotRegion", "seL4_SlotRegion")?,
        layout_of("seL4_UntypedDesc", "seL4_UntypedDesc")?,
        layout_of("seL4_BootInfoHeader", "seL4_BootInfoHeader")?,
        layout_of("seL4_IPCBuffer", "seL4_IPCBuffer_")?,
    ];
    // The extra region's chunk ids are `#define`s: every one the headers
    // define, by name.
    let header_id_names: Vec<String> = cc
        .defined_macros(work, "libsel4_macros", PRELUDE, &dirs)
        .context("listing libsel4's macros")?
        .into_iter()
        .filter(|m| m.starts_with(HEADER_ID_PREFIX))
        .collect();

    let mut constants: Vec<(String, String, CKind, &'static str)> = Vec::new();
    for (name, ty) in MACRO_CONSTANTS {
        constants.push((name.to_string(), format!("seL4_{name}"), CKind::Macro, ty));
    }
    if config.iommu {
        // Defined by the header in every configuration, but only meaningful
        // (and only emitted) where IO page tables exist.
        constants.push((
            "IOPageTableBits".into(),
            "seL4_IOPageTableBits".into(),
            CKind::Macro,
            "usize",
        ));
    }
    for (name, ty) in ENUM_CONSTANTS {
        constants.push((
            name.to_string(),
            format!("seL4_{name}"),
            CKind::Enumerator,
            ty,
        ));
    }
    for (member, ty) in ENUM_GROUPS {
        for c in cprobe::enum_members(text, member)? {
            constants.push((strip_sel4(&c)?, c, CKind::Enumerator, ty));
        }
    }
    for c in object_counts
        .iter()
        .chain(&error_counts)
        .chain(&cap_counts)
        .filter(|c| !c.contains("NonArch") && !c.contains("Mode"))
    {
        constants.push((strip_sel4(c)?, c.clone(), CKind::Enumerator, "usize"));
    }
    // Fault labels: the tags of `tagged_union seL4_Fault` in the x86 `.bf`.
    let bf = source.root().join(FAULT_BF);
    let bf_text = cc
        .preprocess(
            work,
            "fault_tags",
            &format!("#include <autoconf.h>\n#include \"{}\"\n", bf.display()),
            &dirs,
        )
        .with_context(|| format!("preprocessing {}", bf.display()))?;
    inputs.extend(bf_text.inputs);
    for (tag, _) in tagged_union_tags(&bf_text.value, "seL4_Fault")? {
        let c = format!("seL4_Fault_{tag}");
        constants.push((strip_sel4(&c)?, c, CKind::Enumerator, "u64"));
    }

    // ...then every value in one compiler run.
    let mut exprs: Vec<String> = Vec::new();
    exprs.extend(object_names.iter().cloned());
    exprs.extend(error_names.iter().cloned());
    exprs.extend(cap_names.iter().cloned());
    for (c_type, fields) in &structs {
        exprs.push(format!("sizeof({c_type})"));
        exprs.extend(
            fields
                .iter()
                .map(|f| format!("__builtin_offsetof({c_type}, {f})")),
        );
    }
    // The fault tags are generated from the `.bf` by libsel4's build, so
    // they are not in the headers: their values come from the `.bf` itself.
    let bf_tags = tagged_union_tags(&bf_text.value, "seL4_Fault")?;
    let header_constants: Vec<&(String, String, CKind, &str)> = constants
        .iter()
        .filter(|c| !c.1.starts_with("seL4_Fault_"))
        .collect();
    exprs.extend(header_constants.iter().map(|c| c.1.clone()));
    exprs.extend(header_id_names.iter().cloned());
    let probed = cc
        .evaluate(work, "libsel4_values", PRELUDE, &exprs, &dirs)
        .context("evaluating libsel4's constants")?;
    inputs.extend(probed.inputs);
    let mut values = probed.value.into_iter();
    let mut next = || values.next().expect("one value per expression");

    let mut named = |names: &[String], prefix: &str| -> Result<Vec<CValue>> {
        names
            .iter()
            .map(|c| {
                Ok(CValue {
                    name: c
                        .strip_prefix(prefix)
                        .with_context(|| format!("`{c}` lacks the prefix `{prefix}`"))?
                        .to_string(),
                    c_expr: c.clone(),
                    value: next(),
                })
            })
            .collect()
    };
    let object_types = named(&object_names, "seL4_")?;
    let errors = named(&error_names, "seL4_")?;
    let init_caps = named(&cap_names, "seL4_Cap")?;
    let mut layouts = structs.iter().map(|(c_type, fields)| Layout {
        c_type: c_type.clone(),
        size: next(),
        fields: fields.iter().map(|f| (f.clone(), next())).collect(),
    });
    let boot_info = layouts.next().expect("five layouts");
    let slot_region = layouts.next().expect("five layouts");
    let untyped_desc = layouts.next().expect("five layouts");
    let boot_info_header = layouts.next().expect("five layouts");
    let ipc_buffer = layouts.next().expect("five layouts");
    drop(layouts);

    let mut constant_values = Vec::new();
    for (name, c_expr, kind, rust_type) in constants {
        let value = if let Some(tag) = c_expr.strip_prefix("seL4_Fault_") {
            bf_tags
                .iter()
                .find(|(t, _)| t == tag)
                .map(|(_, v)| *v)
                .expect("tag listed above")
        } else {
            next()
        };
        constant_values.push(Constant {
            value: CValue {
                name,
                c_expr,
                value,
            },
            kind,
            rust_type,
        });
    }
    let boot_info_header_ids = header_id_names
        .iter()
        .map(|c| {
            Ok(CValue {
                name: c
                    .strip_prefix(HEADER_ID_PREFIX)
                    .with_context(|| format!("`{c}` lacks the prefix `{HEADER_ID_PREFIX}`"))?
                    .to_string(),
                c_expr: c.clone(),
                value: next(),
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let interface = Interface {
        config,
        syscalls,
        invocations,
        object_types,
        errors,
        init_caps,
        boot_info,
        slot_region,
        untyped_desc,
        boot_info_header,
        boot_info_header_ids,
        ipc_buffer,
        constants: constant_values,
        inputs: inputs
            .into_iter()
            .filter(|p| !p.starts_with(work))
            .collect(),
    };
    interface.sanity_check()?;
    Ok(interface)
}

impl Interface {
    /// The Rust source of the `sel4` crate's `sys` module.
    pub fn to_rust(&self) -> Result<String> {
        render::render(self)
    }

    /// A constant of the `constants` module by its Rust name.
    pub fn constant(&self, name: &str) -> Option<i64> {
        self.constants
            .iter()
            .find(|c| c.value.name == name)
            .map(|c| c.value.value)
    }

    /// Facts that hold for every configuration paddock builds; a failure
    /// means the source or the reading of it is not what paddock expects.
    fn sanity_check(&self) -> Result<()> {
        let find =
            |list: &[Numbered], name: &str| list.iter().find(|n| n.name == name).map(|n| n.value);
        ensure!(
            find(&self.syscalls, "Call") == Some(-1),
            "seL4_SysCall is not -1"
        );
        ensure!(
            find(&self.invocations, "UntypedRetype") == Some(1),
            "UntypedRetype is not label 1"
        );
        ensure!(
            self.errors.first().map(|e| (e.name.as_str(), e.value)) == Some(("NoError", 0)),
            "seL4_NoError is not 0"
        );
        let max_untyped = match self.config.get("MAX_NUM_BOOTINFO_UNTYPED_CAPS") {
            Some(Value::Int(n)) => n,
            _ => anyhow::bail!("MAX_NUM_BOOTINFO_UNTYPED_CAPS is not configured"),
        };
        let untyped_list = self
            .boot_info
            .fields
            .iter()
            .find(|(f, _)| f == "untypedList")
            .map(|(_, o)| *o)
            .context("seL4_BootInfo has no untypedList")?;
        ensure!(
            untyped_list + max_untyped * self.untyped_desc.size == self.boot_info.size,
            "seL4_BootInfo's untyped list does not end the struct"
        );
        Ok(())
    }
}

fn write_headers(include: &Path, config: &KernelConfig) -> Result<()> {
    let mut files = vec![("autoconf.h", config.autoconf_h())];
    files.extend(STAND_INS.iter().map(|(path, body)| {
        (
            *path,
            format!("/* Stand-in for a header libsel4's build generates; see paddock-kernel's interface module. */\n{body}"),
        )
    }));
    for (path, body) in files {
        let path = include.join(path);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        // Unchanged files keep their timestamps.
        if fs::read_to_string(&path).ok().as_deref() != Some(body.as_str()) {
            fs::write(&path, body).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    Ok(())
}

/// Splits count sentinels (such as `seL4_NumErrors`) off a list of
/// enumerators.
fn split_sentinels(
    names: Vec<String>,
    is_sentinel: impl Fn(&str) -> bool,
) -> (Vec<String>, Vec<String>) {
    names.into_iter().partition(|n| !is_sentinel(n))
}

fn strip_sel4(c_name: &str) -> Result<String> {
    c_name
        .strip_prefix("seL4_")
        .map(str::to_string)
        .with_context(|| format!("`{c_name}` does not start with seL4_"))
}

/// The `tag <name> <value>` lines of `tagged_union <union> <field> { .. }`
/// in a preprocessed `.bf` file.
pub fn tagged_union_tags(bf: &str, union: &str) -> Result<Vec<(String, i64)>> {
    let mut lines = bf
        .lines()
        .map(|l| l.split("--").next().unwrap_or("").trim());
    let header = lines
        .by_ref()
        .find(|l| {
            let mut words = l.split_whitespace();
            words.next() == Some("tagged_union") && words.next() == Some(union)
        })
        .with_context(|| format!("no `tagged_union {union}`"))?;
    ensure!(
        header.ends_with('{'),
        "`tagged_union {union}` must open its block on the same line"
    );
    let mut tags = Vec::new();
    for line in lines {
        if line.starts_with('}') {
            ensure!(!tags.is_empty(), "`tagged_union {union}` has no tags");
            return Ok(tags);
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            ["tag", name, value] => tags.push((
                name.to_string(),
                value
                    .parse()
                    .with_context(|| format!("tag {name} has value `{value}`"))?,
            )),
            _ => anyhow::bail!("unexpected line `{line}` in `tagged_union {union}`"),
        }
    }
    anyhow::bail!("`tagged_union {union}` is not closed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tagged_union_tags() {
        let bf = "block X {\n}\ntagged_union seL4_Fault seL4_FaultType {\n  -- generic\n  tag NullFault 0\n\n  tag VMFault 5 -- arch\n}\n";
        assert_eq!(
            tagged_union_tags(bf, "seL4_Fault").unwrap(),
            [("NullFault".to_string(), 0), ("VMFault".to_string(), 5)]
        );
        assert!(tagged_union_tags(bf, "Other").is_err());
        assert!(
            tagged_union_tags("tagged_union seL4_Fault t {\n tag A\n}\n", "seL4_Fault").is_err()
        );
    }
}
