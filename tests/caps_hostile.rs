//! Hostile descriptions: every numeric field at and past its bounds, values
//! of the wrong type, odd names, huge counts and deep nesting. Each must be
//! answered with an error at the line of the value that is wrong, never
//! with a panic, a hang or an absurd allocation.
//!
//! The cases are generated from one valid description whose numeric values
//! are placeholders (`@field@`): each case puts one value in one field and
//! the defaults everywhere else.
//!
//! `PADDOCK_SHOW=1 cargo test --test caps_hostile -- --nocapture` prints
//! each case's first message and how long each large case took.

use paddock_caps::{parse, Diagnostics};
use std::path::Path;
use std::time::{Duration, Instant};

/// A description that uses every numeric field of every section.
const BASE: &str = r#"[system]
name = "hostile"
kernel = "debug"
iommu = true
memory_mib = @memory_mib@
qemu_machine = "q35"
qemu_devices = [
    "intel-iommu",
    "edu",
    "virtio-blk-pci,drive=files,iommu_platform=on,disable-legacy=on",
    "virtio-net-pci,netdev=net0,iommu_platform=on,disable-legacy=on",
]

[[disk]]
name = "files"
folder = "storage-files"
size_mib = @disk.size_mib@
fat = @disk.fat@

[[network]]
name = "net0"
forward = [
    { protocol = "tcp", guest = @forward.guest@, host = @forward.host@ },
]

[[component]]
name = "drv"
program = "drv"
priority = @priority@
stack_size = @stack_size@
heap_size = @heap_size@
restart = @restart@
cnode_size_bits = @cnode_size_bits@

[component.params]
baud = @params.baud@

[[component.io_port]]
name = "com2"
first = @io_port.first@
last = @io_port.last@

[[component.irq]]
name = "uart"
ioapic_pin = @irq.ioapic_pin@
vector = @irq.vector@

[[component.irq]]
name = "line"
ioapic_pin = 20
shared = true
ack_bound_tsc = @irq.ack_bound_tsc@

[[component.mmio]]
name = "hpet"
paddr = @mmio.paddr@
size = @mmio.size@

[[component.pci]]
name = "edu"
id = "1234:11e8"

[[component.pci.bar]]
index = @bar.index@
size = @bar.size@

[[component.pci.dma]]
name = "buf"
iova = @dma.iova@
size = @dma.size@

[[component.irq]]
name = "done"
msi = "edu"
vector = @msi.vector@

[[component]]
name = "blk"
program = "blk"

[[component.pci]]
name = "blk"
id = "1af4:1042"

[[component.pci.dma]]
name = "queues"
iova = 0x100000
size = 0x2000

[[component.irq]]
name = "queue"
msix = "blk"
entry = @msix.entry@

[[component.irq]]
name = "line"
ioapic_pin = 20
shared = true

[[component]]
name = "client"
program = "client"

[[ring]]
name = "tx"
producer = "client"
consumer = "drv"
slots = @ring.slots@
data_size = @ring.data_size@

[[shared]]
name = "banner"
size = @shared.size@
map = [{ component = "client", rights = "rw" }]
"#;

/// One numeric field: its placeholder, the value the base uses, values
/// that must be accepted and values that must be refused (besides the
/// [`ALWAYS_REFUSED`] ones).
struct Field {
    name: &'static str,
    default: &'static str,
    accepted: &'static [&'static str],
    refused: &'static [&'static str],
}

const FIELDS: &[Field] = &[
    Field {
        name: "memory_mib",
        default: "512",
        accepted: &["64", "3072"],
        refused: &["0", "63", "3073", "4294967295", "4294967296", I64_MAX],
    },
    Field {
        name: "disk.size_mib",
        default: "64",
        accepted: &["36", "8192"],
        refused: &["0", "35", "8193", I64_MAX],
    },
    Field {
        name: "disk.fat",
        default: "32",
        accepted: &["16", "32"],
        refused: &["0", "12", "33", I64_MAX],
    },
    Field {
        name: "forward.guest",
        default: "80",
        accepted: &["1", "65535"],
        refused: &["0", "65536", I64_MAX],
    },
    Field {
        name: "forward.host",
        default: "8080",
        accepted: &["1", "65535"],
        refused: &["0", "65536", I64_MAX],
    },
    Field {
        name: "priority",
        default: "100",
        accepted: &["0", "254"],
        refused: &["255", "256", I64_MAX],
    },
    Field {
        name: "stack_size",
        default: "0x4000",
        accepted: &["0x1000", "0x800000"],
        refused: &[
            "0",
            "0x800",
            "0x1001",
            "0x1000000",
            I64_MAX,
            "0x4000000000000000",
        ],
    },
    Field {
        name: "heap_size",
        default: "0x10000",
        accepted: &["0", "0x10000000"],
        refused: &["1", "0x10001000", I64_MAX, "0x7FFFFFFFFFFFF000"],
    },
    Field {
        name: "restart",
        default: "\"never\"",
        accepted: &["\"always\"", "1", "4294967295"],
        refused: &["0", "4294967296", I64_MAX, "\"sometimes\""],
    },
    Field {
        name: "cnode_size_bits",
        default: "8",
        accepted: &["4", "20"],
        refused: &["0", "3", "21", "64", I64_MAX],
    },
    Field {
        name: "params.baud",
        default: "115200",
        accepted: &["0", I64_MAX, "9223372036854775808", "18446744073709551615"],
        refused: &[],
    },
    Field {
        name: "io_port.first",
        default: "0x2F8",
        accepted: &["0x2FF"],
        refused: &["0x300", "0x10000", I64_MAX],
    },
    Field {
        name: "io_port.last",
        default: "0x2FF",
        accepted: &["0x2F8", "0xFFFF"],
        refused: &["0x2F7", "0x10000", I64_MAX],
    },
    Field {
        name: "irq.ioapic_pin",
        default: "3",
        accepted: &["0", "23"],
        refused: &["24", "20", I64_MAX],
    },
    Field {
        name: "irq.vector",
        default: "3",
        accepted: &["0", "107"],
        refused: &["108", "256", I64_MAX],
    },
    Field {
        name: "irq.ack_bound_tsc",
        default: "2000000",
        accepted: &["10000", "10000000000"],
        refused: &["0", "9999", "10000000001", I64_MAX],
    },
    Field {
        name: "mmio.paddr",
        default: "0xFED00000",
        accepted: &["0xFED01000"],
        refused: &[
            "0",
            "0xFED00001",
            "0xFFFFFFFFFFFFF000",
            "0xFFFFFFFFFF000",
            "0x7FFFFFFFFFFFF000",
            I64_MAX,
        ],
    },
    Field {
        name: "mmio.size",
        default: "0x1000",
        accepted: &["0x1000000"],
        refused: &["0", "0x1001", "0x1001000", I64_MAX],
    },
    Field {
        name: "bar.index",
        default: "0",
        accepted: &["5"],
        refused: &["6", I64_MAX],
    },
    Field {
        name: "bar.size",
        default: "0x100000",
        accepted: &["0x1000", "0x10000000"],
        refused: &["0", "0x800", "0x1800", "0x20000000", I64_MAX],
    },
    Field {
        name: "dma.iova",
        default: "0x200000",
        accepted: &["0", "0x7FFFFF0000"],
        refused: &["0x200001", "0x8000000000", "0x7FFFFFFFFFFFF000", I64_MAX],
    },
    Field {
        name: "dma.size",
        default: "0x10000",
        accepted: &["0x1000", "0x10000000"],
        refused: &["0", "0x1001", "0x10001000", I64_MAX],
    },
    Field {
        name: "msi.vector",
        default: "40",
        accepted: &["0", "107"],
        refused: &["3", "108", I64_MAX],
    },
    Field {
        name: "msix.entry",
        default: "0",
        accepted: &["2047"],
        refused: &["2048", I64_MAX],
    },
    Field {
        name: "ring.slots",
        default: "64",
        accepted: &["2", "32768"],
        refused: &["0", "1", "3", "65536", "0x4000000000000000", I64_MAX],
    },
    Field {
        name: "ring.data_size",
        default: "0x4000",
        accepted: &["0x1000", "0x4000000"],
        refused: &["0", "0x800", "0x8000000", "0x4000000000000000", I64_MAX],
    },
    Field {
        name: "shared.size",
        default: "0x1000",
        accepted: &["0x10000000"],
        refused: &["0", "0x1001", "0x10001000", "0x7FFFFFFFFFFFF000", I64_MAX],
    },
];

const I64_MAX: &str = "9223372036854775807";

/// Refused in every numeric field: negative, past TOML's integers, not
/// integers at all.
const ALWAYS_REFUSED: &[&str] = &[
    "-1",
    "-0x1",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "0x10000000000000000",
    "99999999999999999999999999999999999999999",
    "1.0",
    "1.5",
    "1e3",
    "-0.0",
    "inf",
    "nan",
    "true",
    "\"1\"",
    "[1]",
    "{ value = 1 }",
    "1979-05-27",
];

/// The base with `value` in `field` and the defaults elsewhere, and the
/// line `field` is on.
fn instance(field: &str, value: &str) -> (String, usize) {
    let mut text = BASE.to_string();
    let marker = format!("@{field}@");
    let line = BASE
        .lines()
        .position(|l| l.contains(&marker))
        .unwrap_or_else(|| panic!("no {marker} in the base"))
        + 1;
    text = text.replace(&marker, value);
    for f in FIELDS {
        text = text.replace(&format!("@{}@", f.name), f.default);
    }
    (text, line)
}

/// `parse`, with a panic turned into a failure message.
fn try_parse(text: &str) -> Result<Result<(), Diagnostics>, String> {
    std::panic::catch_unwind(|| parse(Path::new("hostile.toml"), text).map(|_| ())).map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default()
    })
}

/// Every line an error of `d` points at, primary or secondary.
fn lines(d: &Diagnostics) -> Vec<usize> {
    d.errors()
        .iter()
        .flat_map(|e| {
            d.primary_position(e)
                .into_iter()
                .chain(d.secondary_positions(e))
        })
        .map(|p| p.line)
        .collect()
}

#[test]
fn the_base_description_is_valid() {
    let (text, _) = instance("memory_mib", "512");
    if let Err(d) = parse(Path::new("hostile.toml"), &text) {
        panic!("{d}");
    }
}

#[test]
fn every_numeric_field_is_checked_at_its_bounds() {
    let started = Instant::now();
    let mut failures = vec![];
    let show = std::env::var_os("PADDOCK_SHOW").is_some();
    for f in FIELDS {
        for v in f.accepted {
            let (text, line) = instance(f.name, v);
            match try_parse(&text) {
                Ok(Ok(())) => {}
                // A value at its field's bound may pass a limit of the
                // whole component (its paging structures): only an error
                // at the field itself is a refusal.
                Ok(Err(d)) if !lines(&d).contains(&line) => {}
                Ok(Err(d)) => failures.push(format!("{} = {v}: refused\n{d}", f.name)),
                Err(p) => failures.push(format!("{} = {v}: panicked: {p}", f.name)),
            }
        }
        let refused = f.refused.iter().chain(ALWAYS_REFUSED);
        for v in refused.filter(|v| !f.accepted.contains(v)) {
            let (text, line) = instance(f.name, v);
            match try_parse(&text) {
                Ok(Ok(())) => failures.push(format!("{} = {v}: accepted", f.name)),
                Err(p) => failures.push(format!("{} = {v}: panicked: {p}", f.name)),
                Ok(Err(d)) => {
                    let rendered = d.to_string();
                    if show {
                        eprintln!("{} = {v}: {}", f.name, d.errors()[0].message);
                    }
                    if !lines(&d).contains(&line) {
                        failures.push(format!(
                            "{} = {v}: no error at line {line}\n{rendered}",
                            f.name
                        ));
                    } else if let Some(e) = d.errors().iter().find(|e| {
                        ["i64", "u64", "u32", "i128", "invalid type", "invalid value"]
                            .iter()
                            .any(|jargon| e.message.contains(jargon))
                    }) {
                        // The user wrote TOML, not Rust: say which numbers
                        // the field takes in words.
                        failures.push(format!("{} = {v}: {:?}", f.name, e.message));
                    } else if !d.errors().iter().all(|e| {
                        d.primary_position(e)
                            .is_some_and(|p| rendered.contains(&format!("hostile.toml:{p}")))
                    }) {
                        failures.push(format!(
                            "{} = {v}: an error rendered without its place\n{rendered}",
                            f.name
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

/// The smallest valid description with `extra` appended.
fn small(extra: &str) -> String {
    format!("[system]\nname = \"small\"\nkernel = \"debug\"\n{extra}")
}

/// `text` must be refused with an error whose message contains `says`,
/// at `line` (primary or secondary), quickly.
fn refused_at(what: &str, text: &str, line: usize, says: &str) -> Option<String> {
    let started = Instant::now();
    let result = try_parse(text);
    let took = started.elapsed();
    if std::env::var_os("PADDOCK_SHOW").is_some() {
        eprintln!("{what}: {took:?}");
    }
    let failure = match result {
        Err(p) => Some(format!("{what}: panicked: {p}")),
        Ok(Ok(())) => Some(format!("{what}: accepted")),
        Ok(Err(d)) => {
            let rendered = d.to_string();
            if !lines(&d).contains(&line) {
                Some(format!("{what}: no error at line {line}\n{rendered}"))
            } else if !d.errors().iter().any(|e| e.message.contains(says)) {
                Some(format!("{what}: no error says {says:?}\n{rendered}"))
            } else if rendered.chars().any(|c| c.is_control() && c != '\n') {
                Some(format!("{what}: control characters in\n{rendered:?}"))
            } else if rendered.len() > 64 << 10 {
                Some(format!("{what}: {} bytes of messages", rendered.len()))
            } else {
                None
            }
        }
    };
    failure.or_else(|| (took > Duration::from_secs(2)).then(|| format!("{what}: took {took:?}")))
}

#[test]
fn odd_names_are_refused_where_they_are_written() {
    let long = "a".repeat(1 << 20);
    // As written between the quotes of a TOML basic string.
    let names: &[(&str, &str)] = &[
        ("Cyrillic", "жук"),
        ("CJK", "驱动"),
        ("escape sequence", "a\\u001b[2Jb"),
        ("NUL", "a\\u0000"),
        ("newline", "a\\nb"),
        ("right-to-left override", "a\\u202eb"),
        ("empty", ""),
        ("a megabyte", &long),
        ("upper case", "Serial"),
        ("leading digit", "1serial"),
        ("dot", "a.b"),
        ("space", "a b"),
    ];
    // Each place a name is written: the description around it, the line
    // it is on, what the error says.
    let places: &[(&str, usize, &str)] = &[
        ("[system]\nname = \"@\"\nkernel = \"debug\"\n", 2, "invalid system name"),
        ("@S\n[[component]]\nname = \"@\"\nprogram = \"p\"\n", 5, "invalid component name"),
        ("@S\n[[component]]\nname = \"c\"\nprogram = \"@\"\n", 6, "invalid program name"),
        (
            "@S\n[[component]]\nname = \"c\"\nprogram = \"p\"\n[[component.io_port]]\nname = \"@\"\nfirst = 0x60\nlast = 0x60\n",
            8,
            "invalid IO port range name",
        ),
        (
            "@S\n[[component]]\nname = \"c\"\nprogram = \"p\"\n[component.params]\n\"@\" = 1\n",
            8,
            "invalid parameter name",
        ),
        (
            "@S\n[[component]]\nname = \"c\"\nprogram = \"p\"\n[[component]]\nname = \"d\"\nprogram = \"p\"\n[[channel]]\nname = \"@\"\nends = [\"c\", \"d\"]\n",
            11,
            "invalid channel name",
        ),
    ];
    let mut failures = vec![];
    for (what, name) in names {
        for (template, line, says) in places {
            // Program names may have upper case and digits first; a long
            // one is refused for its length.
            let says = match (says.contains("program"), *what) {
                (true, "upper case" | "leading digit") => continue,
                (true, "a megabyte") => "longer than the 32",
                _ => says,
            };
            let text = template
                .replace("@S", "[system]\nname = \"small\"\nkernel = \"debug\"")
                .replace('@', name);
            failures.extend(refused_at(&format!("{what}: {says}"), &text, *line, says));
        }
    }
    // Names valid in themselves, refused by the room they are given.
    let a33 = "a".repeat(33);
    let text = small(&format!(
        "\n[[component]]\nname = \"{a33}\"\nprogram = \"p\"\n"
    ));
    failures.extend(refused_at("33 characters", &text, 6, "longer than the 32"));
    let text = small(&format!(
        "\n[[component]]\nname = \"c\"\nprogram = \"{a33}\"\n"
    ));
    failures.extend(refused_at("program of 33", &text, 7, "longer than the 32"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `n` components, each with `ports` IO port ranges of one port.
fn many(n: usize, ports: usize) -> String {
    let mut text = small("");
    for c in 0..n {
        text.push_str(&format!(
            "\n[[component]]\nname = \"c{c}\"\nprogram = \"p\"\ncnode_size_bits = 20\n"
        ));
        for p in 0..ports {
            let port = 0x1000 + c * ports + p;
            text.push_str(&format!(
                "[[component.io_port]]\nname = \"p{p}\"\nfirst = {port}\nlast = {port}\n"
            ));
        }
    }
    text
}

#[test]
fn huge_counts_are_refused_at_the_limit_quickly() {
    let mut failures = vec![];
    // 10,000 components: the 257th is named (line 4 + 5 lines each).
    let text = many(10_000, 0);
    failures.extend(refused_at(
        "10,000 components",
        &text,
        4 + 256 * 5 + 2,
        "the root task holds 256",
    ));
    // 10,000 IO port ranges in one component: past the info page's names.
    let text = many(1, 10_000);
    failures.extend(refused_at(
        "10,000 IO port ranges",
        &text,
        6,
        "its info page holds 63 names",
    ));
    // 10,000 rings and 10,000 shared regions between two components:
    // past the notification badge's bits, and the kernel objects.
    let mut text = many(2, 0);
    for r in 0..10_000 {
        text.push_str(&format!(
            "[[ring]]\nname = \"r{r}\"\nproducer = \"c0\"\nconsumer = \"c1\"\nslots = 32768\ndata_size = 0x4000000\n"
        ));
    }
    failures.extend(refused_at(
        "10,000 rings",
        &text,
        6,
        "notification badge bits",
    ));
    let mut text = many(1, 0);
    for r in 0..10_000 {
        text.push_str(&format!(
            "[[shared]]\nname = \"s{r}\"\nsize = 0x10000000\nmap = [{{ component = \"c0\", rights = \"rw\" }}]\n"
        ));
    }
    failures.extend(refused_at(
        "10,000 shared regions",
        &text,
        2,
        "shared regions and DMA buffers",
    ));
    // 10,000 parameters: past the info page.
    let mut text = many(1, 0);
    text.push_str("[component.params]\n");
    for p in 0..10_000 {
        text.push_str(&format!("p{p} = 18446744073709551615\n"));
    }
    failures.extend(refused_at(
        "10,000 parameters",
        &text,
        6,
        "its info page holds 63 names",
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn deep_and_huge_toml_is_refused_without_a_crash() {
    let mut failures = vec![];
    for depth in [100, 10_000, 100_000] {
        let text = small(&format!(
            "x = {}1{}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        ));
        failures.extend(refused_at(&format!("arrays {depth} deep"), &text, 4, ""));
        let text = small(&format!(
            "x = {}1{}\n",
            "{ a = ".repeat(depth),
            " }".repeat(depth)
        ));
        failures.extend(refused_at(
            &format!("inline tables {depth} deep"),
            &text,
            4,
            "",
        ));
        let text = small(&format!("[{}]\n", vec!["a"; depth].join(".")));
        // The parser does not say where it stopped: the file is named.
        failures.extend(refused_at(
            &format!("a table {depth} keys deep"),
            &text,
            1,
            "nested too deeply",
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn names_that_collide_are_refused_naming_both() {
    let two = "\n[[component]]\nname = \"a\"\nprogram = \"p\"\n\n[[component]]\nname = \"b\"\nprogram = \"p\"\n";
    let cases: Vec<(&str, String, usize, usize, &str)> = vec![
        (
            "an IO port range and an IRQ",
            small("\n[[component]]\nname = \"a\"\nprogram = \"p\"\n[[component.io_port]]\nname = \"x\"\nfirst = 0x60\nlast = 0x60\n[[component.irq]]\nname = \"x\"\nioapic_pin = 1\n"),
            9,
            13,
            "duplicate resource name `x`",
        ),
        (
            "a ring and a channel",
            small(&format!("{two}\n[[ring]]\nname = \"x\"\nproducer = \"a\"\nconsumer = \"b\"\nslots = 2\ndata_size = 0x1000\n\n[[channel]]\nname = \"x\"\nends = [\"a\", \"b\"]\n")),
            14,
            21,
            "duplicate connection name `x`",
        ),
        (
            "two components",
            small("\n[[component]]\nname = \"a\"\nprogram = \"p\"\n[[component]]\nname = \"a\"\nprogram = \"q\"\n"),
            6,
            9,
            "duplicate component name `a`",
        ),
        (
            // `shared.bar0` is BAR 0 of device `shared` and shared region
            // `bar0` alike.
            "a device's BAR and a shared region",
            "[system]\nname = \"s\"\nkernel = \"debug\"\niommu = true\nqemu_machine = \"q35\"\nqemu_devices = [\"intel-iommu\", \"edu\"]\n[[component]]\nname = \"a\"\nprogram = \"p\"\n[[component.pci]]\nname = \"shared\"\nid = \"1234:11e8\"\n[[component.pci.bar]]\nindex = 0\nsize = 0x1000\n[[shared]]\nname = \"bar0\"\nsize = 0x1000\nmap = [{ component = \"a\", rights = \"rw\" }]\n".into(),
            11,
            17,
            "two symbols named `shared.bar0`",
        ),
    ];
    let mut failures = vec![];
    for (what, text, first, again, says) in &cases {
        failures.extend(refused_at(what, text, *again, says));
        if let Ok(Err(d)) = try_parse(text) {
            if !lines(&d).contains(first) {
                failures.push(format!(
                    "{what}: the first at line {first} is not named\n{d}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
