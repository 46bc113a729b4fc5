//! Host tests of the protocol: the clock page's sequence lock against a
//! concurrent writer and garbage, the client's monotonic clock and its
//! deadlines, and the server against the modelled HPET of paddock-hpet.

#[path = "../../hpet/tests/fake/mod.rs"]
mod fake;

use crate::client::{ClientCore, Link};
use crate::page::{self, ClockPage, NO_DEADLINE, WORDS};
use crate::server::{classify, Request, Server, MAX_AHEAD_NS};
use crate::{ClockError, Params, MIN_MULT};
use fake::FakeHpet;
use paddock_hpet::{Config, Timer, TimerService, Trigger};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

fn words() -> Vec<AtomicU64> {
    (0..WORDS).map(|_| AtomicU64::new(0)).collect()
}

/// 1 ns per tick.
const ONE: u64 = 1 << 32;

#[test]
fn a_published_clock_reads_back() {
    let w = words();
    let page = ClockPage::new(&w).unwrap();
    assert_eq!(page.read(), Err(ClockError::NotPublished));
    let p = Params {
        tsc_base: 100,
        ns_base: 5_000,
        mult: ONE / 2,
    };
    page.publish(p);
    assert_eq!(page.read(), Ok(p));
    assert_eq!(p.ns_at(300), 5_100);
    assert!(ClockPage::new(&w[..WORDS - 1]).is_none(), "too short");
}

#[test]
fn a_stuck_or_garbage_page_is_an_error_not_a_hang_or_panic() {
    let w = words();
    let page = ClockPage::new(&w).unwrap();
    page.publish(Params {
        tsc_base: 1,
        ns_base: 1,
        mult: ONE,
    });
    // A writer that stopped half-way: the lock stays odd.
    page.poke(page::SEQ, 7);
    assert_eq!(page.read(), Err(ClockError::Torn));
    page.poke(page::SEQ, 8);
    page.poke(page::MULT, 0);
    assert_eq!(page.read(), Err(ClockError::BadSlope { mult: 0 }));
    page.poke(page::MULT, u64::MAX);
    assert!(matches!(page.read(), Err(ClockError::BadSlope { .. })));
    // Every word garbage, many times over: an error or a checked clock.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..10_000 {
        for word in &w {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.store(x, Ordering::Relaxed);
        }
        if x & 1 == 0 {
            page.poke(page::MAGIC_WORD, page::MAGIC);
        }
        if let Ok(p) = page.read() {
            assert!(p.mult >= MIN_MULT);
            let _ = p.ns_at(x);
        }
    }
}

#[test]
fn a_reader_never_sees_a_torn_clock_while_the_writer_publishes() {
    let w: &'static [AtomicU64] = Box::leak(words().into_boxed_slice());
    let page = ClockPage::new(w).unwrap();
    page.publish(Params {
        tsc_base: 0,
        ns_base: 0,
        mult: ONE,
    });
    let stop: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let writer = std::thread::spawn(move || {
        let page = ClockPage::new(w).unwrap();
        let mut i = 1u64;
        while !stop.load(Ordering::Relaxed) {
            // Every consistent clock has ns_base = 3 * tsc_base and
            // mult = (tsc_base % 1000 + 1) ns per tick.
            page.publish(Params {
                tsc_base: i,
                ns_base: 3 * i,
                mult: ONE * (i % 1000 + 1),
            });
            i += 1;
        }
    });
    let (mut ok, mut torn) = (0, 0);
    for _ in 0..200_000 {
        match page.read() {
            Ok(p) => {
                assert_eq!(p.ns_base, 3 * p.tsc_base, "{p:?}");
                assert_eq!(p.mult, ONE * (p.tsc_base % 1000 + 1), "{p:?}");
                ok += 1;
            }
            Err(ClockError::Torn) => torn += 1,
            Err(e) => panic!("{e}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(ok > 0, "{ok} consistent reads, {torn} torn");
}

static FAKE_TSC: AtomicU64 = AtomicU64::new(0);

fn fake_tsc() -> u64 {
    FAKE_TSC.load(Ordering::Relaxed)
}

#[derive(Default)]
struct FakeLink {
    signals: usize,
    waits: usize,
    /// What the next wait returns.
    bits: u64,
}

impl Link for &mut FakeLink {
    fn signal(&mut self) {
        self.signals += 1;
    }
    fn wait(&mut self) -> u64 {
        self.waits += 1;
        self.bits
    }
    fn badge_bit(&self) -> u64 {
        1 << 3
    }
}

#[test]
fn the_clients_time_never_goes_back_whatever_the_page_does() {
    let w = words();
    let page = ClockPage::new(&w).unwrap();
    let mut link = FakeLink::default();
    let mut client = ClientCore::new(page, &mut link, fake_tsc);
    assert_eq!(client.try_now_ns(), Err(ClockError::NotPublished));
    assert_eq!(client.now_ns(), 0, "no clock yet: stands still");
    FAKE_TSC.store(1_000, Ordering::Relaxed);
    page.publish(Params {
        tsc_base: 1_000,
        ns_base: 1_000_000,
        mult: ONE,
    });
    assert_eq!(client.try_now_ns(), Ok(1_000_000));
    FAKE_TSC.store(1_500, Ordering::Relaxed);
    assert_eq!(client.now_ns(), 1_000_500);
    // The timer publishes a clock that is behind: the client holds.
    page.publish(Params {
        tsc_base: 1_500,
        ns_base: 900_000,
        mult: ONE,
    });
    assert_eq!(client.now_ns(), 1_000_500);
    // Garbage: the last good clock goes on.
    page.poke(page::MULT, 0);
    assert!(client.try_now_ns().is_err());
    FAKE_TSC.store(2_500, Ordering::Relaxed);
    assert_eq!(
        client.now_ns(),
        1_000_500,
        "the last clock read is behind too"
    );
    FAKE_TSC.store(200_000, Ordering::Relaxed);
    assert_eq!(client.now_ns(), 900_000 + 198_500);
}

#[test]
fn deadlines_are_requests_and_waiting_stops_once_answered() {
    let w = words();
    let page = ClockPage::new(&w).unwrap();
    page.publish(Params {
        tsc_base: 0,
        ns_base: 0,
        mult: ONE,
    });
    let mut link = FakeLink {
        bits: 1 << 3 | 1 << 5,
        ..FakeLink::default()
    };
    let mut client = ClientCore::new(page, &mut link, || 10);
    assert_eq!(
        client.set_deadline(MAX_AHEAD_NS + 11),
        Err(ClockError::TooFar)
    );
    assert_eq!(client.set_deadline(500), Ok(1));
    assert_eq!(page.take_request(), (1, 500));
    assert!(!client.answered());
    client.wait();
    assert_eq!(
        client.take_other_bits(),
        1 << 5,
        "the timer's own bit is not kept"
    );
    page.answer(1, false);
    assert!(client.answered());
    client.wait();
    assert_eq!(client.set_deadline(NO_DEADLINE), Ok(2));
    assert_eq!((link.signals, link.waits), (2, 1), "no wait once answered");
}

#[test]
fn any_deadline_word_is_acceptable_input() {
    assert_eq!(classify(NO_DEADLINE, 5), Request::Cancel);
    assert_eq!(classify(0, 5), Request::At(0));
    assert_eq!(classify(5 + MAX_AHEAD_NS, 5), Request::At(5 + MAX_AHEAD_NS));
    assert_eq!(
        classify(6 + MAX_AHEAD_NS, 5),
        Request::Refused(6 + MAX_AHEAD_NS)
    );
    assert_eq!(
        classify(u64::MAX - 1, u64::MAX - 2),
        Request::At(u64::MAX - 1)
    );
}

fn service() -> TimerService<FakeHpet, 4> {
    let config = Config {
        timer: 0,
        ioapic_pin: 8,
        trigger: Trigger::Edge,
    };
    TimerService::new(Timer::new(FakeHpet::q35(), config).unwrap())
}

/// Four clients' pages.
fn pages(w: &[Vec<AtomicU64>]) -> Vec<ClockPage<'_>> {
    w.iter().map(|w| ClockPage::new(w).unwrap()).collect()
}

#[test]
fn the_server_expires_in_deadline_order_and_answers_each_request_once() {
    let w: Vec<_> = (0..4).map(|_| words()).collect();
    let p = pages(&w);
    let mut s = service();
    let mut server = Server::<4>::new();
    let now = s.now_ns();
    p[0].request(now + 3_000, 1);
    p[1].request(now + 1_000, 1);
    let o = server.poll(&mut s, &p, 0).unwrap();
    assert_eq!((o.requested, o.signal()), (0b11, 0));
    // 1.5 us later (150 ticks of 10 ns) the interrupt expires client 1.
    s.timer().regs_mut().advance(150);
    let expired = s.handle_interrupt().unwrap();
    let o = server.poll(&mut s, &p, expired).unwrap();
    assert_eq!((o.expired, o.refused), (0b10, 0));
    assert_eq!((p[1].answered(), p[1].expired()), (1, 1));
    assert_eq!(p[0].answered(), 0);
    // A flood of signals with nothing new: no work, no second answer.
    for _ in 0..100 {
        assert_eq!(server.poll(&mut s, &p, 0).unwrap().signal(), 0);
    }
    s.timer().regs_mut().advance(200);
    let expired = s.handle_interrupt().unwrap();
    assert_eq!(server.poll(&mut s, &p, expired).unwrap().expired, 0b01);
    assert_eq!(p[1].expired(), 1);
}

#[test]
fn past_absurd_and_garbage_deadlines_are_answered_and_the_others_still_served() {
    let w: Vec<_> = (0..4).map(|_| words()).collect();
    let p = pages(&w);
    let mut s = service();
    s.timer().regs_mut().advance(1_000_000);
    let mut server = Server::<4>::new();
    let now = s.now_ns();
    p[0].request(now + 5_000, 1);
    p[1].request(now - 1, 1);
    p[2].request(u64::MAX - 1, 7);
    p[3].request(1 << 63, u64::MAX);
    let o = server.poll(&mut s, &p, 0).unwrap();
    assert_eq!(o.expired, 0b0010, "a past deadline wakes at once");
    assert_eq!(o.refused, 0b1100, "absurd ones are refused");
    assert_eq!((p[2].answered(), p[2].refused()), (7, 1));
    assert_eq!((p[3].answered(), p[3].refused()), (u64::MAX, 1));
    s.timer().regs_mut().advance(600);
    let expired = s.handle_interrupt().unwrap();
    assert_eq!(server.poll(&mut s, &p, expired).unwrap().expired, 0b0001);
}

#[test]
fn a_request_replacing_an_expired_one_is_not_answered_for_it() {
    let w: Vec<_> = (0..1).map(|_| words()).collect();
    let p = pages(&w);
    let mut s = service();
    let mut server = Server::<4>::new();
    let now = s.now_ns();
    p[0].request(now + 100, 1);
    server.poll(&mut s, &p, 0).unwrap();
    s.timer().regs_mut().advance(20);
    let expired = s.handle_interrupt().unwrap();
    // Before the timer polls, the client asks again.
    p[0].request(now + 1_000_000, 2);
    let o = server.poll(&mut s, &p, expired).unwrap();
    assert_eq!(o.expired, 1, "the first request is answered");
    assert_eq!(p[0].answered(), 1, "as request 1, not 2");
    // Cancelling the second leaves nothing to answer.
    p[0].request(NO_DEADLINE, 3);
    assert_eq!(server.poll(&mut s, &p, 0).unwrap().signal(), 0);
    assert_eq!(p[0].answered(), 1);
}
