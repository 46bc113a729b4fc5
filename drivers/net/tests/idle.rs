//! When each side may sleep, and when the other must signal it.

mod common;

use std::sync::atomic::Ordering::Relaxed;

use common::Shared;
use paddock_net::{Idle, InfoError, LinkState, NetLayout, Notify};

const LAYOUT: NetLayout = match NetLayout::for_buffers(2, 2, 2048) {
    Ok(l) => l,
    Err(_) => panic!(),
};
const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 7];

#[test]
fn driver_sleeps_until_a_frame_is_queued() {
    let s = Shared::new(LAYOUT);
    let mut driver = s.driver(MAC);
    let mut client = s.client();
    assert_eq!(driver.request_signal(false), Ok(Idle::Sleep));
    assert!(client.send_frame(&[0xff; 60]).unwrap());
    assert_eq!(client.publish(), Notify::Yes, "the driver asked");
    assert_eq!(driver.request_signal(false), Ok(Idle::MoreWork));
    let buf = driver.next_tx().unwrap().unwrap();
    assert_eq!(buf.len(), 60);
    driver.complete_tx(buf).unwrap();
    assert_eq!(driver.publish(), Notify::No, "the client did not ask");
    // A busy client publishing again draws no second signal.
    assert!(client.send_frame(&[0xff; 60]).unwrap());
    assert_eq!(client.publish(), Notify::No);
}

#[test]
fn driver_short_of_rx_buffers_waits_for_them() {
    let s = Shared::new(LAYOUT);
    let mut driver = s.driver(MAC);
    let mut client = s.client();
    // Holding spare buffers: no reason to sleep for buffers.
    assert_eq!(driver.request_signal(true), Ok(Idle::MoreWork));
    let a = driver.take_free_rx().unwrap().unwrap();
    let b = driver.take_free_rx().unwrap().unwrap();
    assert_eq!(driver.take_free_rx(), Ok(None));
    assert_eq!(driver.request_signal(true), Ok(Idle::Sleep));
    driver.complete_rx(a, 60).unwrap();
    driver.complete_rx(b, 70).unwrap();
    // The client asked for frames before the driver published them.
    assert_eq!(client.request_signal(), Ok(Idle::Sleep));
    assert_eq!(driver.publish(), Notify::Yes);
    let mut frame = [0u8; 1514];
    assert_eq!(client.recv_frame(&mut frame), Ok(Some(60)));
    // Giving the buffer back wakes the driver, which asked for buffers.
    assert_eq!(client.publish(), Notify::Yes);
    assert!(driver.take_free_rx().unwrap().is_some());
}

#[test]
fn client_out_of_tx_buffers_waits_for_them() {
    let s = Shared::new(LAYOUT);
    let mut driver = s.driver(MAC);
    let mut client = s.client();
    assert!(client.send_frame(&[1; 60]).unwrap());
    assert!(client.send_frame(&[2; 60]).unwrap());
    assert!(!client.send_frame(&[3; 60]).unwrap(), "both buffers out");
    let _ = client.publish();
    // Through smoltcp's device the same shortage marks the client starved.
    use paddock_net::smoltcp::phy::Device;
    assert!(client
        .transmit(paddock_net::smoltcp::time::Instant::ZERO)
        .is_none());
    assert_eq!(client.request_signal(), Ok(Idle::Sleep));
    let buf = driver.next_tx().unwrap().unwrap();
    driver.complete_tx(buf).unwrap();
    assert_eq!(driver.publish(), Notify::Yes);
    assert!(client.send_frame(&[3; 60]).unwrap());
}

#[test]
fn withdrawn_and_restarted_driver_seen_by_the_client() {
    let s = Shared::new(LAYOUT);
    let driver = s.driver(MAC);
    let client = s.client();
    assert_eq!(client.info().generation, 1);
    assert_eq!(client.driver_state(), Ok(LinkState::Serving));
    driver.info().withdraw();
    assert_eq!(client.driver_state(), Ok(LinkState::Withdrawn));
    assert_eq!(
        s.control.info.read(&LAYOUT).err(),
        Some(InfoError::Withdrawn)
    );
    s.control.info.words()[2].store(1, Relaxed);
    s.control.info.words()[3].store(2, Relaxed);
    assert_eq!(s.control.info.read(&LAYOUT).unwrap().generation, 2);
}

#[test]
fn restarted_driver_continues_the_queues() {
    let s = Shared::new(LAYOUT);
    let mut driver = s.driver(MAC);
    let mut client = s.client();
    // One RX buffer delivered and read, one posted to the device when the
    // driver dies; one TX frame taken and not completed.
    let a = driver.take_free_rx().unwrap().unwrap();
    driver.complete_rx(a, 60).unwrap();
    let _posted = driver.take_free_rx().unwrap().unwrap();
    let _ = driver.publish();
    assert!(client.send_frame(&[1; 60]).unwrap());
    let _ = client.publish();
    let _sending = driver.next_tx().unwrap().unwrap();
    assert_eq!(client.recv_frame(&mut [0; 64]), Ok(Some(60)));
    let _ = client.publish();

    driver.info().withdraw();
    let mut driver = paddock_net::DriverQueues::reattach(s.control).unwrap();
    // The buffer the client gave back is reused; the one the old
    // instance held is not invented.
    let b = driver.take_free_rx().unwrap().unwrap();
    assert_eq!(b.window_offset(), 0);
    assert_eq!(driver.take_free_rx(), Ok(None));
    driver.complete_rx(b, 61).unwrap();
    let _ = driver.publish();
    assert_eq!(client.recv_frame(&mut [0; 64]), Ok(Some(61)));
    // The frame the old instance took without releasing its slot is taken
    // again (sent twice at worst); TX goes on with the client's other
    // buffer.
    assert!(client.send_frame(&[2; 70]).unwrap());
    let _ = client.publish();
    assert_eq!(driver.next_tx().unwrap().unwrap().len(), 60);
    assert_eq!(driver.next_tx().unwrap().unwrap().len(), 70);
}
