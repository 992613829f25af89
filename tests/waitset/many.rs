//! Sixteen rings in one `WaitSet`, fed at random by four processes: every message is
//! received once, in order per ring, every byte checked, and the set reports each ring's
//! end once its feeder is gone.

use crate::common::{check, message, say, spawn, watchdog, RingGuard, XorShift};
use ipcring::spsc::{Consumer, Producer};
use ipcring::{RecvError, WaitSet, WaitStrategy, Waitable};
use std::time::Duration;

/// Rings per feeder process.
const RINGS_EACH: usize = 4;
const FEEDERS: usize = 4;

/// Length of message `n` of a ring: 0 to 2 KiB.
fn len(n: u64) -> usize {
    (crate::common::mix(n ^ 0x7e57) % 2049) as usize
}

/// Child: opens the producers of the rings named `<ring>-<i>` for the `i` of its argument
/// (`first count messages`), then sends `messages` in all, each to a ring picked at
/// random, in bursts with pauses between (so that the parent's set both spins and
/// sleeps); says `done` and leaves.
pub fn feeder(ring: &str, arg: &str) {
    let mut it = arg
        .split_whitespace()
        .map(|w| w.parse::<u64>().expect("number"));
    let (first, count, messages) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    let mut txs: Vec<Producer> = (first..first + count)
        .map(|i| Producer::open(&format!("{ring}-{i}")).expect("open a producer"))
        .collect();
    let mut sent = vec![0u64; txs.len()];
    let mut rng = XorShift::new(first);
    let mut left = messages;
    while left > 0 {
        let burst = rng.below(64).min(left);
        for _ in 0..burst {
            let k = rng.below(txs.len() as u64) as usize;
            let n = sent[k];
            txs[k].send(&message(n, len(n))).expect("send");
            sent[k] += 1;
        }
        left -= burst;
        if rng.below(4) == 0 {
            std::thread::sleep(Duration::from_micros(rng.below(3000)));
        }
    }
    say("done", format!("{sent:?}"));
}

#[test]
fn sixteen_rings_fed_at_random_by_four_processes_deliver_every_message_once() {
    const MESSAGES: u64 = 40_000;
    let _w = watchdog("sixteen rings in a wait set", Duration::from_secs(120));
    let base = RingGuard::new("set16");
    let rings: Vec<RingGuard> = (0..FEEDERS * RINGS_EACH)
        .map(|i| RingGuard::named(&format!("{}-{i}", base.name())))
        .collect();
    let mut rxs: Vec<Consumer> = rings
        .iter()
        .map(|r| Consumer::create(r.name(), 16 << 10).expect("create a ring"))
        .collect();
    let feeders: Vec<_> = (0..FEEDERS)
        .map(|f| {
            let arg = format!("{} {RINGS_EACH} {MESSAGES}", f * RINGS_EACH);
            spawn("feeder", base.name(), &arg)
        })
        .collect();
    let mut set = WaitSet::new();
    set.set_wait_strategy(WaitStrategy::SpinThenPark {
        spins: 256,
        yields: 2,
    });
    let mut got = vec![0u64; rxs.len()];
    let mut ended = vec![false; rxs.len()];
    let mut buf = Vec::new();
    let (mut waits, mut spurious) = (0u64, 0u64);
    while ended.iter().any(|e| !e) {
        let ready: Vec<usize> = {
            let mut members: Vec<&mut dyn Waitable> = rxs
                .iter_mut()
                .zip(&ended)
                .filter(|(_, e)| !**e)
                .map(|(rx, _)| rx as &mut dyn Waitable)
                .collect();
            let live: Vec<usize> = (0..ended.len()).filter(|&i| !ended[i]).collect();
            set.wait(&mut members).iter().map(|k| live[k]).collect()
        };
        waits += 1;
        assert!(
            !ready.is_empty(),
            "a wait with no deadline returned nothing"
        );
        for i in ready {
            let mut took = 0;
            loop {
                match rxs[i].try_recv_into(&mut buf) {
                    Ok(_) => {
                        check(got[i], len(got[i]), &buf);
                        got[i] += 1;
                        took += 1;
                    }
                    Err(RecvError::Empty) => break,
                    Err(RecvError::Disconnected) => {
                        ended[i] = true;
                        break;
                    }
                    Err(e) => panic!("ring {i}: {e}"),
                }
            }
            // Rarely, a ring is ready with nothing to take: its producer was leaving (its
            // flag said so, its lock was not yet released), as the docs say.
            if took == 0 && !ended[i] {
                spurious += 1;
            }
        }
    }
    let mut sent = vec![0u64; rxs.len()];
    for (f, feeder) in feeders.into_iter().enumerate() {
        let said = feeder.expect("done", Duration::from_secs(5));
        let counts: Vec<u64> = said
            .trim_matches(|c| c == '[' || c == ']' || c == ' ')
            .split(", ")
            .map(|w| w.parse().expect("count"))
            .collect();
        sent[f * RINGS_EACH..(f + 1) * RINGS_EACH].copy_from_slice(&counts);
        feeder.wait_success(Duration::from_secs(10));
    }
    assert_eq!(got, sent, "messages received per ring");
    assert_eq!(got.iter().sum::<u64>(), FEEDERS as u64 * MESSAGES);
    println!(
        "{} messages on 16 rings in {waits} waits, {spurious} rings ready with nothing to take",
        got.iter().sum::<u64>()
    );
    assert!(
        spurious <= FEEDERS as u64 * RINGS_EACH as u64 * 4,
        "{spurious} spurious"
    );
}
