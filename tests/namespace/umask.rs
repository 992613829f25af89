//! Modes whatever the umask: a created ring has exactly the mode asked for, and while it
//! is initialised, mode 0200 (the mark that openers wait on), which the umask cannot
//! clear. The umask belongs to the whole process, so each case runs in a child.

use crate::common::{say, spawn, watchdog, RingGuard};
use ipcring::spsc::{Builder, Consumer};
#[cfg(feature = "crash-points")]
use ipcring::OpenError;
use rustix::fs::Mode;
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(30);

/// `umask:mode`, both octal.
fn parse(arg: &str) -> (u32, u32) {
    let (umask, mode) = arg.split_once(':').expect("umask:mode");
    let octal = |s| u32::from_str_radix(s, 8).expect("octal");
    (octal(umask), octal(mode))
}

fn mode_of(ring: &str) -> u32 {
    let meta = std::fs::metadata(format!("/dev/shm/ipcring.{ring}")).expect("stat");
    meta.mode() & 0o7777
}

/// Child: under umask `arg`'s first number, creates ring `ring` with mode `arg`'s second
/// number, checks the mode, and passes a message through the ring.
pub fn umask_creator(ring: &str, arg: &str) {
    let (umask, mode) = parse(arg);
    rustix::process::umask(Mode::from_raw_mode(umask));
    let mut tx = Builder::new(ring)
        .capacity(4096)
        .mode(mode)
        .create_producer()
        .expect("create the producer");
    assert_eq!(mode_of(ring), mode, "umask {umask:o}");
    let mut rx = Consumer::open(ring).expect("open the consumer");
    tx.send(b"through").expect("send");
    let mut buf = Vec::new();
    rx.recv_into(&mut buf).expect("recv");
    assert_eq!(buf, b"through");
    say("ok", "");
}

#[test]
fn a_created_ring_has_exactly_its_mode_whatever_the_umask() {
    let _w = watchdog("umask", LIMIT);
    for (umask, mode) in [
        (0o000, 0o600),
        (0o000, 0o660),
        (0o077, 0o660),
        (0o277, 0o600),
        (0o777, 0o640),
    ] {
        let ring = RingGuard::new("umask");
        let child = spawn("umask-creator", ring.name(), &format!("{umask:o}:{mode:o}"));
        child.expect("ok", WAIT);
        child.wait_success(WAIT);
        assert_eq!(mode_of(ring.name()), mode, "umask {umask:o}");
    }
}

/// Child: `arg` is `UMASK:MODE:STEP`; under that umask, creates ring `ring` with that mode
/// and dies at that step of the creation (`size`, `publish`, `mode`: see `crash::Point`).
#[cfg(feature = "crash-points")]
pub fn dying_creator(ring: &str, arg: &str) {
    use ipcring::crash::Point;
    let (modes, step) = arg.rsplit_once(':').expect("UMASK:MODE:STEP");
    let (umask, mode) = parse(modes);
    rustix::process::umask(Mode::from_raw_mode(umask));
    let point = match step {
        "size" => Point::CreateBeforeSize,
        "publish" => Point::CreateBeforePublish,
        "mode" => Point::CreateBeforeMode,
        other => panic!("no creation step {other:?}"),
    };
    ipcring::crash::arm(point, 0);
    let r = Builder::new(ring)
        .capacity(4096)
        .mode(mode)
        .create_producer();
    panic!("the creator did not die: {r:?}");
}

#[cfg(feature = "crash-points")]
#[test]
fn a_creator_that_died_at_any_step_under_any_umask_leaves_mode_0200_and_open_or_create_reclaims_it()
{
    use std::os::unix::process::ExitStatusExt;
    let _w = watchdog("dying creator", LIMIT);
    for (step, umask) in ["size", "publish", "mode"]
        .into_iter()
        .flat_map(|s| [0o277, 0o777, 0o077, 0o000].map(|u| (s, u)))
    {
        let ring = RingGuard::new("dying");
        let child = spawn(
            "dying-creator",
            ring.name(),
            &format!("{umask:o}:600:{step}"),
        );
        let status = child.wait_exit(WAIT);
        assert_eq!(status.signal(), Some(9), "umask {umask:o}: died at {step}");
        // Its leftover says "initialising", so openers wait instead of failing.
        assert_eq!(mode_of(ring.name()), 0o200, "umask {umask:o}, {step}");
        if umask == 0o000 {
            let r = Consumer::open(ring.name());
            assert!(
                matches!(r, Err(OpenError::StillInitializing { .. })),
                "{step}: {r:?}"
            );
        }
        let left = std::fs::metadata(ring.path()).expect("stat").ino();
        let mut rx = Builder::new(ring.name())
            .capacity(4096)
            .open_or_create_consumer()
            .unwrap_or_else(|e| panic!("umask {umask:o}: {e}"));
        assert_ne!(
            std::fs::metadata(ring.path()).expect("stat").ino(),
            left,
            "not created again"
        );
        let mut tx = ipcring::spsc::Producer::open(ring.name()).expect("open the producer");
        tx.send(b"after").expect("send");
        let mut buf = Vec::new();
        rx.recv_into(&mut buf).expect("recv");
        assert_eq!(buf, b"after");
    }
}
