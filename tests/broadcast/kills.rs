//! `kill -9` trials of lossless broadcast topics (see `common/trials/`): a publisher
//! killed at a random instant while another one and two subscribers go on, and a
//! subscriber killed at a random instant (in half the trials after it stopped, holding a
//! message, so that it holds the publisher back) while the publisher and another
//! subscriber go on; every process sends or receives through every path, blocked, polling
//! or pausing between calls, with every wait strategy.

use crate::common::trials::{self, numbers, recv_by, send_by, waits, Board, Orders, Path};
use crate::common::trials::{Seen, Trial, LIVE, VICTIM};
use crate::common::{checked, seq_of, RingGuard, SLOT};
use ipcring::broadcast::{Builder, Publisher, Subscriber};
use ipcring::RecvError;

/// Child: the victim publisher (argument: see [`Orders::of_victim`]); sends its messages
/// until killed.
pub fn victim_publisher(topic: &str, arg: &str) {
    let victim = Orders::of_victim(arg);
    let mut tx = Builder::new(topic)
        .wait_strategy(victim.0.wait)
        .open_publisher()
        .expect("open a publisher");
    trials::victim_sends(&victim, trials::victim_message, |path, msg, hold| {
        send_by!(tx, path, msg, hold)
    });
}

/// Child: the victim subscriber (argument: see [`Orders::of_victim`]); receives the live
/// publisher's messages until killed, or until it stops: then it holds the next one lent.
pub fn victim_subscriber(topic: &str, arg: &str) {
    let victim = Orders::of_victim(arg);
    let mut rx = Builder::new(topic)
        .wait_strategy(victim.0.wait)
        .open_subscriber()
        .expect("subscribe");
    trials::victim_receives(
        &victim,
        |n, got| assert_eq!(checked(got), seq_of(LIVE, n)),
        |path, buf| recv_by!(rx, path, buf),
    );
    let _held = rx.read();
    trials::await_kill();
}

/// The lossless topic of a trial: 2, 8 or 64 slots.
fn topic(t: &mut Trial, ring: &RingGuard) -> Builder {
    Builder::new(ring.name())
        .capacity(t.pick("capacity", &[2, 8, 64]))
        .slot_size(SLOT)
        .publishers(4)
        .max_subscribers(4)
}

fn recv(rx: &mut Subscriber, path: Path, buf: &mut Vec<u8>) -> Result<usize, RecvError> {
    recv_by!(*rx, path, buf)
}

/// The live publisher of a trial, with its wait strategy.
fn publisher(t: &mut Trial, ring: &RingGuard) -> Publisher {
    Builder::new(ring.name())
        .wait_strategy(t.pick("publisher waits", &waits()))
        .open_publisher()
        .expect("open a publisher")
}

/// One trial: two subscribers receive (checking every byte) while the live publisher and
/// the victim publisher send. Both see one and the same sequence: every message of the
/// live publisher and a strict prefix of the victim's (the messages it committed), each
/// publisher's in order. The claim the victim may have held is skipped. The latency: the
/// longest wait of a subscriber after the kill (see `Survived::longest_wait`).
fn publisher_killed(t: &mut Trial) -> Seen {
    let ring = RingGuard::new("kill-publisher");
    let board = Board::create();
    let shape = topic(t, &ring);
    let open = |w| Builder::new(ring.name()).wait_strategy(w);
    let receivers = vec![
        trials::receiver(
            t,
            |w| shape.wait_strategy(w).create_subscriber().unwrap(),
            recv,
        ),
        trials::receiver(t, |w| open(w).open_subscriber().unwrap(), recv),
    ];
    let mut tx = publisher(t, &ring);
    let tail = 2 * tx.capacity() as u64 + 16;
    let (victim, _) = Orders::spawn(t, "kill-publisher", &ring, &board, false);
    let seen = trials::survive(t, victim, tail, move |p, m| send_by!(tx, p, m), receivers);
    let seqs = |i: usize| seen.logs[i].iter().map(|&(seq, _)| seq).collect::<Vec<_>>();
    assert!(
        seqs(0) == seqs(1),
        "the subscribers saw different sequences"
    );
    let live = trials::from_zero(LIVE, &numbers(&seen.logs[0], LIVE));
    assert_eq!(
        live,
        seen.sent.len() as u64,
        "messages of the live publisher"
    );
    let victim = trials::from_zero(VICTIM, &numbers(&seen.logs[0], VICTIM));
    trials::check_prefix(victim, board.count());
    let stats = Subscriber::open(ring.name()).expect("subscribe").stats();
    assert_eq!((stats.evicted, stats.missed), (0, 0));
    Seen::new(&seen.kill, seen.longest_wait(false))
        .note_if(stats.skipped > 0, "a dead claim was skipped")
}

/// One trial: a subscriber receives (checking every byte) while the victim subscriber
/// receives and the live publisher sends; the survivor gets every message, in order.
/// Noticed: when the publisher has sent the probe and the first message that needs room
/// that the victim's cursor held (at most one past the count the victim left on the
/// board), for which it evicted the dead subscriber. The latency: the publisher's longest
/// wait for a send after the kill, until then.
fn subscriber_killed(t: &mut Trial) -> Seen {
    let ring = RingGuard::new("kill-subscriber");
    let board = Board::create();
    let shape = topic(t, &ring);
    let receivers = vec![trials::receiver(
        t,
        |w| shape.wait_strategy(w).create_subscriber().unwrap(),
        recv,
    )];
    let mut tx = publisher(t, &ring);
    let capacity = tx.capacity() as u64;
    let (victim, orders) = Orders::spawn(t, "kill-subscriber", &ring, &board, true);
    let send = move |p, m: &[u8]| send_by!(tx, p, m);
    let seen = trials::survive(t, victim, 2 * capacity + 16, send, receivers);
    let ns = numbers(&seen.logs[0], LIVE);
    assert_eq!(
        ns.len(),
        seen.logs[0].len(),
        "only messages of the live publisher"
    );
    assert_eq!(trials::from_zero(LIVE, &ns), seen.sent.len() as u64);
    let released = board.count();
    let past = seen.probe.max(released + capacity + 1) as usize;
    let stats = Subscriber::open(ring.name()).expect("subscribe").stats();
    assert_eq!(stats.evicted, 1, "the dead subscriber was evicted");
    Seen::new(
        &seen.kill,
        seen.kill.longest_wait(seen.sent[..=past].to_vec()),
    )
    .note_if(
        released == orders.stop_after,
        "the victim held a message lent",
    )
}

#[test]
fn kill_9_of_a_publisher_at_random_instants() {
    trials::run("broadcast: publisher killed", 0x7_0000, publisher_killed);
}

#[test]
fn kill_9_of_a_subscriber_at_random_instants() {
    trials::run("broadcast: subscriber killed", 0x7_1000, subscriber_killed);
}
