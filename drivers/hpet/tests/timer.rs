//! The one-comparator timer against the modelled HPET in `fake`.

mod fake;

use fake::FakeHpet;
use paddock_hpet::regs::{self, GeneralCaps, TimerCaps};
use paddock_hpet::{Armed, Config, Error, Period, Timer, Trigger, WINDOW_32};

const LEVEL_PIN2: Config = Config {
    timer: 0,
    ioapic_pin: 2,
    trigger: Trigger::Level,
};

fn q35(config: Config) -> Timer<FakeHpet> {
    Timer::new(FakeHpet::q35(), config).unwrap()
}

#[test]
fn capabilities_decode_and_encode() {
    let caps = GeneralCaps::decode(0x0098_9680_8086_A201);
    assert_eq!(
        caps,
        GeneralCaps {
            period_fs: 10_000_000,
            vendor_id: 0x8086,
            legacy_route: true,
            counter_64: true,
            timers: 3,
            rev_id: 1,
        }
    );
    assert_eq!(caps.encode(), 0x0098_9680_8086_A201);
    let t = TimerCaps::decode(0x00ff_0104_0000_8030);
    assert_eq!(t.route_cap, 0x00ff_0104);
    assert!(t.fsb && t.comparator_64 && t.periodic);
    assert!(t.allows_pin(2) && t.allows_pin(8) && t.allows_pin(23));
    assert!(!t.allows_pin(0) && !t.allows_pin(24) && !t.allows_pin(32) && !t.allows_pin(255));
}

#[test]
fn new_routes_the_comparator_and_starts_the_counter() {
    let mut hpet = FakeHpet::q35();
    hpet.config = regs::config::LEG_RT;
    hpet.timers[1].cfg = regs::timer::TYPE_PERIODIC | regs::timer::INT_ENB;
    let timer = Timer::new(
        hpet,
        Config {
            timer: 1,
            ioapic_pin: 8,
            trigger: Trigger::Level,
        },
    )
    .unwrap();
    assert_eq!(timer.period(), Period::QEMU);
    assert_eq!(timer.caps().timers, 3);
    let hpet = timer.regs();
    assert_eq!(hpet.config, regs::config::ENABLE, "legacy routing off");
    assert_eq!(hpet.route(1), 8);
    assert_eq!(
        hpet.cfg(1),
        regs::timer::INT_TYPE_LEVEL | (8 << regs::timer::INT_ROUTE_SHIFT),
        "one-shot, level, interrupt off until armed"
    );
}

#[test]
fn new_refuses_bad_devices_without_writing() {
    let refuse = |hpet: FakeHpet, config: Config| Timer::new(hpet, config).err().expect("refused");
    let mut absent = FakeHpet::q35();
    absent.absent = true;
    assert_eq!(
        refuse(absent, LEVEL_PIN2),
        Error::BadPeriod {
            period_fs: u32::MAX
        }
    );
    for period_fs in [0, 100_000_001, 0x8000_0000] {
        let mut hpet = FakeHpet::q35();
        hpet.caps.period_fs = period_fs;
        assert_eq!(refuse(hpet, LEVEL_PIN2), Error::BadPeriod { period_fs });
    }
    let mut slowest = FakeHpet::q35();
    slowest.caps.period_fs = 100_000_000;
    assert!(Timer::new(slowest, LEVEL_PIN2).is_ok());

    let config = Config {
        timer: 3,
        ..LEVEL_PIN2
    };
    assert_eq!(
        refuse(FakeHpet::q35(), config),
        Error::NoSuchTimer {
            timer: 3,
            timers: 3
        }
    );
    for pin in [0, 5, 24, 31, 32, 200] {
        let config = Config {
            ioapic_pin: pin,
            ..LEVEL_PIN2
        };
        assert_eq!(
            refuse(FakeHpet::q35(), config),
            Error::RouteNotAllowed {
                pin,
                allowed: 0x00ff_0104
            }
        );
    }
    // Nothing was written before any of those refusals.
    let mut hpet = FakeHpet::q35();
    hpet.caps.period_fs = 0;
    let mut hpet_ref = hpet;
    assert!(Timer::new(&mut hpet_ref, LEVEL_PIN2).is_err());
    assert_eq!(hpet_ref.writes, 0);
    let mut hpet = FakeHpet::q35();
    assert!(Timer::new(
        &mut hpet,
        Config {
            ioapic_pin: 5,
            ..LEVEL_PIN2
        }
    )
    .is_err());
    assert_eq!(hpet.writes, 0);

    let mut stuck = FakeHpet::q35();
    stuck.stuck_route = true;
    assert!(matches!(
        refuse(stuck, LEVEL_PIN2),
        Error::ConfigNotAccepted { .. }
    ));
}

#[test]
fn conversions_at_qemus_period() {
    let p = Period::QEMU;
    assert_eq!(p.hz(), 100_000_000);
    assert_eq!(p.ns_to_ticks_ceil(0), Ok(0));
    assert_eq!(p.ns_to_ticks_ceil(1), Ok(1));
    assert_eq!(p.ns_to_ticks_ceil(10), Ok(1));
    assert_eq!(p.ns_to_ticks_ceil(11), Ok(2));
    assert_eq!(p.ns_to_ticks_floor(19), Ok(1));
    assert_eq!(p.ticks_to_ns(3), Ok(30));
    assert_eq!(p.ns_to_ticks_ceil(1_000_000_000), Ok(100_000_000));
    assert_eq!(p.ns_to_ticks_ceil(u64::MAX), Ok(u64::MAX / 10 + 1));
    assert_eq!(p.ticks_to_ns(u64::MAX / 10), Ok(u64::MAX / 10 * 10));
    assert_eq!(p.ticks_to_ns(u64::MAX), Err(Error::TimeOutOfRange));
}

#[test]
fn conversions_at_odd_periods() {
    // 14.31818 MHz, the period of many real chipsets.
    let p = Period::new(69_841_279).unwrap();
    assert_eq!(p.hz(), 14_318_179, "rounded down");
    assert_eq!(p.ns_to_ticks_ceil(1_000_000_000), Ok(14_318_180));
    assert_eq!(p.ns_to_ticks_floor(1_000_000_000), Ok(14_318_179));
    for p in [
        p,
        Period::new(1).unwrap(),
        Period::new(99_999_999).unwrap(),
        Period::QEMU,
    ] {
        for ns in [1u64, 7, 69, 70, 1_000, 123_456_789, 1 << 40] {
            let ticks = p.ns_to_ticks_ceil(ns).unwrap();
            assert!(p.ticks_to_ns(ticks).unwrap() >= ns, "never early");
            assert!(
                p.ticks_to_ns(ticks - 1).unwrap() < ns,
                "the first tick that is not"
            );
            let floor = p.ns_to_ticks_floor(ns).unwrap();
            assert!(floor == ticks || floor + 1 == ticks);
        }
    }
    let fastest = Period::new(1).unwrap();
    assert_eq!(
        fastest.ns_to_ticks_ceil(u64::MAX),
        Err(Error::TimeOutOfRange)
    );
    assert_eq!(fastest.ticks_to_ns(u64::MAX), Ok(u64::MAX / 1_000_000));
    assert_eq!(Period::new(0), Err(Error::BadPeriod { period_fs: 0 }));
    assert_eq!(
        Period::new(100_000_001),
        Err(Error::BadPeriod {
            period_fs: 100_000_001
        })
    );
}

#[test]
fn now_reads_the_counter() {
    let mut timer = q35(LEVEL_PIN2);
    assert_eq!(timer.now_ns(), 0);
    timer.regs_mut().advance(123);
    assert_eq!(timer.now_ticks(), 123);
    assert_eq!(timer.now_ns(), 1230);
    timer.regs_mut().counter = u64::MAX;
    assert_eq!(timer.now_ns(), u64::MAX, "saturates");
}

#[test]
fn a_level_deadline_fires_once_and_is_acknowledged() {
    let mut timer = q35(LEVEL_PIN2);
    timer.regs_mut().advance(50);
    assert_eq!(timer.arm_at_ns(1001), Ok(Armed::Pending));
    assert_eq!(timer.deadline_ns(), Some(1010));
    assert_eq!(timer.regs().timers[0].comparator, 101, "rounded up");
    assert!(timer.regs().cfg(0) & regs::timer::INT_ENB != 0);

    timer.regs_mut().advance(50);
    assert!(!timer.regs().irq(0));
    timer.regs_mut().advance(1);
    assert!(timer.regs().irq(0));
    let i = timer.handle_interrupt().unwrap();
    assert!(i.acknowledged && i.expired);
    assert!(!timer.regs().irq(0), "line dropped");
    assert_eq!(timer.regs().status, 0);
    assert_eq!(timer.deadline_ns(), None);
    assert_eq!(timer.regs().cfg(0) & regs::timer::INT_ENB, 0);

    let again = timer.handle_interrupt().unwrap();
    assert!(!again.acknowledged && !again.expired, "nothing more");
}

#[test]
fn an_edge_deadline_needs_no_acknowledgement() {
    let mut timer = q35(Config {
        trigger: Trigger::Edge,
        ..LEVEL_PIN2
    });
    assert_eq!(timer.arm_after_ns(500), Ok(Armed::Pending));
    assert_eq!(timer.regs_mut().run_until_irq(0, 1000), Some(50));
    assert_eq!(timer.regs_mut().take_edges(0), 1);
    let i = timer.handle_interrupt().unwrap();
    assert!(!i.acknowledged && i.expired);
}

#[test]
fn deadlines_replace_each_other_in_any_order() {
    let mut timer = q35(LEVEL_PIN2);
    assert_eq!(timer.arm_at_ns(3000), Ok(Armed::Pending));
    assert_eq!(timer.arm_at_ns(1000), Ok(Armed::Pending));
    assert_eq!(timer.regs().timers[0].comparator, 100);
    assert_eq!(timer.arm_at_ns(2000), Ok(Armed::Pending));
    assert_eq!(timer.regs().timers[0].comparator, 200);
    timer.regs_mut().advance(150);
    assert!(!timer.regs().irq(0), "the replaced deadline does not fire");
    timer.regs_mut().advance(50);
    assert!(timer.handle_interrupt().unwrap().expired);
    timer.disarm();
    assert_eq!(timer.deadline_ns(), None);
}

#[test]
fn a_spurious_interrupt_keeps_the_deadline() {
    let mut timer = q35(LEVEL_PIN2);
    assert_eq!(timer.arm_at_ns(1000), Ok(Armed::Pending));
    timer.regs_mut().status = 1;
    timer.regs_mut().advance(10);
    let i = timer.handle_interrupt().unwrap();
    assert!(i.acknowledged && !i.expired);
    assert_eq!(timer.deadline_ns(), Some(1000));
    assert_eq!(timer.regs_mut().run_until_irq(0, 1000), Some(90));
    assert!(timer.handle_interrupt().unwrap().expired);
}

#[test]
fn a_deadline_in_the_past_is_reported_not_armed() {
    let mut timer = q35(LEVEL_PIN2);
    timer.regs_mut().advance(500);
    assert_eq!(timer.arm_at_ns(1000), Ok(Armed::Expired));
    assert_eq!(
        timer.arm_at_ns(5000),
        Ok(Armed::Expired),
        "now is a deadline passed"
    );
    assert_eq!(timer.deadline_ns(), None);
    assert_eq!(timer.regs().cfg(0) & regs::timer::INT_ENB, 0);
    assert_eq!(timer.arm_at_ns(u64::MAX), Ok(Armed::Pending));
}

#[test]
fn a_deadline_passed_while_programming_is_reported() {
    let mut timer = q35(LEVEL_PIN2);
    timer.regs_mut().ticks_per_read = 5;
    // Deadline 4 ticks: read 0, comparator written, read 5: passed.
    assert_eq!(timer.arm_at_ns(40), Ok(Armed::Expired));
    assert_eq!(timer.deadline_ns(), None);
}

#[test]
fn a_32_bit_comparator_steps_to_a_far_deadline() {
    let mut hpet = FakeHpet::q35();
    for t in &mut hpet.timers {
        t.caps.comparator_64 = false;
    }
    let mut timer = Timer::new(hpet, LEVEL_PIN2).unwrap();
    timer.regs_mut().advance(0xFFFF_FF00);
    let deadline = 0xFFFF_FF00 + 3 * WINDOW_32 + 77;
    assert_eq!(timer.arm_at_ticks(deadline), Ok(Armed::Pending));
    let mut steps = 0;
    loop {
        assert!(timer.regs_mut().run_until_irq(0, WINDOW_32).is_some());
        steps += 1;
        let i = timer.handle_interrupt().unwrap();
        if i.expired {
            break;
        }
        assert!(timer.now_ticks() < deadline, "not early");
    }
    assert_eq!(steps, 4);
    assert_eq!(timer.now_ticks(), deadline);
}

#[test]
fn a_32_bit_counter_is_extended_across_its_wrap() {
    let mut hpet = FakeHpet::q35();
    hpet.caps.counter_64 = false;
    let mut timer = Timer::new(hpet, LEVEL_PIN2).unwrap();
    timer.regs_mut().advance(0xFFFF_FF00);
    assert_eq!(timer.now_ticks(), 0xFFFF_FF00);
    timer.regs_mut().advance(0x200);
    assert_eq!(timer.now_ticks(), 0x1_0000_0100);
    assert_eq!(timer.arm_at_ticks(0x1_0000_0200), Ok(Armed::Pending));
    assert_eq!(timer.regs().timers[0].comparator, 0x200);
    assert_eq!(timer.regs_mut().run_until_irq(0, 0x1000), Some(0x100));
    assert!(timer.handle_interrupt().unwrap().expired);
}

#[test]
fn a_runaway_counter_is_an_error() {
    let mut hpet = FakeHpet::q35();
    hpet.timers[0].caps.comparator_64 = false;
    let mut timer = Timer::new(hpet, LEVEL_PIN2).unwrap();
    timer.regs_mut().ticks_per_read = WINDOW_32 + 1;
    assert_eq!(timer.arm_at_ticks(1 << 40), Err(Error::CounterUnstable));
    assert_eq!(timer.deadline_ns(), None);
}
