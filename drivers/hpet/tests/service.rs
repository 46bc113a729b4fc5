//! The deadline queue, and the timer shared by several clients, against
//! the modelled HPET in `fake`.

mod fake;

use fake::FakeHpet;
use paddock_hpet::{Config, DeadlineQueue, Error, Timer, TimerService, Trigger};

fn service() -> TimerService<FakeHpet, 4> {
    let config = Config {
        timer: 0,
        ioapic_pin: 2,
        trigger: Trigger::Level,
    };
    TimerService::new(Timer::new(FakeHpet::q35(), config).unwrap())
}

fn comparator(s: &mut TimerService<FakeHpet, 4>) -> u64 {
    s.timer().regs().timers[0].comparator
}

#[test]
fn the_queue_keeps_one_deadline_per_client() {
    let mut q = DeadlineQueue::<3>::new();
    assert_eq!(q.earliest(), None);
    q.set(0, 300).unwrap();
    q.set(1, 100).unwrap();
    q.set(2, 200).unwrap();
    assert_eq!(q.earliest(), Some(100));
    q.set(1, 400).unwrap();
    assert_eq!(q.earliest(), Some(200), "replaced, not added");
    assert_eq!(q.expire(199), 0);
    assert_eq!(q.expire(300), 0b101);
    assert_eq!(q.get(1), Ok(Some(400)));
    assert_eq!(q.cancel(1), Ok(Some(400)));
    assert_eq!(q.earliest(), None);
}

#[test]
fn the_queue_refuses_hostile_input() {
    let mut q = DeadlineQueue::<3>::new();
    q.set(0, 5).unwrap();
    let no_such = Error::NoSuchClient {
        client: 3,
        capacity: 3,
    };
    assert_eq!(q.set(3, 10), Err(no_such));
    assert_eq!(q.cancel(3), Err(no_such));
    assert_eq!(q.get(3), Err(no_such));
    assert!(q.set(usize::MAX, 10).is_err());
    assert_eq!(
        q.set(0, u64::MAX),
        Err(Error::InvalidDeadline { ns: u64::MAX })
    );
    assert_eq!(q.get(0), Ok(Some(5)), "unchanged by refusals");
    let mut full = DeadlineQueue::<64>::new();
    full.set(63, 0).unwrap();
    assert_eq!(full.expire(0), 1 << 63);
}

#[test]
fn the_earliest_deadline_is_programmed_and_expiries_come_in_order() {
    let mut s = service();
    assert_eq!(s.set_deadline(0, 3000), Ok(0));
    assert_eq!(s.set_deadline(2, 1000), Ok(0));
    assert_eq!(s.set_deadline(1, 2000), Ok(0));
    assert_eq!(s.set_deadline(3, 2000), Ok(0));
    assert_eq!(comparator(&mut s), 100);

    assert_eq!(s.timer().regs_mut().run_until_irq(0, 1000), Some(100));
    assert_eq!(s.handle_interrupt(), Ok(0b0100));
    assert_eq!(comparator(&mut s), 200);
    assert!(!s.timer().regs().irq(0), "acknowledged");

    // A later client asking for an earlier deadline moves the comparator.
    assert_eq!(s.set_deadline(2, 1500), Ok(0));
    assert_eq!(comparator(&mut s), 150);
    s.timer().regs_mut().run_until_irq(0, 1000).unwrap();
    assert_eq!(s.handle_interrupt(), Ok(0b0100));

    s.timer().regs_mut().run_until_irq(0, 1000).unwrap();
    assert_eq!(s.handle_interrupt(), Ok(0b1010), "equal deadlines together");
    s.timer().regs_mut().run_until_irq(0, 1000).unwrap();
    assert_eq!(s.handle_interrupt(), Ok(0b0001));
    assert_eq!(s.queue().earliest(), None);
    assert_eq!(s.handle_interrupt(), Ok(0), "nothing left");
}

#[test]
fn deadlines_passed_expire_at_once() {
    let mut s = service();
    s.set_deadline(1, 5000).unwrap();
    s.timer().regs_mut().advance(300);
    assert_eq!(s.set_deadline(0, 1000), Ok(0b01));
    assert_eq!(s.set_deadline(2, 3000), Ok(0b100), "now counts as passed");
    assert_eq!(comparator(&mut s), 500, "the rest stay armed");

    // Several pass while the driver is not looking: all reported at once.
    s.set_deadline(0, 4000).unwrap();
    s.set_deadline(3, 4500).unwrap();
    s.timer().regs_mut().advance(1000);
    assert_eq!(s.handle_interrupt(), Ok(0b1011));
}

#[test]
fn cancelling_reprograms() {
    let mut s = service();
    s.set_deadline(0, 1000).unwrap();
    s.set_deadline(1, 2000).unwrap();
    assert_eq!(s.cancel(0), Ok(0));
    assert_eq!(comparator(&mut s), 200);
    assert_eq!(s.cancel(1), Ok(0));
    assert_eq!(s.timer().deadline_ns(), None);
    assert_eq!(
        s.timer().regs().cfg(0) & paddock_hpet::regs::timer::INT_ENB,
        0
    );
    s.timer().regs_mut().advance(1000);
    assert!(!s.timer().regs().irq(0));
}

#[test]
fn hostile_requests_leave_the_service_as_it_was() {
    let mut s = service();
    s.set_deadline(0, 1000).unwrap();
    assert_eq!(
        s.set_deadline(4, 10),
        Err(Error::NoSuchClient {
            client: 4,
            capacity: 4
        })
    );
    assert_eq!(
        s.set_deadline(1, u64::MAX),
        Err(Error::InvalidDeadline { ns: u64::MAX })
    );
    assert!(s.cancel(99).is_err());
    assert_eq!(comparator(&mut s), 100);
    // The largest deadline that is not "never" is accepted and armed.
    assert_eq!(s.set_deadline(1, u64::MAX - 1), Ok(0));
    assert_eq!(comparator(&mut s), 100);
}
