//! Children that run as another user.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// The unprivileged user and group that children switch to (nobody / nogroup).
pub const NOBODY: u32 = 65534;

/// Runs the child as the unprivileged user and group [`NOBODY`].
pub fn as_nobody(cmd: &mut Command) {
    cmd.uid(NOBODY).gid(NOBODY);
}

/// Whether this process may run this test binary as another user (it is root, and
/// others may reach and run the binary); says so when it may not.
pub fn can_switch_users() -> bool {
    if !rustix::process::geteuid().is_root() {
        println!("skipped: only root can run a child as another user");
        return false;
    }
    let exe = std::env::current_exe().expect("path of the test binary");
    let mode = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.permissions().mode());
    let reachable = exe.ancestors().skip(1).all(|dir| mode(dir) & 0o001 != 0);
    if !reachable || mode(&exe) & 0o005 != 0o005 {
        println!("skipped: other users cannot run {}", exe.display());
        return false;
    }
    true
}
