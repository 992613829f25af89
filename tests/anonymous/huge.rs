//! Anonymous rings on huge pages: mapped with huge pages when the pool has them, a clear
//! `NoHugePages` when it does not (the memfd then stays empty, ready for another try).

use crate::common::{meminfo, page_sizes_of};
use ipcring::{mpmc, spsc, OpenError, RingFd};
use std::time::Duration;

/// The pool of huge pages is the machine's: one test at a time uses it (the second takes
/// all of it for a moment).
static POOL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Asserts that creating the ring in `ring` failed for want of huge pages, and left the
/// memfd empty, ready for another try.
fn no_huge_pages<T>(r: Result<T, OpenError>, ring: &RingFd) {
    assert!(
        matches!(r, Err(OpenError::NoHugePages { .. })),
        "{:?}",
        r.map(|_| ())
    );
    assert_eq!(
        rustix::fs::fstat(ring).expect("fstat").st_size,
        0,
        "left empty"
    );
}

#[test]
fn a_ring_on_huge_pages_uses_them_or_says_none_are_free() {
    let _pool = POOL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let huge_kib = meminfo("Hugepagesize");
    let free = meminfo("HugePages_Free");
    let name = format!("huge-{}", std::process::id());
    let ring = RingFd::with_huge_pages(&name).expect("a huge-page memfd");
    // 1 MiB of data and a header: one huge page of 2 MiB.
    let r = spsc::Builder::fd(&ring).capacity(1 << 20).create_producer();
    if free == 0 {
        no_huge_pages(r, &ring);
        eprintln!("no huge pages reserved: only the error was checked");
        return;
    }
    let mut tx = r.expect("create on huge pages");
    let mut rx = spsc::Builder::fd(&ring).open_consumer().expect("open");
    let size = rustix::fs::fstat(&ring).expect("fstat").st_size as u64;
    assert_eq!(size % (huge_kib << 10), 0, "whole huge pages");
    let sizes = page_sizes_of(&format!("/memfd:{name} (deleted)"));
    assert_eq!(sizes, [huge_kib, huge_kib], "both handles map huge pages");
    let mut buf = Vec::new();
    for i in 0..10_000u32 {
        tx.send(&i.to_le_bytes()).expect("send");
        rx.recv_timeout_into(&mut buf, Duration::from_secs(5))
            .expect("receive");
        assert_eq!(buf, i.to_le_bytes());
    }
}

#[test]
fn a_ring_larger_than_the_huge_page_pool_fails_with_no_huge_pages() {
    let _pool = POOL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let huge = meminfo("Hugepagesize") << 10;
    let free = meminfo("HugePages_Free");
    // A queue of cells of 1 MiB, twice as many as the free pool holds (at least 2).
    let cells = (2 * free * huge / (1 << 20)).next_power_of_two().max(2);
    if cells > 1 << 14 {
        eprintln!("{free} huge pages free: too many to exhaust in a test");
        return;
    }
    let ring = RingFd::with_huge_pages("too-big").expect("a huge-page memfd");
    let r = mpmc::Builder::fd(&ring)
        .capacity(cells as usize)
        .slot_size(1 << 20)
        .create_producer();
    no_huge_pages(r, &ring);
}
