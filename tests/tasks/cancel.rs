//! Cancelled futures lose nothing: a tokio task receives 100 000 messages from a producer
//! process (which pauses now and then, so that the task waits), racing every receive
//! against a short timer; and sends 100 000 to a consumer process the same way.

use crate::common::{check, message, say, spawn, watchdog, RingGuard, XorShift};
use ipcring::spsc::{Consumer, Producer};
use ipcring::{mpmc, RecvError};
use std::time::Duration;

const MESSAGES: u64 = 100_000;

/// Length of message `n`: 0 to 300 bytes.
fn len(n: u64) -> usize {
    (crate::common::mix(n ^ 0xa5) % 301) as usize
}

/// A send with a blocking call, of whichever kind.
type Send = Box<dyn FnMut(&[u8])>;

/// Child: sends `MESSAGES` messages with blocking calls, to an SPSC ring or (argument
/// `mpmc`) a work queue, pausing up to 200 µs after one message in 16, then leaves.
pub fn paced_producer(ring: &str, arg: &str) {
    let mut send: Send = if arg == "mpmc" {
        let mut tx = mpmc::Producer::open(ring).expect("open the producer");
        Box::new(move |m| tx.send(m).expect("send"))
    } else {
        let mut tx = Producer::open(ring).expect("open the producer");
        Box::new(move |m| tx.send(m).expect("send"))
    };
    let mut rng = XorShift::new(7);
    for n in 0..MESSAGES {
        send(&message(n, len(n)));
        if rng.below(16) == 0 {
            std::thread::sleep(Duration::from_micros(rng.below(200)));
        }
    }
    say("sent", MESSAGES);
}

/// Child: receives with blocking calls until `Disconnected`, checking every message,
/// pausing now and then (so that the sender waits for room); says how many it got.
pub fn checking_consumer(ring: &str, _arg: &str) {
    let mut rx = Consumer::open(ring).expect("open the consumer");
    let mut rng = XorShift::new(11);
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        match rx.recv_into(&mut buf) {
            Ok(_) => check(n, len(n), &buf),
            Err(RecvError::Disconnected) => break,
            Err(e) => panic!("recv: {e}"),
        }
        n += 1;
        if rng.below(64) == 0 {
            std::thread::sleep(Duration::from_micros(rng.below(200)));
        }
    }
    say("got", n);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Receives from `$rx` with `recv_async` until `Disconnected`, racing each receive
/// against a timer of up to 100 µs and checking every message; evaluates to how many were
/// received and how many receives were cancelled. (A macro: the kinds' handles share the
/// method's name, not a trait.)
macro_rules! receive_racing_timers {
    ($rx:expr) => {{
        let mut rng = XorShift::new(3);
        let mut buf = Vec::new();
        let (mut n, mut cancelled) = (0u64, 0u64);
        loop {
            let timer = tokio::time::sleep(Duration::from_micros(rng.below(100)));
            tokio::select! {
                r = $rx.recv_async(&mut buf) => match r {
                    Ok(_) => {
                        check(n, len(n), &buf);
                        n += 1;
                    }
                    Err(RecvError::Disconnected) => break,
                    Err(e) => panic!("recv_async: {e}"),
                },
                () = timer => cancelled += 1,
            }
        }
        (n, cancelled)
    }};
}

#[test]
fn mpmc_receives_cancelled_at_random_lose_no_message() {
    let _w = watchdog("async queue receives, cancelled", Duration::from_secs(180));
    let ring = RingGuard::new("task-mpmc-recv");
    let mut rx = mpmc::Consumer::create(ring.name(), 64, 512).expect("create");
    let child = spawn("paced-producer", ring.name(), "mpmc");
    let (got, cancelled) = runtime().block_on(async move { receive_racing_timers!(rx) });
    assert_eq!(got, MESSAGES);
    child.expect("sent", Duration::from_secs(5));
    println!("queue: {got} messages received, {cancelled} receives cancelled mid-wait");
    assert!(
        cancelled > 0,
        "no receive was cancelled: the test tested nothing"
    );
}

#[test]
fn receives_cancelled_at_random_lose_no_message() {
    let _w = watchdog("async receives, cancelled", Duration::from_secs(180));
    let ring = RingGuard::new("task-recv");
    let mut rx = Consumer::create(ring.name(), 8192).expect("create");
    let child = spawn("paced-producer", ring.name(), "");
    let (got, cancelled) = runtime().block_on(async move { receive_racing_timers!(rx) });
    assert_eq!(got, MESSAGES);
    child.expect("sent", Duration::from_secs(5));
    println!("{got} messages received, {cancelled} receives cancelled mid-wait");
    assert!(
        cancelled > 0,
        "no receive was cancelled: the test tested nothing"
    );
}

#[test]
fn sends_cancelled_at_random_lose_and_repeat_no_message() {
    let _w = watchdog("async sends, cancelled", Duration::from_secs(180));
    let ring = RingGuard::new("task-send");
    let mut tx = Producer::create(ring.name(), 4096).expect("create");
    let child = spawn("checking-consumer", ring.name(), "");
    let cancelled = runtime().block_on(async move {
        let mut rng = XorShift::new(5);
        let mut cancelled = 0u64;
        let mut n = 0;
        while n < MESSAGES {
            let msg = message(n, len(n));
            let timer = tokio::time::sleep(Duration::from_micros(rng.below(100)));
            tokio::select! {
                r = tx.send_async(&msg) => {
                    r.expect("send_async");
                    n += 1;
                }
                () = timer => cancelled += 1,
            }
        }
        cancelled
    });
    let got: u64 = child
        .expect("got", Duration::from_secs(30))
        .trim()
        .parse()
        .expect("count");
    assert_eq!(got, MESSAGES);
    println!("{got} messages sent, {cancelled} sends cancelled mid-wait");
    assert!(
        cancelled > 0,
        "no send was cancelled: the test tested nothing"
    );
}
