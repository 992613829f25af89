//! What opening trusts: a regular file (no symbolic link, FIFO or directory), owned by
//! this user or a group-mode object of one of its groups, that other users cannot write;
//! and the modes that creating accepts.

use crate::common::users::{as_nobody, can_switch_users, NOBODY};
use crate::common::{hear, say, spawn_with, watchdog, RingGuard};
use ipcring::spsc::{Builder, Consumer, Producer};
use ipcring::{OpenError, RecvError};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Outer limit of each test: a hang fails.
const LIMIT: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(30);

/// A file planted at a ring's name, removed when dropped (`ipcring::unlink` refuses to
/// remove what is not a regular file).
struct Planted(PathBuf);

impl Drop for Planted {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0).or_else(|_| std::fs::remove_dir(&self.0));
    }
}

/// Device and inode of what is at `path` (not following a link).
fn identity(path: &Path) -> (u64, u64) {
    let m = std::fs::symlink_metadata(path).expect("lstat");
    (m.dev(), m.ino())
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Every way to open ring `name` (which exists), as results without the handle.
fn open_all(name: &str) -> Vec<Result<(), OpenError>> {
    let b = || Builder::new(name);
    vec![
        b().open_producer().map(drop),
        b().open_consumer().map(drop),
        b().open_or_create_producer().map(drop),
        b().open_or_create_consumer().map(drop),
    ]
}

/// Child (not root): creates ring `ring` as its consumer, gives it mode `arg` (octal),
/// says `planted`, and keeps it until its input ends.
pub fn squatter(ring: &str, arg: &str) {
    let mode = u32::from_str_radix(arg, 8).expect("octal mode");
    let mut rx = Consumer::create(ring, 4096).expect("create the ring");
    chmod(Path::new(&format!("/dev/shm/ipcring.{ring}")), mode);
    say("planted", "");
    while hear().is_some() {}
    // Nothing reached it.
    assert_eq!(rx.try_recv_into(&mut Vec::new()), Err(RecvError::Empty));
}

#[test]
fn a_ring_planted_by_another_user_is_not_opened() {
    let _w = watchdog("planted by another user", LIMIT);
    if !can_switch_users() {
        return;
    }
    for mode in ["666", "600"] {
        let ring = RingGuard::new("squatted");
        let mut child = spawn_with("squatter", ring.name(), mode, as_nobody);
        child.expect("planted", WAIT);
        let planted = identity(&ring.path());
        for r in open_all(ring.name()) {
            assert!(
                matches!(
                    r,
                    Err(OpenError::ForeignOwner {
                        uid: NOBODY,
                        gid: NOBODY,
                        ..
                    })
                ),
                "mode {mode}: {r:?}"
            );
        }
        // Neither opened nor replaced.
        assert_eq!(identity(&ring.path()), planted, "mode {mode}");
        child.close_stdin();
        child.wait_success(WAIT);
    }
}

#[test]
fn another_owner_is_trusted_only_in_group_mode_with_one_of_our_groups() {
    let _w = watchdog("group mode", LIMIT);
    if !rustix::process::geteuid().is_root() {
        println!("skipped: only root can give a ring to another user");
        return;
    }
    let our_group = rustix::process::getegid().as_raw();
    // (owner, group, mode) of a ring, and whether we open it.
    for (gid, mode, trusted) in [
        (our_group, 0o660, true),
        (our_group, 0o600, false),
        (our_group, 0o640, false),
        (NOBODY, 0o660, false),
    ] {
        let ring = RingGuard::new("owner");
        drop(Producer::create(ring.name(), 4096).expect("create"));
        std::os::unix::fs::chown(ring.path(), Some(NOBODY), Some(gid)).expect("chown");
        chmod(&ring.path(), mode);
        let r = Consumer::open(ring.name()).map(drop);
        if trusted {
            r.unwrap_or_else(|e| panic!("group {gid}, mode {mode:o}: {e}"));
        } else {
            assert!(
                matches!(r, Err(OpenError::ForeignOwner { uid: NOBODY, gid: g, .. }) if g == gid),
                "group {gid}, mode {mode:o}: {r:?}"
            );
        }
    }
}

#[test]
fn a_symbolic_link_at_the_name_is_neither_followed_nor_removed() {
    let _w = watchdog("symbolic link", LIMIT);
    let target = RingGuard::new("link-target");
    let mut tx = Producer::create(target.name(), 4096).expect("create the target");
    let ring = RingGuard::new("link");
    let link = Planted(ring.path());
    std::os::unix::fs::symlink(target.path(), &link.0).expect("symlink");
    for r in open_all(ring.name()) {
        assert!(matches!(r, Err(OpenError::NotRegularFile { .. })), "{r:?}");
    }
    let r = Producer::create(ring.name(), 4096).map(drop);
    assert!(matches!(r, Err(OpenError::AlreadyExists { .. })), "{r:?}");
    let r = ipcring::unlink(ring.name());
    assert!(matches!(r, Err(OpenError::NotRegularFile { .. })), "{r:?}");
    assert!(
        std::fs::symlink_metadata(&link.0).is_ok(),
        "the link was removed"
    );
    // The target is untouched and works.
    let mut rx = Consumer::open(target.name()).expect("open the target");
    tx.send(b"still mine").expect("send");
    let mut buf = Vec::new();
    rx.recv_into(&mut buf).expect("recv");
    assert_eq!(buf, b"still mine");

    // A link to nowhere: creating does not create its target.
    let dangling = RingGuard::new("dangling");
    let nowhere = RingGuard::new("nowhere");
    let _link = Planted(dangling.path());
    std::os::unix::fs::symlink(nowhere.path(), dangling.path()).expect("symlink");
    for r in [
        Producer::create(dangling.name(), 4096).map(drop),
        Builder::new(dangling.name())
            .open_or_create_consumer()
            .map(drop),
    ] {
        assert!(
            matches!(
                r,
                Err(OpenError::AlreadyExists { .. } | OpenError::NotRegularFile { .. })
            ),
            "{r:?}"
        );
    }
    assert!(!nowhere.path().exists(), "created through the link");
}

#[test]
fn a_fifo_or_a_directory_at_the_name_is_refused_without_blocking() {
    let _w = watchdog("special files", LIMIT);
    let fifo = RingGuard::new("fifo");
    let _f = Planted(fifo.path());
    rustix::fs::mknodat(
        rustix::fs::CWD,
        fifo.path().as_path(),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .expect("mkfifo");
    let dir = RingGuard::new("dir");
    let _d = Planted(dir.path());
    std::fs::create_dir(dir.path()).expect("mkdir");
    for ring in [&fifo, &dir] {
        for r in open_all(ring.name()) {
            assert!(
                matches!(r, Err(OpenError::NotRegularFile { .. })),
                "{}: {r:?}",
                ring.name()
            );
        }
        let r = ipcring::unlink(ring.name());
        assert!(
            matches!(r, Err(OpenError::NotRegularFile { .. })),
            "{}: {r:?}",
            ring.name()
        );
        assert!(std::fs::symlink_metadata(ring.path()).is_ok(), "removed");
    }
}

#[test]
fn a_ring_that_every_user_may_write_is_not_opened() {
    let _w = watchdog("world-writable", LIMIT);
    for mode in [0o666, 0o602, 0o622] {
        let ring = RingGuard::new("world");
        let _tx = Producer::create(ring.name(), 4096).expect("create");
        chmod(&ring.path(), mode);
        for r in open_all(ring.name()) {
            assert!(
                matches!(r, Err(OpenError::WorldWritable { mode: m, .. }) if m == mode),
                "mode {mode:o}: {r:?}"
            );
        }
        // Made private again, it opens.
        chmod(&ring.path(), 0o600);
        Consumer::open(ring.name()).expect("open the private ring");
    }
}

#[test]
fn create_refuses_a_mode_for_other_users_or_without_owner_read_write() {
    let _w = watchdog("invalid modes", LIMIT);
    for mode in [
        0o666, 0o604, 0o601, 0o400, 0o200, 0o000, 0o060, 0o4600, 0o1660,
    ] {
        let ring = RingGuard::new("bad-mode");
        let results = [
            Builder::new(ring.name())
                .mode(mode)
                .create_producer()
                .map(drop),
            Builder::new(ring.name())
                .mode(mode)
                .open_or_create_consumer()
                .map(drop),
            ipcring::mpmc::Builder::new(ring.name())
                .mode(mode)
                .create_producer()
                .map(drop),
            ipcring::broadcast::Builder::new(ring.name())
                .mode(mode)
                .create_publisher()
                .map(drop),
        ];
        for r in results {
            assert!(
                matches!(r, Err(OpenError::InvalidMode { mode: m, .. }) if m == mode),
                "mode {mode:o}: {r:?}"
            );
        }
        assert!(!ring.path().exists(), "mode {mode:o}: an object was left");
    }
    for mode in [0o600, 0o640, 0o660, 0o700, 0o770] {
        let ring = RingGuard::new("good-mode");
        let _tx = Builder::new(ring.name())
            .mode(mode)
            .create_producer()
            .unwrap_or_else(|e| panic!("mode {mode:o}: {e}"));
        let m = std::fs::metadata(ring.path()).expect("stat").mode();
        assert_eq!(m & 0o7777, mode);
    }
}
