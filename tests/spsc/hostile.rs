//! Peers that cannot be trusted: a writer scribbling over a live ring, and users who may
//! or may not open a ring by its permissions.

use crate::common::users::{as_nobody, can_switch_users};
use crate::common::{check, message, say, spawn, spawn_with, watchdog, RingGuard, Tally, XorShift};
use ipcring::spsc::{Builder, Consumer, Producer};
use ipcring::{OpenError, RecvError, SendError};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

/// Size of the SPSC header before the data area: 5 header lines, 2 role slots of 2.
const HEADER: u64 = 9 * 128;

/// Produces until `until` with deadlines on every call; after `Corrupted` or
/// `Disconnected`, drops the producer and attaches a new one (which scans the damaged
/// ring for where to continue).
fn produce_under_fire(ring: &str, mut tx: Option<Producer>, until: Instant) -> Tally {
    let mut rng = XorShift::new(11);
    let mut tally = Tally::default();
    let short = Duration::from_millis(20);
    while Instant::now() < until {
        let Some(p) = tx.as_mut() else {
            let r = Producer::open(ring);
            tally.add_as("open:", &r);
            tx = r.ok();
            continue;
        };
        // Sometimes too large, on purpose.
        let len = rng.below(p.max_message() as u64 + 2) as usize;
        let msg = message(rng.next(), len);
        let r = match rng.below(4) {
            0 => p.send_timeout(&msg, short),
            1 => p.try_send(&msg),
            2 => p.try_reserve(len).map(|mut g| {
                g.copy_from_slice(&msg);
                g.commit(len);
            }),
            _ => p.try_send_batch([&msg[..], &msg[..len / 2]]).map(drop),
        };
        tally.add(&r);
        if matches!(r, Err(SendError::Corrupted | SendError::Disconnected)) {
            tx = None;
        }
    }
    tally
}

/// Consumes until `until` with deadlines on every call, touching every byte it is
/// handed (a window out of bounds would fault); after `Corrupted`, drops the consumer and
/// attaches a new one.
fn consume_under_fire(ring: &str, mut rx: Option<Consumer>, until: Instant) -> Tally {
    let mut rng = XorShift::new(12);
    let mut tally = Tally::default();
    let mut buf = Vec::new();
    let short = Duration::from_millis(20);
    let sum = |b: &[u8]| b.iter().map(|&x| u64::from(x)).sum::<u64>();
    let mut total = 0u64;
    while Instant::now() < until {
        let Some(c) = rx.as_mut() else {
            let r = Consumer::open(ring);
            tally.add_as("open:", &r);
            rx = r.ok();
            continue;
        };
        let r = match rng.below(5) {
            0 => c.recv_timeout_into(&mut buf, short).map(drop),
            1 => c.try_recv_into(&mut buf).map(drop),
            2 => c
                .try_read()
                .map(|g| total = total.wrapping_add(sum(&g.to_vec()))),
            3 => c
                .read_timeout(short)
                .map(|g| total = total.wrapping_add(sum(&g.to_vec()))),
            _ => c.try_recv_value::<u64>().map(drop),
        };
        total = total.wrapping_add(sum(&buf));
        tally.add(&r);
        if r == Err(RecvError::Corrupted) {
            rx = None;
        }
    }
    println!("bytes summed {total}");
    tally
}

/// Child: creates the ring, then produces and consumes in two threads for `arg`
/// milliseconds, with deadlines on every call, while the parent scribbles over the ring.
pub fn hostile_pair(ring: &str, arg: &str) {
    let run = Duration::from_millis(arg.parse().expect("milliseconds"));
    let tx = Builder::new(ring)
        .capacity(1 << 14)
        .create_producer()
        .expect("create the producer");
    let rx = Consumer::open(ring).expect("open the consumer");
    say("ready", "");
    let until = Instant::now() + run;
    let name = ring.to_owned();
    let consumer = std::thread::spawn(move || consume_under_fire(&name, Some(rx), until));
    let sent = produce_under_fire(ring, Some(tx), until);
    let received = consumer.join().expect("the consumer thread panicked");
    say(
        "outcomes",
        format!("producer {:?} consumer {:?}", sent.0, received.0),
    );
}

/// Bytes that do damage: random, zeros, all ones, or a plausible record header or
/// position (a multiple of 8 near the ring's positions, with or without the VALID bit).
fn scribble(rng: &mut XorShift) -> Vec<u8> {
    let len = 1 + rng.below(16) as usize;
    match rng.below(4) {
        0 => (0..len).map(|_| rng.next() as u8).collect(),
        1 => vec![0; len],
        2 => vec![0xff; len],
        _ => {
            let pos = rng.below(1 << 16) & !7;
            let word = if rng.below(2) == 0 {
                pos
            } else {
                // A record header word: position stamp, VALID bit, a length.
                ((pos >> 3) << 32) | (1 << 31) | rng.below(1 << 13)
            };
            word.to_le_bytes().to_vec()
        }
    }
}

/// Where a round of scribbling aims.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// The data area: record headers and payload.
    Data,
    /// The header lines after the identity line: roles, positions, counters, futexes.
    Lines,
    /// The whole segment, identity line included.
    Everywhere,
}

/// Scribbles over the ring of a live `hostile-pair` child for `run`, one write at a time
/// with short pauses, so that the pair also gets work done between two hits.
fn scribble_round(target: Target, run: Duration) {
    let ring = RingGuard::new("hostile");
    let child = spawn("hostile-pair", ring.name(), &run.as_millis().to_string());
    child.expect("ready", WAIT);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(ring.path())
        .expect("open the segment's file");
    let size = file.metadata().expect("stat").len();
    let mut rng = XorShift::new(13 + target as u64);
    let mut writes = 0u64;
    let mut opens = Tally::default();
    let until = Instant::now() + run;
    while Instant::now() < until {
        let bytes = scribble(&mut rng);
        let off = match target {
            Target::Data => HEADER + rng.below(size - HEADER),
            Target::Lines => 128 + rng.below(HEADER - 128),
            Target::Everywhere => rng.below(size),
        };
        let off = if bytes.len() == 8 { off & !7 } else { off };
        let end = (off + bytes.len() as u64).min(size);
        file.write_all_at(&bytes[..(end - off) as usize], off)
            .expect("scribble");
        writes += 1;
        if writes % 16 == 0 {
            // Opening the damaged ring gives an error (the role is held, or the identity
            // line is damaged) or a handle, never a crash.
            opens.add(&Consumer::open(ring.name()));
            opens.add(&Producer::open(ring.name()));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let outcomes = child.expect("outcomes", WAIT);
    child.wait_success(WAIT);
    println!(
        "{target:?}: {writes} scribbles; opens {:?}; {outcomes}",
        opens.0
    );
}

#[test]
fn a_hostile_writer_over_a_live_ring_causes_no_crash_panic_or_hang() {
    let _w = watchdog("hostile writer", Duration::from_secs(60));
    for target in [Target::Data, Target::Lines, Target::Everywhere] {
        scribble_round(target, Duration::from_millis(500));
    }
}

/// Child (not root): `denied` checks that every way in is refused; `initialising` that
/// an object of mode 0200 is still initialising; `granted` receives message 0 of 50 bytes.
pub fn foreign_opener(ring: &str, arg: &str) {
    assert_ne!(
        rustix::process::getuid().as_raw(),
        0,
        "the child must not be root"
    );
    match arg {
        "denied" => {
            let attempts = [
                Producer::open(ring).map(drop),
                Consumer::open(ring).map(drop),
                Builder::new(ring).open_or_create_consumer().map(drop),
                ipcring::unlink(ring),
            ];
            for r in attempts {
                assert!(
                    matches!(r, Err(OpenError::PermissionDenied { .. })),
                    "{r:?}"
                );
            }
            say("checked", "");
        }
        "initialising" => {
            // Mode 0200 keeps other users out too, but says "not ready yet".
            let r = Consumer::open(ring).map(drop);
            assert!(
                matches!(r, Err(OpenError::StillInitializing { .. })),
                "{r:?}"
            );
            say("checked", "");
        }
        "granted" => {
            let mut rx = Consumer::open(ring).expect("open the consumer as another user");
            say("attached", "");
            let mut buf = Vec::new();
            rx.recv_into(&mut buf).expect("recv");
            check(0, 50, &buf);
            assert_eq!(rx.try_recv_into(&mut buf), Err(RecvError::Empty));
            say("got", 0);
        }
        other => panic!("unknown mode {other:?}"),
    }
}

#[test]
fn another_user_is_denied_a_0600_ring() {
    let _w = watchdog("0600 ring, other user", Duration::from_secs(60));
    if !can_switch_users() {
        return;
    }
    let ring = RingGuard::new("perm-0600");
    let _tx = Producer::create(ring.name(), 4096).expect("create the producer");
    let mode = std::fs::metadata(ring.path())
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let child = spawn_with("foreign-opener", ring.name(), "denied", as_nobody);
    child.expect("checked", WAIT);
    child.wait_success(WAIT);
}

#[test]
fn another_user_waits_for_a_ring_still_initialising_then_gives_up() {
    let _w = watchdog("0200 object, other user", Duration::from_secs(60));
    if !can_switch_users() {
        return;
    }
    let ring = RingGuard::new("perm-0200");
    // What a creator leaves while it initialises: mode 0200, nothing written yet.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o200)
        .open(ring.path())
        .expect("create the object");
    f.set_permissions(std::fs::Permissions::from_mode(0o200))
        .expect("chmod");
    let child = spawn_with("foreign-opener", ring.name(), "initialising", as_nobody);
    child.expect("checked", WAIT);
    child.wait_success(WAIT);
}

#[test]
fn another_user_of_the_group_of_a_0660_ring_can_consume() {
    let _w = watchdog("0660 ring, same group", Duration::from_secs(60));
    if !can_switch_users() {
        return;
    }
    let ring = RingGuard::new("perm-0660");
    let mut tx = Builder::new(ring.name())
        .capacity(4096)
        .mode(0o660)
        .create_producer()
        .expect("create the producer");
    std::os::unix::fs::chown(ring.path(), None, Some(65534)).expect("chgrp of the segment");
    let meta = std::fs::metadata(ring.path()).expect("stat");
    assert_eq!(
        (meta.permissions().mode() & 0o777, meta.gid()),
        (0o660, 65534)
    );
    let child = spawn_with("foreign-opener", ring.name(), "granted", as_nobody);
    child.expect("attached", WAIT);
    tx.send(&message(0, 50)).expect("send");
    assert_eq!(child.expect("got", WAIT), "0");
    child.wait_success(WAIT);
    assert_eq!(tx.stats().received, 1);
}

/// Blocking calls without a deadline, on both sides, under fire: each comes back.
#[test]
fn blocking_calls_without_a_deadline_come_back_under_a_hostile_writer() {
    let _w = watchdog("deadline-less calls under fire", Duration::from_secs(120));
    let targets = [
        ("data", HEADER..u64::MAX),
        ("positions and wait lines", 2 * 128..5 * 128),
        ("role slots", 5 * 128..HEADER),
    ];
    for (target, range) in targets {
        println!("{target}:");
        let ring = RingGuard::new("spsc-fire");
        drop(
            Builder::new(ring.name())
                .capacity(4096)
                .create_consumer()
                .expect("create"),
        );
        crate::common::scribbler::blocking_calls_under_fire!(
            &ring,
            range,
            200,
            Duration::from_millis(500),
            20_000,
            Producer::open,
            Consumer::open
        );
    }
}
