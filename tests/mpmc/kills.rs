//! `kill -9` trials of the MPMC queue (see `common/trials/`): a producer killed at a
//! random instant while another one and two consumers go on, and a consumer killed at a
//! random instant (in half the trials after it stopped, holding a message) while another
//! one and a producer go on; every process sends or receives through every path, blocked,
//! polling or pausing between calls, with every wait strategy.

use crate::common::trials::{self, numbers, read_by, recv_by, send_by, waits, Board, Orders};
use crate::common::trials::{Path, Seen, Trial, LIVE, VICTIM};
use crate::common::{checked, RingGuard, SLOT};
use ipcring::mpmc::{Builder, Consumer, Producer};
use ipcring::RecvError;

/// Child: the victim producer (argument: see [`Orders::of_victim`]); sends its messages
/// until killed.
pub fn victim_producer(queue: &str, arg: &str) {
    let victim = Orders::of_victim(arg);
    let mut tx = Builder::new(queue)
        .wait_strategy(victim.0.wait)
        .open_producer()
        .expect("open a producer");
    trials::victim_sends(&victim, trials::victim_message, |path, msg, hold| {
        send_by!(tx, path, msg, hold)
    });
}

/// Child: the victim consumer (argument: see [`Orders::of_victim`]). Takes messages lent
/// and marks each on the board before it releases it, until killed, or until it stops:
/// then it takes one more, marks it and holds it.
pub fn victim_consumer(queue: &str, arg: &str) {
    let victim = Orders::of_victim(arg);
    let mut rx = Builder::new(queue)
        .wait_strategy(victim.0.wait)
        .open_consumer()
        .expect("open a consumer");
    let mark = |bytes: &[u8]| victim.1.mark(checked(bytes) & 0xffff_ffff);
    trials::victim_receives(
        &victim,
        |n, got| assert_eq!(checked(got) >> 32, LIVE, "message {n}"),
        |path, buf| {
            read_by!(rx, path, |g| {
                g.copy_into(buf);
                mark(buf);
                g.len()
            })
        },
    );
    let held = rx.read().expect("the victim's last receive");
    mark(&held.to_vec());
    trials::await_kill();
}

/// The queue of a trial: 2, 8 or 64 slots.
fn queue(t: &mut Trial, ring: &RingGuard) -> Builder {
    Builder::new(ring.name())
        .capacity(t.pick("capacity", &[2, 8, 64]))
        .slot_size(SLOT)
        .producers(4)
        .consumers(4)
}

fn recv(rx: &mut Consumer, path: Path, buf: &mut Vec<u8>) -> Result<usize, RecvError> {
    recv_by!(*rx, path, buf)
}

/// The live producer of a trial, with its wait strategy.
fn producer(t: &mut Trial, ring: &RingGuard) -> Producer {
    Builder::new(ring.name())
        .wait_strategy(t.pick("producer waits", &waits()))
        .open_producer()
        .expect("open a producer")
}

/// One trial: two consumers receive (checking every byte) while the live producer and
/// the victim producer send. Each consumer gets each producer's messages in order; the two
/// together get every message of the live producer once, and a strict prefix of the
/// victim's, once: the messages it committed. The claim it may have held is skipped. The
/// latency: the longest that the queue delivered nothing after the kill (see
/// `Survived::longest_wait`).
fn producer_killed(t: &mut Trial) -> Seen {
    let ring = RingGuard::new("kill-producer");
    let board = Board::create();
    let shape = queue(t, &ring);
    let open = |w| Builder::new(ring.name()).wait_strategy(w);
    let receivers = vec![
        trials::receiver(
            t,
            |w| shape.wait_strategy(w).create_consumer().unwrap(),
            recv,
        ),
        trials::receiver(t, |w| open(w).open_consumer().unwrap(), recv),
    ];
    let mut tx = producer(t, &ring);
    let tail = 2 * tx.capacity() as u64 + 16;
    let (victim, _) = Orders::spawn(t, "kill-producer", &ring, &board, false);
    let seen = trials::survive(t, victim, tail, move |p, m| send_by!(tx, p, m), receivers);
    let mut got = [Vec::new(), Vec::new()];
    for log in &seen.logs {
        for (id, all) in [LIVE, VICTIM].into_iter().zip(&mut got) {
            let ns = numbers(log, id);
            assert!(
                ns.windows(2).all(|w| w[0] < w[1]),
                "a consumer got messages of producer {id} out of order"
            );
            all.extend(ns);
        }
    }
    for (id, all) in [LIVE, VICTIM].into_iter().zip(&mut got) {
        all.sort_unstable();
        let n = trials::from_zero(id, all);
        if id == LIVE {
            assert_eq!(n, seen.sent.len() as u64, "messages of the live producer");
        } else {
            trials::check_prefix(n, board.count());
        }
    }
    let stats = Consumer::open(ring.name()).expect("open").stats();
    assert_eq!(stats.redelivered, 0);
    Seen::new(&seen.kill, seen.longest_wait(true))
        .note_if(stats.skipped > 0, "a dead claim was skipped")
}

/// One trial: a consumer receives (checking every byte) while the victim consumer takes
/// messages and the live producer sends. Every message is received, by one of them or
/// both: twice only for the message the victim held (marked, not released) when it died,
/// which is redelivered; the rest come once, and in order. The latency: the longest that
/// the consumer waited after the kill, or, if later, the redelivery.
fn consumer_killed(t: &mut Trial) -> Seen {
    let ring = RingGuard::new("kill-consumer");
    let board = Board::create();
    let shape = queue(t, &ring);
    let receivers = vec![trials::receiver(
        t,
        |w| shape.wait_strategy(w).create_consumer().unwrap(),
        recv,
    )];
    let mut tx = producer(t, &ring);
    let tail = 2 * tx.capacity() as u64 + 16;
    let (victim, orders) = Orders::spawn(t, "kill-consumer", &ring, &board, true);
    let seen = trials::survive(t, victim, tail, move |p, m| send_by!(tx, p, m), receivers);
    let ns = numbers(&seen.logs[0], LIVE);
    assert_eq!(
        ns.len(),
        seen.logs[0].len(),
        "only messages of the live producer"
    );
    let marked = board.marks(seen.sent.len() as u64);
    let mut times: Vec<u8> = marked.iter().map(|&m| u8::from(m)).collect();
    for &n in &ns {
        assert!(n < seen.sent.len() as u64, "message {n} was never sent");
        times[n as usize] += 1;
    }
    if let Some(n) = times.iter().position(|t| !(1..=2).contains(t)) {
        panic!("message {n} was received {} times", times[n]);
    }
    // Delivered again: what the victim had marked too, or what came after a later message.
    let mut newest = None;
    let mut again = Vec::new();
    for (&n, &(_, at)) in ns.iter().zip(&seen.logs[0]) {
        if marked[n as usize] || newest > Some(n) {
            again.push(at.saturating_duration_since(seen.kill.at));
        }
        newest = newest.max(Some(n));
    }
    // A victim that stopped and marked one more message than it released held that one.
    let taken = marked.iter().filter(|&&m| m).count() as u64;
    let held = board.count() == orders.stop_after && taken == orders.stop_after + 1;
    let stats = Consumer::open(ring.name()).expect("open").stats();
    assert!(
        stats.redelivered <= 1 && again.len() as u64 <= stats.redelivered,
        "{} messages delivered again, {} counted as redelivered",
        again.len(),
        stats.redelivered
    );
    assert!(
        !held || stats.redelivered == 1,
        "the held message was not redelivered"
    );
    let redelivery = again.into_iter().max().unwrap_or_default();
    Seen::new(&seen.kill, seen.longest_wait(true).max(redelivery))
        .note_if(stats.redelivered > 0, "a message was redelivered")
}

#[test]
fn kill_9_of_a_producer_at_random_instants() {
    trials::run("mpmc: producer killed", 0x6_0000, producer_killed);
}

#[test]
fn kill_9_of_a_consumer_at_random_instants() {
    trials::run("mpmc: consumer killed", 0x6_1000, consumer_killed);
}
