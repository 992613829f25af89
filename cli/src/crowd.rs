//! Throughput of one queue between many processes: `P` producers stream 8-byte messages to
//! `C` consumers. The parent is producer 0; producers 1.. and the consumers are children
//! (`ipcring child --crowd P,C,ROLE,INDEX`), producers pinned to the first CPU (with the
//! parent), consumers to the second. An SPSC ring runs the same way as 1P/1C, for the
//! base row.
//!
//! A broadcast topic runs the same way with subscribers for consumers, except that every
//! subscriber receives every message (fan-out): its count is that of all producers.
//!
//! A run: the children open the queue and count themselves in a control block (a memfd
//! they inherit); the parent waits for all of them, starts the clock and says go; every
//! producer streams until the parent says stop, then sends one [`STOP`] marker per
//! consumer; every consumer stops after one marker per producer and counts itself done;
//! the clock stops when the last one has. Positions are handed out in order, so nothing
//! is left in the queue by then. A message is `INDEX << 48 | seq` (seq from 1): each
//! consumer checks that every producer's numbers grow (with one consumer: by one), and
//! the parent that the consumers received as many messages, with the same sum of
//! numbers, as the producers sent.

use crate::child::{self, voluntary_switches, ChildArgs, Running};
use crate::cleanup::RingName;
use crate::mech::{broadcast, mpmc, ring, Mech, STOP};
use crate::report::Throughput;
use ipcring::{spsc, OpenError, WaitStrategy};
use ipcring_bench_support::shm::SharedMem;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Slots of an MPMC queue under test (24 bytes each with 8-byte slots: 768 KiB).
pub const MPMC_SLOTS: usize = 1 << 15;
/// Data area of the SPSC ring of the base row, as in the other SPSC rows.
const SPSC_BYTES: usize = 1 << 20;
/// Messages sent between two looks at the clock or at the stop flag.
const BATCH: u64 = 256;
/// Bits of a message that carry the sequence number; the producer's index is above.
const SEQ_BITS: u32 = 48;
const SEQ_MASK: u64 = (1 << SEQ_BITS) - 1;
/// How long the parent waits for the children to attach, or to finish.
const PATIENCE: Duration = Duration::from_secs(30);

/// The control block: one word per 128-byte line.
const ATTACHED: usize = 0;
const PHASE: usize = 128;
const DONE: usize = 256;
const CONTROL_BYTES: usize = 4096;
/// Values of the PHASE word.
const WAIT: u64 = 0;
const RUN: u64 = 1;
const HALT: u64 = 2;

/// The shape of a run and the part a child plays in it: `P,C,producer|consumer,INDEX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crowd {
    pub producers: usize,
    pub consumers: usize,
    pub consumer: bool,
    pub index: usize,
}

impl Crowd {
    /// Parses `P,C,ROLE,INDEX` (what [`Crowd::arg`] writes).
    pub fn parse(s: &str) -> Result<Crowd, String> {
        let parts: Vec<&str> = s.split(',').collect();
        let [p, c, role, i] = parts[..] else {
            return Err(format!("expected P,C,ROLE,INDEX, got {s:?}"));
        };
        let num = |t: &str| t.parse::<usize>().map_err(|_| format!("bad number {t:?}"));
        let consumer = match role {
            "producer" => false,
            "consumer" => true,
            _ => return Err(format!("the role is producer or consumer, not {role:?}")),
        };
        let crowd = Crowd {
            producers: num(p)?,
            consumers: num(c)?,
            consumer,
            index: num(i)?,
        };
        let of = if consumer {
            crowd.consumers
        } else {
            crowd.producers
        };
        if crowd.producers == 0 || crowd.consumers == 0 || crowd.index >= of {
            return Err(format!("no such place in the crowd: {s:?}"));
        }
        Ok(crowd)
    }

    /// The command-line form.
    pub fn arg(&self) -> String {
        let role = if self.consumer {
            "consumer"
        } else {
            "producer"
        };
        format!(
            "{},{},{role},{}",
            self.producers, self.consumers, self.index
        )
    }
}

/// The control block, shared by the parent and its children.
struct Control(SharedMem);

impl Control {
    fn word(&self, off: usize) -> &AtomicU64 {
        debug_assert!(off + 8 <= CONTROL_BYTES && off & 7 == 0);
        // SAFETY: `off` is 8-aligned and inside the mapping, which lives as long as `self`;
        // every process accesses the words atomically only.
        unsafe { &*self.0.ptr().add(off).cast::<AtomicU64>() }
    }

    /// Waits (yielding) until `cond` holds of the word at `off`; `false` after `PATIENCE`.
    fn wait_for(&self, off: usize, cond: impl Fn(u64) -> bool) -> bool {
        let t0 = Instant::now();
        // SYNC(crowd): Acquire pairs with the Release stores and increments of the other
        // processes: what they did before is visible after.
        while !cond(self.word(off).load(Ordering::Acquire)) {
            if t0.elapsed() > PATIENCE {
                return false;
            }
            std::thread::yield_now();
        }
        true
    }
}

/// The sending end of the queue under test.
enum Tx {
    Spsc(spsc::Producer),
    Mpmc(ipcring::mpmc::Producer),
    Broadcast(ipcring::broadcast::Publisher),
}

/// The receiving end.
enum Rx {
    Spsc(spsc::Consumer),
    Mpmc(ipcring::mpmc::Consumer),
    Broadcast(ipcring::broadcast::Subscriber),
}

impl Tx {
    #[inline]
    fn put(&mut self, v: u64) {
        match self {
            Tx::Spsc(t) => t.send_value(&v).expect("ipcring spsc send"),
            Tx::Mpmc(t) => t.send_value(&v).expect("ipcring mpmc send"),
            Tx::Broadcast(t) => t.send_value(&v).expect("ipcring broadcast send"),
        }
    }

    /// Futex wake calls of the whole queue so far.
    fn wakeups(&self) -> u64 {
        match self {
            Tx::Spsc(t) => {
                let s = t.stats();
                s.producer_wakeups + s.consumer_wakeups
            }
            Tx::Mpmc(t) => {
                let s = t.stats();
                s.producer_wakeups + s.consumer_wakeups
            }
            Tx::Broadcast(t) => {
                let s = t.stats();
                s.publisher_wakeups + s.subscriber_wakeups
            }
        }
    }
}

impl Rx {
    #[inline]
    fn take(&mut self) -> u64 {
        match self {
            Rx::Spsc(r) => r.recv_value().expect("ipcring spsc receive"),
            Rx::Mpmc(r) => r.recv_value().expect("ipcring mpmc receive"),
            Rx::Broadcast(r) => r.recv_value().expect("ipcring broadcast receive"),
        }
    }
}

/// The kinds of ring a crowd runs through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Spsc,
    Mpmc,
    Broadcast,
}

fn kind(mech: Mech) -> io::Result<Kind> {
    match mech {
        Mech::RingSpin | Mech::RingDefault | Mech::RingPark => Ok(Kind::Spsc),
        Mech::MpmcSpin | Mech::MpmcDefault => Ok(Kind::Mpmc),
        Mech::BroadcastSpin | Mech::BroadcastDefault => Ok(Kind::Broadcast),
        _ => Err(io::Error::other(format!(
            "{mech:?} is not an ipcring queue"
        ))),
    }
}

fn strategy(mech: Mech) -> WaitStrategy {
    match mech {
        Mech::MpmcSpin | Mech::MpmcDefault => mpmc::strategy(mech),
        Mech::BroadcastSpin | Mech::BroadcastDefault => broadcast::strategy(mech),
        _ => ring::strategy(mech),
    }
}

fn err(e: OpenError) -> io::Error {
    io::Error::other(e)
}

/// Creates the queue `name` for `p` producers and `c` consumers, as producer 0.
fn create(mech: Mech, name: &str, p: usize, c: usize) -> io::Result<Tx> {
    let s = strategy(mech);
    Ok(match kind(mech)? {
        Kind::Mpmc => {
            let b = ipcring::mpmc::Builder::new(name)
                .capacity(MPMC_SLOTS)
                .slot_size(8)
                .producers(p)
                .consumers(c);
            Tx::Mpmc(
                b.populate(true)
                    .wait_strategy(s)
                    .create_producer()
                    .map_err(err)?,
            )
        }
        Kind::Broadcast => {
            let b = ipcring::broadcast::Builder::new(name)
                .capacity(MPMC_SLOTS)
                .slot_size(8)
                .publishers(p)
                .max_subscribers(c);
            Tx::Broadcast(
                b.populate(true)
                    .wait_strategy(s)
                    .create_publisher()
                    .map_err(err)?,
            )
        }
        Kind::Spsc => {
            if (p, c) != (1, 1) {
                return Err(io::Error::other(
                    "an SPSC ring has one producer, one consumer",
                ));
            }
            let b = spsc::Builder::new(name).capacity(SPSC_BYTES);
            Tx::Spsc(
                b.populate(true)
                    .wait_strategy(s)
                    .create_producer()
                    .map_err(err)?,
            )
        }
    })
}

/// The row's name: the mechanism and the shape.
pub fn label(mech: Mech, p: usize, c: usize) -> String {
    format!("{}, {p}P/{c}C", mech.label())
}

/// What the parent needs for one run.
pub struct Run<'a> {
    pub group: &'a str,
    pub mech: Mech,
    pub producers: usize,
    pub consumers: usize,
    pub cpus: Option<(usize, usize)>,
    pub time: Duration,
    /// Makes the queue's name unique.
    pub tag: &'a str,
}

/// One run, as the parent.
pub fn throughput(run: &Run) -> io::Result<Throughput> {
    let (p, c) = (run.producers, run.consumers);
    let control = Control(SharedMem::create(CONTROL_BYTES)?);
    let name = format!("bench-{}", run.tag);
    let (_name, mut tx) = RingName::create(name.clone(), |n| create(run.mech, n, p, c))?;
    let spawn = |consumer: bool, index: usize| {
        child::spawn(&ChildArgs {
            mech: run.mech,
            sink: true,
            size: 8,
            cpu: run.cpus.map(|(a, b)| if consumer { b } else { a }),
            fds: vec![control.0.fd()],
            name: name.clone(),
            id: 0,
            crowd: Some(Crowd {
                producers: p,
                consumers: c,
                consumer,
                index,
            }),
        })
    };
    let mut producers: Vec<Running> = (1..p).map(|i| spawn(false, i)).collect::<Result<_, _>>()?;
    let consumers: Vec<Running> = (0..c).map(|i| spawn(true, i)).collect::<Result<_, _>>()?;
    let children = (p - 1 + c) as u64;
    if !control.wait_for(ATTACHED, |n| n == children) {
        return Err(io::Error::other("the crowd's children did not attach"));
    }
    let wakes0 = tx.wakeups();
    let sleeps0 = voluntary_switches(libc::RUSAGE_THREAD);
    let start = Instant::now();
    // SYNC(crowd): Release pairs with the producers' Acquire loads of the phase.
    control.word(PHASE).store(RUN, Ordering::Release);
    let mut seq = 0;
    while start.elapsed() < run.time {
        for _ in 0..BATCH {
            seq += 1;
            tx.put(seq);
        }
    }
    // Wake-ups while streaming, as in the other throughput rows.
    let wakes1 = tx.wakeups();
    // SYNC(crowd): as above.
    control.word(PHASE).store(HALT, Ordering::Release);
    for _ in 0..stops(run.mech, c)? {
        tx.put(STOP);
    }
    if !control.wait_for(DONE, |n| n == c as u64) {
        return Err(io::Error::other("the crowd's consumers did not finish"));
    }
    let secs = start.elapsed().as_secs_f64();
    let mut sleeps = voluntary_switches(libc::RUSAGE_THREAD) - sleeps0;
    // Fan-out: every subscriber of a topic receives every message.
    let copies = if kind(run.mech)? == Kind::Broadcast {
        c as u64
    } else {
        1
    };
    // Producers report [sleeps, sent]; consumers [sleeps, received, sum of numbers].
    let (mut sent, mut expected_sum) = (seq, triangle(seq));
    for r in producers.drain(..) {
        let [s, n] = report(r)?;
        sleeps += s;
        sent += n;
        expected_sum = expected_sum.wrapping_add(triangle(n));
    }
    let (mut received, mut sum) = (0u64, 0u64);
    for r in consumers {
        let [s, n, total] = report(r)?;
        sleeps += s;
        received += n;
        sum = sum.wrapping_add(total);
    }
    let (sent_all, sum_all) = (sent * copies, expected_sum.wrapping_mul(copies));
    if (received, sum) != (sent_all, sum_all) {
        return Err(io::Error::other(format!(
            "{:?} {p}P/{c}C: received {received} messages (sum {sum}), sent {sent} (sum \
             {expected_sum})",
            run.mech
        )));
    }
    let per_m = |n: u64| n as f64 * 1e6 / sent as f64;
    Ok(Throughput {
        group: run.group.to_owned(),
        mech: run.mech,
        name: label(run.mech, p, c),
        size: 8,
        producers: p,
        consumers: c,
        messages: sent,
        secs,
        ratio: 1.0,
        ratio_to_reference: None,
        wakes_per_m: Some(per_m(wakes1 - wakes0)),
        sleeps_per_m: Some(per_m(sleeps)),
    })
}

/// How many end markers each producer sends, after its last message. A consumer ends after
/// as many markers as there are producers: a work queue gets one per consumer from each
/// producer (P x C in all, each taken once, every message before its producer's markers);
/// a topic one from each producer, which every subscriber receives (more would let a
/// subscriber end on one producer's markers before another producer's last messages).
fn stops(mech: Mech, consumers: usize) -> io::Result<usize> {
    Ok(if kind(mech)? == Kind::Broadcast {
        1
    } else {
        consumers
    })
}

/// 1 + 2 + ... + n, wrapping.
fn triangle(n: u64) -> u64 {
    (u128::from(n) * u128::from(n + 1) / 2) as u64
}

/// The numbers a child printed when it finished.
fn report<const N: usize>(r: Running) -> io::Result<[u64; N]> {
    let words = r.finish_words();
    words
        .try_into()
        .map_err(|w| io::Error::other(format!("a crowd child reported {w:?}")))
}

/// A child's part: opens the queue, counts itself in, streams or drains, and prints its
/// report (see [`throughput`]).
pub fn child(args: &ChildArgs, crowd: Crowd) -> io::Result<()> {
    let fd = *args
        .fds
        .first()
        .ok_or_else(|| io::Error::other("no control block given"))?;
    // SAFETY: the parent passed this descriptor to us alone; we own it from now on.
    let control = Control(unsafe { SharedMem::from_fd(fd, CONTROL_BYTES) }?);
    let s = strategy(args.mech);
    let kind = kind(args.mech)?;
    if crowd.consumer {
        let mut rx = match kind {
            Kind::Mpmc => {
                let b = ipcring::mpmc::Builder::new(&args.name).populate(true);
                Rx::Mpmc(b.wait_strategy(s).open_consumer().map_err(err)?)
            }
            Kind::Broadcast => {
                let b = ipcring::broadcast::Builder::new(&args.name).populate(true);
                Rx::Broadcast(b.wait_strategy(s).open_subscriber().map_err(err)?)
            }
            Kind::Spsc => {
                let b = spsc::Builder::new(&args.name).populate(true);
                Rx::Spsc(b.wait_strategy(s).open_consumer().map_err(err)?)
            }
        };
        // SYNC(crowd): Release pairs with the parent's Acquire wait.
        control.word(ATTACHED).fetch_add(1, Ordering::Release);
        let report = drain(&mut rx, crowd, kind == Kind::Broadcast)?;
        // SYNC(crowd): as above.
        control.word(DONE).fetch_add(1, Ordering::Release);
        println!("{} {} {}", report[0], report[1], report[2]);
    } else {
        let mut tx = match kind {
            Kind::Mpmc => {
                let b = ipcring::mpmc::Builder::new(&args.name).populate(true);
                Tx::Mpmc(b.wait_strategy(s).open_producer().map_err(err)?)
            }
            Kind::Broadcast => {
                let b = ipcring::broadcast::Builder::new(&args.name).populate(true);
                Tx::Broadcast(b.wait_strategy(s).open_publisher().map_err(err)?)
            }
            Kind::Spsc => return Err(io::Error::other("an SPSC ring has one producer")),
        };
        control.word(ATTACHED).fetch_add(1, Ordering::Release);
        if !control.wait_for(PHASE, |v| v != WAIT) {
            return Err(io::Error::other("the parent did not start the run"));
        }
        let sleeps0 = voluntary_switches(libc::RUSAGE_SELF);
        let tag = (crowd.index as u64) << SEQ_BITS;
        let mut seq = 0;
        // SYNC(crowd): Acquire pairs with the parent's Release store of HALT.
        while control.word(PHASE).load(Ordering::Acquire) == RUN {
            for _ in 0..BATCH {
                seq += 1;
                tx.put(tag | seq);
            }
        }
        for _ in 0..stops(args.mech, crowd.consumers)? {
            tx.put(STOP);
        }
        println!("{} {seq}", voluntary_switches(libc::RUSAGE_SELF) - sleeps0);
    }
    Ok(())
}

/// A consumer's loop: until one marker per producer; returns [sleeps since the first
/// message, messages, sum of their numbers]. With `every` (a topic's subscriber) it
/// receives every producer's every message.
fn drain(rx: &mut Rx, crowd: Crowd, every: bool) -> io::Result<[u64; 3]> {
    let mut last = vec![0u64; crowd.producers];
    let (mut ended, mut count, mut sum) = (0, 0u64, 0u64);
    let mut sleeps0 = None;
    while ended < crowd.producers {
        let v = rx.take();
        sleeps0.get_or_insert_with(|| voluntary_switches(libc::RUSAGE_SELF));
        if v & STOP != 0 {
            ended += 1;
            continue;
        }
        let (from, seq) = ((v >> SEQ_BITS) as usize, v & SEQ_MASK);
        let in_order = match last.get(from) {
            Some(&l) if crowd.consumers == 1 || every => seq == l + 1,
            Some(&l) => seq > l,
            None => false,
        };
        if !in_order {
            return Err(io::Error::other(format!(
                "consumer {}: message {seq} of producer {from} after {:?}",
                crowd.index,
                last.get(from)
            )));
        }
        last[from] = seq;
        count += 1;
        sum = sum.wrapping_add(seq);
    }
    let sleeps = voluntary_switches(libc::RUSAGE_SELF) - sleeps0.unwrap_or(0);
    Ok([sleeps, count, sum])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_in_the_crowd_parses_back() {
        let c = Crowd {
            producers: 2,
            consumers: 3,
            consumer: true,
            index: 2,
        };
        assert_eq!(c.arg(), "2,3,consumer,2");
        assert_eq!(Crowd::parse(&c.arg()), Ok(c));
    }

    #[test]
    fn places_outside_the_crowd_are_refused() {
        assert!(Crowd::parse("2,2,consumer,2").is_err());
        assert!(Crowd::parse("0,2,producer,0").is_err());
        assert!(Crowd::parse("2,2,reader,0").unwrap_err().contains("role"));
        assert!(Crowd::parse("2,2,producer").unwrap_err().contains("P,C"));
    }

    #[test]
    fn triangle_numbers_are_the_sums_of_sequences() {
        assert_eq!(triangle(0), 0);
        assert_eq!(triangle(4), 10);
        assert_eq!(triangle(1 << 32), (1 << 63) + (1 << 31));
    }
}
