//! A file ring on hugetlbfs: sized and mapped in whole huge pages, or refused with
//! `NoHugePages` when the pool has none free (and the file removed).

use crate::common::{meminfo, page_sizes_of};
use crate::mounts::Mount;
use ipcring::{spsc, OpenError};
use std::time::Duration;

#[test]
fn a_file_ring_on_hugetlbfs_is_mapped_with_huge_pages() {
    let Some(fs) = Mount::new("hugetlbfs", "mode=0700") else {
        eprintln!("skipped: cannot mount hugetlbfs here");
        return;
    };
    let huge_kib = meminfo("Hugepagesize");
    let path = fs.join("huge.ring");
    let r = spsc::Builder::at(&path).capacity(1 << 20).create_producer();
    if meminfo("HugePages_Free") == 0 {
        assert!(
            matches!(r, Err(OpenError::NoHugePages { .. })),
            "{:?}",
            r.map(|_| ())
        );
        assert!(!path.exists(), "the half-made file was removed");
        eprintln!("no huge pages free: only the error was checked");
        return;
    }
    let mut tx = r.expect("create on hugetlbfs");
    let mut rx = spsc::Builder::at(&path).open_consumer().expect("open");
    let size = std::fs::metadata(&path).expect("stat").len();
    assert_eq!(size % (huge_kib << 10), 0, "whole huge pages");
    assert_eq!(
        page_sizes_of(&path.display().to_string()),
        [huge_kib, huge_kib],
        "both handles map huge pages"
    );
    let mut buf = Vec::new();
    for i in 0..10_000u32 {
        tx.send(&i.to_le_bytes()).expect("send");
        rx.recv_timeout_into(&mut buf, Duration::from_secs(5))
            .expect("receive");
        assert_eq!(buf, i.to_le_bytes());
    }
    drop((tx, rx));
    ipcring::remove_file_ring(&path).expect("remove");
}
