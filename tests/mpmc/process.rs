//! MPMC across real processes: four producers and two consumers move a million messages,
//! each delivered exactly once and in order per producer, every byte checked.

use crate::common::{checked, fill, len_of, mix, say, seq_of, spawn, watchdog, RingGuard, SLOT};
use ipcring::mpmc::{Builder, Consumer, Producer};
use ipcring::{RecvError, WaitStrategy};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Child: opens a producer and sends `count` messages as producer `id` (argument
/// `id count`), then says `done`.
pub fn producer(queue: &str, arg: &str) {
    let mut it = arg
        .split_whitespace()
        .map(|w| w.parse::<u64>().expect("number"));
    let (id, count) = (it.next().expect("id"), it.next().expect("count"));
    let mut tx = Producer::open(queue).expect("open a producer");
    let mut buf = [0u8; SLOT];
    for n in 0..count {
        let seq = seq_of(id, n);
        let msg = &mut buf[..len_of(seq)];
        fill(seq, msg);
        tx.send(msg).expect("send");
    }
    say("done", count);
}

/// Child: opens a consumer and receives until `Disconnected`, checking every byte and
/// the order of each producer's messages; says how many it got and their digest.
pub fn consumer(queue: &str, _arg: &str) {
    let mut rx = Builder::new(queue)
        .wait_strategy(WaitStrategy::default())
        .open_consumer()
        .expect("open a consumer");
    say("ready", "");
    let mut buf = Vec::with_capacity(SLOT);
    let mut last: HashMap<u64, u64> = HashMap::new();
    let (mut count, mut digest) = (0u64, 0u64);
    loop {
        match rx.recv_into(&mut buf) {
            Ok(_) => {}
            Err(RecvError::Disconnected) => break,
            Err(e) => panic!("recv: {e}"),
        }
        let seq = checked(&buf);
        let (id, n) = (seq >> 32, seq & 0xffff_ffff);
        if let Some(prev) = last.insert(id, n) {
            assert!(n > prev, "producer {id}: message {n} after {prev}");
        }
        count += 1;
        digest = digest.wrapping_add(mix(seq));
    }
    say("got", format!("{count} {digest}"));
}

#[test]
fn four_producers_two_consumers_deliver_a_million_messages_exactly_once() {
    const PRODUCERS: u64 = 4;
    const PER_PRODUCER: u64 = 250_000;
    let _w = watchdog("four_producers_two_consumers", Duration::from_secs(240));
    let ring = RingGuard::new("mpmc-million");
    // The creator stays attached as a producer until the children are done, so that the
    // consumers do not see the queue abandoned before the producers arrive.
    let creator = Builder::new(ring.name())
        .capacity(1024)
        .slot_size(SLOT)
        .producers(8)
        .consumers(4)
        .create_producer()
        .expect("create the queue");
    let consumers: Vec<_> = (0..2).map(|_| spawn("consumer", ring.name(), "")).collect();
    for c in &consumers {
        c.expect("ready", Duration::from_secs(30));
    }
    let start = Instant::now();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|id| spawn("producer", ring.name(), &format!("{id} {PER_PRODUCER}")))
        .collect();
    for p in producers {
        p.expect("done", Duration::from_secs(200));
        p.wait_success(Duration::from_secs(30));
    }
    drop(creator);
    let (mut count, mut digest) = (0u64, 0u64);
    for c in consumers {
        let got = c.expect("got", Duration::from_secs(60));
        let mut it = got.split(' ').map(|w| w.parse::<u64>().expect("number"));
        count += it.next().expect("count");
        digest = digest.wrapping_add(it.next().expect("digest"));
        c.wait_success(Duration::from_secs(30));
    }
    let took = start.elapsed();
    let want: u64 = (0..PRODUCERS)
        .flat_map(|id| (0..PER_PRODUCER).map(move |n| mix(seq_of(id, n))))
        .fold(0, u64::wrapping_add);
    assert_eq!(count, PRODUCERS * PER_PRODUCER);
    assert_eq!(digest, want, "the same messages, each once");
    let stats = Consumer::open(ring.name()).expect("open").stats();
    assert_eq!((stats.sent, stats.received), (count, count));
    assert_eq!((stats.skipped, stats.redelivered), (0, 0));
    println!("{count} messages, 4 producers -> 2 consumers, in {took:?}: {stats:?}");
}
