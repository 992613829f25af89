//! The C API from C, against real processes.
//!
//! The C examples and test programs are compiled with the system compilers (`$CC`,
//! default `cc`, and `$CXX`, default `c++`) with `-Werror -pedantic` and linked against
//! the `libipcring.so` of this build: this test binary lives in `<target>/<profile>/deps/`,
//! and `cargo build -p ipcring-ffi` (run from here, a no-op when fresh) puts the library
//! in `<target>/<profile>/`. (`cargo test` alone does not build a cdylib that has no rlib
//! beside it; see ffi/README.md.) Every child runs under an outer timeout, and every ring
//! is removed afterwards, also when a test fails. The tests of MPMC queues are in
//! `c/mpmc.rs`, those of broadcast topics in `c/broadcast.rs`, those of wait sets in
//! `c/waitset.rs`, those of blackboards in `c/board.rs`, those of event segments in
//! `c/event.rs`, those of anonymous rings and paths in `c/anonymous.rs`.

// Beside the C programs it runs; a file directly in tests/ would be a test crate of its own.
#[path = "c/anonymous.rs"]
mod anonymous;
#[path = "c/board.rs"]
mod board;
#[path = "c/broadcast.rs"]
mod broadcast;
#[path = "c/event.rs"]
mod event;
#[path = "c/mpmc.rs"]
mod mpmc;
#[path = "c/waitset.rs"]
mod waitset;

use ipcring::spsc::Builder;
use ipcring::{RecvError, SendError};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// Messages of each interop test.
const MESSAGES: u64 = 100_000;
/// `STREAM_CAPACITY` of examples/stream.h.
const STREAM_CAPACITY: usize = 1 << 16;
/// The outer timeout of every child process.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(300);
/// The longest wait for any one message on the Rust side.
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(30);

fn ffi_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `<target>/<profile>`, from the path of this test binary.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test binary");
    let deps = exe.parent().expect("deps directory");
    deps.parent().expect("profile directory").to_path_buf()
}

/// Builds libipcring.so and libipcring.a into [`profile_dir`] once per test run.
fn lib_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = profile_dir();
        let target = dir.parent().expect("target directory");
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "--quiet", "-p", "ipcring-ffi", "--lib"])
            .env("CARGO_TARGET_DIR", target)
            .current_dir(ffi_dir());
        match dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => {}
            Some("release") => {
                cargo.arg("--release");
            }
            Some(other) => {
                cargo.args(["--profile", other]);
            }
            None => panic!("no profile directory in {}", dir.display()),
        }
        let out = run(&mut cargo, "cargo build -p ipcring-ffi");
        assert!(out.status.success(), "cargo build failed:\n{}", text(&out));
        assert!(
            dir.join("libipcring.so").is_file(),
            "no libipcring.so in {}",
            dir.display()
        );
        dir
    })
}

/// The compiled C (and C++) programs of these tests.
struct Programs {
    producer: PathBuf,
    consumer: PathBuf,
    pingpong: PathBuf,
    workers: PathBuf,
    bad_input: PathBuf,
    mpmc_input: PathBuf,
    mpmc_producer: PathBuf,
    mpmc_consumer: PathBuf,
    chat: PathBuf,
    broadcast_input: PathBuf,
    waitset_input: PathBuf,
    gateway: PathBuf,
    board_input: PathBuf,
    board_peer: PathBuf,
    board: PathBuf,
    event_input: PathBuf,
    event_peer: PathBuf,
    events: PathBuf,
    fd_input: PathBuf,
    fd_peer: PathBuf,
    path_input: PathBuf,
    cpp_link: PathBuf,
}

fn programs() -> &'static Programs {
    static PROGRAMS: OnceLock<Programs> = OnceLock::new();
    PROGRAMS.get_or_init(|| {
        let out = lib_dir().join("ipcring-ffi-c");
        std::fs::create_dir_all(&out).expect("create the output directory");
        let c = |src: &str| compile(&out, src, false);
        Programs {
            producer: c("examples/producer.c"),
            consumer: c("examples/consumer.c"),
            pingpong: c("examples/pingpong.c"),
            workers: c("examples/workers.c"),
            bad_input: c("tests/c/bad_input.c"),
            mpmc_input: c("tests/c/mpmc_input.c"),
            mpmc_producer: c("tests/c/mpmc_producer.c"),
            mpmc_consumer: c("tests/c/mpmc_consumer.c"),
            chat: c("examples/chat.c"),
            broadcast_input: c("tests/c/broadcast_input.c"),
            waitset_input: c("tests/c/waitset_input.c"),
            gateway: c("examples/gateway.c"),
            board_input: c("tests/c/board_input.c"),
            board_peer: c("tests/c/board_peer.c"),
            board: c("examples/board.c"),
            event_input: c("tests/c/event_input.c"),
            event_peer: c("tests/c/event_peer.c"),
            events: c("examples/events.c"),
            fd_input: c("tests/c/fd_input.c"),
            fd_peer: c("tests/c/fd_peer.c"),
            path_input: c("tests/c/path_input.c"),
            cpp_link: compile(&out, "tests/c/cpp_link.cpp", true),
        }
    })
}

/// Compiles one source file of ffi/ into `out_dir`, linked against libipcring.so.
fn compile(out_dir: &Path, src: &str, cxx: bool) -> PathBuf {
    let src = ffi_dir().join(src);
    let exe = out_dir.join(src.file_stem().expect("a file name"));
    let (var, default, std) = if cxx {
        ("CXX", "c++", "-std=c++11")
    } else {
        ("CC", "cc", "-std=c11")
    };
    let compiler = std::env::var(var).unwrap_or_else(|_| default.to_owned());
    let lib = lib_dir();
    let mut cmd = Command::new(&compiler);
    cmd.args([std, "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-g"])
        .arg("-I")
        .arg(ffi_dir().join("include"))
        .arg("-I")
        .arg(ffi_dir().join("examples"))
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(lib)
        .arg("-lipcring")
        .arg(format!("-Wl,-rpath,{}", lib.display()));
    let out = run(&mut cmd, &compiler);
    assert!(
        out.status.success(),
        "compiling {} failed:\n{}",
        src.display(),
        text(&out)
    );
    exe
}

/// A child process that is killed if the test ends before it does. Its output is read
/// from the start, so that a child that says much never blocks on a full pipe.
struct Running {
    child: Option<Child>,
    what: String,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Running {
    fn spawn(cmd: &mut Command, what: &str) -> Running {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut p) = pipe {
                    let _ = p.read_to_end(&mut bytes);
                }
                bytes
            })
        };
        let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
        let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
        Running {
            child: Some(child),
            what: what.to_owned(),
            stdout: Some(stdout),
            stderr: Some(stderr),
        }
    }

    /// Waits for the child, at most [`PROCESS_TIMEOUT`]: a hang fails the test.
    fn finish(mut self) -> Output {
        let mut child = self.child.take().expect("not finished yet");
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for a child") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} did not finish within {PROCESS_TIMEOUT:?}", self.what);
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let join = |t: Option<JoinHandle<Vec<u8>>>| t.map(|t| t.join().expect("output reader"));
        Output {
            status,
            stdout: join(self.stdout.take()).unwrap_or_default(),
            stderr: join(self.stderr.take()).unwrap_or_default(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn run(cmd: &mut Command, what: &str) -> Output {
    Running::spawn(cmd, what).finish()
}

fn text(out: &Output) -> String {
    format!(
        "{}\n--- stdout:\n{}--- stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A unique prefix for ring names; every ring under it is removed on drop.
struct Rings(String);

impl Rings {
    fn new(test: &str) -> Rings {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Rings(format!("ffi-{test}-{}-{nanos}", std::process::id()))
    }

    /// The rings whose names start with `prefix` (made by a program that names its own).
    fn with_prefix(prefix: String) -> Rings {
        Rings(prefix)
    }

    fn name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.0)
    }
}

impl Drop for Rings {
    fn drop(&mut self) {
        let prefix = format!("ipcring.{}", self.0);
        for entry in std::fs::read_dir("/dev/shm")
            .into_iter()
            .flatten()
            .flatten()
        {
            let file = entry.file_name();
            let file = file.to_string_lossy();
            if let Some(name) = file
                .strip_prefix("ipcring.")
                .filter(|_| file.starts_with(&prefix))
            {
                let _ = ipcring::unlink(name);
            }
        }
    }
}

/// Whether a ring of that prefix is still in /dev/shm.
fn leftovers(rings: &Rings) -> Vec<String> {
    let prefix = format!("ipcring.{}", rings.0);
    std::fs::read_dir("/dev/shm")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with(&prefix))
        .collect()
}

/// The checked stream of examples/stream.h, in Rust.
mod stream {
    pub fn hash(i: u64) -> u64 {
        let mut x = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^= x >> 33;
        x
    }

    pub fn len(i: u64, max: usize) -> usize {
        let h = hash(i);
        let limit = if h & 15 == 0 || max < 256 { max } else { 256 };
        ((h >> 8) % (limit as u64 + 1)) as usize
    }

    fn byte(h: u64, j: usize) -> u8 {
        ((h >> (8 * (j & 7))) as u8).wrapping_add((j >> 3) as u8)
    }

    pub fn fill(i: u64, out: &mut [u8]) {
        let h = hash(i);
        for (j, b) in out.iter_mut().enumerate() {
            *b = byte(h, j);
        }
    }

    /// Panics unless `msg` is message `i`.
    pub fn check(i: u64, msg: &[u8], max: usize) {
        assert_eq!(msg.len(), len(i, max), "length of message {i}");
        let h = hash(i);
        if let Some(j) = (0..msg.len()).find(|&j| msg[j] != byte(h, j)) {
            panic!(
                "message {i}: byte {j} is {:#x}, expected {:#x}",
                msg[j],
                byte(h, j)
            );
        }
    }
}

/// Runs a C program of checks (`program RING-PREFIX`), which must exit 0, report
/// " 0 failed", and leave no segment behind.
fn run_checks(program: &Path, tag: &str) {
    let rings = Rings::new(tag);
    let what = program
        .file_name()
        .map_or(tag.into(), |f| f.to_string_lossy());
    let out = run(Command::new(program).arg(&rings.0), &what);
    assert!(out.status.success(), "{what} failed:\n{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(" 0 failed"),
        "{}",
        text(&out)
    );
    assert_eq!(leftovers(&rings), Vec::<String>::new());
}

#[test]
fn bad_input_from_c_gets_status_codes() {
    run_checks(&programs().bad_input, "bad");
}

#[test]
fn header_compiles_as_cpp_and_links_with_c_linkage() {
    let rings = Rings::new("cpp");
    let out = run(Command::new(&programs().cpp_link).arg(&rings.0), "cpp_link");
    assert!(out.status.success(), "cpp_link failed:\n{}", text(&out));
    assert_eq!(leftovers(&rings), Vec::<String>::new());
}

#[test]
fn c_producer_to_rust_consumer() {
    let rings = Rings::new("c2rust");
    let name = rings.name("stream");
    let producer = Running::spawn(
        Command::new(&programs().producer).args([&name, &MESSAGES.to_string()]),
        "C producer",
    );
    let mut rx = Builder::new(&name)
        .capacity(STREAM_CAPACITY)
        .open_or_create_consumer()
        .expect("attach the Rust consumer");
    let max = rx.max_message();
    let mut buf = Vec::new();
    for i in 0..MESSAGES {
        if i % 2 == 0 {
            rx.recv_timeout_into(&mut buf, MESSAGE_TIMEOUT)
                .unwrap_or_else(|e| panic!("message {i}: {e}"));
            stream::check(i, &buf, max);
        } else {
            let g = rx
                .read_timeout(MESSAGE_TIMEOUT)
                .unwrap_or_else(|e| panic!("message {i}: {e}"));
            stream::check(i, &g.to_vec(), max);
        }
    }
    assert_eq!(
        rx.recv_timeout_into(&mut buf, MESSAGE_TIMEOUT),
        Err(RecvError::Disconnected)
    );
    let out = producer.finish();
    assert!(out.status.success(), "C producer failed:\n{}", text(&out));
    drop(rx);
    ipcring::unlink(&name).expect("remove the ring");
    assert_eq!(leftovers(&rings), Vec::<String>::new());
}

#[test]
fn rust_producer_to_c_consumer() {
    let rings = Rings::new("rust2c");
    let name = rings.name("stream");
    let consumer = Running::spawn(
        Command::new(&programs().consumer).args([&name, &MESSAGES.to_string()]),
        "C consumer",
    );
    let mut tx = Builder::new(&name)
        .capacity(STREAM_CAPACITY)
        .open_or_create_producer()
        .expect("attach the Rust producer");
    let max = tx.max_message();
    let mut buf = vec![0; max];
    for i in 0..MESSAGES {
        let len = stream::len(i, max);
        if i % 2 == 0 {
            stream::fill(i, &mut buf[..len]);
            tx.send_timeout(&buf[..len], MESSAGE_TIMEOUT)
                .unwrap_or_else(|e| panic!("message {i}: {e}"));
        } else {
            let deadline = Instant::now() + MESSAGE_TIMEOUT;
            let mut g = loop {
                match tx.try_reserve(len) {
                    Ok(g) => break g,
                    Err(SendError::Full) if Instant::now() < deadline => std::thread::yield_now(),
                    Err(e) => panic!("message {i}: {e}"),
                }
            };
            let mut msg = vec![0; g.len()];
            stream::fill(i, &mut msg);
            g.copy_from_slice(&msg);
            g.commit(len);
        }
    }
    drop(tx);
    let out = consumer.finish();
    assert!(out.status.success(), "C consumer failed:\n{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("received {MESSAGES} messages, 0 bad")),
        "{}",
        text(&out)
    );
    // The C consumer removes the ring when it is done.
    assert_eq!(leftovers(&rings), Vec::<String>::new());
}

#[test]
fn c_examples_talk_to_each_other() {
    let rings = Rings::new("c2c");
    let name = rings.name("stream");
    let count = "20000";
    let consumer = Running::spawn(
        Command::new(&programs().consumer).args([&name, count]),
        "C consumer",
    );
    let producer = run(
        Command::new(&programs().producer).args([&name, count]),
        "C producer",
    );
    assert!(
        producer.status.success(),
        "C producer failed:\n{}",
        text(&producer)
    );
    let consumer = consumer.finish();
    assert!(
        consumer.status.success(),
        "C consumer failed:\n{}",
        text(&consumer)
    );
    assert_eq!(leftovers(&rings), Vec::<String>::new());
}

#[test]
fn readme_examples_compile_and_run() {
    // The C examples of ffi/README.md (SPSC, MPMC, blackboards, events, anonymous rings)
    // and the one of the top README.md: none may rot. Each: the README, which of its C
    // blocks, the ring name it uses (for an anonymous ring: its label), what it prints.
    let ffi_readme = ffi_dir().join("README.md");
    let examples = [
        (ffi_readme.clone(), 0, "orders", "order #2\n"),
        (ffi_readme.clone(), 1, "jobs", "job #1\n"),
        (ffi_readme.clone(), 3, "prices", "price 1.08, unchanged\n"),
        (ffi_readme.clone(), 6, "jobs", "job #1\n"),
        (
            ffi_readme,
            4,
            "alarms",
            "id 0: 2\nid 1: 1\nnotifier 0 left\n",
        ),
        (ffi_dir().join("../README.md"), 0, "orders", "order #2\n"),
    ];
    for (i, (path, block, ring, said)) in examples.iter().enumerate() {
        let readme = std::fs::read_to_string(path).expect("read the README");
        let start = readme
            .match_indices("```c\n")
            .nth(*block)
            .unwrap_or_else(|| panic!("C block {block} of {}", path.display()))
            .0
            + 5;
        let len = readme[start..].find("```").expect("the end of the C block");
        let rings = Rings::new(&format!("readme{i}"));
        let source =
            readme[start..start + len].replace(&format!("\"{ring}\""), &format!("\"{}\"", rings.0));
        let dir = lib_dir().join("ipcring-ffi-c");
        std::fs::create_dir_all(&dir).expect("create the output directory");
        let src = dir.join(format!("readme{i}-{}.c", std::process::id()));
        std::fs::write(&src, source).expect("write the example");
        let exe = compile(&dir, src.to_str().expect("a UTF-8 path"), false);
        let out = run(&mut Command::new(&exe), "README example");
        assert!(
            out.status.success(),
            "{} example {block} failed:\n{}",
            path.display(),
            text(&out)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), *said);
        assert_eq!(leftovers(&rings), Vec::<String>::new());
    }
}

#[test]
fn c_pingpong_reports_percentiles() {
    // The default wait (spin, then sleep) keeps a shared CI machine usable.
    let pingpong = Running::spawn(
        Command::new(&programs().pingpong).args(["2000", "default"]),
        "C pingpong",
    );
    // pingpong names its rings after its process id.
    let pid = pingpong.child.as_ref().map_or(0, Child::id);
    let rings = Rings::with_prefix(format!("pingpong-c-{pid}"));
    let out = pingpong.finish();
    assert!(out.status.success(), "pingpong failed:\n{}", text(&out));
    assert_eq!(leftovers(&rings), Vec::<String>::new());
    let said = String::from_utf8_lossy(&out.stdout);
    for word in ["min", "p50", "p99", "p99.9", "max"] {
        assert!(said.contains(word), "no {word} in:\n{}", text(&out));
    }
}

#[test]
fn make_install_gives_a_pkg_config_package_that_builds_and_runs() {
    // `make install-check` installs into a temporary prefix and builds examples/workers.c
    // from there with `pkg-config --cflags --libs ipcring` (shared) and `--static`, and
    // runs both; here with the library of this build (a no-op `cargo build`).
    let lib = lib_dir();
    let profile = lib.file_name().and_then(|n| n.to_str()).expect("a profile");
    let target = lib.parent().expect("target directory");
    let out = run(
        Command::new("make")
            .args(["--no-print-directory", "-C"])
            .arg(ffi_dir())
            .arg("install-check")
            .arg(format!("PROFILE={profile}"))
            .env("CARGO_TARGET_DIR", target),
        "make install-check",
    );
    assert!(
        out.status.success(),
        "make install-check failed:\n{}",
        text(&out)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("builds and runs, shared and static"),
        "{}",
        text(&out)
    );
    assert_eq!(
        said.matches("2000 right, 0 bad").count(),
        2,
        "{}",
        text(&out)
    );
}
