//! Every kind in one `WaitSet`, across processes: a work queue fed by two producer
//! processes, a topic fed by a publisher process, an SPSC ring fed by a producer process,
//! and the room of an SPSC ring read slowly by a consumer process. Every message arrives
//! once and in order per sender; the set reports each ring's end.

use crate::common::{
    checked, fill, len_of, say, seq_of, spawn, watchdog, RingGuard, XorShift, SLOT,
};
use ipcring::{broadcast, mpmc, spsc, RecvError, SendError, WaitSet, Waitable};
use std::collections::HashMap;
use std::time::Duration;

const PER_SENDER: u64 = 20_000;

/// A send with a blocking call, of whichever kind.
type Send = Box<dyn FnMut(&[u8])>;

/// Child: sends `PER_SENDER` stamped messages as sender `id` into the queue, topic or
/// SPSC ring named `ring` (argument `kind id`), pausing now and then.
pub fn kind_feeder(ring: &str, arg: &str) {
    let mut it = arg.split_whitespace();
    let (kind, id): (&str, u64) = (it.next().unwrap(), it.next().unwrap().parse().unwrap());
    let mut send: Send = match kind {
        "mpmc" => {
            let mut tx = mpmc::Producer::open(ring).expect("open");
            Box::new(move |m| tx.send(m).expect("send"))
        }
        "topic" => {
            let mut tx = broadcast::Publisher::open(ring).expect("open");
            Box::new(move |m| tx.send(m).expect("send"))
        }
        _ => {
            let mut tx = spsc::Producer::open(ring).expect("open");
            Box::new(move |m| tx.send(m).expect("send"))
        }
    };
    say("ready", "");
    let mut rng = XorShift::new(id);
    let mut buf = [0u8; SLOT];
    for n in 0..PER_SENDER {
        let seq = seq_of(id, n);
        let msg = &mut buf[..len_of(seq)];
        fill(seq, msg);
        send(msg);
        if rng.below(256) == 0 {
            std::thread::sleep(Duration::from_micros(rng.below(2000)));
        }
    }
}

/// Child: reads the SPSC ring `ring` slowly (pausing now and then) until it ends, checking
/// the order; says how many it got.
pub fn slow_reader(ring: &str, _arg: &str) {
    let mut rx = spsc::Consumer::open(ring).expect("open");
    say("ready", "");
    let mut rng = XorShift::new(99);
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        match rx.recv_into(&mut buf) {
            Ok(_) => assert_eq!(checked(&buf), seq_of(9, n)),
            Err(RecvError::Disconnected) => break,
            Err(e) => panic!("{e}"),
        }
        n += 1;
        if rng.below(128) == 0 {
            std::thread::sleep(Duration::from_micros(rng.below(2000)));
        }
    }
    say("got", n);
}

#[test]
fn every_kind_in_one_set_across_processes() {
    let _w = watchdog("every kind in one set", Duration::from_secs(180));
    let (gq, gt, gs, gr) = (
        RingGuard::new("set-kinds-q"),
        RingGuard::new("set-kinds-t"),
        RingGuard::new("set-kinds-s"),
        RingGuard::new("set-kinds-r"),
    );
    let mut q = mpmc::Builder::new(gq.name())
        .capacity(64)
        .slot_size(SLOT)
        .create_consumer()
        .expect("create the queue");
    let mut t = broadcast::Builder::new(gt.name())
        .capacity(64)
        .slot_size(SLOT)
        .create_subscriber()
        .expect("create the topic");
    let mut s = spsc::Consumer::create(gs.name(), 4096).expect("create the ring");
    let mut r = spsc::Producer::create(gr.name(), 4096).expect("create the outgoing ring");
    let feeders = [
        spawn("kind-feeder", gq.name(), "mpmc 1"),
        spawn("kind-feeder", gq.name(), "mpmc 2"),
        spawn("kind-feeder", gt.name(), "topic 3"),
        spawn("kind-feeder", gs.name(), "spsc 4"),
    ];
    let reader = spawn("slow-reader", gr.name(), "");
    for f in feeders.iter().chain([&reader]) {
        f.expect("ready", Duration::from_secs(20));
    }
    let mut next: HashMap<u64, u64> = HashMap::new();
    let mut ended = [false; 3];
    let mut sent = 0u64;
    let mut out = [0u8; SLOT];
    let mut buf = Vec::new();
    let mut set = WaitSet::new();
    while ended.iter().any(|e| !e) || sent < PER_SENDER {
        // A ring that ended stays ready: only the others are waited for.
        let ready: Vec<usize> = {
            let mut room = r.room(SLOT);
            let all: [(usize, &mut dyn Waitable); 4] =
                [(0, &mut q), (1, &mut t), (2, &mut s), (3, &mut room)];
            let (which, mut members): (Vec<usize>, Vec<&mut dyn Waitable>) = all
                .into_iter()
                .filter(|(k, _)| {
                    if *k == 3 {
                        sent < PER_SENDER
                    } else {
                        !ended[*k]
                    }
                })
                .unzip();
            set.wait(&mut members).iter().map(|i| which[i]).collect()
        };
        for k in ready {
            if k == 3 {
                while sent < PER_SENDER {
                    let seq = seq_of(9, sent);
                    let msg = &mut out[..len_of(seq)];
                    fill(seq, msg);
                    match r.try_send(msg) {
                        Ok(()) => sent += 1,
                        Err(SendError::Full) => break,
                        Err(e) => panic!("send: {e}"),
                    }
                }
                continue;
            }
            loop {
                let got = match k {
                    0 => q.try_recv_into(&mut buf),
                    1 => t.try_recv_into(&mut buf),
                    _ => s.try_recv_into(&mut buf),
                };
                match got {
                    Ok(_) => {
                        let seq = checked(&buf);
                        let (id, n) = (seq >> 32, seq & 0xffff_ffff);
                        let want = next.entry(id).or_default();
                        assert_eq!(n, *want, "sender {id}");
                        *want += 1;
                    }
                    Err(RecvError::Empty) => break,
                    Err(RecvError::Disconnected) => {
                        ended[k] = true;
                        break;
                    }
                    Err(e) => panic!("member {k}: {e}"),
                }
            }
        }
    }
    drop(r);
    let got: u64 = reader
        .expect("got", Duration::from_secs(30))
        .parse()
        .unwrap();
    assert_eq!(got, PER_SENDER);
    for id in 1..=4 {
        assert_eq!(next.get(&id), Some(&PER_SENDER), "sender {id}");
    }
}
