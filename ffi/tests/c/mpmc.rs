//! The MPMC C API from C, against Rust, in real processes: C producers to Rust consumers
//! and Rust producers to C consumers (every message checked, each exactly once, in order
//! per producer), the C bad-input program of MPMC queues, and the workers example.

use super::{leftovers, programs, run_checks, stream, text, Rings, Running, MESSAGE_TIMEOUT};
use ipcring::mpmc::{Builder, Consumer, Producer};
use ipcring::{RecvError, SendError};
use std::collections::HashMap;
use std::process::{Child, Command};
use std::time::Instant;

/// Messages of each producer in the interop tests.
const PER_PRODUCER: u64 = 20_000;
/// Producers of each interop test.
const PRODUCERS: u64 = 3;
/// Slots of the interop queues: few, so that producers often find the queue full.
const SLOTS: usize = 64;
/// Slot size of the interop queues: keyed messages of 8 to 512 bytes.
const SLOT: usize = 512;

/// The keyed messages of tests/c/keyed.h, in Rust.
mod keyed {
    use super::stream;

    pub fn key(id: u64, n: u64) -> u64 {
        id << 32 | n
    }

    pub fn len(key: u64, max: usize) -> usize {
        8 + stream::len(key, max - 8)
    }

    pub fn fill(key: u64, out: &mut [u8]) {
        out[..8].copy_from_slice(&key.to_ne_bytes());
        stream::fill(key, &mut out[8..]);
    }

    /// Panics unless `msg` is a keyed message with every byte right; returns its key.
    pub fn check(msg: &[u8], max: usize) -> u64 {
        assert!(
            msg.len() >= 8,
            "a message of {} bytes has no key",
            msg.len()
        );
        let key = u64::from_ne_bytes(msg[..8].try_into().expect("8 bytes"));
        stream::check(key, &msg[8..], max - 8);
        key
    }
}

/// The keys one consumer received, in the order it received them.
#[derive(Default)]
struct Received {
    keys: Vec<u64>,
    last: HashMap<u64, u64>,
}

impl Received {
    /// Notes `key`; panics if its producer's previous message came later.
    fn add(&mut self, key: u64) {
        let (id, n) = (key >> 32, key & 0xffff_ffff);
        if let Some(prev) = self.last.insert(id, n) {
            assert!(n > prev, "producer {id}: message {n} after {prev}");
        }
        self.keys.push(key);
    }
}

/// Panics unless `keys` holds every message of [`PRODUCERS`] producers exactly once.
fn assert_each_once(mut keys: Vec<u64>) {
    keys.sort_unstable();
    let want: Vec<u64> = (0..PRODUCERS)
        .flat_map(|id| (0..PER_PRODUCER).map(move |n| keyed::key(id, n)))
        .collect();
    assert_eq!(keys.len(), want.len(), "number of messages received");
    assert!(keys == want, "every message exactly once");
}

/// Creates the queue of an interop test and attaches as a producer. The caller keeps this
/// producer until the other producers are done, so that consumers do not take the queue
/// for abandoned before they arrive.
fn create(name: &str) -> Producer {
    Builder::new(name)
        .capacity(SLOTS)
        .slot_size(SLOT)
        .producers(PRODUCERS as usize + 1)
        .consumers(PRODUCERS as usize)
        .create_producer()
        .expect("create the queue")
}

/// Panics unless the queue delivered every message once, with nothing skipped or sent
/// again.
fn assert_counters(name: &str) {
    let s = Consumer::open(name).expect("open the queue").stats();
    let all = PRODUCERS * PER_PRODUCER;
    assert_eq!((s.sent, s.received), (all, all), "{s:?}");
    assert_eq!((s.skipped, s.redelivered), (0, 0), "{s:?}");
}

/// A Rust consumer: receives until every producer is gone, by turns copying and reading
/// in place, checking every message.
fn receive(mut rx: Consumer) -> Vec<u64> {
    let max = rx.max_message();
    let mut got = Received::default();
    let mut buf = Vec::new();
    for i in 0u64.. {
        let key = if i % 2 == 0 {
            match rx.recv_timeout_into(&mut buf, MESSAGE_TIMEOUT) {
                Ok(_) => keyed::check(&buf, max),
                Err(RecvError::Disconnected) => break,
                Err(e) => panic!("message {i}: {e}"),
            }
        } else {
            match rx.read_timeout(MESSAGE_TIMEOUT) {
                Ok(g) => keyed::check(&g.to_vec(), max),
                Err(RecvError::Disconnected) => break,
                Err(e) => panic!("message {i}: {e}"),
            }
        };
        got.add(key);
    }
    got.keys
}

/// A Rust producer: sends its [`PER_PRODUCER`] messages as producer `id`, by turns
/// copying, reserving in place, and trying.
fn send(tx: &mut Producer, id: u64) {
    let max = tx.max_message();
    let mut buf = vec![0; max];
    for n in 0..PER_PRODUCER {
        let key = keyed::key(id, n);
        let len = keyed::len(key, max);
        let msg = &mut buf[..len];
        match n % 3 {
            0 => {
                keyed::fill(key, msg);
                tx.send_timeout(msg, MESSAGE_TIMEOUT)
            }
            1 => {
                let deadline = Instant::now() + MESSAGE_TIMEOUT;
                let mut g = loop {
                    match tx.try_reserve(len) {
                        Ok(g) => break g,
                        Err(SendError::Full) if Instant::now() < deadline => {
                            std::thread::yield_now()
                        }
                        Err(e) => panic!("producer {id}, message {n}: {e}"),
                    }
                };
                let mut msg = vec![0; g.len()];
                keyed::fill(key, &mut msg);
                g.copy_from_slice(&msg);
                g.commit(len)
            }
            _ => {
                keyed::fill(key, msg);
                match tx.try_send(msg) {
                    Err(SendError::Full) => tx.send_timeout(msg, MESSAGE_TIMEOUT),
                    other => other,
                }
            }
        }
        .unwrap_or_else(|e| panic!("producer {id}, message {n}: {e}"));
    }
}

#[test]
fn c_mpmc_producers_to_rust_consumers() {
    let rings = Rings::new("mpmc-c2rust");
    let name = rings.name("queue");
    let creator = create(&name);
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let rx = Consumer::open(&name).expect("attach a Rust consumer");
            std::thread::spawn(move || receive(rx))
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|id| {
            Running::spawn(
                Command::new(&programs().mpmc_producer).args([
                    name.clone(),
                    id.to_string(),
                    PER_PRODUCER.to_string(),
                ]),
                "C MPMC producer",
            )
        })
        .collect();
    for p in producers {
        let out = p.finish();
        assert!(out.status.success(), "C producer failed:\n{}", text(&out));
    }
    drop(creator);
    let keys = consumers
        .into_iter()
        .flat_map(|c| c.join().expect("a Rust consumer failed"))
        .collect();
    assert_each_once(keys);
    assert_counters(&name);
    ipcring::unlink(&name).expect("remove the queue");
    assert_eq!(leftovers(&rings), Vec::<String>::new());
}

#[test]
fn rust_mpmc_producers_to_c_consumers() {
    let rings = Rings::new("mpmc-rust2c");
    let name = rings.name("queue");
    // The creator is the last of the producers.
    let mut creator = create(&name);
    let consumers: Vec<_> = (0..PRODUCERS)
        .map(|_| {
            Running::spawn(
                Command::new(&programs().mpmc_consumer).arg(&name),
                "C MPMC consumer",
            )
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS - 1)
        .map(|id| {
            let mut tx = Producer::open(&name).expect("attach a Rust producer");
            std::thread::spawn(move || send(&mut tx, id))
        })
        .collect();
    send(&mut creator, PRODUCERS - 1);
    for p in producers {
        p.join().expect("a Rust producer failed");
    }
    drop(creator);
    let mut keys = Vec::new();
    for c in consumers {
        let out = c.finish();
        assert!(out.status.success(), "C consumer failed:\n{}", text(&out));
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains(" messages, 0 bad\n"), "{}", text(&out));
        keys.extend(
            said.lines()
                .filter_map(|l| l.strip_prefix("key "))
                .map(|k| k.parse::<u64>().expect("a key")),
        );
    }
    assert_each_once(keys);
    assert_counters(&name);
    ipcring::unlink(&name).expect("remove the queue");
    assert_eq!(leftovers(&rings), Vec::<String>::new());
}

#[test]
fn mpmc_bad_input_from_c_gets_status_codes() {
    run_checks(&programs().mpmc_input, "mpmc-bad");
}

#[test]
fn c_workers_example_checks_every_answer() {
    let workers = Running::spawn(
        Command::new(&programs().workers).args(["3000", "3"]),
        "C workers",
    );
    // workers names its queues after its process id.
    let pid = workers.child.as_ref().map_or(0, Child::id);
    let rings = Rings::with_prefix(format!("workers-c-{pid}"));
    let out = workers.finish();
    assert!(out.status.success(), "workers failed:\n{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("3 workers took 3000 jobs"), "{}", text(&out));
    assert!(said.contains("3000 right, 0 bad"), "{}", text(&out));
    assert_eq!(leftovers(&rings), Vec::<String>::new());
}
