//! What huge pages do for a 1 GiB ring, in one run: the same rings in a memfd of base
//! pages (4 KiB) and in a memfd of huge pages (`RingFd::with_huge_pages`, 2 MiB), both
//! mapped with `populate` (no page fault is timed):
//!
//! - **stream**: an SPSC ring of 1 GiB, one thread sending and receiving 64-byte and
//!   4 KiB messages through a whole lap of it: every page is touched once a lap, as a
//!   ring with a slow reader or a large backlog does;
//! - **random**: a blackboard of 4096 entries of 256 KiB (1 GiB), `get` of a 64-byte
//!   value from entries in a random order: every read lands on another page, as readers
//!   of a large table of latest values do. With base pages the 1 GiB span needs 262 144
//!   TLB entries; with huge pages 512, which the second-level TLB holds.
//!
//! Each row is the median of `RUNS` interleaved runs, in ns per message or read, with
//! the ratio base / huge. The rings are made one at a time: 520 free huge pages suffice
//! (`echo 600 > /proc/sys/vm/nr_hugepages`). `cargo bench --bench huge_pages [-- RUNS]`

use ipcring::{blackboard, spsc, OpenError, RingFd};
use std::time::Instant;

const GIB: usize = 1 << 30;
const ENTRIES: usize = 4096;
const ENTRY_SIZE: usize = GIB / ENTRIES;
const READS: usize = 4_000_000;

/// A memfd of base or huge pages.
fn memfd(huge: bool) -> Result<RingFd, OpenError> {
    if huge {
        RingFd::with_huge_pages("bench-huge")
    } else {
        RingFd::new("bench-base")
    }
}

/// ns per message of one lap of a 1 GiB SPSC ring with messages of `len` bytes.
fn stream(huge: bool, len: usize) -> Result<f64, OpenError> {
    let ring = memfd(huge)?;
    let mut tx = spsc::Builder::fd(&ring)
        .capacity(GIB)
        .populate(true)
        .create_producer()?;
    let mut rx = spsc::Builder::fd(&ring).populate(true).open_consumer()?;
    let msg = vec![0x5au8; len];
    let mut buf = Vec::with_capacity(len);
    // Records of a header and the payload, padded to 8: a lap is this many messages.
    let count = GIB / (len + 8).next_multiple_of(8);
    // Fill a quarter ahead, so that the reader trails the writer by 256 MiB: both walk
    // pages that the TLB does not hold from the other's visit.
    let ahead = count / 4;
    for _ in 0..ahead {
        tx.try_send(&msg).expect("room");
    }
    let start = Instant::now();
    for _ in ahead..count {
        tx.try_send(&msg).expect("room");
        rx.try_recv_into(&mut buf).expect("a message");
    }
    let ns = start.elapsed().as_nanos() as f64 / (count - ahead) as f64;
    Ok(ns)
}

/// ns per `get` of a 64-byte value from a random entry of a 1 GiB blackboard.
fn random(huge: bool) -> Result<f64, OpenError> {
    let ring = memfd(huge)?;
    let mut w = blackboard::Builder::fd(&ring)
        .entries(ENTRIES, ENTRY_SIZE)
        .populate(true)
        .create_writer()?;
    let mut r = blackboard::Builder::fd(&ring)
        .populate(true)
        .open_reader()?;
    for key in 0..ENTRIES {
        w.set(key, &[key as u8; 64]).expect("set");
    }
    let mut buf = Vec::with_capacity(64);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let start = Instant::now();
    for _ in 0..READS {
        // xorshift: a key in an order that no prefetcher follows.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r.get_into((x % ENTRIES as u64) as usize, &mut buf)
            .expect("get");
    }
    Ok(start.elapsed().as_nanos() as f64 / READS as f64)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    type Case = (&'static str, fn(bool) -> Result<f64, OpenError>);
    let cases: [Case; 3] = [
        ("stream, 64-byte messages", |h| stream(h, 64)),
        ("stream, 4 KiB messages", |h| stream(h, 4096)),
        ("random get, 4096 entries", random),
    ];
    println!("1 GiB rings, base pages vs huge pages: median of {runs} runs, ns per op");
    println!(
        "{:<28} {:>10} {:>10} {:>11}",
        "case", "4 KiB", "2 MiB", "base/huge"
    );
    for (what, case) in cases {
        let (mut base, mut huge) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            base.push(case(false).expect("a ring on base pages"));
            match case(true) {
                Ok(ns) => huge.push(ns),
                Err(e @ OpenError::NoHugePages { .. }) => {
                    println!("{e}: reserve 520 or more (echo 600 > /proc/sys/vm/nr_hugepages)");
                    return;
                }
                Err(e) => panic!("a ring on huge pages: {e}"),
            }
        }
        let (b, h) = (median(base), median(huge));
        println!("{what:<28} {b:>10.1} {h:>10.1} {:>10.2}x", b / h);
    }
}
