//! What the crash-point tests of every kind share (cargo feature `crash-points`).

use ipcring::crash::{arm, Point};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// Arms the point that `point` names by the first word of `arg` (`POINT PASSES`), to
/// kill this process after the passes of the second; returns the passes.
pub fn arm_from(arg: &str, point: fn(&str) -> Point) -> u64 {
    let (name, passes) = arg.split_once(' ').expect("POINT PASSES");
    let passes = passes.parse().expect("passes");
    arm(point(name), passes);
    passes
}

/// A child ended by its crash point's `SIGKILL`, not by anything else.
pub fn died_at_the_point(status: ExitStatus, what: &str) {
    assert_eq!(
        status.signal(),
        Some(9),
        "{what}: the child ended with {status}"
    );
}
