//! The NATS bridge of the built `ipcring` binary (cargo feature `nats`): a ring →
//! `bridge out` → JetStream → `bridge in` → a ring, with real processes and a real
//! `nats-server` of the test's own (file storage, a free loopback port), every byte of
//! every message checked in order. Then faults: the out-bridge, the server and the
//! in-bridge killed with `SIGKILL` mid-stream and started again; and the ends: a bad URL,
//! a missing stream, Ctrl-C. Each test has an outer deadline; guards kill the processes
//! and the server and remove the rings and the store, also when a test fails.
//!
//! Without `nats-server` installed the tests are skipped, saying so; with
//! `IPCRING_REQUIRE_NATS` set (`.ci/run` installs the server and sets it) they fail
//! instead.

#![cfg(feature = "nats")]

#[allow(dead_code)] // the bridge tests use the part of it they need
#[path = "../common/mod.rs"]
mod common;
mod support;

use common::*;
use ipcring::spsc::{Builder, Consumer};
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;
use support::*;

/// The rings' data areas.
const CAPACITY: usize = 1 << 20;

/// A ring → `bridge out` → a stream → `bridge in` → a ring, set up: the producer on the
/// first ring runs, the checker on the second waits.
struct Line {
    server: ipcring_bench_support::nats::NatsServer,
    from: Ring,
    to: Ring,
    subject: String,
    stream: String,
    durable: String,
    producer: Option<std::thread::JoinHandle<()>>,
    checker: Checker,
    /// The messages the producer sends.
    n: u64,
}

impl Line {
    /// `n` messages into a new stream; `None` when the server is missing and skipping is
    /// allowed.
    fn start(tag: &str, n: u64) -> Option<Line> {
        let server = server()?;
        let (subject, stream, durable) = names(tag);
        server
            .create_stream(&stream, &[&subject])
            .expect("create the stream");
        let from = Ring::new(&format!("{tag}-from"));
        let to = Ring::new(&format!("{tag}-to"));
        let tx = Builder::new(&from.0)
            .capacity(CAPACITY)
            .create_producer()
            .expect("the first ring");
        let rx = Builder::new(&to.0)
            .capacity(CAPACITY)
            .create_consumer()
            .expect("the second ring");
        Some(Line {
            server,
            from,
            to,
            subject,
            stream,
            durable,
            producer: Some(produce(tx, n)),
            checker: Checker::new(rx, 0),
            n,
        })
    }

    fn bridge_out(&self) -> Bridge {
        let url = self.server.url();
        Bridge::start(
            &[
                "out",
                &self.from.0,
                "--subject",
                &self.subject,
                "--server",
                &url,
                "--stream",
                &self.stream,
            ],
            &[],
        )
    }

    fn bridge_in(&self, extra: &[&str], env: &[(&str, &str)]) -> Bridge {
        let url = self.server.url();
        let mut args = vec![
            "in",
            &self.subject,
            "--ring",
            &self.to.0,
            "--server",
            &url,
            "--durable",
            &self.durable,
        ];
        args.extend_from_slice(extra);
        Bridge::start(&args, env)
    }

    /// Takes the rest of the messages, waits for the producer, checks that nothing more
    /// comes and that the stream holds each message once, and stops both bridges with
    /// Ctrl-C. Returns the messages that came twice.
    fn finish(&mut self, mut out: Bridge, mut into: Bridge) -> u64 {
        self.checker.take_until(self.n, &mut [&mut out, &mut into]);
        self.producer_done();
        self.checker.expect_silence(Duration::from_millis(300));
        assert_eq!(stream_messages(&self.server, &self.stream), self.n);
        interrupt_both(out, into);
        self.checker.duplicates
    }

    /// Where `bridge in --dedupe` keeps its state by default: next to its ring.
    fn state(&self) -> String {
        format!("/dev/shm/ipcring-bridge.{}.{}", self.to.0, self.durable)
    }

    /// Waits for the producer to have sent everything.
    fn producer_done(&mut self) {
        self.producer
            .take()
            .expect("a producer")
            .join()
            .expect("the producer");
    }
}

impl Drop for Line {
    /// Removes the state file that `bridge in --dedupe` keeps by default next to its ring.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.state());
    }
}

/// Both bridges end with Ctrl-C and exit 0.
fn interrupt_both(out: Bridge, into: Bridge) {
    for b in [out, into] {
        let log = b.log();
        let status = b.interrupt();
        assert!(status.success(), "Ctrl-C: {status}: {log}");
    }
}

#[test]
fn a_hundred_thousand_mixed_messages_cross_two_bridges_byte_exact_and_in_order() {
    const N: u64 = 100_000;
    let Some(mut line) = Line::start("mixed", N) else {
        return;
    };
    let out = line.bridge_out();
    let into = line.bridge_in(&[], &[]);
    assert_eq!(line.finish(out, into), 0, "redeliveries without a fault");
}

#[test]
fn an_out_bridge_killed_mid_stream_and_restarted_loses_nothing_and_duplicates_nothing() {
    const N: u64 = 30_000;
    let Some(mut line) = Line::start("outkill", N) else {
        return;
    };
    let mut into = line.bridge_in(&[], &[]);
    for upto in [N / 4, N / 2] {
        let mut out = line.bridge_out();
        line.checker.take_until(upto, &mut [&mut out, &mut into]);
        out.kill9();
    }
    // What the killed bridges had published and not released, their successors sent
    // again under the same ids, and JetStream dropped.
    let out = line.bridge_out();
    assert_eq!(line.finish(out, into), 0);
}

#[test]
fn a_server_killed_mid_stream_and_restarted_on_its_store_loses_nothing() {
    const N: u64 = 30_000;
    let Some(mut line) = Line::start("serverkill", N) else {
        return;
    };
    // Around the failure, the stream may store a message after one that followed it in
    // the ring (the bridge's contract), and the server delivers the messages it had
    // delivered unacknowledged again after the `ack_wait` (here 1 s).
    line.checker.in_any_order();
    let mut out = line.bridge_out();
    let mut into = line.bridge_in(&["--dedupe", "--ack-wait", "1s"], &[]);
    line.checker.take_until(N / 3, &mut [&mut out, &mut into]);
    line.server.kill9();
    std::thread::sleep(Duration::from_millis(500));
    line.server.restart().expect("restart the server");
    assert_eq!(
        line.finish(out, into),
        0,
        "--dedupe let a redelivery through"
    );
}

#[test]
fn ctrl_c_drains_the_work_in_flight_and_exits_0() {
    const N: u64 = 30_000;
    let Some(mut line) = Line::start("ctrlc", N) else {
        return;
    };
    let mut out = line.bridge_out();
    let mut into = line.bridge_in(&[], &[]);
    line.checker.take_until(N / 4, &mut [&mut out, &mut into]);
    interrupt_both(out, into);
    // The out-bridge released from its ring exactly what JetStream acknowledged: the ring
    // goes on with the message after the last one stored.
    let stored = stream_messages(&line.server, &line.stream);
    let rest = Consumer::open(&line.from.0).expect("the first ring's consumer");
    let mut rest = Checker::new(rest, stored);
    rest.take_until(N, &mut []);
    line.producer_done();
    // The in-bridge acknowledged every message it committed to its ring (those it had
    // pulled and not committed stay unacknowledged, for the next run).
    line.checker.drain(Duration::from_millis(300));
    assert_eq!(line.checker.duplicates, 0);
    assert_eq!(
        ack_floor(&line.server, &line.stream, &line.durable),
        line.checker.next
    );
}

/// Arms the in-bridge's crash point after its commit of a message and before its
/// acknowledgement (a build with the `crash-points` feature): it dies at the message after
/// this many.
const CRASH_BEFORE_ACK: &str = "IPCRING_CRASH_BRIDGE_BEFORE_ACK";

/// Kills an in-bridge (`bridge in EXTRA --ack-wait ACK_WAIT`) at its crash point after
/// the commit of message 999, starts another, and checks that all `n` messages arrive, in
/// any order: the messages the killed bridge had pulled come again after the `ack_wait`,
/// when its successor has committed newer ones (the in-bridge starts first and keeps up
/// with the out-bridge, so few are pulled and unacknowledged at the kill, and the server
/// goes on delivering new ones to the successor meanwhile). Returns the messages that came
/// twice.
fn kill_in_bridge_before_ack(tag: &str, extra: &[&str], n: u64, ack_wait: &str) -> Option<u64> {
    let mut line = Line::start(tag, n)?;
    let state = line.state();
    line.checker.in_any_order();
    let extra = [extra, &["--ack-wait", ack_wait]].concat();
    let mut dying = line.bridge_in(&extra, &[(CRASH_BEFORE_ACK, "999")]);
    let mut out = line.bridge_out();
    let status = dying.wait();
    assert_eq!(status.signal(), Some(9), "{status}: {}", dying.log());
    line.checker.take_until(1000, &mut [&mut out]);
    let into = line.bridge_in(&extra, &[]);
    let twice = line.finish(out, into);
    if extra.contains(&"--dedupe") {
        // The ack floor rose as the server took the acknowledgements, and the state file
        // shed the sequences below it: without the floor it would hold one for each
        // message.
        let bytes = std::fs::metadata(&state).expect("the state file").len();
        assert!(bytes < 8 * n / 2, "a state file of {bytes} bytes");
    }
    Some(twice)
}

#[test]
fn an_in_bridge_killed_between_commit_and_ack_commits_that_message_twice_and_loses_none() {
    // They come a second after the kill, not the default 30.
    let Some(twice) = kill_in_bridge_before_ack("ackkill", &[], 4_000, "1s") else {
        return;
    };
    // The message committed at the kill comes twice, and so do those whose
    // acknowledgements were still in the client's buffer: at most a pull's worth, the most
    // the server delivers unacknowledged.
    eprintln!("an in-bridge killed before an ack: {twice} messages committed twice");
    assert!((1..=64).contains(&twice), "{twice} messages twice");
}

/// The messages committed and not acknowledged come again 3 s after the kill, when the
/// next bridge has committed thousands of newer ones (a state that kept the last 4096
/// commits alone let 7 to 11 through here): dedupe remembers every commit above the
/// consumer's ack floor, however many.
#[test]
fn an_in_bridge_with_dedupe_killed_between_commit_and_ack_commits_each_message_once() {
    let Some(twice) = kill_in_bridge_before_ack("ackkill-dedupe", &["--dedupe"], 20_000, "3s")
    else {
        return;
    };
    assert_eq!(twice, 0, "--dedupe let a redelivery through");
}

#[test]
fn bad_url_is_one_error_line_and_exit_1() {
    let ring = Ring::new("badurl");
    Builder::new(&ring.0)
        .capacity(4096)
        .create_detached()
        .expect("a ring");
    for args in [
        &[
            "bridge",
            "out",
            &ring.0,
            "--subject",
            "x",
            "--server",
            "nats://127.0.0.1:notaport",
        ][..],
        &[
            "bridge",
            "in",
            "x",
            "--ring",
            &ring.0,
            "--server",
            "nats://127.0.0.1:notaport",
        ][..],
    ] {
        let out = run(args);
        assert_one_error_line(&out, args);
    }
}

#[test]
fn a_missing_stream_is_one_error_line_and_exit_1() {
    let Some(server) = server() else {
        return;
    };
    let url = server.url();
    let ring = Ring::new("nostream");
    Builder::new(&ring.0)
        .capacity(4096)
        .create_detached()
        .expect("a ring");
    let (subject, stream, _) = names("nostream");
    for args in [
        &[
            "bridge",
            "out",
            &ring.0,
            "--subject",
            &subject,
            "--server",
            &url,
            "--stream",
            &stream,
        ][..],
        &[
            "bridge", "in", &subject, "--ring", &ring.0, "--server", &url,
        ][..],
    ] {
        let out = run(args);
        assert_one_error_line(&out, args);
    }
}

fn assert_one_error_line(out: &std::process::Output, args: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "`ipcring {}`: {err}",
        args.join(" ")
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "`ipcring {}`: {err}",
        args.join(" ")
    );
}
