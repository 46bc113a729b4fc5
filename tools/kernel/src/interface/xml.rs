//! Syscall numbers and invocation labels from seL4's XML interface files,
//! numbered the way the kernel's own header generators number them.
//!
//! The two generators number differently, and both rules are kept exactly:
//! * `syscall_header_gen.py` writes every syscall of `<api>` then `<debug>`
//!   with a number counted down from -1 by its position in the file, and only
//!   then wraps groups in `#if`: a syscall that is configured out still uses
//!   up its number (`DebugRun` is -14 whether or not it exists).
//! * `invocation_header_gen.py` writes one C `enum` per file with `#if`
//!   around conditional entries, so a label configured out takes no number
//!   and the following ones move down. The generic file starts at
//!   `InvalidInvocation = 0`; the x86_64 file continues from the generic
//!   count and the x86 file from the x86_64 count.

use super::condition;
use crate::config::KernelConfig;
use anyhow::{bail, ensure, Context, Result};
use roxmltree::{Document, Node};
use std::collections::HashSet;

/// One named number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Numbered {
    pub name: String,
    pub value: i64,
}

/// The syscalls of `syscall.xml` that exist in `config`, with their numbers.
pub fn syscalls(xml: &str, config: &KernelConfig) -> Result<Vec<Numbered>> {
    let doc = Document::parse(xml).context("syscall.xml is not well-formed XML")?;
    let root = doc.root_element();
    let section = |tag: &str| -> Result<Option<Node>> {
        let found: Vec<Node> = root.descendants().filter(|n| n.has_tag_name(tag)).collect();
        ensure!(
            found.len() <= 1,
            "syscall.xml has {} <{tag}> elements",
            found.len()
        );
        Ok(found.into_iter().next())
    };
    let api = section("api")?.context("syscall.xml has no <api> element")?;
    let api_configs = api
        .descendants()
        .filter(|n| n.has_tag_name("config"))
        .count();
    ensure!(
        api_configs == 1,
        "syscall.xml's <api> must hold exactly one <config>, found {api_configs}"
    );

    let mut out = Vec::new();
    let mut number = -1;
    for section in [Some(api), section("debug")?].into_iter().flatten() {
        for group in section.descendants().filter(|n| n.has_tag_name("config")) {
            let condition = group.attribute("condition").unwrap_or("");
            let present = condition::evaluate(condition, config)
                .with_context(|| format!("syscall.xml condition `{condition}`"))?;
            for syscall in group.descendants().filter(|n| n.has_tag_name("syscall")) {
                let name = syscall
                    .attribute("name")
                    .context("a <syscall> in syscall.xml has no name")?;
                if present {
                    out.push(Numbered {
                        name: checked_identifier(name)?,
                        value: number,
                    });
                }
                number -= 1;
            }
        }
    }
    unique(&out, "syscall.xml")?;
    Ok(out)
}

/// Invocation labels of the generic, x86_64 and x86 interface files (in
/// that order, as the kernel numbers them) that exist in `config`.
pub fn invocations(
    generic: &str,
    sel4_arch: &str,
    arch: &str,
    config: &KernelConfig,
) -> Result<Vec<Numbered>> {
    let mut out = vec![Numbered {
        name: "InvalidInvocation".into(),
        value: 0,
    }];
    let layers = [
        ("sel4.xml", generic, false),
        ("x86_64 sel4arch.xml", sel4_arch, true),
        ("x86 sel4arch.xml", arch, true),
    ];
    for (what, xml, first_must_be_unconditional) in layers {
        let doc = Document::parse(xml).with_context(|| format!("{what} is not well-formed XML"))?;
        let mut first = true;
        for method in doc.descendants().filter(|n| n.has_tag_name("method")) {
            let id = method
                .attribute("id")
                .with_context(|| format!("a <method> in {what} has no id"))?;
            let present = method_condition(method, config)
                .with_context(|| format!("condition of {id} in {what}"))?;
            if first && first_must_be_unconditional && !present.1 {
                // The kernel's generator refuses this too (`#error`): the
                // first label of a layer anchors its numbering.
                bail!("{what}: the first invocation `{id}` must not be conditional");
            }
            first = false;
            if present.0 {
                let value = out.len() as i64;
                out.push(Numbered {
                    name: checked_identifier(id)?,
                    value,
                });
            }
        }
    }
    unique(&out, "the invocation XML files")?;
    Ok(out)
}

/// Whether a method exists in `config`, and whether it is unconditional.
///
/// seL4 5.0 writes the condition as a `condition` attribute holding a C
/// expression; later releases use a `<condition>` child built from
/// `<config var=..>`, `<and>`, `<or>` and `<not>`. Both are understood.
fn method_condition(method: Node, config: &KernelConfig) -> Result<(bool, bool)> {
    let attribute = method.attribute("condition").unwrap_or("").trim();
    let element = method
        .children()
        .find(|n| n.is_element() && n.has_tag_name("condition"));
    let mut present = condition::evaluate(attribute, config)?;
    let mut unconditional = attribute.is_empty();
    if let Some(element) = element {
        let terms: Vec<Node> = element.children().filter(|n| n.is_element()).collect();
        ensure!(
            terms.len() <= 1,
            "a <condition> holds more than one term; wrap them in <and> or <or>"
        );
        if let Some(term) = terms.first() {
            present = present && condition_element(*term, config)?;
            unconditional = false;
        }
    }
    Ok((present, unconditional))
}

fn condition_element(node: Node, config: &KernelConfig) -> Result<bool> {
    let terms = || node.children().filter(|n| n.is_element());
    match node.tag_name().name() {
        "config" => {
            let var = node.attribute("var").context("<config> without var")?;
            condition::evaluate(var, config)
        }
        "and" => terms().try_fold(true, |acc, t| Ok(acc & condition_element(t, config)?)),
        "or" => terms().try_fold(false, |acc, t| Ok(acc | condition_element(t, config)?)),
        "not" => {
            let inner: Vec<Node> = terms().collect();
            ensure!(inner.len() == 1, "<not> must hold exactly one term");
            Ok(!condition_element(inner[0], config)?)
        }
        other => bail!("unknown condition element <{other}>"),
    }
}

/// Names become Rust constants: refuse anything that is not a plain
/// identifier rather than emit code that fails to compile elsewhere.
fn checked_identifier(name: &str) -> Result<String> {
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ensure!(ok, "`{name}` is not usable as a constant name");
    Ok(name.to_string())
}

fn unique(items: &[Numbered], what: &str) -> Result<()> {
    let mut seen = HashSet::new();
    for item in items {
        ensure!(
            seen.insert(item.name.as_str()),
            "{what} define `{}` twice",
            item.name
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSCALLS: &str = r#"<syscalls>
        <api><config><syscall name="Call"/><syscall name="ReplyRecv"/></config></api>
        <debug>
          <config condition="defined CONFIG_DEBUG_BUILD"><syscall name="DebugPutChar"/></config>
          <config condition="defined CONFIG_VTX"><syscall name="Skipped"/></config>
          <config condition="defined CONFIG_DEBUG_BUILD"><syscall name="DebugLater"/></config>
        </debug></syscalls>"#;

    #[test]
    fn configured_out_syscalls_keep_their_numbers() {
        let debug = syscalls(SYSCALLS, &KernelConfig::DEBUG).unwrap();
        let pairs: Vec<(&str, i64)> = debug.iter().map(|s| (s.name.as_str(), s.value)).collect();
        assert_eq!(
            pairs,
            [
                ("Call", -1),
                ("ReplyRecv", -2),
                ("DebugPutChar", -3),
                ("DebugLater", -5)
            ]
        );
        let release = syscalls(SYSCALLS, &KernelConfig::RELEASE).unwrap();
        assert_eq!(release.len(), 2);
    }

    #[test]
    fn configured_out_labels_close_the_gap_and_layers_continue() {
        let generic = r#"<api><interface name="a">
            <method id="First"/>
            <method id="Gone" condition="defined(CONFIG_VTX)"/>
            <method id="Second"><condition><not><config var="CONFIG_VTX"/></not></condition></method>
            <method id="Third"><condition><and><config var="CONFIG_IOMMU"/></and></condition></method>
        </interface></api>"#;
        let mode = r#"<api><interface name="b"><method id="ModeOne"/></interface></api>"#;
        let arch = r#"<api><interface name="c"><method id="ArchOne"/>
            <method id="ArchTwo" condition="CONFIG_MAX_NUM_NODES > 1"/></interface></api>"#;
        let labels = invocations(generic, mode, arch, &KernelConfig::DEBUG).unwrap();
        let pairs: Vec<(&str, i64)> = labels.iter().map(|s| (s.name.as_str(), s.value)).collect();
        assert_eq!(
            pairs,
            [
                ("InvalidInvocation", 0),
                ("First", 1),
                ("Second", 2),
                ("ModeOne", 3),
                ("ArchOne", 4)
            ]
        );
        let iommu = invocations(generic, mode, arch, &KernelConfig::DEBUG_IOMMU).unwrap();
        assert_eq!(iommu[3].name, "Third");
        assert_eq!(iommu.last().unwrap().value, 5);
    }

    #[test]
    fn conditional_first_arch_label_is_refused() {
        let arch = r#"<api><interface name="c">
            <method id="X" condition="defined(CONFIG_VTX)"/></interface></api>"#;
        let empty = "<api/>";
        assert!(invocations(empty, empty, arch, &KernelConfig::DEBUG).is_err());
    }
}
