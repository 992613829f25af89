//! The blackboard and event commands of the built `ipcring` binary (`create --kind
//! blackboard|event`, `set`, `get`, `notify`, `listen`), against real segments and real
//! processes: values that round-trip byte for byte, a wait woken by another process,
//! notifications counted by a listener started first, a killed notifier reported
//! departed, and the exit codes. Every command runs under a deadline (a hang fails the
//! test), and every segment is removed by a guard, also when a test fails.

mod common;

use common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn text(args: &[&str]) -> String {
    String::from_utf8(ok(args)).expect("utf-8")
}

/// Runs `ipcring ARGS`, which must fail with `code`; returns its standard error.
fn fails(args: &[&str], code: i32) -> String {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "`ipcring {}`: {out:?}",
        args.join(" ")
    );
    let err = String::from_utf8(out.stderr).expect("utf-8");
    // clap's usage errors (2) come with the usage; ours are one line.
    if code != 2 {
        assert_eq!(err.lines().count(), 1, "one line on standard error: {err}");
    }
    err
}

/// Polls until process `pid` sleeps on a futex (a wait that has begun).
fn await_futex_sleep(pid: u32) {
    let start = Instant::now();
    loop {
        let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
        if wchan.contains("futex") {
            return;
        }
        assert!(start.elapsed() < DEADLINE, "{pid} never slept on a futex");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sends SIGINT to `child`.
fn interrupt(child: &Child) {
    // SAFETY: kill() with a valid pid and signal number has no memory effects.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
}

/// The lines of a child's standard output, as they come.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            if tx.send(line.expect("a line")).is_err() {
                return;
            }
        }
    });
    rx
}

fn board(tag: &str) -> Ring {
    let seg = Ring::new(tag);
    ok(&[
        "create",
        &seg.0,
        "--kind",
        "blackboard",
        "--entry",
        "price:16",
        "--entry",
        "clients:8",
        "--entries",
        "2:32",
    ]);
    seg
}

fn events(tag: &str, extra: &[&str]) -> Ring {
    let seg = Ring::new(tag);
    let mut args = vec!["create", &seg.0, "--kind", "event", "--ids", "4"];
    args.extend_from_slice(extra);
    ok(&args);
    seg
}

#[test]
fn a_board_made_from_the_cli_round_trips_values_by_key_and_index() {
    let b = board("roundtrip");
    let v: Value = serde_json::from_slice(&ok(&["inspect", &b.0, "--json"])).unwrap();
    assert_eq!(v["kind"], "blackboard");
    assert_eq!(v["capacity"], 4);
    assert_eq!(v["max_message"], 32);
    assert_eq!(holders(&inspect(&b.0), "writer"), ["never"]);
    assert_eq!(text(&["set", &b.0, "price", "101.5"]), "1\n");
    assert_eq!(text(&["set", &b.0, "price", "101.25"]), "2\n");
    assert_eq!(text(&["set", &b.0, "1", "500"]), "1\n");
    // Any bytes from standard input, the newline included.
    let bytes = b"a\nb\0\xff\n";
    let out = run_with(&["set", &b.0, "3", "-"], bytes);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"1\n");
    assert_eq!(ok(&["get", &b.0, "price"]), b"101.25");
    assert_eq!(ok(&["get", &b.0, "0"]), b"101.25");
    assert_eq!(ok(&["get", &b.0, "clients"]), b"500");
    assert_eq!(ok(&["get", &b.0, "3"]), bytes);
    // The empty value is a value.
    assert_eq!(text(&["set", &b.0, "2", ""]), "1\n");
    assert_eq!(ok(&["get", &b.0, "2"]), b"");
    let v: Value = serde_json::from_slice(&ok(&["get", &b.0, "price", "--json"])).unwrap();
    assert_eq!(v["schema"], 1);
    assert_eq!(v["name"], b.0.as_str());
    assert_eq!(
        (v["key"].as_str(), v["index"].as_u64()),
        (Some("price"), Some(0))
    );
    assert_eq!(
        (v["version"].as_u64(), v["len"].as_u64()),
        (Some(2), Some(6))
    );
    assert_eq!(v["value"], "101.25");
    let v: Value = serde_json::from_slice(&ok(&["get", &b.0, "3", "--json"])).unwrap();
    assert_eq!((v["key"].as_str(), v["len"].as_u64()), (Some(""), Some(6)));
    assert_eq!(v["value"], "a\nb\0\u{fffd}\n");
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/RINGS_JSON.md"))
        .expect("read RINGS_JSON.md");
    for f in v.as_object().unwrap().keys() {
        assert!(
            doc.contains(&format!("`{f}`")),
            "{f} is not in RINGS_JSON.md"
        );
    }
    // Each set took the writer's slot and gave it back.
    assert_eq!(holders(&inspect(&b.0), "writer"), ["left"]);
    ok(&["rm", &b.0]);
    assert!(!b.path().exists());
}

#[test]
fn get_wait_is_woken_by_a_set_from_another_process() {
    let b = board("wait");
    ok(&["set", &b.0, "price", "1"]);
    // Nothing changes: a timeout (6), after it.
    let started = Instant::now();
    fails(&["get", &b.0, "price", "--wait", "--timeout", "200ms"], 6);
    assert!(started.elapsed() >= Duration::from_millis(200));
    // No writer is attached while it waits (a shell's set holds the slot for a moment).
    let getter = start(&["get", &b.0, "price", "--wait", "--since", "1", "--json"]);
    std::thread::sleep(Duration::from_millis(100));
    ok(&["set", &b.0, "price", "2"]);
    let out = finish(getter, "get --wait");
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["version"].as_u64(), v["value"].as_str()),
        (Some(2), Some("2"))
    );
    // A version other than --since is there already: no wait.
    assert_eq!(ok(&["get", &b.0, "price", "--wait", "--since", "7"]), b"2");
    // A first set wakes a wait on an entry never set.
    let getter = start(&["get", &b.0, "clients", "--wait", "--since", "0"]);
    ok(&["set", &b.0, "clients", "9"]);
    let out = finish(getter, "get --wait, first set");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"9");
}

#[test]
fn get_wait_fails_when_the_writer_it_waited_for_leaves() {
    let b = board("nowriter");
    let mut w = ipcring::blackboard::Builder::new(&b.0)
        .open_writer()
        .expect("take the writer's slot");
    w.set(0, b"1").expect("set");
    let getter = start(&["get", &b.0, "price", "--wait"]);
    await_futex_sleep(getter.id());
    drop(w);
    let out = finish(getter, "get --wait, writer gone");
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no writer"), "{err}");
}

#[test]
fn board_errors_name_the_entry_and_exit_codes_say_what_failed() {
    let b = board("bb-errors");
    let err = fails(&["get", &b.0, "price"], 3);
    assert!(err.contains(&b.0) && err.contains("never set"), "{err}");
    let err = fails(&["get", &b.0, "volume"], 1);
    assert!(
        err.contains("no entry \"volume\"") && err.contains("price, clients"),
        "{err}"
    );
    fails(&["get", &b.0, "4"], 1);
    fails(&["set", &b.0, "volume", "1"], 1);
    let err = fails(&["set", &b.0, "price", "0123456789abcdefX"], 1);
    assert!(
        err.contains("17 bytes does not fit an entry of 16"),
        "{err}"
    );
    let err = fails(&["get", &b.0, "price"], 3);
    assert!(
        err.contains("never set"),
        "the value too large was not set: {err}"
    );
    // A board's one writer slot, taken: set says so, and get still reads.
    let mut w = ipcring::blackboard::Builder::new(&b.0)
        .open_writer()
        .expect("take the writer's slot");
    w.set(0, b"7").expect("set");
    let err = fails(&["set", &b.0, "price", "8"], 1);
    assert!(err.contains("every writer slot (1) is held"), "{err}");
    assert_eq!(ok(&["get", &b.0, "price"]), b"7");
    drop(w);
    // Usage: --since without --wait, a board without entries, options of other kinds.
    fails(&["get", &b.0, "price", "--since", "1"], 2);
    let other = Ring::new("usage");
    fails(&["create", &other.0, "--kind", "blackboard"], 2);
    fails(
        &["create", &other.0, "--kind", "blackboard", "--ids", "4"],
        2,
    );
    fails(&["create", &other.0, "--kind", "mpmc", "--entry", "a:8"], 2);
    fails(
        &["create", &other.0, "--kind", "event", "--capacity", "8"],
        2,
    );
    assert!(!other.path().exists());
    // Not a board.
    ok(&["create", &other.0, "--kind", "mpmc"]);
    let err = fails(&["get", &other.0, "0"], 1);
    assert!(err.contains("not a blackboard"), "{err}");
    let err = fails(&["recv", &b.0], 1);
    assert!(err.contains("`ipcring set` and `get`"), "{err}");
}

#[test]
fn notifications_are_counted_by_a_listener_started_first() {
    let e = events("count", &["--notifiers", "2", "--listeners", "1"]);
    let listener = start(&["listen", &e.0, "--count", "5"]);
    await_holder(&e.0, "listener", "alive");
    ok(&["notify", &e.0, "1", "--count", "3"]);
    ok(&["notify", &e.0, "2", "-c", "2"]);
    let out = finish(listener, "listen --count 5");
    assert!(out.status.success(), "{out:?}");
    let mut counts = [0u64; 4];
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        if line.starts_with("departed notifier ") {
            continue;
        }
        let (id, count) = line.split_once(' ').expect("ID COUNT");
        counts[id.parse::<usize>().unwrap()] += count.parse::<u64>().unwrap();
    }
    assert_eq!(counts, [0, 3, 2, 0]);
    assert_eq!(holders(&inspect(&e.0), "listener"), ["left"]);
    assert_eq!(holders(&inspect(&e.0), "notifier"), ["left", "never"]);
    ok(&["rm", &e.0]);
    assert!(!e.path().exists());
}

#[test]
fn a_killed_notifier_is_reported_departed_and_ctrl_c_ends_listen() {
    let e = events("departed", &[]);
    let mut listener = start(&["listen", &e.0, "--json"]);
    let lines = lines_of(&mut listener);
    await_holder(&e.0, "listener", "alive");
    let mut notifier = start(&["notify", &e.0, "-"]);
    let mut input = notifier.stdin.take().expect("stdin");
    input.write_all(b"3\n").expect("an id");
    let next = || {
        let line = lines.recv_timeout(DEADLINE).expect("a report line");
        serde_json::from_str::<Value>(&line).expect("a JSON object a line")
    };
    let v = next();
    assert_eq!(v["schema"], 1);
    assert_eq!(
        (v["event"].as_str(), v["id"].as_u64(), v["count"].as_u64()),
        (Some("fired"), Some(3), Some(1))
    );
    assert_eq!(holders(&inspect(&e.0), "notifier")[0], "alive");
    notifier.kill().expect("kill -9 the notifier");
    notifier.wait().expect("reap");
    let v = next();
    assert_eq!(
        (v["event"].as_str(), v["role"].as_str(), v["slot"].as_u64()),
        (Some("departed"), Some("notifier"), Some(0))
    );
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/RINGS_JSON.md"))
        .expect("read RINGS_JSON.md");
    for f in ["event", "id", "count", "role", "slot"] {
        assert!(
            doc.contains(&format!("`{f}`")),
            "{f} is not in RINGS_JSON.md"
        );
    }
    assert_eq!(holders(&inspect(&e.0), "notifier")[0], "dead");
    interrupt(&listener);
    let out = finish(listener, "listen, interrupted");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(holders(&inspect(&e.0), "listener")[0], "left");
}

#[test]
fn event_errors_and_exit_codes() {
    let e = events("ev-errors", &["--listeners", "1"]);
    let err = fails(&["notify", &e.0, "4"], 1);
    assert!(
        err.contains("event id 4 does not exist") && err.contains("0 to 3"),
        "{err}"
    );
    fails(&["notify", &e.0, "x"], 2);
    fails(&["notify", &e.0, "-", "--count", "2"], 2);
    let out = run_with(&["notify", &e.0, "-"], b"1\n9\n");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("event id 9") && err.contains("(1 fired)"),
        "{err}"
    );
    let started = Instant::now();
    let err = fails(&["listen", &e.0, "--count", "1", "--timeout", "100ms"], 6);
    assert!(err.contains("0 of 1"), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(100));
    // Without --count, a timeout ends the listening, not in error.
    assert_eq!(ok(&["listen", &e.0, "--timeout", "50ms"]), b"");
    // The one listener slot, taken.
    let rx = ipcring::event::Listener::open(&e.0).expect("take the listener's slot");
    let err = fails(&["listen", &e.0], 1);
    assert!(err.contains("every listener slot (1) is held"), "{err}");
    drop(rx);
    // Ctrl-C before --count: interrupted (130).
    let listener = start(&["listen", &e.0, "--count", "1"]);
    await_holder(&e.0, "listener", "alive");
    interrupt(&listener);
    let out = finish(listener, "listen --count, interrupted");
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert_eq!(holders(&inspect(&e.0), "listener")[0], "left");
    // Not an event segment.
    let b = board("not-events");
    let err = fails(&["notify", &b.0, "0"], 1);
    assert!(err.contains("not an event segment"), "{err}");
}
