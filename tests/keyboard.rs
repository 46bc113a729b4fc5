//! The PS/2 keyboard driver in QEMU (`images/keyboard.toml`): keys pressed
//! through the QEMU monitor's `sendkey` reach the client as key events, in
//! order. Verdicts come from what the client printed.

use paddock::qemu::{Attach, Verdict};
use paddock_tests::start;
use std::time::{Duration, Instant};

#[test]
fn a_word_typed_with_sendkey_arrives_as_key_events_in_order() {
    let attach = Attach {
        com2: false,
        monitor: true,
    };
    let ready = ["[keyboard] i8042 up", "[console] ready"];
    let mut s = start("keyboard", attach, &ready, Duration::from_secs(90))
        .unwrap_or_else(|e| panic!("booting keyboard: {e:#}"));
    let monitor = s.monitor().expect("monitor attached");
    assert_eq!(monitor.type_text("Paddock 42\n", 20).unwrap(), 11);

    let mut events = Vec::new();
    let mut collect = |line: &str| {
        if let Some(rest) = line.strip_prefix("[console] key ") {
            events.push(rest.to_string());
        }
    };
    let verdict = s.wait_for(
        &["[console] typed: Paddock 42"],
        Instant::now() + Duration::from_secs(60),
        false,
        Some(&mut collect),
    );
    let log = s.stop();
    assert!(
        matches!(verdict, Verdict::Success(_)),
        "the line never arrived ({verdict:?}); console:\n{log}"
    );

    // Every key goes down and comes up before the next one, each press
    // with the character it types (Shift held for the capital).
    let ev = |key: &str, state: &str, c: Option<char>, mods: u8| match c {
        Some(c) => format!("{key} {state} '{c}' modifiers {mods:#04x}"),
        None => format!("{key} {state} modifiers {mods:#04x}"),
    };
    let mut expected = vec![
        ev("LeftShift", "down", None, 1),
        ev("P", "down", Some('P'), 1),
        ev("P", "up", None, 1),
        ev("LeftShift", "up", None, 0),
    ];
    for (key, c) in [
        ("A", 'a'),
        ("D", 'd'),
        ("D", 'd'),
        ("O", 'o'),
        ("C", 'c'),
        ("K", 'k'),
        ("Space", ' '),
        ("Digit4", '4'),
        ("Digit2", '2'),
    ] {
        expected.push(ev(key, "down", Some(c), 0));
        expected.push(ev(key, "up", None, 0));
    }
    expected.push(ev("Enter", "down", None, 0));
    assert_eq!(events, expected, "console:\n{log}");
    assert!(!log.contains("key events dropped"), "{log}");
}
