//! The edges of a `WaitSet` wait: deadlines, peers killed or gone while it sleeps, a
//! sender waiting for room, and a set of one.

use crate::common::{say, spawn, watchdog, RingGuard};
use ipcring::spsc::{Consumer, Producer};
use ipcring::{RecvError, SendError, WaitSet, WaitStrategy, Waitable};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(20);

/// Child: opens the ring as the role of its argument (`producer` or `consumer`), says
/// `attached`, and waits to be killed.
pub fn idle(ring: &str, arg: &str) {
    let _held: Box<dyn std::any::Any> = match arg {
        "producer" => Box::new(Producer::open(ring).expect("open a producer")),
        _ => Box::new(Consumer::open(ring).expect("open a consumer")),
    };
    say("attached", "");
    std::thread::sleep(Duration::from_secs(120));
}

pub fn rings(tag: &str, n: usize) -> (Vec<RingGuard>, Vec<Consumer>) {
    let guards: Vec<RingGuard> = (0..n).map(|_| RingGuard::new(tag)).collect();
    let rxs = guards
        .iter()
        .map(|g| Consumer::create(g.name(), 4096).expect("create"))
        .collect();
    (guards, rxs)
}

pub fn members(rxs: &mut [Consumer]) -> Vec<&mut dyn Waitable> {
    rxs.iter_mut().map(|r| r as &mut dyn Waitable).collect()
}

/// Producers of the rings of `g`, each taken out in turn by [`wakes_for`].
pub fn producers(g: &[RingGuard]) -> Vec<Option<Producer>> {
    g.iter()
        .map(|g| Some(Producer::open(g.name()).expect("open")))
        .collect()
}

/// Sends `msg` on ring `k` from another thread `after` a while, and checks that `set`,
/// asleep meanwhile, reports ring `k` alone; receives the message.
fn wakes_for(
    set: &mut WaitSet,
    rxs: &mut [Consumer],
    txs: &mut [Option<Producer>],
    k: usize,
    after: Duration,
    msg: &'static [u8],
) {
    let mut tx = txs[k].take().expect("a producer");
    let sender = std::thread::spawn(move || {
        std::thread::sleep(after);
        tx.send(msg).expect("send");
        tx
    });
    let ready: Vec<usize> = set.wait(&mut members(rxs)).iter().collect();
    assert_eq!(ready, [k]);
    let mut buf = Vec::new();
    assert_eq!(rxs[k].try_recv_into(&mut buf), Ok(msg.len()));
    txs[k] = Some(sender.join().expect("sender"));
}

/// Every strategy waits out its deadline on idle rings (with live producers), returns an
/// empty set, and never returns before the deadline.
#[test]
fn a_wait_on_idle_rings_returns_nothing_at_its_deadline() {
    let _w = watchdog("wait set deadline", LIMIT);
    let (_g, mut rxs) = rings("set-deadline", 3);
    let _txs: Vec<Producer> = _g
        .iter()
        .map(|g| Producer::open(g.name()).expect("open"))
        .collect();
    for strategy in [
        WaitStrategy::BusySpin,
        WaitStrategy::default(),
        WaitStrategy::Park,
    ] {
        let mut set = WaitSet::new();
        set.set_wait_strategy(strategy);
        for timeout in [
            Duration::ZERO,
            Duration::from_millis(1),
            Duration::from_millis(60),
        ] {
            let start = Instant::now();
            let ready = set.wait_timeout(&mut members(&mut rxs), timeout);
            let took = start.elapsed();
            assert!(ready.is_empty(), "{strategy:?}: {ready:?}");
            assert!(
                took >= timeout,
                "{strategy:?}: returned after {took:?} of {timeout:?}"
            );
        }
    }
}

/// A sleeping set wakes for a message sent to any of its rings, and reports that one;
/// a producer that leaves makes its ring ready too (its end).
#[test]
fn a_sleeping_set_wakes_for_a_message_on_any_ring() {
    let _w = watchdog("wait set wakes", LIMIT);
    let (g, mut rxs) = rings("set-wake", 5);
    let mut txs = producers(&g);
    let mut set = WaitSet::new();
    set.set_wait_strategy(WaitStrategy::Park);
    for k in [4, 0, 2] {
        wakes_for(
            &mut set,
            &mut rxs,
            &mut txs,
            k,
            Duration::from_millis(30),
            b"wake",
        );
    }
    let mut buf = Vec::new();
    let leaver = txs[3].take().expect("a producer");
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        drop(leaver);
    });
    // Ready once its flag says it left; `Disconnected` once its lock is released too,
    // a moment later.
    loop {
        let ready: Vec<usize> = set.wait(&mut members(&mut rxs)).iter().collect();
        assert_eq!(ready, [3]);
        match rxs[3].try_recv_into(&mut buf) {
            Err(RecvError::Disconnected) => break,
            Err(RecvError::Empty) => {}
            other => panic!("{other:?}"),
        }
    }
}

/// A producer killed while the set sleeps on its ring (and on others whose producers
/// live) is reported: its ring is ready, and receiving from it says `Disconnected`.
#[test]
fn a_producer_killed_while_the_set_sleeps_is_reported() {
    let _w = watchdog("wait set sees a kill", LIMIT);
    for strategy in [WaitStrategy::default(), WaitStrategy::Park] {
        let (g, mut rxs) = rings("set-kill", 4);
        let mut children: Vec<_> = g
            .iter()
            .map(|g| spawn("idle", g.name(), "producer"))
            .collect();
        for c in &children {
            c.expect("attached", WAIT);
        }
        let mut set = WaitSet::new();
        set.set_wait_strategy(strategy);
        let victim = 2;
        let pid = children[victim].pid();
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            crate::common::kill9_pid(pid)
        });
        let ready: Vec<usize> = set.wait(&mut members(&mut rxs)).iter().collect();
        let noticed = killer.join().expect("killer").elapsed();
        assert_eq!(ready, [victim]);
        let mut buf = Vec::new();
        assert_eq!(
            rxs[victim].try_recv_into(&mut buf),
            Err(RecvError::Disconnected)
        );
        println!("{strategy:?}: the kill was reported {noticed:?} after it");
        children.clear();
    }
}

/// A producer's room is a member: a set waiting for room on a full ring wakes when its
/// consumer takes a message, and reports a consumer killed meanwhile.
#[test]
fn a_set_waits_for_room_and_sees_the_consumer_killed() {
    // Records of 128 bytes (header and payload) tile the 4 KiB ring: one receive frees
    // the room of one send.
    const MSG: &[u8] = &[7; 120];
    let _w = watchdog("wait set room", LIMIT);
    let g = RingGuard::new("set-room");
    let mut tx = Producer::create(g.name(), 4096).expect("create");
    let name = g.name().to_owned();
    let mut set = WaitSet::new();
    let (attached, is_attached) = std::sync::mpsc::channel();
    let consumer = std::thread::spawn(move || {
        let mut rx = Consumer::open(&name).expect("open");
        attached.send(()).expect("tell");
        std::thread::sleep(Duration::from_millis(30));
        let mut buf = Vec::new();
        rx.recv_into(&mut buf).expect("recv");
        rx
    });
    is_attached.recv().expect("attached");
    while tx.try_send(MSG).is_ok() {}
    assert_eq!(tx.try_send(MSG), Err(SendError::Full));
    let ready = set.wait(&mut [&mut tx.room(MSG.len())]);
    assert_eq!(ready.iter().collect::<Vec<_>>(), [0]);
    tx.try_send(MSG).expect("room after a receive");
    let rx = consumer.join().expect("consumer");
    drop(rx);
    // Full again; the consumer is gone: ready, and the send says so.
    while tx.try_send(MSG).is_ok() {}
    let mut child = spawn("idle", g.name(), "consumer");
    child.expect("attached", WAIT);
    let killed = child.kill9();
    let ready = set.wait(&mut [&mut tx.room(MSG.len())]);
    assert_eq!(ready.iter().collect::<Vec<_>>(), [0]);
    println!(
        "room: the kill was reported {:?} after it",
        killed.elapsed()
    );
    assert_eq!(tx.try_send(MSG), Err(SendError::Disconnected));
}

/// `poll` says which are ready now without waiting.
#[test]
fn poll_reports_without_waiting() {
    let _w = watchdog("wait set poll", LIMIT);
    let (g, mut rxs) = rings("set-poll", 3);
    let mut txs: Vec<Producer> = g
        .iter()
        .map(|g| Producer::open(g.name()).unwrap())
        .collect();
    let mut set = WaitSet::new();
    assert!(set.poll(&mut members(&mut rxs)).is_empty());
    txs[1].send(b"x").unwrap();
    txs[2].send(b"y").unwrap();
    let ready = set.poll(&mut members(&mut rxs));
    assert_eq!(ready.iter().collect::<Vec<_>>(), [1, 2]);
    assert_eq!(ready.count(), 2);
    assert!(ready.contains(1) && !ready.contains(0) && !ready.contains(3));
}

/// More rings than one `futex_waitv` takes (128): the set naps a millisecond at a time on
/// 128 of them in turn, and still reports a message on any of them, the last included.
#[test]
fn a_set_of_more_rings_than_one_sleep_takes_wakes_for_any() {
    let _w = watchdog("wait set beyond 128 rings", LIMIT);
    let (g, mut rxs) = rings("set-many", 130);
    let mut txs = producers(&g);
    let mut set = WaitSet::new();
    set.set_wait_strategy(WaitStrategy::Park);
    for k in [129, 0, 64, 128] {
        wakes_for(
            &mut set,
            &mut rxs,
            &mut txs,
            k,
            Duration::from_millis(10),
            b"far",
        );
    }
}
