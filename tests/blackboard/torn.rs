//! No torn value, across real processes: writer processes set entries at full speed with
//! self-checking values (see `stamps.rs`) while reader processes read them with every
//! kind of read; every value read is whole, versions never go back, and with one writer
//! each value's version is exactly its count of sets.

use crate::common::{say, spawn, watchdog, RingGuard, XorShift};
use crate::stamps::{
    board, checked_typed, checked_value, parts, stamp, typed, value, value_len, Typed, ENTRIES,
    TYPED,
};
use ipcring::blackboard::{GetError, Reader, SetError, Writer};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(90);
const SAID: Duration = Duration::from_secs(30);

/// Sets entry `key` of `w` to the value of `stamp`, one way or another (`how`): a copy,
/// or in place; the typed entry as a value or as bytes.
fn set(w: &mut Writer, key: usize, stamp: u64, how: u64) -> Result<u64, SetError> {
    if key == TYPED {
        let t = typed(stamp);
        return match how % 2 {
            0 => w.set_value(key, &t),
            _ => w.set(key, bytemuck::bytes_of(&t)),
        };
    }
    let v = value(stamp);
    match how % 2 {
        0 => w.set(key, &v),
        _ => w.set_with(key, value_len(stamp), |room| room.copy_from_slice(&v)),
    }
}

/// Child: writer `id` (argument `id seconds single|multi`) sets every entry once, says `ready`, then
/// sets entries in turn at full speed for the seconds given; says how many sets of each
/// entry it made (`sets n0 n1 ...`) and how often another writer kept it waiting `Busy`.
pub fn writer(ring: &str, arg: &str) {
    let mut it = arg.split_whitespace();
    let id: u64 = it.next().expect("id").parse().expect("id");
    let secs: f64 = it.next().expect("seconds").parse().expect("seconds");
    let mut w = Writer::open(ring).expect("open a writer");
    let single = it.next() == Some("single");
    let mut sets = [0u64; ENTRIES];
    let mut last = [0u64; ENTRIES];
    let mut busy = 0u64;
    let mut rng = XorShift::new(id);
    let mut one = |w: &mut Writer, key: usize, sets: &mut [u64; ENTRIES]| match set(
        w,
        key,
        stamp(id, key, sets[key]),
        rng.next(),
    ) {
        Ok(v) => {
            assert!(
                v > last[key],
                "entry {key}: version {v} after {}",
                last[key]
            );
            if single {
                assert_eq!(v, sets[key] + 1, "entry {key}: one writer's version");
            }
            last[key] = v;
            sets[key] += 1;
        }
        Err(SetError::Busy { .. }) => busy += 1,
        Err(e) => panic!("set entry {key}: {e}"),
    };
    for key in 0..ENTRIES {
        while sets[key] == 0 {
            one(&mut w, key, &mut sets);
        }
    }
    say("ready", "");
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let mut i = 0usize;
    while Instant::now() < until {
        for _ in 0..64 {
            one(&mut w, i % ENTRIES, &mut sets);
            i += 1;
        }
    }
    let counts: Vec<String> = sets.iter().map(u64::to_string).collect();
    say("sets", format!("{} busy {busy}", counts.join(" ")));
}

/// What a reader found in one read of entry `key`: its stamp and version.
fn read_one(
    r: &mut Reader,
    key: usize,
    how: u64,
    buf: &mut Vec<u8>,
) -> Result<(u64, u64), GetError> {
    match (key == TYPED, how % 3) {
        (true, 0) => r.get::<Typed>(key).map(|(t, v)| (checked_typed(t), v)),
        (true, _) => {
            let v = if how % 3 == 1 {
                r.get_into(key, buf)?
            } else {
                r.try_get_into(key, buf)?
            };
            assert_eq!(buf.len(), 32, "typed entry as bytes");
            Ok((checked_typed(bytemuck::pod_read_unaligned(buf)), v))
        }
        (false, 0 | 1) => {
            let v = r.get_into(key, buf)?;
            Ok((checked_value(key, buf), v))
        }
        (false, _) => {
            let v = r.try_get_into(key, buf)?;
            Ok((checked_value(key, buf), v))
        }
    }
}

/// Child: reads every entry for the seconds given (argument `single|multi seconds seed`)
/// with `get_into`, `try_get_into` and `get::<T>`, checking every value and that versions
/// never go back (with one writer: that each version is the value's count of sets + 1);
/// says `read OK BUSY NEWEST`: reads that returned a value, non-blocking reads that found
/// the entry being written, and the highest version seen.
pub fn reader(ring: &str, arg: &str) {
    let mut it = arg.split_whitespace();
    let single = it.next() == Some("single");
    let secs: f64 = it.next().expect("seconds").parse().expect("seconds");
    let mut rng = XorShift::new(it.next().expect("seed").parse().expect("seed"));
    let mut r = Reader::open(ring).expect("open a reader");
    let mut buf = Vec::new();
    let mut versions = [0u64; ENTRIES];
    let mut counts = [0u64; ENTRIES];
    let (mut ok, mut busy) = (0u64, 0u64);
    let until = Instant::now() + Duration::from_secs_f64(secs);
    while Instant::now() < until {
        for _ in 0..32 {
            let key = rng.below(ENTRIES as u64) as usize;
            match read_one(&mut r, key, rng.next(), &mut buf) {
                Ok((stamp, v)) => {
                    assert!(
                        v >= versions[key],
                        "entry {key}: version {v} after {}",
                        versions[key]
                    );
                    let (_, _, n) = parts(stamp);
                    if single {
                        assert_eq!(v, n + 1, "entry {key}: version of the value's set");
                        assert!(n >= counts[key], "entry {key}: an older value came back");
                        counts[key] = n;
                    }
                    versions[key] = v;
                    ok += 1;
                }
                Err(GetError::Busy { .. }) => busy += 1,
                Err(e) => panic!("read entry {key}: {e}"),
            }
        }
    }
    let newest = versions.iter().max().copied().unwrap_or(0);
    say("read", format!("{ok} {busy} {newest}"));
}

/// Numbers of a child's line.
fn numbers(line: &str) -> Vec<u64> {
    line.split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// `writers` writer processes and three reader processes on one board; then the final
/// versions are the sums of the writers' sets.
fn writers_and_readers(tag: &str, writers: u64) {
    let _w = watchdog(tag, LIMIT);
    let ring = RingGuard::new(tag);
    board(ring.name(), writers as usize)
        .create_detached()
        .expect("create");
    let mode = if writers == 1 { "single" } else { "multi" };
    let ws: Vec<_> = (0..writers)
        .map(|id| spawn("writer", ring.name(), &format!("{id} 2.5 {mode}")))
        .collect();
    for w in &ws {
        w.expect("ready", SAID);
    }
    let rs: Vec<_> = (0..3)
        .map(|i| spawn("reader", ring.name(), &format!("{mode} 1.5 {}", 7 + i)))
        .collect();
    for r in rs {
        let got = numbers(&r.expect("read", SAID));
        eprintln!("{tag}: reader: {got:?} (values read, busy, newest version)");
        assert!(got[0] > 100, "{tag}: a reader read only {} values", got[0]);
        assert!(got[2] > 1, "{tag}: a reader saw no value change");
        r.wait_success(SAID);
    }
    let mut total = [0u64; ENTRIES];
    for w in ws {
        let line = w.expect("sets", SAID);
        eprintln!("{tag}: writer: {line} (sets of each entry, busy)");
        for (t, n) in total.iter_mut().zip(numbers(&line)) {
            *t += n;
        }
        w.wait_success(SAID);
    }
    let r = Reader::open(ring.name()).expect("open a reader");
    for (key, sets) in total.into_iter().enumerate() {
        assert_eq!(
            r.version(key),
            Ok(sets),
            "{tag}: entry {key}: one version a set"
        );
    }
}

#[test]
fn readers_never_see_a_torn_value_of_one_writer() {
    writers_and_readers("bb-torn-1", 1);
}

#[test]
fn four_writers_on_the_same_entries_never_tear_a_value_or_lose_a_set() {
    writers_and_readers("bb-torn-4", 4);
}
