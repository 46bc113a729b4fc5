//! The driver against the modelled UART in `fake`.

mod fake;

use std::collections::VecDeque;

use fake::{Access, Fake16550, Fault};
use paddock_serial_16550::regs::{offset, Ier, Lcr, Lsr, Mcr};
use paddock_serial_16550::{Absence, Config, ConfigError, Error, Parity, Uart};

fn ready(fake: Fake16550) -> Uart<Fake16550> {
    let mut uart = Uart::new(fake);
    uart.init(&Config::default()).expect("init");
    uart.io_mut().log.clear();
    uart
}

/// A consumer with room for `room` more bytes.
struct Sink {
    got: Vec<u8>,
    room: usize,
}

impl Sink {
    fn new(room: usize) -> Self {
        Self {
            got: Vec::new(),
            room,
        }
    }

    fn push(&mut self, b: u8) -> bool {
        if self.room == 0 {
            return false;
        }
        self.room -= 1;
        self.got.push(b);
        true
    }
}

fn no_tx() -> Option<u8> {
    None
}

/// Service the IRQ the way the component does.
fn service(uart: &mut Uart<Fake16550>, sink: &mut Sink, tx: &mut VecDeque<u8>) {
    if uart.io().irq() {
        uart.handle_interrupt(&mut |b| sink.push(b), &mut || tx.pop_front())
            .expect("interrupt");
    }
    assert!(
        !uart.io().irq(),
        "IRQ still asserted after servicing: {:?}",
        uart.io().pending()
    );
}

#[test]
fn init_programs_divisor_frame_fifos_modem_and_interrupts() {
    let mut uart = Uart::new(Fake16550::default());
    let cfg = Config {
        baud: 9600,
        data_bits: 7,
        parity: Parity::Even,
        stop_bits: 2,
    };
    uart.init(&cfg).unwrap();
    let f = uart.io();
    assert_eq!((f.dll, f.dlm), (12, 0));
    assert_eq!(
        f.lcr, 0b0001_1110,
        "7 data bits, 2 stop bits, even parity, DLAB clear"
    );
    assert_eq!(
        f.writes_to(offset::FCR),
        [0xC7],
        "FIFOs enabled and reset, 14-byte trigger"
    );
    assert_eq!(f.trigger, 14);
    assert!(f.fifo_enabled);
    assert_eq!(f.mcr, (Mcr::DTR | Mcr::RTS | Mcr::OUT2).bits());
    assert_eq!(Ier(f.ier), Ier::RX_DATA | Ier::THR_EMPTY | Ier::LINE_STATUS);

    // The divisor is written with DLAB set, then DLAB is cleared.
    let lcr_dlab = Access::Write(offset::LCR, 0b1001_1110);
    let pos = |a: Access| f.log.iter().position(|x| *x == a).unwrap();
    let dlab_on = pos(lcr_dlab);
    assert!(dlab_on < pos(Access::Write(offset::DLL, 12)));
    // IER and DLM share offset 1: the divisor's high byte is the write
    // right after DLL.
    let dll = pos(Access::Write(offset::DLL, 12));
    assert_eq!(f.log[dll + 1], Access::Write(offset::DLM, 0));
    assert_eq!(f.log[dll + 2], Access::Write(offset::LCR, 0b0001_1110));
}

#[test]
fn init_clears_a_dlab_left_set_before_touching_ier() {
    let fake = Fake16550 {
        lcr: Lcr::DLAB,
        dlm: 0x42,
        ..Fake16550::default()
    };
    let mut uart = Uart::new(fake);
    uart.init(&Config::default()).unwrap();
    let f = uart.io();
    let first_lcr = f
        .log
        .iter()
        .position(|a| matches!(a, Access::Write(o, _) if *o == offset::LCR))
        .unwrap();
    let first_ier = f
        .log
        .iter()
        .position(|a| matches!(a, Access::Write(o, _) if *o == offset::IER))
        .unwrap();
    assert_eq!(f.log[first_lcr], Access::Write(offset::LCR, 0));
    assert!(first_lcr < first_ier);
    assert_eq!((f.dll, f.dlm), (1, 0));
}

#[test]
fn invalid_config_is_reported_before_any_access() {
    let mut uart = Uart::new(Fake16550::default());
    let cfg = Config {
        baud: 100_000,
        ..Config::default()
    };
    assert_eq!(
        uart.init(&cfg),
        Err(Error::Config(ConfigError::BaudNotDivisor {
            baud: 100_000,
            nearest: 115_200
        }))
    );
    assert!(uart.io().log.is_empty());
}

#[test]
fn no_uart_at_a_floating_port() {
    let mut uart = Uart::new(Fake16550 {
        absent: true,
        ..Fake16550::default()
    });
    assert_eq!(
        uart.init(&Config::default()),
        Err(Error::NoUart(Absence::Scratch {
            wrote: 0x55,
            read: 0xFF
        }))
    );
}

#[test]
fn no_uart_without_scratch_register() {
    let mut uart = Uart::new(Fake16550 {
        no_scratch: true,
        ..Fake16550::default()
    });
    assert_eq!(
        uart.init(&Config::default()),
        Err(Error::NoUart(Absence::Scratch {
            wrote: 0x55,
            read: 0
        }))
    );
}

#[test]
fn no_uart_when_loopback_does_not_loop() {
    let mut uart = Uart::new(Fake16550 {
        no_loopback: true,
        ..Fake16550::default()
    });
    assert_eq!(
        uart.init(&Config::default()),
        Err(Error::NoUart(Absence::Loopback {
            expected: 0x90,
            read: 0
        }))
    );
    assert_eq!(uart.io().mcr, 0, "loopback left off after the probe");
}

#[test]
fn init_discards_stale_input_and_resets_state() {
    let mut fake = Fake16550::default();
    fake.receive(b'x');
    let mut uart = Uart::new(fake);
    uart.init(&Config::default()).unwrap();
    assert_eq!(uart.io().rx_len(), 0);
    assert_eq!(uart.stats(), Default::default());
    assert!(!uart.rx_paused());
}

#[test]
fn receives_in_order_and_clears_the_interrupt() {
    let mut uart = ready(Fake16550::default());
    let mut sink = Sink::new(usize::MAX);
    let mut tx = VecDeque::new();
    service(&mut uart, &mut sink, &mut tx); // the THR-empty raised by init
    for &b in b"hello\r\n" {
        uart.io_mut().receive(b);
    }
    assert!(uart.io().irq());
    service(&mut uart, &mut sink, &mut tx);
    assert_eq!(sink.got, b"hello\r\n");
    assert_eq!(uart.stats().rx_bytes, 7);
}

#[test]
fn full_fifo_above_trigger_is_drained_in_one_interrupt() {
    let mut uart = ready(Fake16550::default());
    for b in 0..16 {
        uart.io_mut().receive(b);
    }
    let mut got = Vec::new();
    let ev = uart
        .handle_interrupt(
            &mut |b| {
                got.push(b);
                true
            },
            &mut no_tx,
        )
        .unwrap();
    assert_eq!(got, (0..16).collect::<Vec<_>>());
    assert_eq!(ev.received, 16);
    assert!(!ev.rx_paused);
}

#[test]
fn transmit_fills_at_most_one_fifo_and_refills_on_thr_empty() {
    let mut uart = ready(Fake16550::default());
    let data: Vec<u8> = (0..40).collect();
    let mut tx: VecDeque<u8> = data.iter().copied().collect();
    let mut sink = Sink::new(usize::MAX);
    service(&mut uart, &mut sink, &mut tx);
    // The THR-empty interrupt from init already took a FIFO's worth.
    assert_eq!(uart.io().tx_len(), 16);
    assert_eq!(
        uart.transmit(&mut || tx.pop_front()).unwrap(),
        0,
        "FIFO not empty: nothing written"
    );
    while uart.io().wire.len() < data.len() {
        uart.io_mut().shift_out(16);
        service(&mut uart, &mut sink, &mut tx);
        assert!(uart.io().tx_len() <= 16);
    }
    assert_eq!(uart.io().wire, data);
    assert_eq!(uart.io().tx_overflows, 0);
    assert_eq!(uart.stats().tx_bytes, 40);
}

#[test]
fn transmit_kick_after_idle_starts_sending() {
    let mut uart = ready(Fake16550::default());
    let mut sink = Sink::new(usize::MAX);
    let mut nothing = VecDeque::new();
    // THR-empty reported while there is nothing to send: the cause is
    // consumed, so new bytes need the kick.
    service(&mut uart, &mut sink, &mut nothing);
    let mut tx: VecDeque<u8> = b"late".iter().copied().collect();
    assert_eq!(uart.transmit(&mut || tx.pop_front()).unwrap(), 4);
    uart.io_mut().shift_out(4);
    assert_eq!(uart.io().wire, b"late");
}

#[test]
fn without_fifos_one_byte_at_a_time() {
    let mut uart = ready(Fake16550 {
        no_fifo: true,
        ..Fake16550::default()
    });
    let mut tx: VecDeque<u8> = b"abc".iter().copied().collect();
    let mut sink = Sink::new(usize::MAX);
    while uart.io().wire.len() < 3 {
        service(&mut uart, &mut sink, &mut tx);
        assert!(uart.io().tx_len() <= 1);
        uart.io_mut().shift_out(1);
    }
    assert_eq!(uart.io().wire, b"abc");
    assert_eq!(uart.io().tx_overflows, 0);
}

#[test]
fn back_pressure_keeps_every_byte_in_order() {
    let mut uart = ready(Fake16550::default());
    let mut tx = VecDeque::new();
    let mut sink = Sink::new(3);
    for b in 0..10 {
        uart.io_mut().receive(b);
    }
    service(&mut uart, &mut sink, &mut tx);
    assert_eq!(sink.got, [0, 1, 2]);
    assert!(uart.rx_paused());
    assert!(
        !Ier(uart.io().ier).contains(Ier::RX_DATA),
        "RX interrupt masked while paused"
    );
    assert_eq!(
        uart.io().rx_len(),
        6,
        "one byte held by the driver, the rest left in the FIFO"
    );

    // More bytes arrive while paused: no interrupt storm, nothing read.
    for b in 10..14 {
        uart.io_mut().receive(b);
    }
    service(&mut uart, &mut sink, &mut tx);
    assert_eq!(sink.got, [0, 1, 2]);

    // Some room: the held byte goes first, still paused.
    sink.room = 2;
    let ev = uart.resume_rx(&mut |b| sink.push(b)).unwrap();
    assert_eq!((ev.received, ev.rx_paused), (2, true));
    assert_eq!(sink.got, [0, 1, 2, 3, 4]);

    // Plenty of room: everything, in order, and the interrupt is back.
    sink.room = usize::MAX;
    let ev = uart.resume_rx(&mut |b| sink.push(b)).unwrap();
    assert!(!ev.rx_paused);
    assert!(Ier(uart.io().ier).contains(Ier::RX_DATA));
    assert_eq!(sink.got, (0..14).collect::<Vec<_>>());
    assert_eq!(
        uart.stats().rx_pauses,
        1,
        "paused once; the partial resume did not re-pause"
    );
    assert_eq!(uart.stats().overruns, 0);
}

#[test]
fn resume_when_the_consumer_still_has_no_room_changes_nothing() {
    let mut uart = ready(Fake16550::default());
    uart.io_mut().receive(7);
    let ev = uart.handle_interrupt(&mut |_| false, &mut no_tx).unwrap();
    assert!(ev.rx_paused);
    let ev = uart.resume_rx(&mut |_| false).unwrap();
    assert_eq!((ev.received, ev.rx_paused), (0, true));
    let mut got = Vec::new();
    uart.resume_rx(&mut |b| {
        got.push(b);
        true
    })
    .unwrap();
    assert_eq!(got, [7]);
}

#[test]
fn resume_when_not_paused_touches_nothing() {
    let mut uart = ready(Fake16550::default());
    let ev = uart.resume_rx(&mut |_| true).unwrap();
    assert_eq!(ev, Default::default());
    assert!(uart.io().log.is_empty());
}

#[test]
fn overrun_while_paused_is_counted_and_what_the_uart_kept_arrives_in_order() {
    let mut uart = ready(Fake16550::default());
    let mut tx = VecDeque::new();
    let mut sink = Sink::new(0);
    for b in 0..40u8 {
        uart.io_mut().receive(b);
        service(&mut uart, &mut sink, &mut tx);
    }
    assert!(uart.stats().overruns >= 1);
    sink.room = usize::MAX;
    uart.resume_rx(&mut |b| sink.push(b)).unwrap();
    assert_eq!(sink.got, uart.io().accepted);
    assert_eq!(
        sink.got,
        (0..17).collect::<Vec<_>>(),
        "1 held + 16 in the FIFO"
    );
}

/// Random arrivals, transmit progress and consumer room; whatever the
/// interleaving, the consumer sees exactly the bytes the UART accepted, in
/// order, and the transmitter sends exactly what was queued.
#[test]
fn random_interleavings_lose_and_reorder_nothing() {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..200 {
        let mut uart = ready(Fake16550::default());
        let mut sink = Sink::new(0);
        let mut tx: VecDeque<u8> = VecDeque::new();
        let mut queued = Vec::new();
        let mut next = 0u8;
        for _ in 0..300 {
            match rand() % 6 {
                0 | 1 => {
                    for _ in 0..rand() % 5 {
                        uart.io_mut().receive(next);
                        next = next.wrapping_add(1);
                    }
                }
                2 => {
                    sink.room += (rand() % 8) as usize;
                    if uart.rx_paused() {
                        uart.resume_rx(&mut |b| sink.push(b)).unwrap();
                    }
                }
                3 => {
                    for _ in 0..rand() % 20 {
                        let b = rand() as u8;
                        tx.push_back(b);
                        queued.push(b);
                    }
                    uart.transmit(&mut || tx.pop_front()).unwrap();
                }
                4 => uart.io_mut().shift_out((rand() % 8) as usize),
                _ => {}
            }
            service(&mut uart, &mut sink, &mut tx);
        }
        sink.room = usize::MAX;
        uart.resume_rx(&mut |b| sink.push(b)).unwrap();
        service(&mut uart, &mut sink, &mut tx);
        while !tx.is_empty() || uart.io().tx_len() > 0 {
            uart.io_mut().shift_out(16);
            service(&mut uart, &mut sink, &mut tx);
        }
        assert_eq!(sink.got, uart.io().accepted);
        assert_eq!(uart.io().wire, queued);
        assert_eq!(uart.io().tx_overflows, 0);
    }
}

#[test]
fn line_errors_are_counted_and_breaks_are_not_data() {
    let mut uart = ready(Fake16550::default());
    let mut tx = VecDeque::new();
    let mut sink = Sink::new(usize::MAX);
    service(&mut uart, &mut sink, &mut tx);
    uart.io_mut().receive_with(b'p', Lsr::PARITY.bits());
    uart.io_mut().receive(b'a');
    service(&mut uart, &mut sink, &mut tx);
    uart.io_mut().receive_with(b'f', Lsr::FRAMING.bits());
    uart.io_mut().receive_break();
    uart.io_mut().receive(b'b');
    service(&mut uart, &mut sink, &mut tx);
    assert_eq!(
        sink.got, b"pafb",
        "bytes with parity/framing errors are delivered; the break NUL is not"
    );
    let s = uart.stats();
    assert_eq!((s.parity_errors, s.framing_errors, s.breaks), (1, 1, 1));
}

#[test]
fn break_discarded_by_line_status_is_not_delivered_later() {
    let mut uart = ready(Fake16550::default());
    uart.io_mut().receive_break();
    uart.io_mut().receive(b'z');
    let mut got = Vec::new();
    let ev = uart
        .handle_interrupt(
            &mut |b| {
                got.push(b);
                true
            },
            &mut no_tx,
        )
        .unwrap();
    assert!(ev.line_errors);
    assert_eq!(got, b"z");
    assert_eq!(uart.stats().breaks, 1);
}

#[test]
fn port_errors_are_propagated() {
    // Every access of init failing in turn: each is reported, none panics.
    let clean = {
        let mut u = Uart::new(Fake16550::default());
        u.init(&Config::default()).unwrap();
        u.io().log.len()
    };
    for n in 0..clean {
        let mut uart = Uart::new(Fake16550 {
            fail_after: Some(n),
            ..Fake16550::default()
        });
        match uart.init(&Config::default()) {
            Err(Error::Io(Fault { .. })) => {}
            other => panic!("access {n}: {other:?}"),
        }
    }

    let mut uart = ready(Fake16550::default());
    uart.io_mut().fail_filter = Some((offset::IIR, false));
    uart.io_mut().fail_after = Some(0);
    assert_eq!(
        uart.handle_interrupt(&mut |_| true, &mut no_tx),
        Err(Error::Io(Fault {
            offset: offset::IIR,
            write: false
        }))
    );

    let mut uart = ready(Fake16550::default());
    uart.io_mut().receive(1);
    uart.io_mut().fail_filter = Some((offset::IER, true));
    uart.io_mut().fail_after = Some(0);
    assert_eq!(
        uart.handle_interrupt(&mut |_| false, &mut no_tx),
        Err(Error::Io(Fault {
            offset: offset::IER,
            write: true
        }))
    );
}

#[test]
fn a_transmitter_that_empties_as_fast_as_it_is_filled_is_not_a_storm() {
    // QEMU's UART sends every byte at once, so THR-empty is pending again
    // after each fill for as long as there are bytes to send: far more
    // rounds than a stuck device gets, but each one moves bytes.
    let mut uart = ready(Fake16550 {
        instant_tx: true,
        ..Fake16550::default()
    });
    let mut tx: VecDeque<u8> = (0..4096u32).map(|i| i as u8).collect();
    let ev = uart
        .handle_interrupt(&mut |_| true, &mut || tx.pop_front())
        .expect("a busy transmitter is serviced, not refused");
    assert_eq!(ev.sent, 4096);
    assert!(tx.is_empty());
    assert_eq!(
        uart.io().wire,
        (0..4096u32).map(|i| i as u8).collect::<Vec<_>>()
    );
    assert!(!uart.io().irq(), "nothing left pending");
}

#[test]
fn a_device_that_never_stops_interrupting_is_an_error() {
    let mut uart = ready(Fake16550::default());
    // Modem status pending forever (IIR 0x00) with MSR reads that do not
    // clear it.
    uart.io_mut().stuck_iir = Some(0xC0);
    assert_eq!(
        uart.handle_interrupt(&mut |_| true, &mut no_tx),
        Err(Error::InterruptStorm { iir: 0xC0 })
    );
}

#[test]
fn an_impossible_interrupt_id_is_an_error() {
    let mut uart = ready(Fake16550::default());
    uart.io_mut().stuck_iir = Some(0xC8);
    assert_eq!(
        uart.handle_interrupt(&mut |_| true, &mut no_tx),
        Err(Error::BadInterruptId { iir: 0xC8 })
    );
}

#[test]
fn a_uart_that_disappears_after_init_reads_as_no_interrupt() {
    let mut uart = ready(Fake16550::default());
    uart.io_mut().absent = true;
    assert_eq!(
        uart.handle_interrupt(&mut |_| true, &mut no_tx)
            .unwrap()
            .interrupts,
        0
    );
}
