//! Evaluation of the C preprocessor conditions written in seL4's interface
//! files.
//!
//! seL4's generators copy a `condition` verbatim into an `#if` line
//! (`defined CONFIG_DEBUG_BUILD`, `CONFIG_MAX_NUM_NODES > 1`,
//! `defined(CONFIG_VTX)`), so the C compiler decides which entries exist.
//! Here the same expression is evaluated against a [`KernelConfig`] with the
//! preprocessor's rules: `defined X` is 1 or 0, an identifier is its
//! `CONFIG_*` value or 0 when undefined, and the arithmetic is on integers.
//! Anything outside that grammar is an error rather than a guess.

use crate::config::{KernelConfig, Value};
use anyhow::{anyhow, bail, Result};

/// Evaluates a preprocessor `#if` expression; an empty one is true.
pub fn evaluate(expr: &str, config: &KernelConfig) -> Result<bool> {
    if expr.trim().is_empty() {
        return Ok(true);
    }
    let tokens = tokenize(expr)?;
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        config,
    };
    let value = parser.ternary()?;
    if parser.pos != tokens.len() {
        bail!(
            "unexpected `{}` in condition `{expr}`",
            tokens[parser.pos].text()
        );
    }
    Ok(value != 0)
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Number(i64),
    Ident(String),
    Op(&'static str),
}

impl Token {
    fn text(&self) -> String {
        match self {
            Token::Number(n) => n.to_string(),
            Token::Ident(s) => s.clone(),
            Token::Op(o) => (*o).to_string(),
        }
    }
}

/// Longest operators first, so `<=` is not read as `<` then `=`.
const OPERATORS: &[&str] = &[
    "&&", "||", "==", "!=", "<=", ">=", "<<", ">>", "(", ")", "!", "<", ">", "+", "-", "*", "/",
    "%", "?", ":", "~", "&", "|", "^",
];

fn tokenize(expr: &str) -> Result<Vec<Token>> {
    let bytes = expr.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            tokens.push(Token::Number(parse_number(&expr[start..i])?));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            tokens.push(Token::Ident(expr[start..i].to_string()));
        } else if let Some(op) = OPERATORS.iter().find(|op| expr[i..].starts_with(**op)) {
            tokens.push(Token::Op(op));
            i += op.len();
        } else {
            bail!("unexpected character `{}` in condition `{expr}`", c as char);
        }
    }
    Ok(tokens)
}

/// A C integer literal: decimal, `0x` hex or leading-zero octal, with any
/// `u`/`l` suffix.
fn parse_number(text: &str) -> Result<i64> {
    let digits = text.trim_end_matches(['u', 'U', 'l', 'L']);
    let parsed = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(hex, 16)
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8)
    } else {
        digits.parse()
    };
    parsed.map_err(|_| anyhow!("bad number `{text}` in condition"))
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    config: &'a KernelConfig,
}

/// Binary operators by precedence level, loosest first, as in C.
const LEVELS: &[&[&str]] = &[
    &["||"],
    &["&&"],
    &["|"],
    &["^"],
    &["&"],
    &["==", "!="],
    &["<", ">", "<=", ">="],
    &["<<", ">>"],
    &["+", "-"],
    &["*", "/", "%"],
];

impl Parser<'_> {
    fn peek_op(&self) -> Option<&'static str> {
        match self.tokens.get(self.pos) {
            Some(Token::Op(op)) => Some(op),
            _ => None,
        }
    }

    fn expect(&mut self, op: &str) -> Result<()> {
        if self.peek_op() == Some(op) {
            self.pos += 1;
            Ok(())
        } else {
            bail!("expected `{op}` in condition")
        }
    }

    fn ternary(&mut self) -> Result<i64> {
        let cond = self.binary(0)?;
        if self.peek_op() == Some("?") {
            self.pos += 1;
            let yes = self.ternary()?;
            self.expect(":")?;
            let no = self.ternary()?;
            return Ok(if cond != 0 { yes } else { no });
        }
        Ok(cond)
    }

    fn binary(&mut self, level: usize) -> Result<i64> {
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        while let Some(op) = self.peek_op().filter(|op| LEVELS[level].contains(op)) {
            self.pos += 1;
            let right = self.binary(level + 1)?;
            left = apply(op, left, right)?;
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<i64> {
        match self.peek_op() {
            Some("!") => {
                self.pos += 1;
                Ok((self.unary()? == 0) as i64)
            }
            Some("-") => {
                self.pos += 1;
                Ok(self.unary()?.wrapping_neg())
            }
            Some("+") => {
                self.pos += 1;
                self.unary()
            }
            Some("~") => {
                self.pos += 1;
                Ok(!self.unary()?)
            }
            Some("(") => {
                self.pos += 1;
                let v = self.ternary()?;
                self.expect(")")?;
                Ok(v)
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<i64> {
        let token = self
            .tokens
            .get(self.pos)
            .ok_or_else(|| anyhow!("condition ends too early"))?
            .clone();
        self.pos += 1;
        match token {
            Token::Number(n) => Ok(n),
            Token::Ident(name) if name == "defined" => {
                let parenthesised = self.peek_op() == Some("(");
                if parenthesised {
                    self.pos += 1;
                }
                let Some(Token::Ident(macro_name)) = self.tokens.get(self.pos) else {
                    bail!("`defined` needs a macro name");
                };
                self.pos += 1;
                if parenthesised {
                    self.expect(")")?;
                }
                Ok(self.is_defined(macro_name) as i64)
            }
            Token::Ident(name) => self.value(&name),
            Token::Op(op) => bail!("unexpected `{op}` in condition"),
        }
    }

    fn is_defined(&self, name: &str) -> bool {
        name.starts_with("CONFIG_") && self.config.is_defined(name)
    }

    /// An identifier's value in `#if`: its `CONFIG_*` value, or 0 when it
    /// is not defined (the preprocessor's rule for unknown identifiers).
    fn value(&self, name: &str) -> Result<i64> {
        if !name.starts_with("CONFIG_") {
            bail!("condition uses `{name}`, which is not a CONFIG_ setting");
        }
        match self.config.get(name) {
            None => Ok(0),
            Some(Value::Int(v)) => Ok(v),
            Some(Value::Str(_)) => bail!("condition uses string setting `{name}` as a number"),
        }
    }
}

fn apply(op: &str, a: i64, b: i64) -> Result<i64> {
    Ok(match op {
        "||" => (a != 0 || b != 0) as i64,
        "&&" => (a != 0 && b != 0) as i64,
        "|" => a | b,
        "^" => a ^ b,
        "&" => a & b,
        "==" => (a == b) as i64,
        "!=" => (a != b) as i64,
        "<" => (a < b) as i64,
        ">" => (a > b) as i64,
        "<=" => (a <= b) as i64,
        ">=" => (a >= b) as i64,
        "<<" => a.wrapping_shl(b as u32),
        ">>" => a.wrapping_shr(b as u32),
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "*" => a.wrapping_mul(b),
        "/" | "%" if b == 0 => bail!("division by zero in condition"),
        "/" => a / b,
        "%" => a % b,
        _ => bail!("operator `{op}` is not supported in conditions"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(expr: &str, config: KernelConfig) -> bool {
        evaluate(expr, &config).unwrap()
    }

    #[test]
    fn forms_used_by_sel4_5_0() {
        let debug = KernelConfig::DEBUG;
        let release = KernelConfig::RELEASE;
        assert!(eval("defined CONFIG_DEBUG_BUILD", debug));
        assert!(!eval("defined CONFIG_DEBUG_BUILD", release));
        assert!(!eval("defined(CONFIG_VTX)", debug));
        assert!(!eval("CONFIG_MAX_NUM_NODES > 1", debug));
        assert!(eval("CONFIG_MAX_NUM_NODES >= 1", debug));
        assert!(eval("", release));
        assert!(eval("defined(CONFIG_IOMMU)", KernelConfig::DEBUG_IOMMU));
    }

    #[test]
    fn precedence_and_undefined_identifiers() {
        let c = KernelConfig::DEBUG;
        assert!(eval("!defined(CONFIG_VTX) && (CONFIG_WORD_SIZE == 64)", c));
        assert!(eval("CONFIG_VTX || 1 + 2 * 3 == 7", c));
        assert!(!eval("CONFIG_VTX", c));
        assert!(eval("0x10 == 16 && 010 == 8 && 1u", c));
        assert!(eval("CONFIG_WORD_SIZE == 32 ? 0 : 1", c));
    }

    #[test]
    fn malformed_conditions_are_errors() {
        let c = KernelConfig::DEBUG;
        assert!(evaluate("defined", &c).is_err());
        assert!(evaluate("(1", &c).is_err());
        assert!(evaluate("1 1", &c).is_err());
        assert!(evaluate("FOO > 1", &c).is_err());
        assert!(evaluate("CONFIG_KERNEL_CFLAGS > 1", &c).is_err());
        assert!(evaluate("1 @ 2", &c).is_err());
    }
}
