//! The line the root task prints once every component is started: how long
//! its own work took, apart from the runtime audit's, and what it used.
//!
//! ```text
//! paddock: all components started: 3 in 8123 us of root task work (8123456 TSC ticks); runtime audit 30125 us (30125321 TSC ticks) apart; 1240 KiB of kernel objects, 15210 root slots left; 0 refused
//! ```
//!
//! The work runs from the root task's first instruction to the last
//! component resumed. The runtime audit (the spec's digest, its CSpace
//! views and the dump it prints, a line per cap and mapping) is timed on
//! its own and left out: printing its lines takes most of a boot, and
//! they exist for the audit, not to build the system. Microseconds are
//! TSC ticks over the TSC frequency the kernel reports; under QEMU's
//! `-icount shift=0` a tick is one guest instruction. [`Started`]'s
//! `Display` writes the line and [`Started::parse`] reads it back, so the
//! two cannot drift apart.

use crate::STARTED_PREFIX;
use core::fmt;

/// The figures of the started line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Started {
    /// Components resumed (refused ones are not).
    pub components: u64,
    /// The root task's work, the runtime audit left out, in microseconds.
    pub work_us: u64,
    /// The same in TSC ticks.
    pub work_ticks: u64,
    /// The runtime audit (spec digest, views and dump), in microseconds.
    pub audit_us: u64,
    /// The same in TSC ticks.
    pub audit_ticks: u64,
    /// Kernel objects the root task retyped, in KiB.
    pub kernel_kib: u64,
    /// Empty slots left in the root task's CNode.
    pub slots_left: u64,
    /// Components refused at boot (a missing device).
    pub refused: u64,
}

impl fmt::Display for Started {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{STARTED_PREFIX} {} in {} us of root task work ({} TSC ticks); runtime audit {} us ({} TSC ticks) apart; {} KiB of kernel objects, {} root slots left; {} refused",
            self.components,
            self.work_us,
            self.work_ticks,
            self.audit_us,
            self.audit_ticks,
            self.kernel_kib,
            self.slots_left,
            self.refused
        )
    }
}

/// Why a line is not a started line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The line does not begin with [`STARTED_PREFIX`].
    NotStarted,
    /// The text at byte `at` of the line is not what the format has there.
    Unexpected { at: usize, expected: &'static str },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NotStarted => write!(f, "the line does not begin with `{STARTED_PREFIX}`"),
            ParseError::Unexpected { at, expected } => {
                write!(f, "the started line has no {expected} at byte {at}")
            }
        }
    }
}

impl Started {
    /// Reads a line `Display` wrote (surrounding whitespace ignored).
    pub fn parse(line: &str) -> Result<Started, ParseError> {
        let line = line.trim();
        let rest = line
            .strip_prefix(STARTED_PREFIX)
            .ok_or(ParseError::NotStarted)?;
        let mut s = Scanner {
            rest,
            offset: STARTED_PREFIX.len(),
        };
        s.text(" ")?;
        let components = s.number()?;
        s.text(" in ")?;
        let work_us = s.number()?;
        s.text(" us of root task work (")?;
        let work_ticks = s.number()?;
        s.text(" TSC ticks); runtime audit ")?;
        let audit_us = s.number()?;
        s.text(" us (")?;
        let audit_ticks = s.number()?;
        s.text(" TSC ticks) apart; ")?;
        let kernel_kib = s.number()?;
        s.text(" KiB of kernel objects, ")?;
        let slots_left = s.number()?;
        s.text(" root slots left; ")?;
        let refused = s.number()?;
        s.text(" refused")?;
        s.end()?;
        Ok(Started {
            components,
            work_us,
            work_ticks,
            audit_us,
            audit_ticks,
            kernel_kib,
            slots_left,
            refused,
        })
    }

    /// The first started line of a console log.
    pub fn find(log: &str) -> Option<Result<Started, ParseError>> {
        log.lines()
            .find(|l| l.trim_start().starts_with(STARTED_PREFIX))
            .map(Started::parse)
    }
}

/// Walks a line left to right, remembering where it is for errors.
struct Scanner<'a> {
    rest: &'a str,
    offset: usize,
}

impl Scanner<'_> {
    fn advance(&mut self, n: usize) {
        self.rest = &self.rest[n..];
        self.offset += n;
    }

    fn text(&mut self, expected: &'static str) -> Result<(), ParseError> {
        if !self.rest.starts_with(expected) {
            return Err(self.unexpected(expected));
        }
        self.advance(expected.len());
        Ok(())
    }

    /// A decimal number that fits a u64.
    fn number(&mut self) -> Result<u64, ParseError> {
        let digits = self.rest.bytes().take_while(|b| b.is_ascii_digit()).count();
        let value = self.rest[..digits]
            .parse()
            .map_err(|_| self.unexpected("decimal number below 2^64"))?;
        self.advance(digits);
        Ok(value)
    }

    fn end(&self) -> Result<(), ParseError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.unexpected("end of line"))
        }
    }

    fn unexpected(&self, expected: &'static str) -> ParseError {
        ParseError::Unexpected {
            at: self.offset,
            expected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Started {
        Started {
            components: 256,
            work_us: 412_345,
            work_ticks: 98_765_432,
            audit_us: 1_234_567,
            audit_ticks: 2_345_678_901,
            kernel_kib: 17_408,
            slots_left: 7_689,
            refused: 1,
        }
    }

    #[test]
    fn a_printed_line_reads_back() {
        let line = sample().to_string();
        assert!(line.starts_with("paddock: all components started: 256 in 412345 us of root task work (98765432 TSC ticks); runtime audit 1234567 us"));
        assert_eq!(Started::parse(&line), Ok(sample()));
        assert_eq!(Started::parse(&format!("  {line}\r")), Ok(sample()));
        assert_eq!(
            Started::parse(&u64::MAX.to_string()),
            Err(ParseError::NotStarted)
        );
    }

    #[test]
    fn a_log_gives_its_first_started_line() {
        let log = format!(
            "paddock: bootinfo: TSC 999 MHz\n{}\npaddock: system ready\n",
            sample()
        );
        assert_eq!(Started::find(&log), Some(Ok(sample())));
        assert_eq!(Started::find("paddock: system ready"), None);
    }

    #[test]
    fn a_damaged_line_is_an_error_naming_where() {
        let line = sample().to_string();
        let cut = &line[..line.len() - " refused".len()];
        assert_eq!(
            Started::parse(cut),
            Err(ParseError::Unexpected {
                at: cut.len(),
                expected: " refused"
            })
        );
        let extra = format!("{line} and more");
        assert!(matches!(
            Started::parse(&extra),
            Err(ParseError::Unexpected {
                expected: "end of line",
                ..
            })
        ));
        let huge = line.replace("256 in", "99999999999999999999999 in");
        let err = Started::parse(&huge).unwrap_err();
        assert_eq!(
            err,
            ParseError::Unexpected {
                at: STARTED_PREFIX.len() + 1,
                expected: "decimal number below 2^64"
            }
        );
        assert!(err.to_string().contains("at byte 33"), "{err}");
        // The old format, without the audit's figures, is refused.
        let old = "paddock: all components started: 3 in 36258 us since the root task started (1 TSC ticks; 2 KiB of kernel objects, 3 root slots left; 0 refused)";
        assert!(Started::parse(old).is_err());
    }
}
