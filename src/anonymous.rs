//! Anonymous rings: a ring in a memfd, named nowhere, reached only through a descriptor
//! ([`RingFd`]) that its creator hands to other processes — to a child by inheritance, to
//! any process over a unix socket (`SCM_RIGHTS`).
//!
//! **Sealing.** A memfd is created with sealing allowed. The creator of the ring sizes it,
//! initialises it, publishes it, then seals it against shrinking and growing and seals
//! the seals (`F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL`): from then on no holder of the
//! descriptor can truncate it (`ftruncate` fails with `EPERM`), so no peer can make a
//! mapping fault with SIGBUS. An opener refuses a descriptor that is not sealed against
//! shrinking.
//!
//! **Trust.** Holding the descriptor is the permission: a received descriptor is not
//! checked for its owner or mode (a memfd has no meaningful ones), but it must be a sealed
//! memfd, and the ring in it is validated like any opened segment.
//!
//! **Descriptions.** Every handle opens its own description of the memfd
//! (`/proc/self/fd/N` opened anew), because a handle's role lock is a lock of its
//! description: a descriptor passed around is a bare reference to the memory, holding no
//! lock, so a process that keeps one after its handles are gone does not look alive to
//! its peers.
//!
//! **Creating.** Creation is exclusive through the object lock (`flock` on the creator's
//! description, as for a named ring): the creator takes it, finds the memfd empty and
//! unsealed, sizes and initialises it, seals it, and releases it. An empty unsealed memfd
//! holds no ring yet (`NotFound`); a sized unsealed one is being initialised.

use crate::error::OpenError;
use crate::namespace;
use crate::time::Deadline;
use rustix::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use rustix::fs::{MemfdFlags, OFlags, SealFlags};
use rustix::io::Errno;
use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::sync::Arc;

/// The seals of a published anonymous ring.
const SEALS: SealFlags = SealFlags::SHRINK
    .union(SealFlags::GROW)
    .union(SealFlags::SEAL);

/// The byte sent along with a descriptor (a stream socket carries descriptors only with
/// data).
const TAG: u8 = b'R';

/// The descriptor of an anonymous ring: a memfd that holds (or will hold) one ring of any
/// kind. Build handles on it with the kinds' `Builder::fd(&ring_fd)`; give it to another
/// process with [`RingFd::send`] over a unix socket, or to a child with
/// [`RingFd::inheritable`].
///
/// A `RingFd` is only a reference to the memory: it holds no role, and cloning it shares
/// the descriptor. The memory lives as long as a descriptor or a mapping of it does
/// anywhere.
///
/// ```
/// use ipcring::{spsc, RingFd};
/// use std::os::unix::net::UnixStream;
///
/// let ring = RingFd::new("jobs")?;
/// let mut tx = spsc::Builder::fd(&ring).capacity(4096).create_producer()?;
///
/// // Hand it over a unix socket (here to ourselves; normally to another process).
/// let (a, b) = UnixStream::pair()?;
/// ring.send(&a)?;
/// let got = RingFd::recv(&b)?;
/// let mut rx = spsc::Builder::fd(&got).open_consumer()?;
///
/// tx.send(b"hello")?;
/// let mut buf = Vec::new();
/// rx.recv_into(&mut buf)?;
/// assert_eq!(buf, b"hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RingFd {
    fd: Arc<OwnedFd>,
}

impl RingFd {
    /// A new, empty memfd for one ring. `name` is only a label (it shows as
    /// `/memfd:<name>` in `/proc/<pid>/fd`); nothing can open the ring by it.
    ///
    /// # Errors
    /// `InvalidName` (longer than 249 bytes, or with a NUL byte), or `Io`.
    pub fn new(name: &str) -> Result<RingFd, OpenError> {
        RingFd::create(name, MemfdFlags::empty())
    }

    /// A new, empty memfd on huge pages (`MFD_HUGETLB`, the system's default huge page
    /// size, 2 MiB on x86-64): fewer TLB misses on a large ring. The ring's size is rounded
    /// up to whole huge pages, taken from the pool the administrator reserved
    /// (`/proc/sys/vm/nr_hugepages`) when the ring is created; a pool too small then fails
    /// with [`OpenError::NoHugePages`].
    ///
    /// # Errors
    /// As [`RingFd::new`]; `Io` if the kernel has no huge page support.
    pub fn with_huge_pages(name: &str) -> Result<RingFd, OpenError> {
        RingFd::create(name, MemfdFlags::HUGETLB)
    }

    fn create(name: &str, flags: MemfdFlags) -> Result<RingFd, OpenError> {
        let invalid = |reason| OpenError::InvalidName {
            name: name.to_owned(),
            reason,
        };
        if name.contains('\0') {
            return Err(invalid("it contains a NUL byte"));
        }
        if name.len() > 249 {
            return Err(invalid("a memfd's name has at most 249 bytes"));
        }
        let flags = flags | MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
        let fd = rustix::fs::memfd_create(name, flags).map_err(|e| OpenError::Io {
            op: "memfd_create",
            source: e.into(),
        })?;
        Ok(RingFd { fd: Arc::new(fd) })
    }

    /// Sends the descriptor over the unix stream socket `socket` (`SCM_RIGHTS`, with one
    /// byte of data); the receiver takes it with [`RingFd::recv`]. Sending shares the
    /// memory, no role: the receiver opens the roles it needs.
    ///
    /// # Errors
    /// The socket's error.
    pub fn send(&self, socket: impl AsFd) -> io::Result<()> {
        use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
        let fds = [self.fd.as_fd()];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
            return Err(io::ErrorKind::OutOfMemory.into());
        }
        loop {
            match rustix::net::sendmsg(
                &socket,
                &[IoSlice::new(&[TAG])],
                &mut control,
                SendFlags::NOSIGNAL,
            ) {
                Ok(1) => return Ok(()),
                Ok(_) => return Err(io::ErrorKind::WriteZero.into()),
                Err(Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Receives a descriptor that [`RingFd::send`] sent over the unix stream socket
    /// `socket`, waiting for it if the socket blocks. What arrives is not trusted: it is
    /// checked when a handle opens the ring in it (a sealed memfd holding a valid ring).
    /// Descriptors beyond the first of a message are closed.
    ///
    /// # Errors
    /// `UnexpectedEof` if the peer closed the socket, `InvalidData` if the message
    /// carried no descriptor or not the byte `send` sends, or the socket's error.
    pub fn recv(socket: impl AsFd) -> io::Result<RingFd> {
        use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(4))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let mut byte = [0u8];
        let got = loop {
            match rustix::net::recvmsg(
                &socket,
                &mut [IoSliceMut::new(&mut byte)],
                &mut control,
                RecvFlags::CMSG_CLOEXEC,
            ) {
                Ok(got) => break got,
                Err(Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        };
        // Every descriptor received is owned now (closed when dropped), whatever follows.
        let mut fds = Vec::new();
        for msg in control.drain() {
            if let RecvAncillaryMessage::ScmRights(received) = msg {
                fds.extend(received);
            }
        }
        if got.bytes == 0 && fds.is_empty() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
        if got.bytes != 1 || byte[0] != TAG {
            return Err(invalid("not a ring descriptor's message"));
        }
        let fd = fds
            .into_iter()
            .next()
            .ok_or_else(|| invalid("the message carried no descriptor"))?;
        Ok(RingFd { fd: Arc::new(fd) })
    }

    /// A new descriptor of the memfd without close-on-exec, for a child to inherit: pass
    /// its number to the child (an argument, an environment variable), which takes it
    /// with `RingFd::from(OwnedFd::from_raw_fd(n))`. Close it in the parent once the
    /// child runs.
    ///
    /// # Errors
    /// `dup`'s error (no descriptor left).
    pub fn inheritable(&self) -> io::Result<OwnedFd> {
        let fd = rustix::io::fcntl_dupfd_cloexec(&*self.fd, 0)?;
        rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::empty())?;
        Ok(fd)
    }

    /// Opens a description of its own of the memfd, with `access` (`RDWR` or `RDONLY`):
    /// see the module docs. Never blocks (a FIFO's descriptor opens at once).
    pub(crate) fn reopen(&self, access: OFlags) -> Result<OwnedFd, Errno> {
        reopen(self.fd.as_fd(), access)
    }

    /// How errors name the ring.
    pub(crate) fn label(&self) -> String {
        let link = format!("/proc/self/fd/{}", raw(self.fd.as_fd()));
        match std::fs::read_link(link) {
            Ok(target) => target.display().to_string(),
            Err(_) => format!("anonymous ring (descriptor {})", raw(self.fd.as_fd())),
        }
    }
}

/// A new open file description of `fd`'s file, with `access` (through
/// `/proc/self/fd/N`, so the same file whatever happened to its name since), never
/// blocking on a FIFO. The mode of the file decides the access, as for any open.
pub(crate) fn reopen(fd: BorrowedFd<'_>, access: OFlags) -> Result<OwnedFd, Errno> {
    let path = format!("/proc/self/fd/{}", raw(fd));
    let flags = access | OFlags::CLOEXEC | OFlags::NONBLOCK;
    rustix::fs::open(path, flags, rustix::fs::Mode::empty())
}

fn raw(fd: BorrowedFd<'_>) -> RawFd {
    use rustix::fd::AsRawFd;
    fd.as_raw_fd()
}

impl From<OwnedFd> for RingFd {
    /// Takes a descriptor that holds an anonymous ring, inherited or received by other
    /// means: not trusted, checked when a handle opens the ring.
    fn from(fd: OwnedFd) -> RingFd {
        RingFd { fd: Arc::new(fd) }
    }
}

impl FromRawFd for RingFd {
    /// # Safety
    /// `fd` is an open descriptor that nothing else owns (see [`OwnedFd::from_raw_fd`]).
    unsafe fn from_raw_fd(fd: RawFd) -> RingFd {
        // SAFETY: the caller's promise.
        RingFd::from(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

impl AsFd for RingFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

fn io_err(op: &'static str) -> impl Fn(Errno) -> OpenError {
    move |e| OpenError::Io {
        op,
        source: e.into(),
    }
}

/// Opens a description of `ring`'s memfd to create a ring in it, and takes its object
/// lock: on return the memfd is empty and unsealed, and only the caller may size it.
///
/// # Errors
/// `AlreadyExists` if it holds a ring or another creator is at work; `NotSealed` if it
/// cannot be sealed (no memfd, or one made without `MFD_ALLOW_SEALING`);
/// `NotRegularFile` if the descriptor is not a file; `Io`.
pub(crate) fn claim(ring: &RingFd) -> Result<OwnedFd, OpenError> {
    let label = ring.label();
    let fd = ring
        .reopen(OFlags::RDWR)
        .map_err(|e| namespace::map_errno(e, &label, "open"))?;
    let exists = || OpenError::AlreadyExists {
        name: label.clone(),
    };
    if !namespace::lock(fd.as_fd(), Deadline::now()).map_err(io_err("flock"))? {
        return Err(exists());
    }
    let st = rustix::fs::fstat(&fd).map_err(io_err("fstat"))?;
    if !namespace::is_regular(&st) {
        return Err(OpenError::NotRegularFile { name: label });
    }
    let cannot_seal = || OpenError::NotSealed {
        name: label.clone(),
    };
    let seals = match rustix::fs::fcntl_get_seals(&fd) {
        Ok(seals) => seals,
        // A file that cannot be sealed: no memfd.
        Err(Errno::INVAL) => return Err(cannot_seal()),
        Err(e) => return Err(io_err("fcntl(F_GET_SEALS)")(e)),
    };
    if st.st_size != 0 || seals.contains(SealFlags::SHRINK) {
        return Err(exists());
    }
    // Sealed against sealing, not against shrinking: a memfd made without
    // `MFD_ALLOW_SEALING`, which could never be sealed.
    if !seals.is_empty() {
        return Err(cannot_seal());
    }
    Ok(fd)
}

/// Seals a published ring's memfd (see the module docs). The caller then releases the
/// object lock.
pub(crate) fn seal(fd: BorrowedFd<'_>) -> Result<(), OpenError> {
    rustix::fs::fcntl_add_seals(fd, SEALS).map_err(io_err("fcntl(F_ADD_SEALS)"))
}

/// Takes back the size of a memfd whose creation failed, so that the ring can be created
/// in it again.
pub(crate) fn unmake(fd: BorrowedFd<'_>) {
    let _ = rustix::fs::ftruncate(fd, 0);
}

/// Opens a description of `ring`'s memfd with `access`, to open the ring in it: checks
/// that it is a memfd sealed against shrinking.
///
/// # Errors
/// `NotFound` (an empty memfd: no ring created yet), `StillInitializing` (sized, not
/// sealed yet: its creator is at work, or was, see [`OpenError::NotSealed`]),
/// `NotSealed` (not a memfd), `NotRegularFile`, `Io`.
pub(crate) fn open(ring: &RingFd, access: OFlags) -> Result<OwnedFd, OpenError> {
    let label = ring.label();
    let fd = ring
        .reopen(access)
        .map_err(|e| namespace::map_errno(e, &label, "open"))?;
    let st = rustix::fs::fstat(&fd).map_err(io_err("fstat"))?;
    if !namespace::is_regular(&st) {
        return Err(OpenError::NotRegularFile { name: label });
    }
    let not_sealed = || OpenError::NotSealed {
        name: label.clone(),
    };
    let seals = match rustix::fs::fcntl_get_seals(&fd) {
        Ok(seals) => seals,
        // Not a file that can be sealed: no memfd.
        Err(Errno::INVAL) => return Err(not_sealed()),
        Err(e) => return Err(io_err("fcntl(F_GET_SEALS)")(e)),
    };
    if !seals.contains(SealFlags::SHRINK) {
        return Err(if st.st_size == 0 {
            OpenError::NotFound { name: label }
        } else {
            OpenError::StillInitializing {
                waited: std::time::Duration::ZERO,
            }
        });
    }
    Ok(fd)
}
