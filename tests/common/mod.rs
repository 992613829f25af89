//! Helpers of the integration tests: unique ring names, guards that remove rings and kill
//! children even when a test fails, a watchdog that turns a hang into a failure, child
//! processes of this test binary, and message contents derived from a sequence number.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

#[cfg(feature = "crash-points")]
pub mod crashes;
pub mod full;
pub mod scribbler;
pub mod signals;
pub mod trials;
pub mod users;
pub mod waits;

/// Environment variables that turn a run of this binary into a child role.
pub const ROLE_VAR: &str = "IPCRING_TEST_ROLE";
pub const RING_VAR: &str = "IPCRING_TEST_RING";
pub const ARG_VAR: &str = "IPCRING_TEST_ARG";

/// The test function that runs a child role (see `main.rs`).
const CHILD_TEST: &str = "child_process_entry";

/// How long a child may live, whatever happens to its parent.
const CHILD_LIMIT: Duration = Duration::from_secs(90);

/// Rings and child processes that exist now, so that the watchdog can clean up before it
/// aborts a hung test run.
struct Live {
    rings: Vec<String>,
    dirs: Vec<PathBuf>,
    pids: Vec<u32>,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    rings: Vec::new(),
    dirs: Vec::new(),
    pids: Vec::new(),
});

fn live() -> MutexGuard<'static, Live> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn sigkill(pid: u32) {
    if let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
    }
}

/// A ring name used by nobody else: this process, a tag, a counter.
pub fn unique_name(tag: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("test-{}-{tag}-{n}", std::process::id())
}

/// Owns a ring name: unlinks the ring when dropped, whether the test passed or not.
#[derive(Debug)]
pub struct RingGuard {
    name: String,
}

impl RingGuard {
    pub fn new(tag: &str) -> RingGuard {
        RingGuard::padded(tag, 0)
    }

    /// A unique name padded with `x` to at least `len` bytes.
    pub fn padded(tag: &str, len: usize) -> RingGuard {
        let mut name = unique_name(tag);
        while name.len() < len {
            name.push('x');
        }
        live().rings.push(name.clone());
        RingGuard { name }
    }

    /// Owns the ring called exactly `name`.
    pub fn named(name: &str) -> RingGuard {
        live().rings.push(name.to_owned());
        RingGuard {
            name: name.to_owned(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The shm object behind the ring.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("/dev/shm/ipcring.{}", self.name))
    }
}

impl Drop for RingGuard {
    fn drop(&mut self) {
        let _ = ipcring::unlink(&self.name);
        live().rings.retain(|n| *n != self.name);
    }
}

/// A directory of its own under the system's temporary directory, for file-backed rings:
/// removed with everything in it when dropped (or by the watchdog), whether the test
/// passed or not.
#[derive(Debug)]
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    pub fn new(tag: &str) -> TestDir {
        let path = std::env::temp_dir().join(format!("ipcring-{}", unique_name(tag)));
        std::fs::create_dir(&path).expect("create the test directory");
        live().dirs.push(path.clone());
        TestDir { path }
    }

    /// The path of `file` in this directory.
    pub fn join(&self, file: &str) -> PathBuf {
        self.path.join(file)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
        live().dirs.retain(|d| *d != self.path);
    }
}

/// Aborts the whole test process, after killing the children and removing the rings of
/// every test, if it is not dropped within its limit: a hang fails instead of hanging.
#[derive(Debug)]
pub struct Watchdog {
    _stop: mpsc::Sender<()>,
}

pub fn watchdog(what: &str, limit: Duration) -> Watchdog {
    let (stop, stopped) = mpsc::channel::<()>();
    let what = what.to_owned();
    std::thread::spawn(move || {
        if stopped.recv_timeout(limit) == Err(RecvTimeoutError::Timeout) {
            eprintln!("WATCHDOG: {what} still runs after {limit:?}; cleaning up and aborting");
            let l = live();
            l.pids.iter().copied().for_each(sigkill);
            for name in &l.rings {
                let _ = ipcring::unlink(name);
            }
            for dir in &l.dirs {
                let _ = std::fs::remove_dir_all(dir);
            }
            std::process::abort();
        }
    });
    Watchdog { _stop: stop }
}

/// A child process running one role of this test binary. Killed when dropped.
#[derive(Debug)]
pub struct ChildProc {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Marker lines (`@@...`) that the child printed, without the marker.
    lines: Receiver<String>,
    role: String,
    reaped: bool,
}

/// Starts this test binary as a child that plays `role` on ring `ring`.
pub fn spawn(role: &str, ring: &str, arg: &str) -> ChildProc {
    spawn_with(role, ring, arg, |_| {})
}

/// As [`spawn`], with a chance to adjust the command (uid, gid...).
pub fn spawn_with(
    role: &str,
    ring: &str,
    arg: &str,
    adjust: impl FnOnce(&mut Command),
) -> ChildProc {
    let exe = std::env::current_exe().expect("path of the test binary");
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
        .env(ROLE_VAR, role)
        .env(RING_VAR, ring)
        .env(ARG_VAR, arg)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    adjust(&mut cmd);
    let mut child = cmd.spawn().expect("spawn a child test process");
    live().pids.push(child.id());
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // libtest may print "test child_process_entry ... " in front of our output.
            if let Some(at) = line.find("@@") {
                if tx.send(line[at + 2..].to_owned()).is_err() {
                    break;
                }
            }
        }
    });
    ChildProc {
        stdin: child.stdin.take(),
        child,
        lines,
        role: role.to_owned(),
        reaped: false,
    }
}

impl ChildProc {
    /// Waits for the child's next marker line, which must start with `key`; returns the
    /// rest of the line.
    pub fn expect(&self, key: &str, within: Duration) -> String {
        let line = match self.lines.recv_timeout(within) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => {
                panic!(
                    "child {} said nothing within {within:?} (waiting for {key:?})",
                    self.role
                )
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("child {} exited before saying {key:?}", self.role)
            }
        };
        match line.strip_prefix(key) {
            Some(rest) => rest.trim().to_owned(),
            None => panic!("child {} said {line:?}, expected {key:?}", self.role),
        }
    }

    /// Asserts that the child says nothing during `window`.
    pub fn expect_silence(&self, window: Duration) {
        if let Ok(line) = self.lines.recv_timeout(window) {
            panic!("child {} said {line:?} too early", self.role);
        }
    }

    /// The marker lines that a child which has exited printed and nobody read yet.
    pub fn remaining(&self, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => lines.push(line),
                Err(RecvTimeoutError::Disconnected) => return lines,
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "the output of child {} did not end within {within:?}",
                        self.role
                    )
                }
            }
        }
    }

    /// Sends a line to the child's stdin.
    pub fn tell(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").expect("write to the child");
        stdin.flush().expect("flush to the child");
    }

    /// Closes the child's stdin (it sees end of input).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// `kill -9`, and reap. Returns the moment just before the signal was sent.
    pub fn kill9(&mut self) -> Instant {
        let at = Instant::now();
        sigkill(self.child.id());
        self.reap();
        at
    }

    /// Waits (bounded) for the child to exit, and asserts that it succeeded.
    pub fn wait_success(self, within: Duration) {
        let role = self.role.clone();
        let status = self.wait_exit(within);
        assert!(status.success(), "child {role} failed: {status}");
    }

    /// Waits (bounded) for the child to exit; returns how it ended.
    pub fn wait_exit(mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            match self.child.try_wait().expect("wait for the child") {
                Some(status) => {
                    self.reaped = true;
                    live().pids.retain(|&p| p != self.child.id());
                    return status;
                }
                None if Instant::now() >= deadline => {
                    panic!("child {} did not exit within {within:?}", self.role)
                }
                None => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    }

    /// The child's pid, to kill it from another thread.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn reap(&mut self) {
        if !self.reaped {
            sigkill(self.child.id());
            // Still a zombie until reaped, so the pid cannot be reused meanwhile.
            live().pids.retain(|&p| p != self.child.id());
            let _ = self.child.wait();
            self.reaped = true;
        }
    }
}

impl Drop for ChildProc {
    fn drop(&mut self) {
        self.reap();
    }
}

/// Kills the process `pid` with SIGKILL (from a thread other than its owner's). Returns
/// the moment just before the signal was sent.
pub fn kill9_pid(pid: u32) -> Instant {
    let at = Instant::now();
    sigkill(pid);
    at
}

/// The child side of [`spawn`]: if this run of the test binary is a child, plays the
/// role that `pick` gives for its role name, on the ring and with the argument it was
/// given, dying with its parent and under a watchdog; in any other run, nothing.
pub fn play_child(pick: impl FnOnce(&str) -> fn(&str, &str)) {
    let Ok(role) = std::env::var(ROLE_VAR) else {
        return;
    };
    let _watchdog = child_setup();
    if std::env::var_os(NO_MEMBARRIER_VAR).is_some() {
        forbid_membarrier();
    }
    let ring = std::env::var(RING_VAR).expect("the ring of a child");
    let arg = std::env::var(ARG_VAR).unwrap_or_default();
    pick(&role)(&ring, &arg);
}

/// In a child: dies with its parent, and aborts if it outlives its time limit.
fn child_setup() -> Watchdog {
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
        .expect("prctl(PR_SET_PDEATHSIG)");
    watchdog("child process", CHILD_LIMIT)
}

/// Environment variable that makes a child unable to call `membarrier` (see
/// [`forbid_membarrier`]).
pub const NO_MEMBARRIER_VAR: &str = "IPCRING_TEST_NO_MEMBARRIER";

/// Whether this kernel offers what asymmetric fences need (and this process may ask).
pub fn membarrier_available() -> bool {
    // SAFETY: MEMBARRIER_CMD_QUERY (0) takes no pointers.
    let q = unsafe { libc::syscall(libc::SYS_membarrier, 0, 0, 0) };
    // MEMBARRIER_CMD_GLOBAL_EXPEDITED (2) and MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED (4).
    q > 0 && q & 6 == 6
}

/// In a child: installs a seccomp filter under which `membarrier` fails with ENOSYS, as
/// in a sandbox that does not allow it.
pub fn forbid_membarrier() {
    const fn stmt(code: u32, k: u32) -> libc::sock_filter {
        libc::sock_filter {
            code: code as u16,
            jt: 0,
            jf: 0,
            k,
        }
    }
    let filter = [
        // Load the syscall number (offset 0 of struct seccomp_data).
        stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0),
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: libc::SYS_membarrier as u32,
        },
        stmt(
            libc::BPF_RET | libc::BPF_K,
            libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
        ),
        stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW),
    ];
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: plain prctl calls; `prog` points at `filter`, both alive during the call.
    unsafe {
        assert_eq!(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
        let rc = libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            &prog as *const libc::sock_fprog,
        );
        assert_eq!(rc, 0, "install the seccomp filter");
    }
    assert!(!membarrier_available());
}

/// The `heavy` flag of a ring's wait line `line` (3: the consumer's, 4: the producer's;
/// 128-byte lines, the flag at byte 8 of its line), read from the segment's file.
pub fn heavy_flag(ring: &str, line: u64) -> u32 {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::open(format!("/dev/shm/ipcring.{ring}")).expect("open the segment");
    let mut b = [0u8; 4];
    f.read_exact_at(&mut b, line * 128 + 8)
        .expect("read the wait line");
    u32::from_ne_bytes(b)
}

/// In a child: tells the parent `key rest`.
pub fn say(key: &str, rest: impl std::fmt::Display) {
    println!("@@{key} {rest}");
}

/// In a child: the next line from the parent, `None` at end of input.
pub fn hear() -> Option<String> {
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim().to_owned()),
    }
}

/// A tiny xorshift64 generator: deterministic and cheap.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        XorShift(mix(seed) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Scrambles a sequence number (the splitmix64 finaliser).
pub fn mix(seq: u64) -> u64 {
    let mut z = seq.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Random bytes that message contents are cut from (cheap to copy and compare, also in
/// a debug build).
const POOL_LEN: usize = 512 * 1024;

fn pool() -> &'static [u8] {
    static POOL: OnceLock<Vec<u8>> = OnceLock::new();
    POOL.get_or_init(|| {
        let mut rng = XorShift::new(0x1bc_2026);
        (0..POOL_LEN / 8)
            .flat_map(|_| rng.next().to_le_bytes())
            .collect()
    })
}

/// The contents of message `seq` with `len` bytes: its sequence number in the first
/// (up to) 8 bytes, then pool bytes from an offset that depends on `seq`.
pub fn fill(seq: u64, buf: &mut [u8]) {
    let (head, tail) = expected(seq, buf.len());
    buf[..head.len()].copy_from_slice(&head);
    buf[head.len()..].copy_from_slice(tail);
}

fn expected(seq: u64, len: usize) -> (Vec<u8>, &'static [u8]) {
    assert!(
        len <= POOL_LEN,
        "message of {len} bytes is longer than the pool"
    );
    let head = seq.to_le_bytes()[..len.min(8)].to_vec();
    let start = (mix(seq) % (POOL_LEN - len + 1) as u64) as usize;
    (head, &pool()[start + len.min(8)..start + len])
}

/// A message with the contents of `seq`.
pub fn message(seq: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0; len];
    fill(seq, &mut v);
    v
}

/// Whether `got` is exactly message `seq` of `len` bytes.
pub fn is_message(seq: u64, len: usize, got: &[u8]) -> bool {
    let (head, tail) = expected(seq, len);
    got.len() == len && got[..head.len()] == head[..] && got[head.len()..] == *tail
}

/// Asserts that `got` is message `seq` of `len` bytes.
/// [`check`] of a message lent in place (copied out first).
pub fn check_lent(seq: u64, len: usize, got: &ipcring::SharedBytes<'_>) {
    check(seq, len, &got.to_vec());
}

pub fn check(seq: u64, len: usize, got: &[u8]) {
    if is_message(seq, len, got) {
        return;
    }
    let want = message(seq, len);
    let first = got.iter().zip(&want).position(|(a, b)| a != b);
    let stamp = got
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
    panic!(
        "message {seq}: got {} bytes (stamp {stamp:?}), expected {len}; first differing byte {first:?}",
        got.len()
    );
}

/// Length of message `seq` of a stream: 0..=4096 bytes, and every 1000th message 200 KB
/// when `big` is set.
pub fn stream_len(seq: u64, big: bool) -> usize {
    if big && seq % 1000 == 999 {
        200_000
    } else {
        (mix(seq ^ 0x5eed) % 4097) as usize
    }
}

/// Counts the outcomes of calls by their variant name.
#[derive(Debug, Default)]
pub struct Tally(pub BTreeMap<String, u64>);

impl Tally {
    pub fn add<T, E: Debug>(&mut self, r: &Result<T, E>) {
        self.add_as("", r);
    }

    /// Counts under the variant's name (without its fields), after `prefix`.
    pub fn add_as<T, E: Debug>(&mut self, prefix: &str, r: &Result<T, E>) {
        let name = match r {
            Ok(_) => "Ok".to_owned(),
            Err(e) => format!("{e:?}")
                .split([' ', '{', '('])
                .next()
                .unwrap_or_default()
                .to_owned(),
        };
        *self.0.entry(format!("{prefix}{name}")).or_default() += 1;
    }
}

/// Slot size of the process tests of the kinds of fixed-size slots (MPMC, broadcast).
pub const SLOT: usize = 64;

/// Length of stamped message `seq`: 8 (its stamp) to [`SLOT`] bytes.
pub fn len_of(seq: u64) -> usize {
    8 + (mix(seq ^ 0x3c3c) % (SLOT as u64 - 7)) as usize
}

/// The sequence number of message `n` of sender `id`.
pub fn seq_of(id: u64, n: u64) -> u64 {
    id << 32 | n
}

/// Checks a received stamped message (its contents are those of the sequence number in
/// its first 8 bytes, its length [`len_of`] it) and returns its sequence number.
pub fn checked(buf: &[u8]) -> u64 {
    assert!(
        buf.len() >= 8,
        "a message of {} bytes has no stamp",
        buf.len()
    );
    let seq = u64::from_le_bytes(buf[..8].try_into().expect("8 bytes"));
    check(seq, len_of(seq), buf);
    seq
}

/// Zeroes the state word (generation and attached flag) of the role slot at `offset` of
/// `ring`'s segment, as a holder that erases every trace of itself would.
pub fn erase_slot(ring: &RingGuard, offset: u64) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(ring.path())
        .expect("open the segment's file");
    f.write_all_at(&[0; 8], offset).expect("erase the slot");
}

/// The 8-byte word at `offset` of `ring`'s segment.
pub fn segment_word(ring: &RingGuard, offset: u64) -> u64 {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::open(ring.path()).expect("open the segment's file");
    let mut w = [0; 8];
    f.read_exact_at(&mut w, offset).expect("read");
    u64::from_le_bytes(w)
}

/// Overwrites the 8-byte word at `offset` of `ring`'s segment with `value`.
pub fn set_segment_word(ring: &RingGuard, offset: u64, value: u64) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(ring.path())
        .expect("open the segment's file");
    f.write_all_at(&value.to_le_bytes(), offset).expect("write");
}

/// Values that break careless arithmetic: zero, one, the edges of 32 and 63/64 bits.
pub const FORGED: [u64; 10] = [
    0,
    1,
    7,
    u32::MAX as u64,
    1 << 32,
    (1 << 32) + 1,
    1 << 63,
    (1 << 63) + 1,
    u64::MAX - 7,
    u64::MAX,
];

/// Writes each [`FORGED`] value into each 8-byte word at the offsets `words` of `ring`'s
/// segment, one at a time (the word is put back after), and runs `attempt` on each forged
/// segment. `attempt` opens the ring and, if that works, uses it: a debug build panics on
/// an arithmetic overflow, so a panic anywhere fails the test; a hang fails it through the
/// caller's watchdog. The identity's `state` word (offset 24) is left alone: a forged
/// state makes openers wait for a creator, which the tests of initialisation cover.
pub fn forge_each_word(ring: &RingGuard, words: impl Iterator<Item = u64>, attempt: &dyn Fn()) {
    for at in words.filter(|&at| at != 24) {
        let good = segment_word(ring, at);
        for v in FORGED {
            set_segment_word(ring, at, v);
            attempt();
        }
        set_segment_word(ring, at, good);
    }
    // Put back whole, the ring works again.
    attempt();
}

/// A field of `/proc/meminfo` (in its unit: kB, or a count of huge pages).
pub fn meminfo(field: &str) -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .expect("meminfo")
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The `KernelPageSize` (KiB) of each of this process's mappings whose file name (as
/// `/proc/self/smaps` shows it) ends with `file`.
pub fn page_sizes_of(file: &str) -> Vec<u64> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").expect("smaps");
    let mut sizes = Vec::new();
    let mut ours = false;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if first.split_once('-').is_some_and(|(a, b)| {
            u64::from_str_radix(a, 16).is_ok() && u64::from_str_radix(b, 16).is_ok()
        }) {
            ours = line.ends_with(file);
        }
        if let Some(v) = line.strip_prefix("KernelPageSize:") {
            if ours {
                sizes.push(
                    v.split_whitespace()
                        .next()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0),
                );
            }
        }
    }
    sizes
}
