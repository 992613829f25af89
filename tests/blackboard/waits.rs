//! Waiting for a change: a reader process woken by a set, deadlines, a board whose writer
//! left, and a change in a `WaitSet` next to an SPSC ring.

use crate::common::{say, spawn, watchdog, RingGuard};
use ipcring::blackboard::{Builder, GetError, Reader, Writer};
use ipcring::{spsc, WaitSet, WaitStrategy};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);
const SAID: Duration = Duration::from_secs(30);

const STRATEGIES: [WaitStrategy; 3] = [
    WaitStrategy::BusySpin,
    WaitStrategy::SpinThenPark {
        spins: 1 << 14,
        yields: 16,
    },
    WaitStrategy::Park,
];

/// Child: reads entry 0's version, says `waiting V`, waits for a change (for up to 30 s),
/// and says `changed RESULT`. The argument is the index of its strategy in `STRATEGIES`.
pub fn waiter(ring: &str, arg: &str) {
    let strategy = STRATEGIES[arg.parse::<usize>().expect("strategy")];
    let mut r = Builder::new(ring)
        .wait_strategy(strategy)
        .open_reader()
        .expect("open a reader");
    let v = r.version(0).expect("version");
    say("waiting", v);
    let got = r.wait_changed(0, v, Some(Duration::from_secs(30)));
    say("changed", format!("{got:?}"));
}

#[test]
fn a_reader_process_waiting_for_a_change_wakes_when_the_entry_is_set() {
    let _w = watchdog("board wait across processes", LIMIT);
    let ring = RingGuard::new("bb-wait-proc");
    let mut w = Writer::create(ring.name(), 2, 8).expect("create");
    assert_eq!(w.set(0, b"first"), Ok(1));
    for (i, strategy) in STRATEGIES.iter().enumerate() {
        let child = spawn("waiter", ring.name(), &i.to_string());
        let v: u64 = child.expect("waiting", SAID).parse().expect("a version");
        // Long enough for the waiter to park (most of the time), and a set of another
        // entry does not wake it for good.
        std::thread::sleep(Duration::from_millis(100));
        w.set(1, b"other").expect("set entry 1");
        child.expect_silence(Duration::from_millis(50));
        let new = w.set(0, b"next").expect("set entry 0");
        assert_eq!(new, v + 1);
        let got = child.expect("changed", SAID);
        assert_eq!(got, format!("Ok({new})"), "{strategy:?}");
        child.wait_success(SAID);
    }
}

#[test]
fn a_wait_for_a_change_ends_at_its_deadline() {
    let _w = watchdog("board wait deadline", LIMIT);
    let ring = RingGuard::new("bb-wait-timeout");
    let mut w = Writer::create(ring.name(), 1, 8).expect("create");
    w.set(0, b"v").expect("set");
    for strategy in STRATEGIES {
        let mut r = Builder::new(ring.name())
            .wait_strategy(strategy)
            .open_reader()
            .expect("open");
        let t = Instant::now();
        let got = r.wait_changed(0, 1, Some(Duration::from_millis(50)));
        assert_eq!(got, Err(GetError::Timeout { key: 0 }), "{strategy:?}");
        assert!(
            t.elapsed() >= Duration::from_millis(50),
            "{strategy:?}: early"
        );
        // A zero timeout looks once.
        assert_eq!(
            r.wait_changed(0, 1, Some(Duration::ZERO)),
            Err(GetError::Timeout { key: 0 })
        );
    }
}

#[test]
fn a_wait_for_a_version_already_passed_returns_at_once() {
    let _w = watchdog("board wait passed", LIMIT);
    let ring = RingGuard::new("bb-wait-passed");
    let mut w = Writer::create(ring.name(), 1, 8).expect("create");
    let mut r = Reader::open(ring.name()).expect("open");
    for _ in 0..3 {
        w.set(0, b"v").expect("set");
    }
    assert_eq!(r.wait_changed(0, 0, None), Ok(3));
    assert_eq!(r.wait_changed(0, 1, Some(Duration::ZERO)), Ok(3));
    // Also once the writer is gone: the change is there to see.
    drop(w);
    assert_eq!(r.wait_changed(0, 2, None), Ok(3));
}

#[test]
fn a_wait_on_a_board_whose_writer_left_says_so() {
    let _w = watchdog("board wait no writer", LIMIT);
    let ring = RingGuard::new("bb-wait-gone");
    let mut w = Writer::create(ring.name(), 2, 8).expect("create");
    w.set(0, b"v").expect("set");
    for strategy in STRATEGIES {
        let mut r = Builder::new(ring.name())
            .wait_strategy(strategy)
            .open_reader()
            .expect("open");
        let waiter = std::thread::spawn(move || (r.wait_changed(0, 1, None), r));
        std::thread::sleep(Duration::from_millis(50));
        // Entries the waiter does not wait for change meanwhile.
        w.set(1, b"x").expect("set");
        assert!(
            !waiter.is_finished(),
            "{strategy:?}: woke for another entry"
        );
        drop(w);
        let (got, mut r) = waiter.join().expect("waiter");
        assert_eq!(got, Err(GetError::NoWriter), "{strategy:?}");
        // A wait that starts after the writer left, at once; the value is still there.
        let since = r.version(1).expect("version");
        assert_eq!(r.wait_changed(1, since, None), Err(GetError::NoWriter));
        assert_eq!(r.get::<[u8; 1]>(0), Ok((*b"v", 1)));
        w = Writer::open(ring.name()).expect("a writer again");
    }
}

#[test]
fn a_wait_on_a_board_that_never_had_a_writer_waits_for_one() {
    let _w = watchdog("board wait for a first writer", LIMIT);
    let ring = RingGuard::new("bb-wait-first");
    Builder::new(ring.name())
        .entries(1, 8)
        .create_detached()
        .expect("create");
    let mut r = Reader::open(ring.name()).expect("open");
    assert_eq!(
        r.wait_changed(0, 0, Some(Duration::from_millis(50))),
        Err(GetError::Timeout { key: 0 })
    );
    let name = ring.name().to_owned();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        let mut w = Writer::open(&name).expect("open the writer");
        w.set(0, b"first").expect("set");
        w
    });
    assert_eq!(r.wait_changed(0, 0, None), Ok(1));
    drop(writer.join().expect("writer"));
}

#[test]
fn a_wait_set_wakes_for_a_change_of_the_entry_or_a_message() {
    let _w = watchdog("board in a wait set", LIMIT);
    let board = RingGuard::new("bb-set-board");
    let queue = RingGuard::new("bb-set-queue");
    let mut rx = spsc::Consumer::create(queue.name(), 4096).expect("create a ring");
    let mut tx = spsc::Producer::open(queue.name()).expect("open the ring");
    let mut w = Writer::create(board.name(), 2, 8).expect("create a board");
    let mut r = Reader::open(board.name()).expect("open the board");
    w.set(0, b"zero").expect("set");
    for strategy in STRATEGIES {
        let mut set = WaitSet::new();
        set.set_wait_strategy(strategy);
        let since = r.version(0).expect("version");
        // Nothing yet: a deadline.
        {
            let mut change = r.change(0, since).expect("change");
            let ready = set.wait_timeout(&mut [&mut change, &mut rx], Duration::from_millis(30));
            assert!(ready.is_empty(), "{strategy:?}");
        }
        // A set of the entry, from another thread, while the set sleeps; a set of the
        // other entry first does not count.
        let setter = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            w.set(1, b"one").expect("set");
            std::thread::sleep(Duration::from_millis(20));
            w.set(0, b"zero").expect("set");
            w
        });
        {
            let mut change = r.change(0, since).expect("change");
            let ready: Vec<usize> = set.wait(&mut [&mut change, &mut rx]).iter().collect();
            assert_eq!(ready, [0], "{strategy:?}");
            assert_eq!(change.reader().version(0), Ok(since + 1));
        }
        w = setter.join().expect("setter");
        // A message on the ring, while the entry stays.
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            tx.send(b"msg").expect("send");
            tx
        });
        {
            let mut change = r.change(0, since + 1).expect("change");
            let ready: Vec<usize> = set.wait(&mut [&mut change, &mut rx]).iter().collect();
            assert_eq!(ready, [1], "{strategy:?}");
        }
        let mut buf = Vec::new();
        assert_eq!(rx.try_recv_into(&mut buf), Ok(3));
        tx = sender.join().expect("sender");
    }
    // A change whose writer left is ready (its wait would end with `NoWriter`).
    drop(w);
    let since = r.version(0).expect("version");
    let mut set = WaitSet::new();
    let mut change = r.change(0, since).expect("change");
    let ready: Vec<usize> = set.wait(&mut [&mut change, &mut rx]).iter().collect();
    assert_eq!(ready, [0]);
    assert_eq!(
        change.reader().wait_changed(0, since, None),
        Err(GetError::NoWriter)
    );
}
