//! Anonymous rings and file-backed rings from C, in real processes: a Rust sender hands
//! an anonymous ring's descriptor over a unix socket to a C receiver, and a C creator to a
//! Rust receiver (the wire format of `RingFd::send` is that of `ipcring_fd_send`), every
//! byte checked; the C programs of anonymous rings (`fd_input`, which also hands a queue
//! to a forked child) and of paths (`path_input`).

use super::{programs, run_checks, stream, text, Running, MESSAGE_TIMEOUT, STREAM_CAPACITY};
use ipcring::spsc::Builder;
use ipcring::{RecvError, RingFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// Messages of each interop test.
const MESSAGES: u64 = 20_000;

#[test]
fn anonymous_rings_from_c_get_status_codes() {
    run_checks(&programs().fd_input, "fd");
}

#[test]
fn file_backed_rings_from_c_by_path() {
    run_checks(&programs().path_input, "path");
}

/// A unix socket listening in a directory of its own, removed on drop.
struct Socket {
    dir: PathBuf,
    listener: UnixListener,
}

impl Socket {
    fn new(test: &str) -> Socket {
        let dir = std::env::temp_dir().join(format!("ipcring-ffi-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the socket's directory");
        let listener = UnixListener::bind(dir.join("sock")).expect("bind");
        listener.set_nonblocking(true).expect("non-blocking accept");
        Socket { dir, listener }
    }

    fn path(&self) -> String {
        self.dir.join("sock").display().to_string()
    }

    /// The connection of the child, which must come within [`MESSAGE_TIMEOUT`].
    fn accept(&self) -> UnixStream {
        let deadline = Instant::now() + MESSAGE_TIMEOUT;
        loop {
            match self.listener.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false).expect("blocking stream");
                    return s;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "the child never connected");
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `fd_peer ROLE SOCKET MESSAGES` against `rust`, given the accepted connection;
/// the C side must report " 0 failed".
fn with_c_peer(role: &str, rust: impl FnOnce(UnixStream)) {
    let socket = Socket::new(&format!("fd-{role}"));
    let child = Running::spawn(
        Command::new(&programs().fd_peer).args([role, &socket.path(), &MESSAGES.to_string()]),
        &format!("fd_peer {role}"),
    );
    rust(socket.accept());
    let out = child.finish();
    assert!(
        out.status.success(),
        "fd_peer {role} failed:\n{}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(" 0 failed"),
        "{}",
        text(&out)
    );
}

#[test]
fn rust_sender_hands_an_anonymous_ring_to_a_c_receiver() {
    with_c_peer("recv", |conn| {
        let ring = RingFd::new("to-c").expect("memfd");
        let mut tx = Builder::fd(&ring)
            .capacity(STREAM_CAPACITY)
            .create_producer()
            .expect("create the ring");
        ring.send(&conn).expect("send the descriptor");
        drop(ring);
        let max = tx.max_message();
        let mut buf = vec![0; max];
        for i in 0..MESSAGES {
            let len = stream::len(i, max);
            stream::fill(i, &mut buf[..len]);
            tx.send_timeout(&buf[..len], MESSAGE_TIMEOUT)
                .unwrap_or_else(|e| panic!("message {i}: {e}"));
        }
    });
}

#[test]
fn c_creator_hands_an_anonymous_ring_to_a_rust_receiver() {
    with_c_peer("send", |conn| {
        let ring = RingFd::recv(&conn).expect("receive the descriptor");
        let mut rx = Builder::fd(&ring).open_consumer().expect("open the ring");
        drop(ring);
        let max = rx.max_message();
        let mut buf = Vec::new();
        for i in 0..MESSAGES {
            rx.recv_timeout_into(&mut buf, MESSAGE_TIMEOUT)
                .unwrap_or_else(|e| panic!("message {i}: {e}"));
            stream::check(i, &buf, max);
        }
        assert_eq!(
            rx.recv_timeout_into(&mut buf, MESSAGE_TIMEOUT),
            Err(RecvError::Disconnected)
        );
    });
}
