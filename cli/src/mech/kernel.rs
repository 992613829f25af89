//! The kernel's IPC: pipe, unix stream socket, TCP on 127.0.0.1, eventfd, POSIX message
//! queue (all descriptors the child inherits) and a System V message queue (an id).
//!
//! The two kinds of message queue go through libc: rustix has no `mq_*` nor `msg*` calls.
//! The rest goes through rustix or std.

use super::{seq_of, Link, Mech, Prepared};
use crate::child::ChildArgs;
use crate::cleanup::SysvQueue;
use rustix::event::EventfdFlags;
use rustix::net::{AddressFamily, SocketFlags, SocketType};
use rustix::pipe::PipeFlags;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// How bytes move through a descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A byte stream: every message is exactly `size` bytes.
    Stream,
    /// An eventfd: the sequence number is the counter value.
    Eventfd,
    /// A POSIX message queue descriptor.
    Mqueue,
}

struct FdLink {
    kind: Kind,
    rx: File,
    tx: File,
    size: usize,
}

impl Link for FdLink {
    fn send(&mut self, msg: &[u8]) {
        match self.kind {
            Kind::Stream => self.tx.write_all(msg).expect("write"),
            Kind::Eventfd => self
                .tx
                .write_all(&seq_of(msg).to_ne_bytes())
                .expect("eventfd write"),
            Kind::Mqueue => {
                // SAFETY: `tx` is a message queue descriptor; `msg` is valid for its length.
                let rc = unsafe {
                    libc::mq_send(self.tx.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0)
                };
                assert_eq!(rc, 0, "mq_send: {}", io::Error::last_os_error());
            }
        }
    }

    fn recv(&mut self, buf: &mut Vec<u8>) {
        buf.resize(self.size, 0);
        match self.kind {
            Kind::Stream => self.rx.read_exact(buf).expect("read"),
            Kind::Eventfd => {
                let mut v = [0u8; 8];
                self.rx.read_exact(&mut v).expect("eventfd read");
                buf.copy_from_slice(&u64::from_ne_bytes(v).to_le_bytes());
            }
            Kind::Mqueue => {
                // SAFETY: `rx` is a message queue descriptor; `buf` is writable for its
                // length, which is the queue's message size.
                let n = unsafe {
                    libc::mq_receive(
                        self.rx.as_raw_fd(),
                        buf.as_mut_ptr().cast(),
                        buf.len(),
                        std::ptr::null_mut(),
                    )
                };
                assert_eq!(
                    n,
                    self.size as isize,
                    "mq_receive: {}",
                    io::Error::last_os_error()
                );
            }
        }
    }
}

fn kind(mech: Mech) -> Kind {
    match mech {
        Mech::Eventfd => Kind::Eventfd,
        Mech::Mqueue => Kind::Mqueue,
        _ => Kind::Stream,
    }
}

fn check(rc: libc::c_int, what: &str) -> io::Result<libc::c_int> {
    if rc < 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("{what}: {e}")));
    }
    Ok(rc)
}

fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: `fd` was just returned by a successful syscall and has no other owner.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A rustix error as an `io::Error` that says which call failed.
fn failed(what: &'static str) -> impl FnOnce(rustix::io::Errno) -> io::Error {
    move |e| {
        let e = io::Error::from(e);
        io::Error::new(e.kind(), format!("{what}: {e}"))
    }
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    rustix::pipe::pipe_with(PipeFlags::CLOEXEC).map_err(failed("pipe2"))
}

fn eventfd() -> io::Result<OwnedFd> {
    rustix::event::eventfd(0, EventfdFlags::CLOEXEC).map_err(failed("eventfd"))
}

fn mqueue(name: &str, size: usize) -> io::Result<OwnedFd> {
    let cname = std::ffi::CString::new(name).map_err(io::Error::other)?;
    // SAFETY: an all-zero mq_attr is valid; we set the two fields mq_open reads.
    let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
    attr.mq_maxmsg = 8;
    attr.mq_msgsize = size as libc::c_long;
    let flags = libc::O_CREAT | libc::O_EXCL | libc::O_RDWR | libc::O_CLOEXEC;
    // SAFETY: a NUL-terminated name, valid flags and mode, and a valid attribute struct.
    let fd = check(
        unsafe { libc::mq_open(cname.as_ptr(), flags, 0o600 as libc::mode_t, &attr) },
        "mq_open",
    )?;
    // Unlinked at once: the two processes use descriptors, so nothing can be left behind.
    // SAFETY: a NUL-terminated name.
    unsafe { libc::mq_unlink(cname.as_ptr()) };
    Ok(owned(fd))
}

/// The parent's side of a descriptor mechanism.
pub fn prepare_fds(mech: Mech, size: usize) -> io::Result<Prepared> {
    // (parent rx, parent tx, child rx, child tx, child ends to close after the spawn)
    let (rx, tx, child, close): (OwnedFd, OwnedFd, [RawFd; 2], Vec<OwnedFd>) = match mech {
        Mech::Pipe => {
            let (down_r, down_w) = pipe()?;
            let (up_r, up_w) = pipe()?;
            let child = [down_r.as_raw_fd(), up_w.as_raw_fd()];
            (up_r, down_w, child, vec![down_r, up_w])
        }
        Mech::Unix => {
            let (mine, theirs) = rustix::net::socketpair(
                AddressFamily::UNIX,
                SocketType::STREAM,
                SocketFlags::CLOEXEC,
                None,
            )
            .map_err(failed("socketpair"))?;
            let child = [theirs.as_raw_fd(); 2];
            (mine.try_clone()?, mine, child, vec![theirs])
        }
        Mech::Tcp => {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let mine = TcpStream::connect(listener.local_addr()?)?;
            let (theirs, _) = listener.accept()?;
            mine.set_nodelay(true)?;
            theirs.set_nodelay(true)?;
            let (mine, theirs) = (OwnedFd::from(mine), OwnedFd::from(theirs));
            let child = [theirs.as_raw_fd(); 2];
            (mine.try_clone()?, mine, child, vec![theirs])
        }
        Mech::Eventfd => {
            let (down, up) = (eventfd()?, eventfd()?);
            let child = [down.as_raw_fd(), up.as_raw_fd()];
            (up, down, child, Vec::new())
        }
        _ => unreachable!("not a descriptor mechanism: {mech:?}"),
    };
    Ok(Prepared {
        link: Box::new(FdLink {
            kind: kind(mech),
            rx: File::from(rx),
            tx: File::from(tx),
            size,
        }),
        child_fds: child.to_vec(),
        close_after_spawn: close,
        name: String::new(),
        id: 0,
    })
}

/// The parent's side of a POSIX message queue pair.
pub fn prepare_mqueue(size: usize, tag: &str) -> io::Result<Prepared> {
    let down = mqueue(&format!("/ipcring-bench-{tag}-a"), size)?;
    let up = mqueue(&format!("/ipcring-bench-{tag}-b"), size)?;
    Ok(Prepared {
        child_fds: vec![down.as_raw_fd(), up.as_raw_fd()],
        link: Box::new(FdLink {
            kind: Kind::Mqueue,
            rx: File::from(up),
            tx: File::from(down),
            size,
        }),
        close_after_spawn: Vec::new(),
        name: String::new(),
        id: 0,
    })
}

/// The child's side of a descriptor mechanism: `fds` are its rx and tx ends (the same
/// socket twice for a socket).
pub fn open_fds(args: &ChildArgs) -> io::Result<Box<dyn Link>> {
    let [rx, tx] = args.fds[..] else {
        return Err(io::Error::other("expected two descriptors"));
    };
    // SAFETY: the parent passed these descriptors to us alone; we own them from now on.
    let rx = unsafe { OwnedFd::from_raw_fd(rx) };
    let tx = if tx == rx.as_raw_fd() {
        rx.try_clone()?
    } else {
        // SAFETY: as above.
        unsafe { OwnedFd::from_raw_fd(tx) }
    };
    Ok(Box::new(FdLink {
        kind: kind(args.mech),
        rx: File::from(rx),
        tx: File::from(tx),
        size: args.size,
    }))
}

/// A System V queue: the parent sends type 1 and receives type 2, the child the reverse.
struct SysvLink {
    id: i32,
    send_type: libc::c_long,
    recv_type: libc::c_long,
    size: usize,
    /// `struct msgbuf`: the type, then the text (u64 words for the alignment of `long`).
    buf: Vec<u64>,
    _queue: Option<SysvQueue>,
}

impl SysvLink {
    fn new(id: i32, parent: bool, size: usize, queue: Option<SysvQueue>) -> SysvLink {
        SysvLink {
            id,
            send_type: if parent { 1 } else { 2 },
            recv_type: if parent { 2 } else { 1 },
            size,
            buf: vec![0; 1 + size.div_ceil(8)],
            _queue: queue,
        }
    }

    fn text(&mut self) -> &mut [u8] {
        let size = self.size;
        // SAFETY: the words after the first are `size` bytes or more of plain memory.
        unsafe { std::slice::from_raw_parts_mut(self.buf.as_mut_ptr().add(1).cast(), size) }
    }
}

/// The last call failed with EINTR. System V calls are never restarted after a signal
/// handler, and the parent catches SIGINT/SIGTERM (see `cleanup`): a signal that lands on
/// a measuring thread must not fail the measurement while the clean-up thread exits.
fn interrupted() -> bool {
    io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
}

impl Link for SysvLink {
    fn send(&mut self, msg: &[u8]) {
        self.buf[0] = self.send_type as u64;
        self.text().copy_from_slice(msg);
        let rc = loop {
            // SAFETY: `buf` is a msgbuf with `size` bytes of text.
            let rc = unsafe { libc::msgsnd(self.id, self.buf.as_ptr().cast(), self.size, 0) };
            if rc == 0 || !interrupted() {
                break rc;
            }
        };
        assert_eq!(rc, 0, "msgsnd: {}", io::Error::last_os_error());
    }

    fn recv(&mut self, buf: &mut Vec<u8>) {
        let n = loop {
            // SAFETY: `buf` is a writable msgbuf with room for `size` bytes of text.
            let n = unsafe {
                libc::msgrcv(
                    self.id,
                    self.buf.as_mut_ptr().cast(),
                    self.size,
                    self.recv_type,
                    0,
                )
            };
            if n >= 0 || !interrupted() {
                break n;
            }
        };
        assert_eq!(
            n,
            self.size as isize,
            "msgrcv: {}",
            io::Error::last_os_error()
        );
        buf.clear();
        buf.extend_from_slice(self.text());
    }
}

pub fn prepare_sysv(size: usize) -> io::Result<Prepared> {
    let q = SysvQueue::create()?;
    let id = q.0;
    Ok(Prepared {
        link: Box::new(SysvLink::new(id, true, size, Some(q))),
        child_fds: Vec::new(),
        close_after_spawn: Vec::new(),
        name: String::new(),
        id,
    })
}

pub fn open_sysv(args: &ChildArgs) -> io::Result<Box<dyn Link>> {
    Ok(Box::new(SysvLink::new(args.id, false, args.size, None)))
}
