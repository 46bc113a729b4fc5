//! `Delay` (embedded-hal's `DelayNs`) over a modelled client clock, and over
//! the timer service with the modelled HPET.

mod fake;

use embedded_hal::delay::DelayNs;
use fake::FakeHpet;
use paddock_hpet::{Clock, Config, Delay, Error, Timer, TimerService, Trigger};

/// A clock whose time moves only when waited on (by `step`, or to the
/// deadline if `step` is 0), or when read (by `per_read`).
#[derive(Default)]
struct FakeClock {
    now: u64,
    step: u64,
    per_read: u64,
    deadline: Option<u64>,
    waits: usize,
    refuse: bool,
}

impl Clock for FakeClock {
    fn now_ns(&mut self) -> u64 {
        let now = self.now;
        self.now += self.per_read;
        now
    }
    fn set_deadline(&mut self, deadline_ns: u64) -> Result<(), Error> {
        if self.refuse {
            return Err(Error::InvalidDeadline { ns: deadline_ns });
        }
        self.deadline = Some(deadline_ns);
        Ok(())
    }
    fn wait(&mut self) {
        self.waits += 1;
        match (self.step, self.deadline) {
            (0, Some(d)) => self.now = self.now.max(d),
            (step, _) => self.now += step,
        }
    }
}

#[test]
fn delay_sets_one_deadline_and_waits_for_it() {
    let mut d = Delay::new(FakeClock {
        now: 100,
        ..FakeClock::default()
    });
    d.delay_ns(1500);
    assert_eq!(d.clock().deadline, Some(1600));
    assert_eq!(d.clock().waits, 1);
    assert_eq!(d.clock().now, 1600);
    d.delay_us(3);
    assert_eq!(d.clock().deadline, Some(4600));
    d.delay_ms(u32::MAX);
    assert_eq!(
        d.clock().deadline,
        Some(4600 + u64::from(u32::MAX) * 1_000_000),
        "one deadline, no overflow"
    );
    assert_eq!(d.clock().waits, 3);
}

#[test]
fn delay_waits_again_after_early_wakeups() {
    let mut d = Delay::new(FakeClock {
        now: 100,
        step: 400,
        ..FakeClock::default()
    });
    d.delay_ns(1500);
    assert_eq!(d.clock().waits, 4, "500, 900, 1300, 1700");
    assert!(d.clock().now >= 1600);
    d.delay_ns(0);
    assert_eq!(d.clock().waits, 4, "no wait for nothing");
}

#[test]
fn delay_polls_when_no_deadline_can_be_set() {
    let mut d = Delay::new(FakeClock {
        per_read: 100,
        refuse: true,
        ..FakeClock::default()
    });
    d.delay_ns(1000);
    assert_eq!(d.clock().waits, 0);
    assert!(d.clock().now > 1000);
}

#[test]
fn delay_saturates_near_the_end_of_time() {
    let mut d = Delay::new(FakeClock {
        now: u64::MAX - 10,
        ..FakeClock::default()
    });
    d.delay_ns(100);
    assert_eq!(d.clock().deadline, Some(u64::MAX - 1));
}

/// Client 1 of a service on the modelled HPET: waiting runs the device to
/// its next interrupt and services it, as the driver's loop would.
struct ServiceClock {
    service: TimerService<FakeHpet, 2>,
    woken: u64,
}

impl Clock for ServiceClock {
    fn now_ns(&mut self) -> u64 {
        self.service.now_ns()
    }
    fn set_deadline(&mut self, deadline_ns: u64) -> Result<(), Error> {
        self.woken |= self.service.set_deadline(1, deadline_ns)?;
        Ok(())
    }
    fn wait(&mut self) {
        if self.woken & 0b10 == 0 {
            let hpet = self.service.timer().regs_mut();
            hpet.run_until_irq(0, 1 << 40).expect("an interrupt comes");
            self.woken |= self.service.handle_interrupt().unwrap();
        }
        self.woken &= !0b10;
    }
}

#[test]
fn delay_over_the_timer_service() {
    let config = Config {
        timer: 0,
        ioapic_pin: 2,
        trigger: Trigger::Level,
    };
    let mut service = TimerService::new(Timer::new(FakeHpet::q35(), config).unwrap());
    service.set_deadline(0, 700).unwrap();
    let mut d = Delay::new(ServiceClock { service, woken: 0 });
    d.delay_us(2);
    let clock = d.clock();
    assert_eq!(clock.now_ns(), 2000);
    assert_eq!(clock.woken, 0b01, "client 0 woken on the way");
    d.delay_ns(15);
    assert_eq!(d.clock().now_ns(), 2020, "rounded up to whole ticks");
}
