//! `SyncPolicy`: a sending handle that writes its file-backed ring back by itself. The
//! syncs are counted by the handle's `sync_stats`; that a sync really wrote the ring back
//! is seen in the page cache: a probe maps the file read-only and reads the dirty pages
//! of its mapping in `/proc/self/smaps` (a page cache page counts there as dirty until it
//! has been written back, whichever mapping dirtied it).
//!
//! A failed sync cannot be provoked here (it takes a failing disk, such as a device-mapper
//! `error` target); how a failure is kept and reported is tested in the library's unit
//! tests, with a store that fails.

use crate::common::{watchdog, TestDir};
use ipcring::{blackboard, broadcast, mpmc, spsc, SyncPolicy};
use std::path::Path;
use std::time::{Duration, Instant};

/// Dirty pages of the file at `path` in the page cache, or `None` where writing back
/// means nothing (tmpfs: pages stay dirty, there is nowhere to write them).
fn dirty_pages(path: &Path) -> Option<usize> {
    let file = std::fs::File::open(path).expect("open the ring's file");
    let fs = rustix::fs::fstatfs(&file).expect("statfs");
    if fs.f_type as i64 == 0x0102_1994 {
        return None; // TMPFS_MAGIC
    }
    let len = file.metadata().expect("metadata").len() as usize;
    let page = rustix::param::page_size();
    // SAFETY: a fresh read-only shared mapping at an address the kernel chooses, read
    // with volatile byte loads only and unmapped below; the ring's writers never shrink
    // the file.
    let base = unsafe {
        rustix::mm::mmap(
            core::ptr::null_mut(),
            len,
            rustix::mm::ProtFlags::READ,
            rustix::mm::MapFlags::SHARED,
            &file,
            0,
        )
    }
    .expect("map the file");
    for off in (0..len).step_by(page) {
        // SAFETY: `off < len`, inside the mapping; faulting each page in makes it count.
        unsafe { core::ptr::read_volatile(base.cast::<u8>().add(off)) };
    }
    let smaps = std::fs::read_to_string("/proc/self/smaps").expect("smaps");
    // SAFETY: the mapping made above, which nothing else uses.
    unsafe { rustix::mm::munmap(base, len) }.expect("unmap");
    let start = format!("{:x}-", base as usize);
    let mut kb = None;
    let mut inside = false;
    for line in smaps.lines() {
        // A mapping's line starts with its range; its fields with `Name:`.
        let first = line.split_whitespace().next().unwrap_or("");
        if !first.ends_with(':') {
            inside = first.starts_with(&start);
            continue;
        }
        if !inside {
            continue;
        }
        for field in ["Shared_Dirty:", "Private_Dirty:"] {
            if let Some(rest) = line.strip_prefix(field) {
                let n: usize = rest
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .expect("kB");
                *kb.get_or_insert(0) += n;
            }
        }
    }
    Some(kb.expect("the probe's mapping in smaps") * 1024 / page)
}

/// Waits until `f` holds, at most `within`; whether it did.
fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn every_n_syncs_at_exactly_every_nth_commit_and_leaves_the_file_clean() {
    let _w = watchdog("every n", Duration::from_secs(60));
    let dir = TestDir::new("sync-every");
    let path = dir.join("every.ring");
    let mut tx = spsc::Builder::at(&path)
        .capacity(1 << 16)
        .sync_policy(SyncPolicy::Every(3))
        .create_producer()
        .expect("create");
    assert_eq!(tx.sync_policy(), SyncPolicy::Every(3));
    for k in 1..=9u64 {
        tx.send(&[k as u8; 64]).expect("send");
        assert_eq!(tx.sync_stats().done, k / 3, "after commit {k}");
        if let Some(dirty) = dirty_pages(&path) {
            if k % 3 == 0 {
                assert_eq!(dirty, 0, "the sync of commit {k} wrote everything back");
            } else {
                assert!(dirty > 0, "commit {k} is not synced yet");
            }
        }
    }
    assert_eq!(tx.sync_stats().failed, 0);
    assert!(tx.take_sync_error().is_none());
}

#[test]
fn every_n_counts_each_way_of_committing_a_message() {
    let dir = TestDir::new("sync-ways");
    let path = dir.join("ways.ring");
    let mut tx = spsc::Builder::at(&path)
        .capacity(1 << 16)
        .sync_policy(SyncPolicy::Every(2))
        .create_producer()
        .expect("create");
    let done = |tx: &spsc::Producer| tx.sync_stats().done;
    tx.send(b"a").expect("send");
    tx.try_send(b"b").expect("try_send");
    assert_eq!(done(&tx), 1);
    tx.send_timeout(b"c", Duration::from_secs(1))
        .expect("send_timeout");
    tx.send_value(&7u64).expect("send_value");
    assert_eq!(done(&tx), 2);
    let mut g = tx.reserve(16).expect("reserve");
    g.write_at(0, b"in place");
    g.commit(8);
    assert_eq!(done(&tx), 2);
    // An abandoned grant commits nothing.
    drop(tx.try_reserve(16).expect("try_reserve"));
    assert_eq!(done(&tx), 2);
    tx.try_send_value(&8u64).expect("try_send_value");
    assert_eq!(done(&tx), 3);
    // A batch that crosses the n-th message syncs once, after it, and counts anew.
    let msgs: [&[u8]; 3] = [b"x", b"y", b"z"];
    assert_eq!(tx.try_send_batch(msgs), Ok(3));
    assert_eq!(done(&tx), 4);
    tx.send(b"d").expect("send");
    assert_eq!(done(&tx), 4);
    tx.send(b"e").expect("send");
    assert_eq!(done(&tx), 5);
    // An explicit flush counts anew too, and is not counted.
    tx.send(b"f").expect("send");
    tx.flush().expect("flush");
    tx.send(b"g").expect("send");
    assert_eq!(done(&tx), 5);
    tx.send(b"h").expect("send");
    assert_eq!(done(&tx), 6);
}

#[test]
fn dropping_a_handle_syncs_what_its_policy_left() {
    let dir = TestDir::new("sync-drop");
    for (i, policy) in [
        SyncPolicy::Every(1000),
        SyncPolicy::Interval(Duration::from_secs(3600)),
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.join(&format!("drop{i}.ring"));
        let mut tx = spsc::Builder::at(&path)
            .capacity(1 << 16)
            .sync_policy(policy)
            .create_producer()
            .expect("create");
        // The first commit after the thread started is synced at once; the second waits
        // for the period.
        for _ in 0..5 {
            tx.send(&[1; 64]).expect("send");
        }
        if let SyncPolicy::Interval(_) = policy {
            assert!(eventually(Duration::from_secs(10), || tx.sync_stats().done == 1));
            tx.send(&[2; 64]).expect("send");
            std::thread::sleep(Duration::from_millis(50));
        }
        let Some(before) = dirty_pages(&path) else {
            return;
        };
        assert!(before > 0, "{policy:?}: commits left unsynced");
        drop(tx);
        assert_eq!(dirty_pages(&path), Some(0), "{policy:?}: synced at drop");
    }
}

#[test]
fn interval_syncs_within_its_period_after_a_commit_and_not_when_idle() {
    let _w = watchdog("interval", Duration::from_secs(60));
    let dir = TestDir::new("sync-interval");
    let path = dir.join("interval.ring");
    let period = Duration::from_millis(100);
    let mut tx = spsc::Builder::at(&path)
        .capacity(1 << 16)
        .sync_policy(SyncPolicy::Interval(period))
        .create_producer()
        .expect("create");
    // Idle: no sync.
    std::thread::sleep(3 * period);
    assert_eq!(tx.sync_stats().done, 0, "nothing committed, nothing synced");
    // A commit is synced within the period (plus a margin for a machine under load).
    let sent = Instant::now();
    tx.send(&[1; 64]).expect("send");
    assert!(eventually(Duration::from_secs(10), || tx.sync_stats().done == 1));
    let took = sent.elapsed();
    assert!(
        took < period + Duration::from_millis(900),
        "synced after {took:?}"
    );
    if let Some(dirty) = dirty_pages(&path) {
        assert_eq!(dirty, 0, "the sync wrote the commit back");
    }
    // Idle again: no sync.
    std::thread::sleep(3 * period);
    assert_eq!(tx.sync_stats().done, 1, "idle after the sync");
    // A stream of commits is synced at most once a period.
    let start = Instant::now();
    while start.elapsed() < 5 * period {
        tx.send(&[2; 64]).expect("send");
        std::thread::sleep(Duration::from_millis(5));
    }
    let streamed = start.elapsed();
    assert!(eventually(Duration::from_secs(10), || {
        dirty_pages(&path).map_or(true, |d| d == 0)
    }));
    let syncs = tx.sync_stats().done - 1;
    let most = (streamed.as_millis() / period.as_millis()) as u64 + 2;
    assert!(
        (1..=most).contains(&syncs),
        "{syncs} syncs in {streamed:?}, at most {most}"
    );
}

#[test]
fn an_interval_thread_leaves_with_its_handle_and_keeps_no_role() {
    let dir = TestDir::new("sync-role");
    let path = dir.join("role.ring");
    let policy = SyncPolicy::Interval(Duration::from_millis(10));
    let mut tx = spsc::Builder::at(&path)
        .capacity(4096)
        .sync_policy(policy)
        .create_producer()
        .expect("create");
    tx.send(b"one").expect("send");
    drop(tx);
    // The role is free at once: the thread held the mapping only, and is gone.
    let mut tx = spsc::Builder::at(&path)
        .sync_policy(policy)
        .open_producer()
        .expect("the producer's role is free");
    tx.send(b"two").expect("send");
    drop(tx);
    let mut rx = spsc::Builder::at(&path).open_consumer().expect("open");
    let mut buf = Vec::new();
    rx.recv_into(&mut buf).expect("receive");
    assert_eq!(buf, b"one");
    rx.recv_into(&mut buf).expect("receive");
    assert_eq!(buf, b"two");
}

#[test]
fn an_mpmc_producer_syncs_by_its_policy() {
    let dir = TestDir::new("sync-mpmc");
    let path = dir.join("mpmc.ring");
    let mut tx = mpmc::Builder::at(&path)
        .capacity(16)
        .slot_size(64)
        .sync_policy(SyncPolicy::Every(2))
        .create_producer()
        .expect("create");
    tx.send(b"a").expect("send");
    assert_eq!(tx.sync_stats().done, 0);
    let mut g = tx.reserve(8).expect("reserve");
    g.write_at(0, b"b");
    g.commit(1).expect("commit");
    assert_eq!(tx.sync_stats().done, 1);
    tx.set_sync_policy(SyncPolicy::Every(1)).expect("set");
    tx.try_send(b"c").expect("try_send");
    assert_eq!(tx.sync_stats().done, 2);
    if let Some(dirty) = dirty_pages(&path) {
        assert_eq!(dirty, 0);
    }
}

#[test]
fn a_broadcast_publisher_syncs_by_its_policy() {
    let dir = TestDir::new("sync-broadcast");
    let path = dir.join("topic.ring");
    let mut tx = broadcast::Builder::at(&path)
        .capacity(16)
        .slot_size(64)
        .lossy(true)
        .sync_policy(SyncPolicy::Every(2))
        .create_publisher()
        .expect("create");
    tx.send(b"a").expect("send");
    tx.send_value(&1u32).expect("send_value");
    assert_eq!(tx.sync_stats().done, 1);
    tx.set_sync_policy(SyncPolicy::Interval(Duration::from_millis(20)))
        .expect("set");
    tx.send(b"b").expect("send");
    assert!(eventually(Duration::from_secs(10), || tx.sync_stats().done == 2));
    if let Some(dirty) = dirty_pages(&path) {
        assert_eq!(dirty, 0);
    }
}

#[test]
fn a_blackboard_writer_syncs_by_its_policy() {
    let dir = TestDir::new("sync-board");
    let path = dir.join("board.ring");
    let mut w = blackboard::Builder::at(&path)
        .entries(4, 32)
        .sync_policy(SyncPolicy::Every(3))
        .create_writer()
        .expect("create");
    w.set(0, b"zero").expect("set");
    w.set_value(1, &1u64).expect("set_value");
    assert_eq!(w.sync_stats().done, 0);
    w.set_with(2, 4, |v| v.copy_from_slice(b"two!"))
        .expect("set_with");
    assert_eq!(w.sync_stats().done, 1);
    if let Some(dirty) = dirty_pages(&path) {
        assert_eq!(dirty, 0);
    }
    // Opened, with the builder's policy.
    drop(w);
    let mut w = blackboard::Builder::at(&path)
        .sync_policy(SyncPolicy::Every(1))
        .open_writer()
        .expect("open");
    w.set(3, b"three").expect("set");
    assert_eq!(w.sync_stats().done, 1);
}
