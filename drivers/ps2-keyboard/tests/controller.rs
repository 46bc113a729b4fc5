//! Controller bring-up and IRQ reads against the modelled i8042 in `fake`.

mod fake;

use fake::{FakeI8042, Fault};
use paddock_ps2_keyboard::regs::{command, ConfigByte, Status};
use paddock_ps2_keyboard::{
    Config, Controller, Decoded, Decoder, Error, KeyCode, ScancodeSet, Step, Wait,
};

fn quick() -> Config {
    Config {
        poll_limit: 50,
        reset_poll_limit: 200,
        ..Config::default()
    }
}

fn init(fake: FakeI8042, config: Config) -> (Result<ScancodeSet, Error<Fault>>, FakeI8042) {
    let mut c = Controller::new(fake, config);
    let r = c.init();
    (r, c.into_inner())
}

#[test]
fn init_with_translation_enables_irq1_and_reports_set_1() {
    let (r, f) = init(FakeI8042::default(), quick());
    assert_eq!(r, Ok(ScancodeSet::Set1));
    assert_eq!(
        f.config & ConfigByte::KEYBOARD_IRQ,
        ConfigByte::KEYBOARD_IRQ
    );
    assert_eq!(f.config & ConfigByte::TRANSLATE, ConfigByte::TRANSLATE);
    assert_eq!(f.config & ConfigByte::KEYBOARD_DISABLED, 0);
    assert_eq!(f.config & ConfigByte::AUX_IRQ, 0, "mouse IRQ off");
    assert_eq!(
        f.config & ConfigByte::AUX_DISABLED,
        ConfigByte::AUX_DISABLED
    );
    assert_eq!(
        f.scancode_set, 2,
        "the keyboard speaks set 2; the controller translates"
    );
    assert!(f.scanning && f.keyboard_port_enabled);
    assert_eq!(f.keyboard_bytes, [0xFF, 0xF0, 0x02, 0xF4]);
    assert_eq!(
        f.commands[..2],
        [command::DISABLE_KEYBOARD, command::DISABLE_AUX]
    );
    assert!(f.commands.contains(&command::SELF_TEST));
    assert!(f.commands.contains(&command::TEST_KEYBOARD_PORT));
    assert_eq!(
        f.writes_while_busy, 0,
        "every write waited for IBF to clear"
    );
    assert!(f.output.is_empty());
}

#[test]
fn init_without_translation_reports_set_2() {
    let (r, f) = init(
        FakeI8042::default(),
        Config {
            translate: false,
            ..quick()
        },
    );
    assert_eq!(r, Ok(ScancodeSet::Set2));
    assert_eq!(f.config & ConfigByte::TRANSLATE, 0);
    assert_eq!(
        f.config & ConfigByte::KEYBOARD_IRQ,
        ConfigByte::KEYBOARD_IRQ
    );
}

#[test]
fn stale_bytes_are_flushed_before_setup() {
    let mut fake = FakeI8042::default();
    fake.type_bytes(&[0x1E, 0x9E, 0x30]);
    let (r, f) = init(fake, quick());
    assert_eq!(r, Ok(ScancodeSet::Set1));
    assert!(f.output.is_empty());
}

#[test]
fn a_slow_controller_is_waited_for() {
    let (r, f) = init(
        FakeI8042 {
            ibf_delay: 40,
            ..FakeI8042::default()
        },
        quick(),
    );
    assert_eq!(r, Ok(ScancodeSet::Set1));
    assert_eq!(f.writes_while_busy, 0);
}

#[test]
fn controller_that_never_takes_input_times_out() {
    let (r, _) = init(
        FakeI8042 {
            ibf_stuck: true,
            ..FakeI8042::default()
        },
        quick(),
    );
    assert_eq!(
        r,
        Err(Error::Timeout {
            step: Step::DisablePorts,
            wait: Wait::InputEmpty
        })
    );
}

#[test]
fn no_controller_at_all_times_out() {
    // A floating bus reads 0xFF: IBF looks set forever.
    let (r, _) = init(
        FakeI8042 {
            absent: true,
            ..FakeI8042::default()
        },
        quick(),
    );
    assert_eq!(
        r,
        Err(Error::Timeout {
            step: Step::DisablePorts,
            wait: Wait::InputEmpty
        })
    );
}

#[test]
fn controller_self_test_failure() {
    let (r, _) = init(
        FakeI8042 {
            self_test_reply: 0xFC,
            ..FakeI8042::default()
        },
        quick(),
    );
    assert_eq!(r, Err(Error::ControllerSelfTest { got: 0xFC }));
}

#[test]
fn port_test_failure() {
    let (r, _) = init(
        FakeI8042 {
            port_test_reply: 0x01,
            ..FakeI8042::default()
        },
        quick(),
    );
    assert_eq!(r, Err(Error::PortTest { got: 0x01 }));
}

#[test]
fn no_keyboard_times_out_at_reset() {
    let (r, f) = init(
        FakeI8042 {
            keyboard_present: false,
            ..FakeI8042::default()
        },
        quick(),
    );
    assert_eq!(
        r,
        Err(Error::Timeout {
            step: Step::KeyboardReset,
            wait: Wait::OutputFull
        })
    );
    assert_eq!(
        f.config & ConfigByte::KEYBOARD_IRQ,
        0,
        "IRQ 1 stays off after a failed init"
    );
}

#[test]
fn keyboard_self_test_failure() {
    let (r, _) = init(
        FakeI8042 {
            bat_reply: 0xFC,
            ..FakeI8042::default()
        },
        quick(),
    );
    assert_eq!(r, Err(Error::KeyboardSelfTest { got: 0xFC }));
}

#[test]
fn resend_requests_are_honoured_a_bounded_number_of_times() {
    let (r, f) = init(
        FakeI8042 {
            resends: 3,
            ..FakeI8042::default()
        },
        quick(),
    );
    assert_eq!(r, Ok(ScancodeSet::Set1));
    assert_eq!(f.keyboard_bytes[..4], [0xFF; 4]);

    let (r, _) = init(
        FakeI8042 {
            resends: 100,
            ..FakeI8042::default()
        },
        quick(),
    );
    assert_eq!(
        r,
        Err(Error::Keyboard {
            step: Step::KeyboardReset,
            got: 0xFE
        })
    );
}

#[test]
fn port_errors_are_propagated_at_every_access() {
    let clean = init(FakeI8042::default(), quick()).1.accesses;
    for n in 0..clean {
        let (r, _) = init(
            FakeI8042 {
                fail_after: Some(n),
                ..FakeI8042::default()
            },
            quick(),
        );
        assert_eq!(r, Err(Error::Io(Fault)), "access {n}");
    }
}

#[test]
fn irq_reads_feed_the_decoder_and_drop_mouse_and_error_bytes() {
    let mut c = Controller::new(FakeI8042::default(), quick());
    let set = c.init().unwrap();
    // "hi" in set 1, with a mouse byte and a parity-error byte mixed in.
    c.io_mut().type_bytes(&[0x23, 0xA3]);
    c.io_mut().output.push_back((0x08, Status::AUX_DATA));
    c.io_mut().output.push_back((0x55, Status::PARITY));
    c.io_mut().type_bytes(&[0x17, 0x97]);
    let mut decoder = Decoder::new(set);
    let mut text = String::new();
    let n = c
        .read_available(&mut |b| {
            if let Some(Decoded::Key(k)) = decoder.feed(b) {
                text.extend(k.ascii.map(char::from));
                assert!(matches!(k.code, KeyCode::H | KeyCode::I));
            }
        })
        .unwrap();
    assert_eq!(n, 4);
    assert_eq!(text, "hi");
    assert_eq!((c.stats().aux_bytes, c.stats().error_bytes), (1, 1));
}

#[test]
fn irq_reads_are_bounded() {
    let mut c = Controller::new(FakeI8042::default(), quick());
    c.init().unwrap();
    c.io_mut().type_bytes(&[0x1E; 40]);
    let n = c.read_available(&mut |_| {}).unwrap();
    assert_eq!(n, 16);
    assert_eq!(c.io().output.len(), 24, "the rest waits for the next call");
}
