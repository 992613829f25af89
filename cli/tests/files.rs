//! The ring commands of the built `ipcring` binary on file-backed rings: every command
//! that takes a ring takes a path (an argument with a `/`), and `list` and `gc` take
//! directories, whose files that are not rings they leave alone. Every command runs under
//! a deadline (a hang fails the test), and every test works in a directory of its own,
//! removed with all it holds also when the test fails.

mod common;

use common::*;
use std::fs::Permissions;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::PathBuf;
use std::process::{Output, Stdio};

/// Offset of the state word in the identity line of every segment.
const STATE_AT: u64 = 24;

/// A directory of this test under the system's temporary directory, for file-backed
/// rings: removed with everything in it when dropped.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(tag: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("cli-{}-{tag}", std::process::id()));
        std::fs::create_dir(&dir).expect("create the test directory");
        Dir(dir)
    }

    /// The path of `file` in the directory, as an argument.
    pub fn join(&self, file: &str) -> String {
        self.0.join(file).display().to_string()
    }

    /// The directory, as an argument.
    pub fn arg(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `ipcring ARGS` in the directory `dir`.
fn run_in(dir: &Dir, args: &[&str]) -> Output {
    let child = ipcring()
        .current_dir(&dir.0)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ipcring");
    finish(child, &args.join(" "))
}

/// Runs `ipcring ARGS`, which must fail with exit code 1; returns its standard error.
fn refused(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(out.status.code(), Some(1), "`ipcring {}`", args.join(" "));
    String::from_utf8(out.stderr).expect("utf-8")
}

/// Makes a file as a creator leaves it while it initialises: mode 0200, zeroed.
fn write_only(path: &str) {
    std::fs::write(path, [0; 4096]).expect("write a file");
    std::fs::set_permissions(path, Permissions::from_mode(0o200)).expect("chmod 0200");
}

/// Starts `ipcring send RING`, which holds a writer's slot while it waits for its input.
fn holding_sender(ring: &str, writer: &str) -> std::process::Child {
    let sender = ipcring()
        .args(["send", ring])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a sender");
    await_holder(ring, writer, "alive");
    sender
}

#[test]
fn messages_values_and_events_go_through_file_rings() {
    let dir = Dir::new("through");
    let ring = dir.join("jobs.ring");
    ok(&["create", "--kind", "spsc", &ring, "--capacity", "4096"]);
    let input = b"one\ntwo\nthree\n";
    assert!(run_with(&["send", &ring], input).status.success());
    assert_eq!(ok(&["recv", &ring, "--count", "2"]), b"one\ntwo\n");
    // In the current directory, `./` makes a word a path; the word alone is a ring name,
    // in /dev/shm: another ring.
    let named = Ring::new("jobs");
    let here = format!("./{}", named.0);
    std::fs::rename(&ring, dir.0.join(&named.0)).expect("rename the file ring");
    let out = run_in(
        &dir,
        &["create", "--kind", "spsc", &named.0, "--capacity", "4096"],
    );
    assert!(out.status.success(), "{out:?}");
    ok(&["send", &named.0, "--message", "named"]);
    assert_eq!(run_in(&dir, &["recv", &here]).stdout, b"three\n");
    assert_eq!(run_in(&dir, &["recv", &named.0]).stdout, b"named\n");
    assert!(named.path().exists());

    let board = dir.join("config.board");
    ok(&[
        "create",
        "--kind",
        "blackboard",
        &board,
        "--entry",
        "level:16",
    ]);
    assert_eq!(ok(&["set", &board, "level", "debug"]), b"1\n");
    assert_eq!(ok(&["get", &board, "level"]), b"debug");

    let events = dir.join("done.events");
    ok(&["create", "--kind", "event", &events, "--ids", "4"]);
    let listener = start(&["listen", &events, "--count", "2"]);
    await_holder(&events, "listener", "alive");
    ok(&["notify", &events, "3", "--count", "2"]);
    let out = finish(listener, "listen --count 2");
    assert!(out.status.success(), "{out:?}");
    let fired: u64 = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .filter_map(|l| l.strip_prefix("3 "))
        .map(|n| n.parse::<u64>().expect("a count"))
        .sum();
    assert_eq!(fired, 2);
}

#[test]
fn every_kind_is_created_at_a_path_with_the_mode_asked() {
    let dir = Dir::new("kinds");
    for (kind, extra) in [
        ("spsc", &["--capacity", "4096"][..]),
        ("mpmc", &["--capacity", "8", "--slot-size", "16"][..]),
        ("broadcast", &["--capacity", "8", "--lossy"][..]),
        ("blackboard", &["--entries", "2:8"][..]),
        ("event", &["--ids", "8"][..]),
    ] {
        let path = dir.join(&format!("{kind}.ring"));
        let mut args = vec!["create", "--kind", kind, &path, "--mode", "0660"];
        args.extend_from_slice(extra);
        ok(&args);
        let v = inspect(&path);
        assert_eq!(
            (v["name"].as_str(), v["kind"].as_str()),
            (Some(path.as_str()), Some(kind))
        );
        assert_eq!(v["object"]["mode"], "0660", "{kind}");
        let err = refused(&args);
        assert!(err.contains("already exists"), "{kind}: {err}");
    }
}

#[test]
fn list_of_a_directory_shows_its_rings_and_not_its_other_files() {
    let dir = Dir::new("ls");
    let queue = dir.join("a.ring");
    ok(&["create", "--kind", "mpmc", &queue]);
    let board = dir.join("b.board");
    ok(&["create", "--kind", "blackboard", &board, "--entry", "k:8"]);
    // The first bytes of a ring: an ipcring file that cannot be read, with the reason.
    let cut = dir.join("c.ring");
    std::fs::write(&cut, &std::fs::read(&queue).expect("read the ring")[..64]).expect("cut");
    std::fs::write(dir.join("notes.txt"), vec![b'x'; 4096]).expect("a text file");
    std::fs::create_dir(dir.0.join("sub")).expect("a directory");
    write_only(&dir.join("half.ring"));

    let text = String::from_utf8(ok(&["ls", &dir.arg()])).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("PATH "), "{text}");
    for (line, path) in lines[1..].iter().zip([&queue, &board, &cut]) {
        assert!(line.starts_with(&format!("{path} ")), "{text}");
    }
    assert!(lines[1].contains(" mpmc ") && lines[2].contains(" blackboard "));
    assert!(
        lines[3].contains("not readable: segment truncated"),
        "{text}"
    );

    let other = Dir::new("ls-other");
    let topic = other.join("t.ring");
    ok(&["create", "--kind", "broadcast", &topic]);
    let v: serde_json::Value =
        serde_json::from_slice(&ok(&["list", &dir.arg(), &other.arg(), "--json"])).unwrap();
    let names: Vec<&str> = v["rings"]
        .as_array()
        .expect("rings")
        .iter()
        .map(|r| r["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, [&*queue, &board, &cut, &topic]);

    let here = run_in(&dir, &["ls", "."]);
    assert!(String::from_utf8_lossy(&here.stdout).contains("./a.ring "));
    // Without directories: /dev/shm.
    assert!(!String::from_utf8(ok(&["ls"])).unwrap().contains(&queue));
    let err = refused(&["ls", &dir.join("missing")]);
    assert!(err.contains("missing"), "{err}");
}

#[test]
fn rm_of_a_path_refuses_while_a_role_is_held_and_removes_after() {
    let dir = Dir::new("rm");
    let ring = dir.join("busy.ring");
    ok(&["create", "--kind", "spsc", &ring]);
    let mut sender = holding_sender(&ring, "producer");
    let err = refused(&["rm", &ring]);
    assert!(err.contains(&ring) && err.contains("in use"), "{err}");
    assert!(dir.0.join("busy.ring").exists());
    drop(sender.stdin.take());
    assert!(finish(sender, "send").status.success());
    ok(&["rm", &ring]);
    assert!(!dir.0.join("busy.ring").exists());

    // What is not a ring goes only with --force: a file of the user's, and a file left
    // initialising (a ring whose creator died, or any write-only file).
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, vec![b'x'; 4096]).expect("a text file");
    let half = dir.join("half.ring");
    write_only(&half);
    let err = refused(&["rm", &notes, &half]);
    assert!(
        err.contains("--force removes it") && err.contains("2 of 2"),
        "{err}"
    );
    ok(&["rm", "--force", &notes, &half]);
    assert!(std::fs::read_dir(&dir.0).expect("list").next().is_none());
}

#[test]
fn gc_of_a_directory_takes_dead_and_broken_rings_and_keeps_the_rest() {
    let dir = Dir::new("gc");
    let dead = dir.join("dead.ring");
    ok(&["create", "--kind", "mpmc", &dead]);
    let mut killed = holding_sender(&dead, "producer");
    killed.kill().expect("kill -9 the sender");
    killed.wait().expect("reap");
    let broken = dir.join("broken.ring");
    ok(&["create", "--kind", "spsc", &broken]);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&broken)
        .and_then(|f| f.write_all_at(b"BAD!", STATE_AT))
        .expect("write the verdict");
    let live = dir.join("live.ring");
    ok(&["create", "--kind", "mpmc", &live]);
    let mut holder = holding_sender(&live, "producer");
    let rested = dir.join("rested.ring");
    ok(&["create", "--kind", "spsc", &rested]);
    ok(&["send", &rested, "--message", "for later"]);
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, b"not a ring").expect("a text file");
    let half = dir.join("half.ring");
    write_only(&half);

    let dry = String::from_utf8(ok(&["gc", "--dry-run", &dir.arg()])).unwrap();
    assert_eq!(
        dry,
        format!(
            "would remove {broken}: no role is held and it was found corrupted\n\
             would remove {dead}: no role is held and a holder died\n"
        )
    );
    let done = String::from_utf8(ok(&["gc", &dir.arg()])).unwrap();
    assert_eq!(done, dry.replace("would remove", "removed"));
    for (path, kept) in [
        (&dead, false),
        (&broken, false),
        (&live, true),
        (&rested, true),
        (&notes, true),
        (&half, true),
    ] {
        assert_eq!(std::path::Path::new(path).exists(), kept, "{path}");
    }
    assert_eq!(ok(&["recv", &rested]), b"for later\n");
    // --prefix narrows names in /dev/shm, not files.
    let out = run(&["gc", "--prefix", "x", &dir.arg()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    drop(holder.stdin.take());
    assert!(finish(holder, "send").status.success());
}

#[test]
fn inspect_reads_an_anonymous_ring_through_a_processes_descriptor() {
    use std::os::fd::AsRawFd;
    let ring = ipcring::RingFd::new("cli-inspect").expect("memfd");
    let mut tx = ipcring::mpmc::Builder::fd(&ring)
        .capacity(8)
        .slot_size(16)
        .create_producer()
        .expect("create");
    tx.send(b"waiting").expect("send");
    let fd = rustix::fd::AsFd::as_fd(&ring).as_raw_fd();
    let path = format!("/proc/{}/fd/{fd}", std::process::id());
    let v = inspect(&path);
    assert_eq!(v["kind"], "mpmc");
    assert_eq!(v["messages"], 1);
    assert_eq!(holders(&v, "producer")[0], "alive");
    // A descriptor that is no sealed memfd is refused, with the reason.
    let stdin = format!("/proc/{}/fd/0", std::process::id());
    let err = refused(&["inspect", &stdin]);
    assert!(
        err.contains("sealed memfd") || err.contains("not a regular"),
        "{err}"
    );
}
