//! `kill -9` trials of the SPSC ring (see `common/trials/`): a producer killed at a random
//! instant of a stream of messages of every size, and a consumer killed at a random
//! instant (in half the trials after it stopped, holding a message lent), each side
//! sending or receiving through every path, blocked, polling or pausing between calls,
//! with every wait strategy.

use crate::common::trials::{self, recv_by, send_by, waits, Board, Mode, Orders, Seen, Trial};
use crate::common::{check, message, mix, RingGuard, XorShift};
use ipcring::spsc::{Builder, Consumer, Producer};
use ipcring::{RecvError, SendError};
use std::time::Instant;

/// Length of message `seq` of a ring whose largest message is `max`: empty, a few bytes,
/// about one or two cache lines, up to 4 KiB, or up to the largest.
fn len(seq: u64, max: usize) -> usize {
    let r = mix(seq ^ 0x6b11) as usize;
    let len = match r % 8 {
        0 => 0,
        1 => (r >> 8) % 9,
        2 => 56 + (r >> 8) % 17,
        3 => 120 + (r >> 8) % 17,
        4 | 5 => (r >> 8) % 512,
        6 => (r >> 8) % 4096,
        _ => (r >> 8) % (max + 1),
    };
    len.min(max)
}

/// Child: the victim producer (argument: see [`Orders::of_victim`]); streams until
/// killed.
pub fn victim_producer(ring: &str, arg: &str) {
    let victim = Orders::of_victim(arg);
    let mut tx = Builder::new(ring)
        .wait_strategy(victim.0.wait)
        .open_producer()
        .expect("open the producer");
    let max = tx.max_message();
    trials::victim_sends(
        &victim,
        |n| message(n, len(n, max)),
        |path, msg, hold| send_by!(tx, path, msg, hold),
    );
}

/// Child: the victim consumer (argument: see [`Orders::of_victim`]); receives until
/// killed, or until it stops: then it holds the next message lent.
pub fn victim_consumer(ring: &str, arg: &str) {
    let victim = Orders::of_victim(arg);
    let mut rx = Builder::new(ring)
        .wait_strategy(victim.0.wait)
        .open_consumer()
        .expect("open the consumer");
    let max = rx.max_message();
    trials::victim_receives(
        &victim,
        |n, got| check(n, len(n, max), got),
        |path, buf| recv_by!(rx, path, buf),
    );
    let _held = rx.read();
    trials::await_kill();
}

/// One trial: the consumer receives (checking every byte) while the victim producer
/// streams; after the kill it gets exactly the messages that the producer committed,
/// then `Disconnected`; a new producer then continues after the last of them. The
/// latency: the consumer's longest wait after the kill, for a message or the
/// `Disconnected`.
fn producer_killed(t: &mut Trial) -> Seen {
    let ring = RingGuard::new("kill-producer");
    let board = Board::create();
    let mut rx = Builder::new(ring.name())
        .capacity(t.pick("capacity", &[4096, 1 << 14, 1 << 16]))
        .start_position(t.pick("start", &[0, u64::MAX - 3000]))
        .wait_strategy(t.pick("consumer waits", &waits()))
        .create_consumer()
        .expect("create the ring");
    let max = rx.max_message();
    let mode = t.pick("consumer", &Mode::ALL);
    let mut rng = XorShift::new(t.seed());
    let (victim, _) = Orders::spawn(t, "kill-producer", &ring, &board, false);
    let ((mut rx, arrivals), kill) = trials::kill_during(t, victim, 1, move |stage| {
        let (mut buf, mut arrivals) = (Vec::new(), Vec::new());
        loop {
            std::thread::sleep(mode.pause(&mut rng));
            let r = recv_by!(rx, mode.path(&mut rng), &mut buf);
            let seq = arrivals.len() as u64;
            arrivals.push(Instant::now());
            stage.begun(arrivals.len());
            match r {
                Ok(_) => check(seq, len(seq, max), &buf),
                Err(RecvError::Disconnected) => return (rx, arrivals),
                Err(e) => panic!("receive of message {seq}: {e}"),
            }
        }
    });
    let received = arrivals.len() as u64 - 1;
    trials::check_prefix(received, board.count());
    let mut tx = Producer::open(ring.name()).expect("take over the producer role");
    let mut buf = Vec::new();
    for seq in received..received + 3 {
        tx.send(&message(seq, len(seq, max))).expect("send");
        rx.recv_into(&mut buf)
            .expect("a message of the new producer");
        check(seq, len(seq, max), &buf);
    }
    Seen::new(&kill, kill.longest_wait(arrivals))
}

/// One trial: the producer streams (through every path) while the victim consumer
/// receives; after the kill the producer's calls fill the ring and then say
/// `Disconnected`. A new consumer then receives exactly the messages after the last one
/// that the victim released, and what the producer sends next. The latency: the
/// producer's longest wait after the kill, for room or the `Disconnected`.
fn consumer_killed(t: &mut Trial) -> Seen {
    let ring = RingGuard::new("kill-consumer");
    let board = Board::create();
    let mut tx = Builder::new(ring.name())
        .capacity(t.pick("capacity", &[4096, 1 << 14]))
        .wait_strategy(t.pick("producer waits", &waits()))
        .create_producer()
        .expect("create the ring");
    let max = tx.max_message();
    let mode = t.pick("producer", &Mode::ALL);
    let mut rng = XorShift::new(t.seed());
    let (victim, orders) = Orders::spawn(t, "kill-consumer", &ring, &board, true);
    let ((mut tx, sends), kill) = trials::kill_during(t, victim, 1, move |stage| {
        let mut sends = Vec::new();
        loop {
            std::thread::sleep(mode.pause(&mut rng));
            let seq = sends.len() as u64;
            let r = send_by!(tx, mode.path(&mut rng), &message(seq, len(seq, max)));
            sends.push(Instant::now());
            stage.begun(sends.len());
            match r {
                Ok(()) => {}
                Err(SendError::Disconnected) => return (tx, sends),
                Err(e) => panic!("send of message {seq}: {e}"),
            }
        }
    });
    let sent = sends.len() as u64 - 1;
    let released = board.count();
    let mut rx = Consumer::open(ring.name()).expect("take over the consumer role");
    let mut left = Vec::new();
    let mut buf = Vec::new();
    loop {
        match rx.try_recv_into(&mut buf) {
            Ok(_) => left.push(buf.clone()),
            Err(RecvError::Empty) => break,
            Err(e) => panic!("the new consumer: {e}"),
        }
    }
    let first = sent - left.len() as u64;
    assert!(
        first == released || first == released + 1,
        "the new consumer resumed at message {first}; the victim had released {released} \
         (or one more)"
    );
    // A victim that stopped held its next message lent: that one comes again.
    let held = released == orders.stop_after;
    assert!(!held || first == released, "the held message was lost");
    for (seq, got) in (first..).zip(&left) {
        check(seq, len(seq, max), got);
    }
    for seq in sent..sent + 3 {
        tx.send(&message(seq, len(seq, max))).expect("send");
        rx.recv_into(&mut buf)
            .expect("a message after the takeover");
        check(seq, len(seq, max), &buf);
    }
    Seen::new(&kill, kill.longest_wait(sends)).note_if(held, "the victim held a message lent")
}

#[test]
fn kill_9_of_the_producer_at_random_instants() {
    trials::run("spsc: producer killed", 0x5_0000, producer_killed);
}

#[test]
fn kill_9_of_the_consumer_at_random_instants() {
    trials::run("spsc: consumer killed", 0x5_1000, consumer_killed);
}
