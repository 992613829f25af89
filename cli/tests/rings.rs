//! The ring commands of the built `ipcring` binary, against real rings of each kind and
//! real processes: pipelines that are byte-exact, a holder killed and reclaimed, removal
//! refused while a role is held, objects that are not rings, JSON parsed back, and the
//! exit codes. Every command runs under a deadline (a hang fails the test), and every
//! ring is removed by a guard, also when a test fails.

mod common;

use common::*;
use serde_json::Value;
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn json(args: &[&str]) -> Value {
    serde_json::from_slice(&ok(args)).expect("valid JSON")
}

fn lines(n: u64) -> Vec<u8> {
    (1..=n)
        .map(|i| format!("{i}\n"))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn send_then_recv_is_byte_exact_through_every_kind() {
    let input = lines(1000);
    for (kind, extra) in [
        ("spsc", &["--capacity", "64K"][..]),
        ("mpmc", &["--capacity", "1024", "--slot-size", "16"][..]),
        (
            "broadcast",
            &["--capacity", "1024", "--slot-size", "16"][..],
        ),
    ] {
        let ring = Ring::new(&format!("pipe-{kind}"));
        let mut args = vec!["create", &ring.0, "--kind", kind];
        args.extend_from_slice(extra);
        ok(&args);
        let sent = run_with(&["send", &ring.0], &input);
        assert!(sent.status.success(), "{kind}: {sent:?}");
        let mut recv = vec!["recv", &ring.0, "--count", "1000"];
        if kind == "broadcast" {
            // A subscriber joins at the next message unless told otherwise.
            recv.push("--from-oldest");
        }
        assert_eq!(ok(&recv), input, "{kind}: output differs from input");
        // Nothing more: a plain recv takes what the ring holds and stops.
        assert_eq!(ok(&["recv", &ring.0]), b"", "{kind}");
    }
}

#[test]
fn length_prefixed_messages_carry_any_bytes() {
    let ring = Ring::new("length");
    ok(&["create", &ring.0, "--kind", "spsc", "--capacity", "4096"]);
    let messages: [&[u8]; 3] = [b"a\nb", b"", &[0, 255, 10, 13]];
    let mut framed = Vec::new();
    for m in messages {
        framed.extend_from_slice(&(m.len() as u32).to_le_bytes());
        framed.extend_from_slice(m);
    }
    assert!(run_with(&["send", &ring.0, "--format", "length"], &framed)
        .status
        .success());
    let out = ok(&["recv", &ring.0, "--count", "3", "--format", "length"]);
    assert_eq!(out, framed);
    ok(&["send", &ring.0, "--message", "hi", "--count", "3"]);
    assert_eq!(ok(&["recv", &ring.0, "--format", "raw"]), b"hihihi");
}

#[test]
fn a_killed_holder_is_listed_dead_and_gc_reclaims_its_ring() {
    for (kind, writer, writers) in [
        ("spsc", "producer", "producers 0/1 (1 dead)"),
        ("mpmc", "producer", "producers 0/16 (1 dead)"),
        ("broadcast", "publisher", "publishers 0/16 (1 dead)"),
    ] {
        let ring = Ring::new(&format!("dead-{kind}"));
        ok(&["create", &ring.0, "--kind", kind, "--capacity", "64"]);
        // A sender blocked on its standard input holds a writer's slot.
        let mut sender = ipcring()
            .args(["send", &ring.0])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start a sender");
        await_holder(&ring.0, writer, "alive");
        let listed = json(&["list", "--json"]);
        let entry = listed["rings"]
            .as_array()
            .expect("rings")
            .iter()
            .find(|r| r["name"] == ring.0.as_str())
            .expect("listed")
            .clone();
        assert_eq!(entry["kind"], kind);
        assert_eq!(entry["roles"][writer]["alive"], 1);
        assert!(
            ok(&["gc", "--prefix", &ring.0]).is_empty(),
            "{kind}: gc took a live ring"
        );
        sender.kill().expect("kill -9 the sender");
        sender.wait().expect("reap");
        assert_eq!(holders(&inspect(&ring.0), writer)[0], "dead");
        let text = String::from_utf8(ok(&["list"])).expect("utf-8");
        let row = text
            .lines()
            .find(|l| l.starts_with(&ring.0))
            .expect("a row");
        assert!(row.contains(writers), "{row}");
        let dry = String::from_utf8(ok(&["gc", "--prefix", &ring.0, "--dry-run"])).unwrap();
        assert!(dry.contains("would remove"), "{dry}");
        assert!(ring.path().exists());
        let done = String::from_utf8(ok(&["gc", "--prefix", &ring.0])).unwrap();
        assert!(done.contains(&format!("removed {}", ring.0)), "{done}");
        assert!(!ring.path().exists());
    }
}

#[test]
fn rm_refuses_a_ring_in_use_and_ctrl_c_gives_the_role_back() {
    let ring = Ring::new("busy");
    ok(&["create", &ring.0, "--kind", "broadcast", "--capacity", "8"]);
    let follower = ipcring()
        .args(["recv", &ring.0, "--follow"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start a follower");
    await_holder(&ring.0, "subscriber", "alive");
    ok(&["send", &ring.0, "--message", "hello"]);
    let refused = run(&["rm", &ring.0]);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains(&ring.0) && err.contains("in use"), "{err}");
    assert!(ring.path().exists());
    // SIGINT: the follower detaches and exits cleanly with what it received.
    // SAFETY: kill() with a valid pid and signal number has no memory effects.
    assert_eq!(unsafe { libc::kill(follower.id() as i32, libc::SIGINT) }, 0);
    let out = finish(follower, "recv --follow");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"hello\n");
    assert_eq!(holders(&inspect(&ring.0), "subscriber")[0], "left");
    ok(&["rm", &ring.0]);
    assert!(!ring.path().exists());
}

#[test]
fn rm_force_removes_a_ring_in_use() {
    let ring = Ring::new("force");
    ok(&["create", &ring.0, "--kind", "spsc", "--capacity", "4096"]);
    let holder = ipcring()
        .args(["recv", &ring.0, "--follow"])
        .stdout(Stdio::null())
        .spawn()
        .expect("start a holder");
    await_holder(&ring.0, "consumer", "alive");
    ok(&["rm", "--force", &ring.0]);
    assert!(!ring.path().exists());
    // SAFETY: as above.
    unsafe { libc::kill(holder.id() as i32, libc::SIGINT) };
    assert!(finish(holder, "recv --follow").status.success());
}

#[test]
fn an_object_that_is_not_a_ring_is_listed_with_the_reason() {
    let ring = Ring::new("junk");
    std::fs::write(ring.path(), vec![0x42; 8192]).expect("write junk");
    let text = String::from_utf8(ok(&["list"])).unwrap();
    let row = text.lines().find(|l| l.starts_with(&ring.0)).expect("row");
    assert!(
        row.contains("not readable: not an ipcring segment"),
        "{row}"
    );
    let listed = json(&["list", "--json"]);
    let entry = listed["rings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == ring.0.as_str())
        .expect("listed")
        .clone();
    assert!(entry["kind"].is_null());
    assert!(entry["error"].as_str().unwrap().contains("not an ipcring"));
    let inspected = run(&["inspect", &ring.0]);
    assert_eq!(inspected.status.code(), Some(1));
    let refused = run(&["rm", &ring.0]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(ring.path().exists());
    ok(&["rm", "--force", &ring.0]);
    assert!(!ring.path().exists());
}

#[test]
fn inspect_reports_counters_and_lag_as_json() {
    let ring = Ring::new("inspect");
    ok(&[
        "create",
        &ring.0,
        "--kind",
        "broadcast",
        "--capacity",
        "64",
        "--slot-size",
        "32",
        "--publishers",
        "2",
        "--subscribers",
        "3",
        "--mode",
        "0660",
    ]);
    ok(&["send", &ring.0, "--message", "m", "--count", "5"]);
    let v = inspect(&ring.0);
    assert_eq!(v["schema"], 1);
    assert_eq!(v["kind"], "broadcast");
    assert_eq!(v["capacity"], 64);
    assert_eq!(v["slot_size"], 32);
    assert_eq!(v["lossy"], false);
    assert_eq!(v["messages"], 5);
    assert_eq!(v["object"]["mode"], "0660");
    assert_eq!(v["positions"]["tail"], 5);
    assert_eq!(holders(&v, "publisher"), ["left", "never"]);
    assert_eq!(holders(&v, "subscriber"), ["never"; 3]);
    assert_eq!(v["slots"][0]["counters"]["sent"], 5);
    assert_eq!(v["slots"][0]["counters"]["bytes"], 5);
    assert_eq!(v["slots"][0]["generation"], 1);
    // Every field printed is documented.
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/RINGS_JSON.md"))
        .expect("read RINGS_JSON.md");
    let mut fields: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    for nested in ["object", "positions"] {
        fields.extend(v[nested].as_object().unwrap().keys().cloned());
    }
    fields.extend(v["slots"][0].as_object().unwrap().keys().cloned());
    fields.extend(
        v["slots"][0]["counters"]
            .as_object()
            .unwrap()
            .keys()
            .cloned(),
    );
    for f in fields {
        assert!(
            doc.contains(&format!("`{f}`")),
            "field {f} is not in RINGS_JSON.md"
        );
    }
}

#[test]
fn inspect_shows_a_blackboards_entries() {
    let ring = Ring::new("board");
    let mut w = ipcring::blackboard::Builder::new(&ring.0)
        .entry("price", 16)
        .value::<u64>("clients")
        .entries(1, 300)
        .create_writer()
        .expect("create a board");
    w.set(0, b"101.5").expect("set");
    w.set(0, b"101.25").expect("set");
    w.set_value(1, &7u64).expect("set");
    let v = inspect(&ring.0);
    assert_eq!(v["kind"], "blackboard");
    assert_eq!(v["unit"], "entries");
    assert_eq!(v["capacity"], 3);
    assert_eq!(v["fill"], 2);
    assert_eq!(v["max_message"], 300);
    assert_eq!(holders(&v, "writer"), ["alive"]);
    let e = &v["entries"];
    assert_eq!(e[0]["key"], "price");
    assert_eq!(
        (e[0]["len"].as_u64(), e[0]["version"].as_u64()),
        (Some(6), Some(2))
    );
    assert_eq!(
        (e[1]["key"].as_str(), e[1]["max_size"].as_u64()),
        (Some("clients"), Some(8))
    );
    assert_eq!(
        (e[2]["key"].as_str(), e[2]["state"].as_str()),
        (Some(""), Some("unset"))
    );
    assert_eq!(e[0]["state"], "set");
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/RINGS_JSON.md"))
        .expect("read RINGS_JSON.md");
    for f in [
        "entries", "index", "key", "max_size", "len", "version", "state",
    ] {
        assert!(
            doc.contains(&format!("`{f}`")),
            "field {f} is not in RINGS_JSON.md"
        );
    }
    let text = String::from_utf8(ok(&["inspect", &ring.0])).expect("utf-8");
    assert!(text.contains("3 entries"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("0 ") && l.contains("price") && l.ends_with("set")),
        "{text}"
    );
    drop(w);
    // A child that another test forks meanwhile holds a copy of the handle's descriptor,
    // and so its role lock, until it execs: wait for the lock to go.
    await_holder(&ring.0, "writer", "left");
    assert_eq!(holders(&inspect(&ring.0), "writer"), ["left"]);
}

#[test]
fn inspect_shows_an_event_segments_counters() {
    let ring = Ring::new("events");
    let mut rx = ipcring::event::Builder::new(&ring.0)
        .ids(4)
        .notifiers(2)
        .listeners(1)
        .create_listener()
        .expect("create an event segment");
    let mut tx = ipcring::event::Notifier::open(&ring.0).expect("open a notifier");
    for id in [1, 1, 3] {
        tx.notify(id).expect("notify");
    }
    let v = inspect(&ring.0);
    assert_eq!(v["kind"], "event");
    assert_eq!(
        (v["capacity"].as_u64(), v["unit"].as_str()),
        (Some(4), Some("entries"))
    );
    assert_eq!(
        (v["fill"].as_u64(), v["messages"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(v["positions"]["epoch"], 3);
    assert_eq!(holders(&v, "notifier"), ["alive", "never"]);
    assert_eq!(holders(&v, "listener"), ["alive"]);
    let counts: Vec<(u64, u64)> = v["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| (e["id"].as_u64().unwrap(), e["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(counts, [(0, 0), (1, 2), (2, 0), (3, 1)]);
    let text = String::from_utf8(ok(&["inspect", &ring.0])).expect("utf-8");
    assert!(
        text.contains("4 ids") && text.contains("fired      2 ids"),
        "{text}"
    );
    assert!(text.contains("2 id(s) never fired"), "{text}");
    drop(tx);
    // As for the blackboard's writer above.
    await_holder(&ring.0, "notifier", "left");
    assert_eq!(holders(&inspect(&ring.0), "notifier"), ["left", "never"]);
    let _ = rx.try_wait();
}

#[test]
fn watch_prints_a_line_per_interval_when_not_on_a_terminal() {
    let ring = Ring::new("watch");
    ok(&["create", &ring.0, "--kind", "mpmc"]);
    let out = String::from_utf8(ok(&[
        "watch",
        &ring.0,
        "--interval",
        "50ms",
        "--looks",
        "3",
    ]))
    .unwrap();
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out
        .lines()
        .all(|l| l.contains("in 0/s") && l.contains("fill 0.0%")));
    let out = ok(&[
        "watch",
        &ring.0,
        "--interval",
        "10ms",
        "--looks",
        "2",
        "--json",
    ]);
    for line in String::from_utf8(out).unwrap().lines() {
        let v: Value = serde_json::from_str(line).expect("a JSON object a line");
        assert_eq!(v["name"], ring.0.as_str());
    }
}

#[test]
fn errors_name_the_ring_and_exit_codes_say_what_failed() {
    let ring = Ring::new("missing");
    let out = run(&["inspect", &ring.0]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&ring.0) && err.contains("does not exist"),
        "{err}"
    );
    assert_eq!(run(&["recv", &ring.0]).status.code(), Some(1));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
    let misplaced = run(&["create", &ring.0, "--kind", "spsc", "--slot-size", "8"]);
    assert_eq!(misplaced.status.code(), Some(2));
    assert!(!ring.path().exists());
    let full = Ring::new("full");
    ok(&["create", &full.0, "--kind", "mpmc", "--capacity", "2"]);
    let out = run_with(&["send", &full.0, "--no-wait"], &lines(3));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("full") && err.contains("2 sent"), "{err}");
}

#[test]
fn ctrl_c_stops_a_sender_waiting_for_input_and_gives_its_role_back() {
    let ring = Ring::new("sigint-send");
    ok(&["create", &ring.0, "--kind", "spsc", "--capacity", "4096"]);
    let mut sender = ipcring()
        .args(["send", &ring.0])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a sender");
    let mut input = sender.stdin.take().expect("stdin");
    input.write_all(b"one\ntwo\n").expect("feed two lines");
    await_holder(&ring.0, "producer", "alive");
    let start = Instant::now();
    while inspect(&ring.0)["messages"] != 2 {
        assert!(start.elapsed() < DEADLINE, "the two lines never arrived");
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: kill() with a valid pid and signal number has no memory effects.
    assert_eq!(unsafe { libc::kill(sender.id() as i32, libc::SIGINT) }, 0);
    let out = finish(sender, "send, interrupted");
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("interrupted (2 sent)"), "{err}");
    assert_eq!(holders(&inspect(&ring.0), "producer")[0], "left");
    drop(input);
    assert_eq!(ok(&["recv", &ring.0]), b"one\ntwo\n");
}
