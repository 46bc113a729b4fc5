//! Characters as QEMU key names (`sendkey` takes QKeyCode names), for
//! typing text on the guest's PS/2 keyboard through the monitor.

/// The `sendkey` argument that types `c` on a US keyboard (`shift-...`
/// for shifted characters), or `None` for characters it has no key for.
pub fn key_for(c: char) -> Option<String> {
    if c.is_ascii_lowercase() || c.is_ascii_digit() {
        return Some(c.to_string());
    }
    if c.is_ascii_uppercase() {
        return Some(format!("shift-{}", c.to_ascii_lowercase()));
    }
    let plain = |k: &str| Some(k.to_string());
    let shifted = |k: &str| Some(format!("shift-{k}"));
    match c {
        ' ' => plain("spc"),
        '\n' | '\r' => plain("ret"),
        '\t' => plain("tab"),
        '-' => plain("minus"),
        '=' => plain("equal"),
        '[' => plain("bracket_left"),
        ']' => plain("bracket_right"),
        '\\' => plain("backslash"),
        ';' => plain("semicolon"),
        '\'' => plain("apostrophe"),
        '`' => plain("grave_accent"),
        ',' => plain("comma"),
        '.' => plain("dot"),
        '/' => plain("slash"),
        '!' => shifted("1"),
        '@' => shifted("2"),
        '#' => shifted("3"),
        '$' => shifted("4"),
        '%' => shifted("5"),
        '^' => shifted("6"),
        '&' => shifted("7"),
        '*' => shifted("8"),
        '(' => shifted("9"),
        ')' => shifted("0"),
        '_' => shifted("minus"),
        '+' => shifted("equal"),
        '{' => shifted("bracket_left"),
        '}' => shifted("bracket_right"),
        '|' => shifted("backslash"),
        ':' => shifted("semicolon"),
        '"' => shifted("apostrophe"),
        '~' => shifted("grave_accent"),
        '<' => shifted("comma"),
        '>' => shifted("dot"),
        '?' => shifted("slash"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::key_for;

    #[test]
    fn letters_digits_and_punctuation() {
        assert_eq!(key_for('a').as_deref(), Some("a"));
        assert_eq!(key_for('Q').as_deref(), Some("shift-q"));
        assert_eq!(key_for('7').as_deref(), Some("7"));
        assert_eq!(key_for(' ').as_deref(), Some("spc"));
        assert_eq!(key_for('\n').as_deref(), Some("ret"));
        assert_eq!(key_for('?').as_deref(), Some("shift-slash"));
        assert_eq!(key_for('é'), None);
    }
}
