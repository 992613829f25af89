//! What the tests of the built `ipcring` binary share: ring names removed by a guard, runs of the binary under a deadline (a hang fails the test), and the role
//! holders that `inspect` shows.

use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The longest any one command may take.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A ring name of this test, removed when dropped.
pub struct Ring(pub String);

impl Ring {
    pub fn new(tag: &str) -> Ring {
        Ring(format!("cli-{}-{tag}", std::process::id()))
    }

    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("/dev/shm/ipcring.{}", self.0))
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.path());
    }
}

pub fn ipcring() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ipcring"))
}

/// Waits for `child` until the deadline; kills it and fails past it.
pub fn finish(mut child: Child, what: &str) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("`{what}` hung for {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().expect("collect the output")
}

/// Starts `ipcring ARGS` with standard input, output and error piped.
pub fn start(args: &[&str]) -> Child {
    ipcring()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ipcring")
}

/// Runs `ipcring ARGS` with `input` on standard input.
pub fn run_with(args: &[&str], input: &[u8]) -> Output {
    let mut child = start(args);
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = finish(child, &args.join(" "));
    feeder.join().expect("feeder");
    out
}

pub fn run(args: &[&str]) -> Output {
    run_with(args, b"")
}

/// Runs `ipcring ARGS`, which must succeed; returns its standard output.
pub fn ok(args: &[&str]) -> Vec<u8> {
    let out = run(args);
    assert!(
        out.status.success(),
        "`ipcring {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `ipcring inspect RING --json`, parsed (RING: a name, or a file ring's path).
pub fn inspect(ring: &str) -> Value {
    serde_json::from_slice(&ok(&["inspect", ring, "--json"])).expect("valid JSON")
}

/// The holders of role `role` in an `inspect --json`.
pub fn holders(v: &Value, role: &str) -> Vec<String> {
    v["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .filter(|s| s["role"] == role)
        .map(|s| s["holder"].as_str().expect("holder").to_owned())
        .collect()
}

/// Polls `inspect` until the first slot of `role` of `ring` has `holder`.
pub fn await_holder(ring: &str, role: &str, holder: &str) {
    let start = Instant::now();
    while holders(&inspect(ring), role)[0] != holder {
        assert!(start.elapsed() < DEADLINE, "{role} never became {holder}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
