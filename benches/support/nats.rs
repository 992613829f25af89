//! A `nats-server` of our own, with JetStream, on a free loopback port and a store
//! directory of its own: the bridge's tests, its demo and its bench start one, can
//! `kill -9` it and start it again on the same port and store, and drop it, which kills it
//! and removes the store.
//!
//! Nothing here installs the server: [`NatsServer::start`] says so when `nats-server` is
//! neither on the `PATH` nor in `/usr/sbin` (Debian package `nats-server`; `.ci/run`
//! installs it).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The server program: on the `PATH`, or where Debian installs it (`/usr/sbin`, which the
/// `PATH` of a user other than root often lacks).
fn program() -> &'static str {
    const ON_PATH: &str = "nats-server";
    let found = Command::new(ON_PATH)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if found.is_ok() {
        ON_PATH
    } else {
        "/usr/sbin/nats-server"
    }
}

/// How long a start may take before the server counts as hung.
const START_LIMIT: Duration = Duration::from_secs(20);

/// A running (or, between [`NatsServer::kill9`] and [`NatsServer::restart`], killed)
/// `nats-server -js`.
#[derive(Debug)]
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

/// Whether `nats-server` can be run here.
pub fn installed() -> bool {
    Command::new(program())
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl NatsServer {
    /// Starts a server on a free port of 127.0.0.1 with JetStream stored in a new
    /// directory under the temporary directory (`TAG-PID-N`), and waits until it answers.
    ///
    /// # Errors
    ///
    /// `NotFound` when `nats-server` is not installed; any other failure to start it or
    /// to see it answer within 20 s.
    pub fn start(tag: &str) -> io::Result<NatsServer> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        if !installed() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "nats-server is not installed (Debian: apt-get install nats-server)",
            ));
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir(&dir)?;
        let mut server = NatsServer {
            child: None,
            port: 0,
            dir,
        };
        // Another program may take the port between our probe and the server's bind: then
        // the server exits, and we try another.
        for _ in 0..5 {
            server.port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            match server.restart() {
                Ok(()) => return Ok(server),
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "no free port for nats-server",
        ))
    }

    /// The client URL, `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Its directory: the store, and the log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `kill -9` of the server, then reaps it; its store stays.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server (again, after [`NatsServer::kill9`]) on the same port and store,
    /// and waits until it answers.
    ///
    /// # Errors
    ///
    /// `AddrInUse` if it exited at once (another program has the port); any other failure
    /// to start it or to see it answer within 20 s.
    pub fn restart(&mut self) -> io::Result<()> {
        self.kill9();
        let log = std::fs::File::create(self.dir.join("server.log"))?;
        let mut child = Command::new(program())
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.dir.join("store"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        let start = Instant::now();
        loop {
            if child.try_wait()?.is_some() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("nats-server exited at start: {}", self.log()),
                ));
            }
            if self.answers() {
                self.child = Some(child);
                return Ok(());
            }
            if start.elapsed() > START_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "nats-server did not answer in {START_LIMIT:?}: {}",
                        self.log()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the server logged (its standard error) since it was last started.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// Whether the port greets a client with the server's `INFO` line.
    fn answers(&self) -> bool {
        let Ok(conn) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
        let mut line = String::new();
        BufReader::new(conn).read_line(&mut line).is_ok() && line.starts_with("INFO ")
    }

    /// Sends `body` to the JetStream API subject `api` (`STREAM.CREATE.ORDERS`: the part
    /// after `$JS.API.`) and returns the reply, a JSON document. A client of a few lines
    /// of the NATS protocol, so that its users need no async runtime.
    ///
    /// # Errors
    ///
    /// The server is unreachable, refuses the request (`-ERR`) or sends no reply within
    /// 10 s.
    pub fn jetstream(&self, api: &str, body: &str) -> io::Result<String> {
        let conn = TcpStream::connect(("127.0.0.1", self.port))?;
        conn.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut out = conn.try_clone()?;
        let mut input = BufReader::new(conn);
        let mut line = String::new();
        input.read_line(&mut line)?; // INFO
                                     // The subscription comes first on the connection, so it is in place before the
                                     // reply is sent.
        write!(
            out,
            "CONNECT {{\"verbose\":false,\"pedantic\":false}}\r\nSUB _INBOX.reply 1\r\n\
             PUB $JS.API.{api} _INBOX.reply {}\r\n{body}\r\n",
            body.len()
        )?;
        loop {
            line.clear();
            if input.read_line(&mut line)? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            if line.starts_with("PING") {
                out.write_all(b"PONG\r\n")?;
            } else if line.starts_with("-ERR") {
                return Err(io::Error::other(line.trim_end().to_owned()));
            } else if let Some(header) = line.strip_prefix("MSG ") {
                let len: usize = header
                    .split_whitespace()
                    .last()
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| io::Error::other(format!("bad MSG line {line:?}")))?;
                let mut reply = vec![0; len + 2]; // the payload and its CRLF
                input.read_exact(&mut reply)?;
                reply.truncate(len);
                return String::from_utf8(reply).map_err(io::Error::other);
            }
        }
    }

    /// Creates the stream `name` of `subjects` in files (JetStream deduplicates message
    /// ids within its default window of two minutes).
    ///
    /// # Errors
    ///
    /// As [`NatsServer::jetstream`], and an error reply from JetStream.
    pub fn create_stream(&self, name: &str, subjects: &[&str]) -> io::Result<()> {
        let subjects = subjects
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(",");
        let reply = self.jetstream(
            &format!("STREAM.CREATE.{name}"),
            &format!("{{\"name\":\"{name}\",\"subjects\":[{subjects}],\"storage\":\"file\"}}"),
        )?;
        if reply.contains("\"error\"") {
            return Err(io::Error::other(reply));
        }
        Ok(())
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill9();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
