//! Peers that die or leave: `kill -9` of a producer mid-stream or while the consumer is
//! parked, a consumer that leaves a blocked producer, and handles that take over a role.

use crate::common::full::{disconnects, polls_until, settles_within_a_few_polls};
use crate::common::{
    check, check_lent, hear, is_message, kill9_pid, message, say, spawn, stream_len, watchdog,
    RingGuard, XorShift,
};
use crate::process::{send_one, strategy, StreamReader};
use ipcring::spsc::{Builder, Consumer, Producer};
use ipcring::{OpenError, RecvError, Role, SendError};
use std::time::{Duration, Instant};

/// Length of message `seq` of the short streams of these tests (8..=107 bytes, so that a
/// message always carries its whole sequence number).
fn short_len(seq: u64) -> usize {
    8 + (seq % 100) as usize
}

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn killed_producer_mid_stream_leaves_a_strict_prefix_then_disconnected() {
    let _w = watchdog("kill -9 mid-stream", Duration::from_secs(90));
    let mut rng = XorShift::new(99);
    // Small rings kill the producer mostly while it waits for room, large ones mostly
    // while it writes; the first round crosses u64::MAX early in the stream.
    let rounds = [
        (1 << 16, "default", u64::MAX - 20_000),
        (1 << 14, "default", 0),
        (1 << 14, "park", 0),
        (1 << 14, "spin", u64::MAX - 100_000),
        (1 << 16, "park", 0),
        (1 << 16, "spin", 0),
    ];
    for (round, (capacity, wait, start)) in rounds.into_iter().enumerate() {
        let ring = RingGuard::new("kill-mid");
        let mut rx = Builder::new(ring.name())
            .capacity(capacity)
            .start_position(start)
            .wait_strategy(strategy(wait))
            .create_consumer()
            .expect("create the consumer");
        let mut child = spawn("stream-producer", ring.name(), &format!("0 0 {wait}"));
        let kill_after = 500 + rng.below(10_000);
        let mut reader = StreamReader::new(0, false, round as u64);
        while reader.next < kill_after {
            reader.recv_one(&mut rx).expect("receive before the kill");
        }
        let killed = child.kill9();
        // Every message after the kill is checked too: in order, intact, no gap.
        let end = loop {
            if let Err(e) = reader.recv_one(&mut rx) {
                break e;
            }
        };
        let delay = killed.elapsed();
        assert_eq!(end, RecvError::Disconnected);
        println!(
            "kill mid-stream ({capacity} B, {wait}): killed after {kill_after} messages, \
             {} more drained, Disconnected {delay:?} after the kill",
            reader.next - kill_after
        );
    }
}

/// Child: opens the ring as consumer and receives a stream through every path, telling
/// the parent the sequence number of each message once it is released.
pub fn stream_consumer(ring: &str, _arg: &str) {
    let mut rx = Consumer::open(ring).expect("open the consumer");
    let mut reader = StreamReader::new(0, false, std::process::id().into());
    loop {
        reader.recv_one(&mut rx).expect("recv");
        say("got", reader.next - 1);
    }
}

#[test]
fn a_consumer_killed_mid_stream_is_replaced_without_loss_or_duplication() {
    let _w = watchdog("kill -9 of a consumer mid-stream", Duration::from_secs(60));
    const COUNT: u64 = 30_000;
    let mut rng = XorShift::new(98);
    for round in 0..3 {
        let ring = RingGuard::new("kill-consumer");
        let mut tx = Producer::create(ring.name(), 1 << 16).expect("create the producer");
        let mut child = spawn("stream-consumer", ring.name(), "");
        let producer = std::thread::spawn(move || {
            let mut rng = XorShift::new(round);
            let mut seq = 0;
            while seq < COUNT {
                match send_one(&mut tx, &mut rng, seq, COUNT - seq, false) {
                    Ok(n) => seq += n,
                    // No consumer and a full ring: try again until the new one is there.
                    Err(SendError::Disconnected) => std::thread::sleep(Duration::from_millis(1)),
                    Err(e) => panic!("message {seq}: {e}"),
                }
            }
        });
        let kill_after = 1_000 + rng.below(10_000);
        let mut last = None;
        while last.map_or(true, |l| l < kill_after) {
            last = Some(
                child
                    .expect("got", WAIT)
                    .parse::<u64>()
                    .expect("sequence number"),
            );
        }
        child.kill9();
        // What the child said before it died: its last released message is this one or
        // the next (released, not yet told).
        for line in child.remaining(WAIT) {
            let seq = line.strip_prefix("got").expect("a got line").trim();
            last = Some(seq.parse().expect("sequence number"));
        }
        let last = last.expect("the child received messages");
        let mut rx = Consumer::open(ring.name()).expect("take over the consumer role");
        let mut reader = StreamReader::new(0, false, round + 10);
        let mut buf = Vec::new();
        rx.recv_into(&mut buf)
            .expect("first message of the new consumer");
        let first = (last + 1..=last + 2)
            .find(|&s| is_message(s, stream_len(s, false), &buf))
            .unwrap_or_else(|| panic!("the new consumer did not resume after message {last}"));
        reader.next = first + 1;
        while reader.next < COUNT {
            reader.recv_one(&mut rx).expect("recv after the takeover");
        }
        producer.join().expect("producer thread");
        assert_eq!(reader.recv_one(&mut rx), Err(RecvError::Disconnected));
        println!("consumer killed after message {last}; the new one resumed at {first}");
    }
}

/// Child: opens the ring as producer, sends `count` short messages, then holds the role
/// until told `drop` (it drops the producer) or until its stdin closes.
pub fn holding_producer(ring: &str, arg: &str) {
    let count: u64 = arg.parse().expect("count");
    let mut tx = Producer::open(ring).expect("open the producer");
    for seq in 0..count {
        tx.send(&message(seq, short_len(seq))).expect("send");
    }
    say("sent", count);
    let mut tx = Some(tx);
    while let Some(line) = hear() {
        assert_eq!(line, "drop");
        tx = None;
        say("dropped", "");
    }
    drop(tx);
}

fn parked_consumer_sees_a_killed_producer(name: &str) {
    let ring = RingGuard::new("kill-parked");
    let mut rx = Builder::new(ring.name())
        .capacity(1 << 16)
        .wait_strategy(strategy(name))
        .create_consumer()
        .expect("create the consumer");
    let child = spawn("holding-producer", ring.name(), "100");
    assert_eq!(child.expect("sent", WAIT), "100");
    let mut buf = Vec::new();
    for seq in 0..100 {
        rx.recv_into(&mut buf).expect("recv");
        check(seq, short_len(seq), &buf);
    }
    let pid = child.pid();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        kill9_pid(pid)
    });
    // Empty ring: this blocks (and parks) until the producer's death is noticed.
    let end = rx.recv_into(&mut buf);
    let noticed = Instant::now();
    let killed = killer.join().expect("killer thread");
    assert_eq!(end, Err(RecvError::Disconnected));
    println!(
        "{name}: waiting consumer saw the killed producer {:?} after the kill",
        noticed.saturating_duration_since(killed)
    );
}

#[test]
fn a_waiting_consumer_gets_disconnected_when_the_producer_is_killed() {
    let _w = watchdog(
        "kill -9 of the producer of a parked consumer",
        Duration::from_secs(60),
    );
    for name in ["park", "default", "spin"] {
        parked_consumer_sees_a_killed_producer(name);
    }
}

/// Child: attaches as consumer and reads nothing; drops the consumer when told `drop`.
pub fn idle_consumer(ring: &str, _arg: &str) {
    let mut rx = Some(Consumer::open(ring).expect("open the consumer"));
    say("attached", "");
    while let Some(line) = hear() {
        assert_eq!(line, "drop");
        rx = None;
        say("dropped", "");
    }
    drop(rx);
}

/// Fills a ring whose consumer is the child `idle-consumer`, then makes that consumer go
/// (`kill -9` or drop) while `send` waits for room.
fn blocked_send_sees_the_consumer_go(name: &str, kill: bool) {
    let ring = RingGuard::new("consumer-gone");
    let mut tx = Builder::new(ring.name())
        .capacity(4096)
        .wait_strategy(strategy(name))
        .create_producer()
        .expect("create the producer");
    let mut child = spawn("idle-consumer", ring.name(), "");
    child.expect("attached", WAIT);
    let mut seq = 0;
    while tx.try_send(&message(seq, short_len(seq))).is_ok() {
        seq += 1;
    }
    let msg = message(seq, short_len(seq));
    let gone = if kill {
        let pid = child.pid();
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            kill9_pid(pid)
        });
        let r = tx.send(&msg);
        let noticed = Instant::now();
        assert_eq!(r, Err(SendError::Disconnected));
        noticed.saturating_duration_since(killer.join().expect("killer thread"))
    } else {
        let told = Instant::now();
        child.tell("drop");
        assert_eq!(tx.send(&msg), Err(SendError::Disconnected));
        let noticed = told.elapsed();
        child.expect("dropped", WAIT);
        child.close_stdin();
        child.wait_success(WAIT);
        noticed
    };
    let how = if kill { "killed" } else { "dropped" };
    println!("{name}: blocked send returned Disconnected {gone:?} after the consumer was {how}");
}

#[test]
fn a_blocked_send_returns_disconnected_when_the_consumer_is_dropped() {
    let _w = watchdog(
        "consumer dropped under a blocked send",
        Duration::from_secs(60),
    );
    blocked_send_sees_the_consumer_go("default", false);
}

#[test]
fn a_blocked_send_returns_disconnected_when_the_consumer_is_killed() {
    let _w = watchdog(
        "consumer killed under a blocked send",
        Duration::from_secs(60),
    );
    for name in ["park", "default", "spin"] {
        blocked_send_sees_the_consumer_go(name, true);
    }
}

fn producer_takeover(kill: bool) {
    let ring = RingGuard::new("producer-takeover");
    let mut rx = Consumer::create(ring.name(), 1 << 16).expect("create the consumer");
    let mut child = spawn("holding-producer", ring.name(), "100");
    assert_eq!(child.expect("sent", WAIT), "100");
    for second in [
        Producer::open(ring.name()),
        Builder::new(ring.name()).open_or_create_producer(),
    ] {
        assert!(
            matches!(
                second,
                Err(OpenError::RoleTaken {
                    role: Role::Producer,
                    slots: 1
                })
            ),
            "second producer: {second:?}"
        );
    }
    if kill {
        child.kill9();
    } else {
        child.tell("drop");
        child.expect("dropped", WAIT);
    }
    let mut tx = Producer::open(ring.name()).expect("take over the producer role");
    for seq in 100..200 {
        tx.send(&message(seq, short_len(seq))).expect("send");
    }
    let mut buf = Vec::new();
    for seq in 0..200 {
        rx.recv_into(&mut buf).expect("recv");
        check(seq, short_len(seq), &buf);
    }
    drop(tx);
    disconnects(|| rx.try_recv_into(&mut buf));
    assert_eq!(rx.stats().sent, 200);
}

#[test]
fn a_second_producer_is_refused_then_takes_over_after_the_first_is_dropped() {
    let _w = watchdog("producer takeover after drop", Duration::from_secs(60));
    producer_takeover(false);
}

#[test]
fn a_second_producer_is_refused_then_takes_over_after_the_first_is_killed() {
    let _w = watchdog("producer takeover after kill -9", Duration::from_secs(60));
    producer_takeover(true);
}

/// A producer that filled the room the consumer had released but not yet published (the
/// consumer publishes lazily; a `try_send` on a full ring takes the released position) ran
/// more than a lap ahead of the published position. The producer taking over from it
/// starts from the released position too, so it neither rewrites records the consumer has
/// passed nor loses the ones it has not.
#[test]
fn a_producer_taking_over_from_one_that_used_released_room_continues_after_it() {
    let _w = watchdog("producer takeover past the published position", WAIT);
    let ring = RingGuard::new("takeover-released");
    let mut rx = Consumer::create(ring.name(), 4096).expect("create the consumer");
    let mut tx = Producer::open(ring.name()).expect("open the producer");
    let (mut sent, mut got) = (0, 0);
    let mut buf = Vec::new();
    for _ in 0..3 {
        while tx.try_send(&message(sent, 24)).is_ok() {
            sent += 1;
        }
        // Fewer than a quarter ring: released, not published.
        for _ in 0..4 {
            rx.recv_into(&mut buf).expect("recv");
            check(got, 24, &buf);
            got += 1;
        }
    }
    while tx.try_send(&message(sent, 24)).is_ok() {
        sent += 1;
    }
    drop(tx);
    let mut tx = Producer::open(ring.name()).expect("take over the producer role");
    let end = sent + 200;
    while got < end {
        while sent < end && tx.try_send(&message(sent, 24)).is_ok() {
            sent += 1;
        }
        rx.recv_into(&mut buf).expect("recv");
        check(got, 24, &buf);
        got += 1;
    }
    drop(tx);
    disconnects(|| rx.try_recv_into(&mut buf));
}

#[test]
fn a_producer_taking_over_from_one_killed_mid_stream_continues_after_its_last_commit() {
    let _w = watchdog("producer takeover mid-stream", Duration::from_secs(60));
    const NEW: u64 = 1 << 40;
    const NEW_COUNT: u64 = 3_000;
    let ring = RingGuard::new("takeover-mid");
    let mut rx = Consumer::create(ring.name(), 1 << 16).expect("create the consumer");
    let mut child = spawn("stream-producer", ring.name(), "0 0 default");
    let mut reader = StreamReader::new(0, false, 5);
    while reader.next < 5_000 {
        reader.recv_one(&mut rx).expect("receive before the kill");
    }
    child.kill9();
    let mut tx = Producer::open(ring.name()).expect("take over the producer role");
    let (mut sent, mut got) = (NEW, NEW);
    while got < NEW + NEW_COUNT {
        while sent < NEW + NEW_COUNT && tx.try_send(&message(sent, short_len(sent))).is_ok() {
            sent += 1;
        }
        let g = rx.read().expect("read");
        // First what the killed producer committed (a strict prefix of its stream), then
        // the new producer's messages, all of them, in order.
        if got == NEW && is_message(reader.next, stream_len(reader.next, false), &g.to_vec()) {
            reader.next += 1;
        } else {
            check_lent(got, short_len(got), &g);
            got += 1;
        }
    }
    drop(tx);
    let mut buf = Vec::new();
    assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Disconnected));
    println!(
        "killed producer left {} messages; the new one delivered {NEW_COUNT}",
        reader.next
    );
}

/// Child: opens the ring as consumer, receives `count` short messages, then reads message
/// `count` and holds it until told `keep-and-drop` (ends the loan without releasing, then
/// drops the consumer) or `release-and-drop` (releases it, then drops the consumer).
pub fn holding_consumer(ring: &str, arg: &str) {
    let count: u64 = arg.parse().expect("count");
    let mut rx = Consumer::open(ring).expect("open the consumer");
    let mut buf = Vec::new();
    for seq in 0..count {
        rx.recv_into(&mut buf).expect("recv");
        check(seq, short_len(seq), &buf);
    }
    let g = rx.read().expect("read");
    check_lent(count, short_len(count), &g);
    say("holding", count);
    match hear().as_deref() {
        Some("keep-and-drop") => g.keep(),
        Some("release-and-drop") => drop(g),
        other => panic!("unexpected command {other:?}"),
    }
    drop(rx);
    say("dropped", "");
    while hear().is_some() {}
}

/// A consumer that leaves (how: `kill`, `keep-and-drop`, `release-and-drop`) after
/// releasing messages `0..300` and while holding message 300; a new consumer resumes at
/// `first`.
fn consumer_takeover(how: &str, first: u64) {
    const COUNT: u64 = 1_000;
    let ring = RingGuard::new("consumer-takeover");
    // The positions cross u64::MAX while the first consumer reads.
    let mut tx = Builder::new(ring.name())
        .capacity(1 << 18)
        .start_position(u64::MAX - 5_000)
        .create_producer()
        .expect("create the producer");
    for seq in 0..COUNT {
        tx.send(&message(seq, short_len(seq))).expect("send");
    }
    let mut child = spawn("holding-consumer", ring.name(), "300");
    assert_eq!(child.expect("holding", WAIT), "300");
    let second = Consumer::open(ring.name());
    assert!(
        matches!(
            second,
            Err(OpenError::RoleTaken {
                role: Role::Consumer,
                slots: 1
            })
        ),
        "second consumer: {second:?}"
    );
    if how == "kill" {
        child.kill9();
    } else {
        child.tell(how);
        child.expect("dropped", WAIT);
    }
    let mut rx = Consumer::open(ring.name()).expect("take over the consumer role");
    let mut buf = Vec::new();
    for seq in first..COUNT {
        rx.recv_into(&mut buf).expect("recv");
        check(seq, short_len(seq), &buf);
    }
    assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Empty));
    drop(tx);
    disconnects(|| rx.try_recv_into(&mut buf));
}

#[test]
fn a_new_consumer_gets_again_the_message_a_killed_one_had_not_released() {
    let _w = watchdog("consumer takeover after kill -9", Duration::from_secs(60));
    consumer_takeover("kill", 300);
}

#[test]
fn a_new_consumer_resumes_at_a_message_the_dropped_one_kept() {
    let _w = watchdog("consumer takeover after keep", Duration::from_secs(60));
    consumer_takeover("keep-and-drop", 300);
}

#[test]
fn a_new_consumer_resumes_after_the_last_message_the_dropped_one_released() {
    let _w = watchdog("consumer takeover after release", Duration::from_secs(60));
    consumer_takeover("release-and-drop", 301);
}

/// A consumer that polls `try_recv_into` (now and then, not in a tight loop) is told
/// `Disconnected` within a few polls of the producer's `kill -9`: the liveness syscall of
/// the try path is paced by time, not by a count of polls.
#[test]
fn a_polling_consumer_sees_a_killed_producer_within_a_few_polls() {
    let _w = watchdog("kill -9 of a polled producer", Duration::from_secs(60));
    let ring = RingGuard::new("kill-polled");
    let mut rx = Consumer::create(ring.name(), 1 << 16).expect("create the consumer");
    let mut child = spawn("holding-producer", ring.name(), "3");
    assert_eq!(child.expect("sent", WAIT), "3");
    let mut buf = Vec::new();
    for seq in 0..3 {
        let (len, _) = polls_until(100, || rx.try_recv_into(&mut buf).ok());
        assert_eq!(len, short_len(seq));
        check(seq, len, &buf);
    }
    assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Empty));
    child.kill9();
    settles_within_a_few_polls(RecvError::Empty, Err(RecvError::Disconnected), || {
        rx.try_recv_into(&mut buf)
    });
}

/// `try_send`, `try_reserve` and `try_send_batch` on a full ring report `Disconnected`
/// once the consumer is gone: at once when it detached, within a few polls of its
/// `kill -9`.
#[test]
fn try_sends_on_a_full_ring_see_the_consumer_go() {
    let _w = watchdog("consumer gone under try_send", Duration::from_secs(60));
    for kill in [false, true] {
        let ring = RingGuard::new("try-consumer-gone");
        let mut tx = Producer::create(ring.name(), 4096).expect("create the producer");
        let mut child = spawn("idle-consumer", ring.name(), "");
        child.expect("attached", WAIT);
        let mut seq = 0;
        while tx.try_send(&message(seq, short_len(seq))).is_ok() {
            seq += 1;
        }
        let msg = message(seq, short_len(seq));
        assert_eq!(tx.try_send(&msg), Err(SendError::Full));
        if kill {
            child.kill9();
        } else {
            child.tell("drop");
            child.expect("dropped", WAIT);
        }
        let polls =
            settles_within_a_few_polls(SendError::Full, Err(SendError::Disconnected), || {
                tx.try_send(&msg)
            });
        if !kill {
            assert_eq!(polls, 1, "a detach is seen at once");
        }
        assert_eq!(
            tx.try_reserve(msg.len()).err(),
            Some(SendError::Disconnected)
        );
        assert_eq!(tx.try_send_batch([&msg[..]]), Err(SendError::Disconnected));
        if !kill {
            child.close_stdin();
            child.wait_success(WAIT);
        }
    }
}

/// Offset in an SPSC segment of the producer's slot state (generation, attached): after
/// the five header lines.
const PRODUCER_SLOT: u64 = 5 * 128;

/// Child: opens the ring as producer, sends `count` short messages, zeroes its slot's
/// generation and attached flag (as if nobody had ever held the role) and exits without
/// detaching.
pub fn erasing_producer(ring: &str, arg: &str) {
    use std::os::unix::fs::FileExt;
    let count: u64 = arg.parse().expect("count");
    let mut tx = Producer::open(ring).expect("open the producer");
    for seq in 0..count {
        tx.send(&message(seq, short_len(seq))).expect("send");
    }
    let path = format!("/dev/shm/ipcring.{ring}");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open the segment");
    f.write_all_at(&[0; 8], PRODUCER_SLOT)
        .expect("erase the slot");
    say("erased", count);
    std::process::exit(0);
}

/// A producer that erases every trace of itself from its slot before it dies cannot make
/// a consumer that received its messages wait for it forever: whether a producer was there
/// is the consumer's own knowledge, and the kernel says it is gone.
#[test]
fn a_producer_that_erases_its_slot_and_dies_is_seen_gone() {
    let _w = watchdog("erased producer slot", Duration::from_secs(60));
    let ring = RingGuard::new("erased-slot");
    let mut rx = Consumer::create(ring.name(), 1 << 16).expect("create the consumer");
    let child = spawn("erasing-producer", ring.name(), "100");
    assert_eq!(child.expect("erased", WAIT), "100");
    child.wait_exit(WAIT);
    let mut buf = Vec::new();
    for seq in 0..100 {
        rx.recv_into(&mut buf).expect("recv");
        check(seq, short_len(seq), &buf);
    }
    assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Disconnected));
}

/// Child: opens the ring as consumer, says `polling`, then polls it every millisecond
/// (each poll reads the shared header word) until it dies.
pub fn polling_consumer(ring: &str, _arg: &str) {
    let mut rx = Consumer::open(ring).expect("open the consumer");
    let mut buf = Vec::new();
    say("polling", 0);
    loop {
        let _ = rx.try_recv_into(&mut buf);
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// What the README states as a limit: a peer that truncates a named segment after it was
/// mapped makes the next access of every process that maps it fault. The consumer dies of
/// `SIGBUS` (nothing is read out of bounds: the access faults), and nobody else is hurt.
#[test]
fn truncating_a_mapped_segment_faults_the_processes_that_map_it() {
    use std::os::unix::process::ExitStatusExt;
    let _w = watchdog("truncation under a live consumer", Duration::from_secs(60));
    let ring = RingGuard::new("truncated-live");
    drop(Producer::create(ring.name(), 1 << 16).expect("create"));
    let child = spawn("polling-consumer", ring.name(), "");
    child.expect("polling", WAIT);
    std::fs::OpenOptions::new()
        .write(true)
        .open(ring.path())
        .expect("open the segment's file")
        .set_len(0)
        .expect("truncate");
    let status = child.wait_exit(WAIT);
    assert_eq!(status.signal(), Some(libc::SIGBUS), "{status:?}");
}

/// Child: opens the ring as producer, sends message 0, forks a process that keeps the
/// role's open file description and sleeps until killed, says `forked` with its pid, and
/// waits to be killed.
pub fn forking_producer(ring: &str, _arg: &str) {
    let mut tx = Producer::open(ring).expect("open the producer");
    tx.send(&message(0, 8)).expect("send");
    // SAFETY: the child only sleeps: it touches no lock, allocator or thread state.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        loop {
            // SAFETY: `pause` has no preconditions.
            unsafe { libc::pause() };
        }
    }
    say("forked", pid);
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// What the README states as a limit: a process forked without exec holds a copy of its
/// parent's role (the open file description that carries the lock). Its parent killed,
/// the consumer still sees a producer; once the forked copy is gone too, `Disconnected`.
#[test]
fn a_forked_copy_holds_the_role_until_it_exits() {
    let _w = watchdog("role held by a forked copy", Duration::from_secs(60));
    let ring = RingGuard::new("forked");
    let mut rx = Consumer::create(ring.name(), 1 << 16).expect("create the consumer");
    let mut child = spawn("forking-producer", ring.name(), "");
    let copy: u32 = child.expect("forked", WAIT).parse().expect("pid");
    child.kill9();
    let mut buf = Vec::new();
    rx.recv_into(&mut buf).expect("message 0");
    check(0, 8, &buf);
    // The copy holds the lock: the producer looks alive, however long we wait.
    let wait = Duration::from_millis(50);
    assert_eq!(
        rx.recv_timeout_into(&mut buf, wait),
        Err(RecvError::Timeout)
    );
    kill9_pid(copy);
    assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Disconnected));
}
