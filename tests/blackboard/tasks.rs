//! `wait_changed_async` (feature `tokio`): woken by a set from another thread, or by the
//! writer leaving; dropped mid-wait without harm.

use crate::common::{watchdog, RingGuard};
use ipcring::blackboard::{GetError, Reader, Writer};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "current_thread")]
async fn an_async_wait_is_woken_by_a_set_or_by_the_writer_leaving() {
    let _w = watchdog("board async wait", LIMIT);
    let ring = RingGuard::new("bb-async");
    let mut w = Writer::create(ring.name(), 2, 8).expect("create");
    let mut r = Reader::open(ring.name()).expect("open");
    assert_eq!(w.set(0, b"a"), Ok(1));
    // Ready at once.
    assert_eq!(r.wait_changed_async(0, 0).await, Ok(1));
    // A wait that times out is dropped mid-wait.
    let cut = tokio::time::timeout(Duration::from_millis(30), r.wait_changed_async(0, 1)).await;
    assert!(cut.is_err(), "woke without a change: {cut:?}");
    let setter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        w.set(1, b"other").expect("set");
        std::thread::sleep(Duration::from_millis(20));
        w.set(0, b"b").expect("set");
        std::thread::sleep(Duration::from_millis(50));
        drop(w);
    });
    assert_eq!(r.wait_changed_async(0, 1).await, Ok(2));
    assert_eq!(r.wait_changed_async(0, 2).await, Err(GetError::NoWriter));
    setter.join().expect("setter");
    assert_eq!(
        r.wait_changed_async(5, 0).await,
        Err(GetError::UnknownKey { key: 5, entries: 2 })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_wait_for_their_own_entries() {
    let _w = watchdog("board async tasks", LIMIT);
    let ring = RingGuard::new("bb-async-many");
    let mut w = Writer::create(ring.name(), 8, 8).expect("create");
    let tasks: Vec<_> = (0..8)
        .map(|key| {
            let mut r = Reader::open(ring.name()).expect("open");
            tokio::spawn(async move { r.wait_changed_async(key, 0).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    for key in (0..8).rev() {
        assert_eq!(w.set(key, &[key as u8]), Ok(1));
    }
    for t in tasks {
        assert_eq!(t.await.expect("task"), Ok(1));
    }
}
