//! Two real processes on one ring: a long stream of mixed sizes through every send and
//! receive path, blocking on a full and on an empty ring with each wait strategy, and the
//! counters of a busy pair. Also a parked producer let in by a single release.

use crate::common::{
    check, check_lent, hear, heavy_flag, membarrier_available, message, say, spawn, spawn_with,
    stream_len, watchdog, RingGuard, XorShift, NO_MEMBARRIER_VAR,
};
use ipcring::spsc::{Builder, Consumer, Producer};
use ipcring::{RecvError, SendError, WaitStrategy};
use std::time::{Duration, Instant};

/// Parses a wait strategy named on a command line of the tests.
pub fn strategy(name: &str) -> WaitStrategy {
    match name {
        "park" => WaitStrategy::Park,
        "spin" => WaitStrategy::BusySpin,
        "default" => WaitStrategy::default(),
        other => panic!("unknown wait strategy {other:?}"),
    }
}

/// Sends message `seq` (of `stream_len` bytes) through one of the producer's paths,
/// picked by `rng`; the non-blocking ones retry while the ring is full. `try_send_batch`
/// may take more than one message: returns how many were sent (at most `left`). On an
/// error nothing was sent.
pub fn send_one(
    tx: &mut Producer,
    rng: &mut XorShift,
    seq: u64,
    left: u64,
    big: bool,
) -> Result<u64, SendError> {
    let len = stream_len(seq, big);
    match rng.below(7) {
        0 => tx.send(&message(seq, len))?,
        1 => {
            let msg = message(seq, len);
            while let Err(e) = tx.try_send(&msg) {
                if e != SendError::Full {
                    return Err(e);
                }
                std::thread::yield_now();
            }
        }
        2 => {
            let mut g = tx.reserve(len)?;
            g.copy_from_slice(&message(seq, len));
            g.commit(len);
        }
        3 => {
            // Reserve more than needed, commit only the message.
            let extra = rng.below((tx.max_message() - len) as u64 + 1) as usize;
            let mut g = tx.reserve(len + extra)?;
            g.write_at(0, &message(seq, len));
            g.commit(len);
        }
        4 => loop {
            match tx.try_reserve(len) {
                Ok(mut g) => {
                    g.copy_from_slice(&message(seq, len));
                    g.commit(len);
                    break;
                }
                Err(SendError::Full) => std::thread::yield_now(),
                Err(e) => return Err(e),
            }
        },
        5 => {
            // Retries while full; an error after part of the batch went returns that part,
            // so that the caller neither loses nor repeats a message.
            let msgs: Vec<Vec<u8>> = (seq..seq + (rng.below(8) + 1).min(left))
                .map(|s| message(s, stream_len(s, big)))
                .collect();
            let mut done = 0;
            while done < msgs.len() {
                match tx.try_send_batch(msgs[done..].iter().map(Vec::as_slice)) {
                    Ok(0) => std::thread::yield_now(),
                    Ok(n) => done += n,
                    Err(_) if done > 0 => break,
                    Err(e) => return Err(e),
                }
            }
            return Ok(done as u64);
        }
        _ => {
            let msg = message(seq, len);
            while let Err(e) = tx.send_timeout(&msg, Duration::from_millis(200)) {
                if e != SendError::Timeout {
                    return Err(e);
                }
            }
        }
    }
    Ok(1)
}

/// Child: opens the ring as producer and sends a stream of messages through every path.
/// Argument: `<count> <big: 0|1> <strategy>`; a count of 0 streams until killed.
pub fn stream_producer(ring: &str, arg: &str) {
    let args: Vec<&str> = arg.split_whitespace().collect();
    let count: u64 = args[0].parse().expect("count");
    let count = if count == 0 { u64::MAX } else { count };
    let big = args[1] == "1";
    let mut tx = Builder::new(ring)
        .wait_strategy(strategy(args[2]))
        .open_producer()
        .expect("open the producer");
    let mut rng = XorShift::new(std::process::id().into());
    let mut seq = 0;
    while seq < count {
        seq += send_one(&mut tx, &mut rng, seq, count - seq, big).expect("send");
    }
    say("done", seq);
}

/// Receives a stream of messages through every path of the consumer, checking each.
#[derive(Debug)]
pub struct StreamReader {
    pub next: u64,
    big: bool,
    rng: XorShift,
    buf: Vec<u8>,
}

impl StreamReader {
    pub fn new(first: u64, big: bool, seed: u64) -> StreamReader {
        StreamReader {
            next: first,
            big,
            rng: XorShift::new(seed),
            buf: Vec::new(),
        }
    }

    /// Receives the next message (waiting for it) and checks that it is message `next`.
    pub fn recv_one(&mut self, rx: &mut Consumer) -> Result<(), RecvError> {
        let (seq, len) = (self.next, stream_len(self.next, self.big));
        let long = Duration::from_millis(200);
        match self.rng.below(7) {
            0 => {
                rx.recv_into(&mut self.buf)?;
                check(seq, len, &self.buf);
            }
            1 => check_lent(seq, len, &*rx.read()?),
            2 => loop {
                match rx.try_read() {
                    Ok(g) => break check_lent(seq, len, &g),
                    Err(RecvError::Empty) => std::thread::yield_now(),
                    Err(e) => return Err(e),
                }
            },
            3 => loop {
                match rx.recv_timeout_into(&mut self.buf, long) {
                    Ok(_) => break check(seq, len, &self.buf),
                    Err(RecvError::Timeout) => {}
                    Err(e) => return Err(e),
                }
            },
            4 => loop {
                match rx.try_recv_into(&mut self.buf) {
                    Ok(_) => break check(seq, len, &self.buf),
                    Err(RecvError::Empty) => std::thread::yield_now(),
                    Err(e) => return Err(e),
                }
            },
            5 => {
                // Look, keep it in the ring, then take it for good.
                rx.read()?.keep();
                check_lent(seq, len, &*rx.read()?);
            }
            _ => loop {
                match rx.read_timeout(long) {
                    Ok(g) => break check_lent(seq, len, &g),
                    Err(RecvError::Timeout) => {}
                    Err(e) => return Err(e),
                }
            },
        }
        self.next += 1;
        Ok(())
    }
}

#[test]
fn two_hundred_thousand_mixed_messages_cross_processes_intact_and_in_order() {
    let _w = watchdog("200k stream", Duration::from_secs(100));
    const COUNT: u64 = 200_000;
    let ring = RingGuard::new("stream");
    let mut rx = Builder::new(ring.name())
        .capacity(1 << 20)
        .create_consumer()
        .expect("create the consumer");
    assert_eq!(rx.max_message(), 1 << 18);
    let child = spawn(
        "stream-producer",
        ring.name(),
        &format!("{COUNT} 1 default"),
    );
    let start = Instant::now();
    let mut reader = StreamReader::new(0, true, 7);
    while reader.next < COUNT {
        if let Err(e) = reader.recv_one(&mut rx) {
            panic!("message {}: {e}", reader.next);
        }
    }
    let took = start.elapsed();
    assert_eq!(
        child.expect("done", Duration::from_secs(30)),
        COUNT.to_string()
    );
    let mut buf = Vec::new();
    assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Disconnected));
    child.wait_success(Duration::from_secs(30));
    let stats = rx.stats();
    assert_eq!((stats.sent, stats.received), (COUNT, COUNT));
    println!("200k messages (mixed sizes, 200 KB every 1000th) in {took:?}, stats {stats:?}");
}

/// Child: fills the ring, then blocks in `send` until the parent drains it; then sends one
/// message for each line the parent writes, after a pause, so that the parent blocks in
/// `recv`. Argument: the wait strategy.
pub fn blocking_producer(ring: &str, arg: &str) {
    let mut tx = Builder::new(ring)
        .wait_strategy(strategy(arg))
        .open_producer()
        .expect("open the producer");
    // Our promise of heavy fences as `attach` left it, before any wait could withdraw it.
    say("heavy", heavy_flag(ring, 4));
    let mut seq = 0;
    loop {
        match tx.try_send(&message(seq, 100)) {
            Ok(()) => seq += 1,
            Err(SendError::Full) => break,
            Err(e) => panic!("try_send: {e}"),
        }
    }
    say("full", seq);
    tx.send(&message(seq, 100)).expect("send on a full ring");
    seq += 1;
    say("sent", seq);
    while hear().is_some() {
        std::thread::sleep(Duration::from_millis(50));
        tx.send(&message(seq, 100)).expect("send");
        seq += 1;
    }
}

/// The blocking exchange with the strategy `name`; `fences` says whether the producer's
/// process may use `membarrier` (without it, the consumer must wake it behind full
/// fences, and the producer's parks use full fences). A side that parks at once withdraws
/// its promise of heavy fences at its first sleep (they would interrupt the peer's CPU on
/// every message).
fn blocking_send_and_recv_across_processes(name: &str, fences: bool) {
    let _w = watchdog("blocking send/recv", Duration::from_secs(60));
    let ring = RingGuard::new("block");
    let mut rx = Builder::new(ring.name())
        .capacity(4096)
        .wait_strategy(strategy(name))
        .create_consumer()
        .expect("create the consumer");
    let mut child = spawn_with("blocking-producer", ring.name(), name, |cmd| {
        if !fences {
            cmd.env(NO_MEMBARRIER_VAR, "1");
        }
    });
    // Each side promises heavy fences on its own wait line iff its process can issue them.
    let here = membarrier_available();
    assert_eq!(
        child.expect("heavy", Duration::from_secs(30)),
        u32::from(here && fences).to_string()
    );
    let full: u64 = child
        .expect("full", Duration::from_secs(30))
        .parse()
        .expect("count");
    assert!(full > 0);
    assert_eq!(heavy_flag(ring.name(), 3), u32::from(here));
    // The ring is full and nobody reads: the child's send must not return.
    child.expect_silence(Duration::from_millis(200));
    // The producer sleeps for room by now: with `Park`, its first sleep withdrew its
    // promise.
    let parks = name == "park";
    assert_eq!(
        heavy_flag(ring.name(), 4),
        u32::from(here && fences && !parks)
    );
    let mut buf = Vec::new();
    for seq in 0..=full {
        rx.recv_into(&mut buf).expect("recv");
        check(seq, 100, &buf);
    }
    assert_eq!(
        child.expect("sent", Duration::from_secs(30)),
        (full + 1).to_string()
    );
    // Empty ring, live producer: receiving waits.
    assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Empty));
    assert_eq!(
        rx.recv_timeout_into(&mut buf, Duration::from_millis(50)),
        Err(RecvError::Timeout)
    );
    assert_eq!(heavy_flag(ring.name(), 3), u32::from(here && !parks));
    for seq in full + 1..full + 6 {
        child.tell("go");
        rx.recv_into(&mut buf).expect("blocking recv");
        check(seq, 100, &buf);
    }
    child.close_stdin();
    assert_eq!(rx.recv_into(&mut buf), Err(RecvError::Disconnected));
    child.wait_success(Duration::from_secs(30));
    let stats = rx.stats();
    println!("blocking with {name}: {stats:?}");
    assert_eq!((stats.sent, stats.received), (full + 6, full + 6));
    match name {
        // Parked waiters were woken by futex calls, on both sides.
        "park" => assert!(stats.producer_wakeups > 0 && stats.consumer_wakeups > 0),
        // Spinners never sleep, so nobody ever had to wake them.
        "spin" => assert_eq!((stats.producer_wakeups, stats.consumer_wakeups), (0, 0)),
        _ => {}
    }
}

#[test]
fn blocking_send_and_recv_across_processes_with_park() {
    blocking_send_and_recv_across_processes("park", true);
}

#[test]
fn blocking_with_park_when_the_producer_cannot_use_membarrier() {
    blocking_send_and_recv_across_processes("park", false);
}

#[test]
fn blocking_send_and_recv_across_processes_with_busy_spin() {
    blocking_send_and_recv_across_processes("spin", true);
}

#[test]
fn blocking_send_and_recv_across_processes_with_the_default_strategy() {
    blocking_send_and_recv_across_processes("default", true);
}

#[test]
fn a_busy_spinning_pair_makes_no_futex_wake_calls() {
    let _w = watchdog("busy pair", Duration::from_secs(60));
    const COUNT: u64 = 20_000;
    let ring = RingGuard::new("busy");
    let mut rx = Builder::new(ring.name())
        .capacity(1 << 16)
        .wait_strategy(WaitStrategy::BusySpin)
        .create_consumer()
        .expect("create the consumer");
    let child = spawn("stream-producer", ring.name(), &format!("{COUNT} 0 spin"));
    let mut buf = Vec::new();
    for seq in 0..COUNT {
        rx.recv_into(&mut buf).expect("recv");
        check(seq, stream_len(seq, false), &buf);
    }
    child.expect("done", Duration::from_secs(30));
    child.wait_success(Duration::from_secs(30));
    let stats = rx.stats();
    assert_eq!((stats.sent, stats.received), (COUNT, COUNT));
    assert_eq!((stats.producer_wakeups, stats.consumer_wakeups), (0, 0));
}

#[test]
fn a_parked_producer_gets_room_as_soon_as_one_message_is_released() {
    let _w = watchdog("parked producer, one release", Duration::from_secs(60));
    let ring = RingGuard::new("one-release");
    let mut tx = Builder::new(ring.name())
        .capacity(4096)
        .wait_strategy(WaitStrategy::Park)
        .create_producer()
        .expect("create the producer");
    let mut rx = Consumer::open(ring.name()).expect("open the consumer");
    let mut seq = 0;
    while tx.try_send(&message(seq, 100)).is_ok() {
        seq += 1;
    }
    let (done, sent) = std::sync::mpsc::channel();
    let producer = std::thread::spawn(move || {
        let r = tx.send(&message(seq, 100));
        done.send(r).expect("report");
    });
    // The consumer releases one message at a time and gives the producer a while to
    // finish after each. It publishes a quarter of the ring at a time anyway (about nine
    // of these records), so the send must end before that: once the producer is parked,
    // the next release alone must let it in.
    let mut buf = Vec::new();
    let mut released = 0;
    let outcome = loop {
        rx.try_recv_into(&mut buf)
            .expect("a message of the full ring");
        check(released, 100, &buf);
        released += 1;
        if let Ok(r) = sent.recv_timeout(Duration::from_secs(1)) {
            break r;
        }
    };
    producer.join().expect("producer thread");
    assert_eq!(outcome, Ok(()));
    println!("the parked producer got room after {released} released messages");
    // 100-byte messages take records of 112 bytes; a quarter of the ring is 1024.
    let lazy = 1024u64.div_ceil(112);
    assert!(released < lazy, "room only after {released} releases");
}
