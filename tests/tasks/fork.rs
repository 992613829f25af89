//! A process forked after its helper thread started gets one of its own: async waits in
//! the child are woken (a fork copies only the forking thread).

use crate::common::{say, spawn, watchdog, RingGuard};
use ipcring::spsc::{Consumer, Producer};
use std::time::Duration;

/// Receives one message with `recv_async` on ring `name`, sent by a thread 20 ms later;
/// whether it came within 5 s.
fn one_async_receive(name: &str) -> bool {
    let mut rx = Consumer::create(name, 4096).expect("create");
    let mut tx = Producer::open(name).expect("open");
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        tx.send(b"hi").expect("send");
        tx
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    let mut buf = Vec::new();
    // The timer is polled first: a receive that was never woken loses to it, even though
    // its message is there by then.
    let woken = rt.block_on(async {
        tokio::select! {
            biased;
            () = tokio::time::sleep(Duration::from_secs(5)) => false,
            r = rx.recv_async(&mut buf) => r == Ok(2),
        }
    });
    drop(sender.join());
    ipcring::unlink(name).expect("unlink");
    woken
}

/// Child: an async receive (which starts the helper thread), then a fork whose child makes
/// another; says whether each was woken.
pub fn forker(ring: &str, _arg: &str) {
    let before = one_async_receive(&format!("{ring}-parent"));
    // Let the helper thread go back to sleep (holding no lock) before the fork.
    std::thread::sleep(Duration::from_millis(20));
    // SAFETY: the child only makes ipcring and tokio calls and exits with `_exit`; no lock
    // is held by another thread at the fork (the helper sleeps in a syscall).
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let ok = one_async_receive(&format!("{ring}-child"));
        // SAFETY: ends the forked child without running the parent's exit handlers.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    assert!(pid > 0, "fork failed");
    let mut status = 0;
    // SAFETY: waits for the child forked above.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    let child_ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    say("woken", format!("{before} {child_ok}"));
}

#[test]
fn a_forked_child_gets_its_own_helper_thread() {
    let _w = watchdog("fork", Duration::from_secs(60));
    let ring = RingGuard::new("task-fork");
    let _parent = RingGuard::named(&format!("{}-parent", ring.name()));
    let _child = RingGuard::named(&format!("{}-child", ring.name()));
    let forker = spawn("forker", ring.name(), "");
    assert_eq!(forker.expect("woken", Duration::from_secs(30)), "true true");
}
