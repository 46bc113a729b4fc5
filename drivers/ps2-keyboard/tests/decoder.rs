//! The scancode decoder in both sets.

use std::collections::HashMap;

use paddock_ps2_keyboard::{
    lookup, Decoded, Decoder, KeyCode, KeyEvent, Modifiers, Reply, ScancodeSet,
};

const SETS: [ScancodeSet; 2] = [ScancodeSet::Set1, ScancodeSet::Set2];

/// The bytes a keyboard sends for `key` in `set`, found by searching the
/// decoder's own tables (so this checks that each key has exactly one
/// encoding, not the encodings themselves: those are checked by the
/// literal sequences below).
fn encodings(set: ScancodeSet) -> HashMap<KeyCode, (bool, u8)> {
    let mut map = HashMap::new();
    for extended in [false, true] {
        for code in 0..=255u8 {
            if set == ScancodeSet::Set1 && code >= 0x80 {
                continue;
            }
            if let Some(key) = lookup(set, extended, code) {
                // Pause also answers to the Ctrl+Break code; it is
                // checked on its own.
                if key == KeyCode::Pause {
                    continue;
                }
                assert!(
                    map.insert(key, (extended, code)).is_none(),
                    "{key:?} twice in {set:?}"
                );
            }
        }
    }
    map
}

fn press(set: ScancodeSet, key: KeyCode) -> Vec<u8> {
    let (ext, code) = encodings(set)[&key];
    let mut v = if ext { vec![0xE0] } else { vec![] };
    v.push(code);
    v
}

fn release(set: ScancodeSet, key: KeyCode) -> Vec<u8> {
    let (ext, code) = encodings(set)[&key];
    let mut v = if ext { vec![0xE0] } else { vec![] };
    match set {
        ScancodeSet::Set1 => v.push(code | 0x80),
        ScancodeSet::Set2 => v.extend([0xF0, code]),
    }
    v
}

fn decode_all(set: ScancodeSet, bytes: &[u8]) -> Vec<Decoded> {
    let mut d = Decoder::new(set);
    bytes.iter().filter_map(|&b| d.feed(b)).collect()
}

fn keys(set: ScancodeSet, bytes: &[u8]) -> Vec<KeyEvent> {
    decode_all(set, bytes)
        .into_iter()
        .map(|d| match d {
            Decoded::Key(k) => k,
            other => panic!("not a key: {other:?}"),
        })
        .collect()
}

fn typed(set: ScancodeSet, bytes: &[u8]) -> String {
    keys(set, bytes)
        .iter()
        .filter_map(|k| k.ascii)
        .map(char::from)
        .collect()
}

#[test]
fn every_key_has_one_encoding_in_each_set() {
    for set in SETS {
        let map = encodings(set);
        for &key in KeyCode::ALL {
            if key != KeyCode::Pause {
                assert!(map.contains_key(&key), "{key:?} missing from {set:?}");
            }
        }
    }
}

#[test]
fn every_key_decodes_press_and_release_in_both_sets() {
    for set in SETS {
        for &key in KeyCode::ALL {
            if key == KeyCode::Pause {
                continue;
            }
            let mut bytes = press(set, key);
            bytes.extend(release(set, key));
            let ev = keys(set, &bytes);
            assert_eq!(ev.len(), 2, "{set:?} {key:?}");
            assert_eq!((ev[0].code, ev[0].pressed), (key, true));
            assert_eq!((ev[1].code, ev[1].pressed), (key, false));
            assert_eq!(ev[1].ascii, None);
        }
    }
}

/// Literal codes from the scan code tables, so the tables are checked
/// against the specification and not only against themselves.
#[test]
fn known_codes() {
    let set1 = [
        (0x01, KeyCode::Escape),
        (0x1C, KeyCode::Enter),
        (0x1E, KeyCode::A),
        (0x2C, KeyCode::Z),
        (0x39, KeyCode::Space),
        (0x3B, KeyCode::F1),
        (0x44, KeyCode::F10),
        (0x57, KeyCode::F11),
        (0x58, KeyCode::F12),
    ];
    for (code, key) in set1 {
        assert_eq!(lookup(ScancodeSet::Set1, false, code), Some(key));
    }
    let set2 = [
        (0x76, KeyCode::Escape),
        (0x5A, KeyCode::Enter),
        (0x1C, KeyCode::A),
        (0x1A, KeyCode::Z),
        (0x29, KeyCode::Space),
        (0x05, KeyCode::F1),
        (0x83, KeyCode::F7),
        (0x09, KeyCode::F10),
        (0x07, KeyCode::F12),
    ];
    for (code, key) in set2 {
        assert_eq!(lookup(ScancodeSet::Set2, false, code), Some(key));
    }
}

/// `sendkey h`, `sendkey e`, ... as QEMU's PS/2 keyboard emits them: a
/// press and a release per key, in set 1 (translation on) and set 2.
#[test]
fn hello_as_sendkey_types_it() {
    let set1 = [0x23, 0xA3, 0x12, 0x92, 0x26, 0xA6, 0x26, 0xA6, 0x18, 0x98];
    let set2 = [
        0x33, 0xF0, 0x33, 0x24, 0xF0, 0x24, 0x4B, 0xF0, 0x4B, 0x4B, 0xF0, 0x4B, 0x44, 0xF0, 0x44,
    ];
    for (set, bytes) in [
        (ScancodeSet::Set1, &set1[..]),
        (ScancodeSet::Set2, &set2[..]),
    ] {
        let ev = keys(set, bytes);
        let codes: Vec<_> = ev.iter().map(|e| (e.code, e.pressed)).collect();
        use KeyCode::*;
        assert_eq!(
            codes,
            [
                (H, true),
                (H, false),
                (E, true),
                (E, false),
                (L, true),
                (L, false),
                (L, true),
                (L, false),
                (O, true),
                (O, false)
            ]
        );
        assert_eq!(typed(set, bytes), "hello");
    }
}

/// `sendkey shift-h` etc.: Shift pressed around the key.
#[test]
fn shift_gives_capitals_and_shifted_symbols() {
    use KeyCode::*;
    for set in SETS {
        let mut bytes = Vec::new();
        let mut shifted = |key: KeyCode| {
            bytes.extend(press(set, LeftShift));
            bytes.extend(press(set, key));
            bytes.extend(release(set, key));
            bytes.extend(release(set, LeftShift));
        };
        shifted(H);
        shifted(Digit1);
        shifted(Slash);
        let mut plain = |key: KeyCode| {
            bytes.extend(press(set, key));
            bytes.extend(release(set, key));
        };
        plain(I);
        plain(Digit1);
        plain(Slash);
        bytes.extend(press(set, RightShift));
        bytes.extend(press(set, Apostrophe));
        bytes.extend(press(set, Minus));
        bytes.extend(release(set, RightShift));
        bytes.extend(press(set, Equal));
        assert_eq!(typed(set, &bytes), "H!?i1/\"_=", "{set:?}");
    }
}

#[test]
fn caps_lock_toggles_once_per_press_and_inverts_shift_for_letters() {
    use KeyCode::*;
    for set in SETS {
        let mut bytes = Vec::new();
        // Held Caps Lock repeats its make code: one toggle only.
        bytes.extend(press(set, CapsLock));
        bytes.extend(press(set, CapsLock));
        bytes.extend(release(set, CapsLock));
        bytes.extend(press(set, A));
        bytes.extend(press(set, Digit2));
        bytes.extend(press(set, LeftShift));
        bytes.extend(press(set, B));
        bytes.extend(release(set, LeftShift));
        bytes.extend(press(set, CapsLock));
        bytes.extend(release(set, CapsLock));
        bytes.extend(press(set, C));
        let ev = keys(set, &bytes);
        assert_eq!(typed(set, &bytes), "A2bc", "{set:?}");
        let a = ev.iter().find(|e| e.code == A).unwrap();
        assert!(a.modifiers.contains(Modifiers::CAPS_LOCK));
    }
}

#[test]
fn ctrl_letters_are_control_codes() {
    use KeyCode::*;
    for set in SETS {
        let mut bytes = press(set, RightCtrl);
        bytes.extend(press(set, C));
        bytes.extend(release(set, RightCtrl));
        bytes.extend(press(set, LeftCtrl));
        bytes.extend(press(set, D));
        let ev = keys(set, &bytes);
        assert_eq!(ev[1].ascii, Some(0x03));
        assert!(ev[1].modifiers.contains(Modifiers::CTRL));
        assert_eq!(ev.last().unwrap().ascii, Some(0x04));
    }
}

#[test]
fn extended_keys_are_told_apart_from_their_base_twins() {
    use KeyCode::*;
    let set1 = [
        0x1C, 0x9C, 0xE0, 0x1C, 0xE0, 0x9C, 0xE0, 0x48, 0xE0, 0xC8, 0x48, 0xC8, 0xE0, 0x1D, 0xE0,
        0x38,
    ];
    let set2 = [
        0x5A, 0xF0, 0x5A, 0xE0, 0x5A, 0xE0, 0xF0, 0x5A, 0xE0, 0x75, 0xE0, 0xF0, 0x75, 0x75, 0xF0,
        0x75, 0xE0, 0x14, 0xE0, 0x11,
    ];
    for (set, bytes) in [
        (ScancodeSet::Set1, &set1[..]),
        (ScancodeSet::Set2, &set2[..]),
    ] {
        let codes: Vec<_> = keys(set, bytes)
            .iter()
            .map(|e| (e.code, e.pressed))
            .collect();
        assert_eq!(
            codes,
            [
                (Enter, true),
                (Enter, false),
                (KpEnter, true),
                (KpEnter, false),
                (Up, true),
                (Up, false),
                (Kp8, true),
                (Kp8, false),
                (RightCtrl, true),
                (RightAlt, true)
            ],
            "{set:?}"
        );
    }
}

#[test]
fn fake_shifts_around_print_screen_are_ignored() {
    let set1 = [0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA];
    let set2 = [0xE0, 0x12, 0xE0, 0x7C, 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12];
    for (set, bytes) in [
        (ScancodeSet::Set1, &set1[..]),
        (ScancodeSet::Set2, &set2[..]),
    ] {
        let ev = keys(set, bytes);
        assert_eq!(ev.len(), 2, "{set:?}: {ev:?}");
        assert_eq!((ev[0].code, ev[0].pressed), (KeyCode::PrintScreen, true));
        assert_eq!((ev[1].code, ev[1].pressed), (KeyCode::PrintScreen, false));
        assert!(!ev[0].modifiers.contains(Modifiers::SHIFT));
    }
}

#[test]
fn pause_sequences() {
    let set1 = [0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5];
    let set2 = [0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77];
    for (set, bytes) in [
        (ScancodeSet::Set1, &set1[..]),
        (ScancodeSet::Set2, &set2[..]),
    ] {
        let ev = keys(set, bytes);
        let codes: Vec<_> = ev.iter().map(|e| (e.code, e.pressed)).collect();
        assert_eq!(
            codes,
            [(KeyCode::Pause, true), (KeyCode::Pause, false)],
            "{set:?}"
        );
        // And the state machine is back in step.
        let mut more = bytes.to_vec();
        more.extend(press(set, KeyCode::A));
        assert_eq!(keys(set, &more).last().unwrap().code, KeyCode::A);
    }
}

#[test]
fn keypad_digits_need_num_lock() {
    use KeyCode::*;
    for set in SETS {
        let mut bytes = press(set, Kp7);
        bytes.extend(press(set, KpPlus));
        bytes.extend(press(set, NumLock));
        bytes.extend(release(set, NumLock));
        bytes.extend(press(set, Kp7));
        bytes.extend(press(set, KpPeriod));
        bytes.extend(press(set, KpEnter));
        assert_eq!(typed(set, &bytes), "+7.\n", "{set:?}");
    }
}

#[test]
fn replies_are_not_keys() {
    assert_eq!(
        decode_all(ScancodeSet::Set1, &[0xFA]),
        [Decoded::Reply(Reply::Ack)]
    );
    assert_eq!(
        decode_all(ScancodeSet::Set2, &[0xFA]),
        [Decoded::Reply(Reply::Ack)]
    );
    assert_eq!(
        decode_all(ScancodeSet::Set2, &[0xAA]),
        [Decoded::Reply(Reply::SelfTestPassed)]
    );
    assert_eq!(
        decode_all(ScancodeSet::Set2, &[0x00]),
        [Decoded::Reply(Reply::Overrun(0x00))]
    );
    assert_eq!(
        decode_all(ScancodeSet::Set1, &[0xFF]),
        [Decoded::Reply(Reply::Overrun(0xFF))]
    );
    assert_eq!(
        decode_all(ScancodeSet::Set2, &[0xFC]),
        [Decoded::Reply(Reply::SelfTestFailed(0xFC))]
    );
    // In set 1, 0xAA is Left Shift's release.
    let ev = keys(ScancodeSet::Set1, &[0x2A, 0xAA]);
    assert_eq!((ev[1].code, ev[1].pressed), (KeyCode::LeftShift, false));
    // A reply in the middle of a set 2 sequence abandons it.
    assert_eq!(
        decode_all(ScancodeSet::Set2, &[0xE0, 0xFE, 0x1C]),
        [
            Decoded::Reply(Reply::Resend),
            Decoded::Key(KeyEvent {
                code: KeyCode::A,
                pressed: true,
                ascii: Some(b'a'),
                modifiers: Modifiers::default()
            })
        ]
    );
}

#[test]
fn unknown_codes_are_reported() {
    assert_eq!(
        decode_all(ScancodeSet::Set1, &[0x59, 0xE0, 0xF1]),
        [
            Decoded::Unknown {
                extended: false,
                code: 0x59,
                released: false
            },
            Decoded::Unknown {
                extended: true,
                code: 0x71,
                released: true
            }
        ]
    );
    assert_eq!(
        decode_all(ScancodeSet::Set2, &[0x02, 0xE0, 0xF0, 0x01, 0xF0, 0xE0]),
        [
            Decoded::Unknown {
                extended: false,
                code: 0x02,
                released: false
            },
            Decoded::Unknown {
                extended: true,
                code: 0x01,
                released: true
            },
            Decoded::Unknown {
                extended: false,
                code: 0xE0,
                released: true
            }
        ]
    );
    assert_eq!(
        decode_all(ScancodeSet::Set1, &[0xE1, 0x10, 0x11]),
        [Decoded::Unknown {
            extended: true,
            code: 0x10,
            released: false
        }]
    );
}

/// Arbitrary byte streams never panic, and a single valid press always
/// decodes once the decoder has been fed any garbage and a reply to
/// resynchronise (0xFA ends every set 2 sequence; in set 1 one more
/// plain byte completes any pending prefix).
#[test]
fn garbage_never_panics_and_the_decoder_recovers() {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for set in SETS {
        for _ in 0..2000 {
            let mut d = Decoder::new(set);
            for _ in 0..(seed % 32) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let _ = d.feed(seed as u8);
            }
            // Finish whatever sequence is open with bytes that are no
            // prefix, then check a clean press.
            for _ in 0..2 {
                let _ = d.feed(0xFA);
                let _ = d.feed(0x01);
            }
            let got: Vec<_> = press(set, KeyCode::Q)
                .iter()
                .filter_map(|&b| d.feed(b))
                .collect();
            match got.as_slice() {
                [Decoded::Key(k)] => assert_eq!((k.code, k.pressed), (KeyCode::Q, true)),
                other => panic!("{set:?}: {other:?}"),
            }
        }
    }
}
