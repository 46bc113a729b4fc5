//! Kernel configurations as typed values.
//!
//! seL4's standalone Makefile build reads a hand-written `autoconf.h`; this
//! module is the only place its contents are decided. A [`KernelConfig`] is
//! the pair of choices an image makes (debug or release, with or without the
//! VT-d IOMMU); everything else is fixed to values known to boot under QEMU's
//! TCG on this machine.

use std::fmt;
use std::str::FromStr;

/// Whether the kernel is built for debugging (kernel printing, debug
/// syscalls, `seL4_DebugCapIdentify`) or for release.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flavour {
    Debug,
    Release,
}

impl Flavour {
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Debug => "debug",
            Flavour::Release => "release",
        }
    }
}

impl FromStr for Flavour {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "debug" => Ok(Flavour::Debug),
            "release" => Ok(Flavour::Release),
            other => Err(format!(
                "unknown kernel flavour `{other}` (expected `debug` or `release`)"
            )),
        }
    }
}

/// One kernel configuration. Each distinct value is built, cached and
/// bound separately, because object-type numbers and invocation labels move
/// with it (for example `seL4_X86_IOPageTableObject` only exists with IOMMU).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KernelConfig {
    pub flavour: Flavour,
    pub iommu: bool,
}

impl KernelConfig {
    pub const DEBUG: KernelConfig = KernelConfig {
        flavour: Flavour::Debug,
        iommu: false,
    };
    pub const RELEASE: KernelConfig = KernelConfig {
        flavour: Flavour::Release,
        iommu: false,
    };
    pub const DEBUG_IOMMU: KernelConfig = KernelConfig {
        flavour: Flavour::Debug,
        iommu: true,
    };
    pub const RELEASE_IOMMU: KernelConfig = KernelConfig {
        flavour: Flavour::Release,
        iommu: true,
    };

    /// Every configuration paddock knows how to build.
    pub const ALL: [KernelConfig; 4] = [
        Self::DEBUG,
        Self::RELEASE,
        Self::DEBUG_IOMMU,
        Self::RELEASE_IOMMU,
    ];

    /// Stable name used for build folders and in messages: `debug`,
    /// `release`, `debug-iommu`, `release-iommu`.
    pub fn name(&self) -> String {
        if self.iommu {
            format!("{}-iommu", self.flavour.name())
        } else {
            self.flavour.name().to_string()
        }
    }

    pub fn is_debug(&self) -> bool {
        self.flavour == Flavour::Debug
    }

    /// The `CONFIG_*` settings of this configuration, in a fixed order.
    pub fn settings(&self) -> Vec<Setting> {
        use Value::{Int, Str};
        let mut s = vec![
            Setting::new("KERNEL_MASTER", Int(1)),
            Setting::new("ARCH_X86", Int(1)),
            Setting::new("ARCH_X86_64", Int(1)),
            Setting::new("PLAT_PC99", Int(1)),
            Setting::new("WORD_SIZE", Int(64)),
            Setting::new("HAVE_FPU", Int(1)),
            Setting::new("FXSAVE", Int(1)),
            Setting::new("XSAVE_SIZE", Int(512)),
            Setting::new("FPU_MAX_RESTORES_SINCE_SWITCH", Int(64)),
            // FSGSBASE_MSR and XAPIC rather than the instruction/x2APIC
            // variants: both are safe under QEMU's TCG.
            Setting::new("FSGSBASE_MSR", Int(1)),
            Setting::new("SYSCALL", Int(1)),
            Setting::new("IRQ_IOAPIC", Int(1)),
            Setting::new("MAX_NUM_IOAPIC", Int(1)),
            Setting::new("XAPIC", Int(1)),
            Setting::new("HUGE_PAGE", Int(1)),
            Setting::new("MULTIBOOT_GRAPHICS_MODE_NONE", Int(1)),
            Setting::new("ROOT_CNODE_SIZE_BITS", Int(ROOT_CNODE_SIZE_BITS.into())),
            Setting::new("TIMER_TICK_MS", Int(2)),
            Setting::new("TIME_SLICE", Int(5)),
            Setting::new("RETYPE_FAN_OUT_LIMIT", Int(256)),
            Setting::new("MAX_NUM_WORK_UNITS_PER_PREEMPTION", Int(100)),
            Setting::new(
                "MAX_NUM_BOOTINFO_UNTYPED_CAPS",
                Int(MAX_NUM_BOOTINFO_UNTYPED_CAPS.into()),
            ),
            Setting::new("FASTPATH", Int(1)),
            Setting::new("NUM_DOMAINS", Int(1)),
            Setting::new("NUM_PRIORITIES", Int(256)),
            Setting::new("MAX_NUM_NODES", Int(1)),
            Setting::new("CACHE_LN_SZ", Int(64)),
            Setting::new("KERNEL_STACK_BITS", Int(12)),
            Setting::new("OPTIMISATION_O2", Int(1)),
            Setting::new("KERNEL_CFLAGS", Str("")),
            Setting::new("KERNEL_COMPILER", Str("")),
            Setting::new("KERNEL_EXTRA_CPPFLAGS", Str("")),
            Setting::new("DOMAIN_SCHEDULE", Str("")),
            Setting::new("CROSS_COMPILER_PREFIX", Str("")),
        ];
        if self.is_debug() {
            s.extend([
                Setting::new("DEBUG_BUILD", Int(1)),
                // The Makefile never sets PRINTING (a typo), so it must be here.
                Setting::new("PRINTING", Int(1)),
                Setting::new("IRQ_REPORTING", Int(1)),
                Setting::new("COLOUR_PRINTING", Int(1)),
                // `make DEBUG=1` defines this one too: guarded in autoconf.h.
                Setting::guarded("USER_STACK_TRACE_LENGTH", Int(16)),
            ]);
        }
        if self.iommu {
            s.extend([
                Setting::new("IOMMU", Int(1)),
                Setting::new("MAX_RMRR_ENTRIES", Int(32)),
            ]);
        }
        s
    }

    /// The value of `CONFIG_<name>`, or `None` when it is not defined.
    pub fn get(&self, name: &str) -> Option<Value> {
        let name = name.strip_prefix("CONFIG_").unwrap_or(name);
        self.settings()
            .into_iter()
            .find(|s| s.name == name)
            .map(|s| s.value)
    }

    /// Whether `CONFIG_<name>` is defined.
    pub fn is_defined(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The kernel's `autoconf.h` for this configuration.
    pub fn autoconf_h(&self) -> String {
        let mut out = String::new();
        out.push_str("/* Generated by paddock-kernel from its typed configuration. */\n");
        out.push_str(&format!("/* configuration: {} */\n", self.name()));
        out.push_str("#ifndef AUTOCONF_INCLUDED\n#define AUTOCONF_INCLUDED\n");
        for s in self.settings() {
            let line = format!("#define CONFIG_{} {}\n", s.name, s.value);
            if s.guarded {
                out.push_str(&format!("#ifndef CONFIG_{}\n{line}#endif\n", s.name));
            } else {
                out.push_str(&line);
            }
        }
        out.push_str("#endif\n");
        out
    }
}

impl fmt::Display for KernelConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for KernelConfig {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (flavour, iommu) = match s.strip_suffix("-iommu") {
            Some(f) => (f, true),
            None => (s, false),
        };
        Ok(KernelConfig {
            flavour: flavour.parse()?,
            iommu,
        })
    }
}

/// Size of the root task's CNode, in bits of slots.
pub const ROOT_CNODE_SIZE_BITS: u8 = 14;
/// Length of the bootinfo's untyped list; fixes the bootinfo layout.
pub const MAX_NUM_BOOTINFO_UNTYPED_CAPS: u16 = 167;

/// The value of one `CONFIG_*` macro.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Str(&'static str),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Str(v) => write!(f, "\"{v}\""),
        }
    }
}

/// One `CONFIG_<name> <value>` line of `autoconf.h`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub value: Value,
    /// Wrapped in `#ifndef` because the Makefile may define it too.
    pub guarded: bool,
}

impl Setting {
    fn new(name: &'static str, value: Value) -> Self {
        Setting {
            name,
            value,
            guarded: false,
        }
    }
    fn guarded(name: &'static str, value: Value) -> Self {
        Setting {
            name,
            value,
            guarded: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in KernelConfig::ALL {
            assert_eq!(c.name().parse::<KernelConfig>().unwrap(), c);
        }
        assert!("fast".parse::<KernelConfig>().is_err());
    }

    #[test]
    fn iommu_and_debug_settings_follow_the_config() {
        assert!(KernelConfig::DEBUG_IOMMU.is_defined("CONFIG_IOMMU"));
        assert!(!KernelConfig::DEBUG.is_defined("IOMMU"));
        assert!(KernelConfig::DEBUG.is_defined("PRINTING"));
        assert!(!KernelConfig::RELEASE.is_defined("DEBUG_BUILD"));
        assert_eq!(
            KernelConfig::RELEASE.get("ROOT_CNODE_SIZE_BITS"),
            Some(Value::Int(14))
        );
    }

    #[test]
    fn autoconf_guards_the_makefile_defined_setting() {
        let h = KernelConfig::DEBUG.autoconf_h();
        assert!(h.contains(
            "#ifndef CONFIG_USER_STACK_TRACE_LENGTH\n#define CONFIG_USER_STACK_TRACE_LENGTH 16\n#endif"
        ));
        assert!(h.contains("#define CONFIG_KERNEL_CFLAGS \"\"\n"));
    }
}
