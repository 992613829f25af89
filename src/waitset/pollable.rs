//! A [`WaitSet`] as a file descriptor for event loops (epoll, poll, mio, libuv): it
//! becomes readable when one of the set's rings may have work, through the process's
//! helper thread (see `reactor.rs`).

use super::reactor::{self, Notify, Ticket, Watch};
use super::{Ready, WaitSet, Waitable};
use crate::futex::Beds;
use crate::layout::WaitLine;
use crate::wait::{self, Check, Lines};
use rustix::event::{eventfd, EventfdFlags};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

/// The descriptor of a set and its armed watch.
#[derive(Debug, Default)]
pub(crate) struct Armed {
    fd: Option<Arc<OwnedFd>>,
    /// The watch of the last [`WaitSet::arm`] that found nothing ready; replaced by the
    /// next arm, cancelled when the set is dropped.
    ticket: Option<Ticket>,
}

impl WaitSet {
    /// A descriptor that becomes readable when a ring of the set may have work, for an
    /// event loop: register it for reading, and call [`WaitSet::arm`] when it is readable
    /// (and once at the start). The set keeps it open as long as it lives.
    ///
    /// # Errors
    /// The `eventfd` could not be made.
    pub fn fd(&mut self) -> std::io::Result<BorrowedFd<'_>> {
        let fd = self.eventfd()?;
        let fd: &OwnedFd = self.armed.fd.insert(fd);
        Ok(fd.as_fd())
    }

    /// The set's eventfd, made at the first call.
    fn eventfd(&mut self) -> std::io::Result<Arc<OwnedFd>> {
        let fd = match self.armed.fd.take() {
            Some(fd) => fd,
            None => Arc::new(eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?),
        };
        Ok(self.armed.fd.insert(fd).clone())
    }

    /// Which of `handles` are ready now; when none is, arms the set's descriptor (see
    /// [`WaitSet::fd`]) so that it becomes readable once one of them may be. Call it when
    /// the descriptor is readable (which it clears), serve the handles it returns, and
    /// call it again until it returns an empty set; then wait for the descriptor.
    ///
    /// The descriptor may become readable with no ring ready (a peer's publication that
    /// another of its waiters took, a liveness look every 50 ms): `arm` then returns an
    /// empty set and arms again. A busy set makes no syscall: the descriptor is read only
    /// after a watch was armed, and its peers wake it only when it announced that it
    /// waits.
    ///
    /// # Errors
    /// The descriptor could not be made, or the helper thread could not be started.
    pub fn arm(&mut self, handles: &mut [&mut dyn Waitable]) -> std::io::Result<&Ready> {
        let fd = self.eventfd()?;
        // Only a watch makes the descriptor readable: with none armed since the last
        // clear, there is nothing to clear (a busy loop makes no syscall here).
        if self.armed.ticket.take().is_some() {
            self.clear_fd();
        }
        self.ready.reset(handles.len());
        for h in handles.iter_mut() {
            h.begin();
        }
        let level = self.pacer.level();
        if Self::look_into(&mut self.ready, handles, level) {
            return Ok(&self.ready);
        }
        let mut beds = Beds::default();
        let lines: Vec<&WaitLine> = handles.iter().map(|h| h.line()).collect();
        wait::settle(&mut Lines::Many(&lines, &mut beds), false);
        drop(lines);
        if Self::look_into(&mut self.ready, handles, Check::Park) {
            return Ok(&self.ready);
        }
        let watch = Watch {
            beds,
            keep: handles.iter().map(|h| h.keep()).collect(),
        };
        self.armed.ticket = Some(reactor::watch(watch, Notify::Fd(fd))?);
        Ok(&self.ready)
    }

    /// Reads the descriptor's counter to zero (it is non-blocking).
    fn clear_fd(&self) {
        if let Some(fd) = &self.armed.fd {
            // EAGAIN: it was zero; an eventfd read cannot fail otherwise.
            let _ = rustix::io::read(&**fd, &mut [0u8; 8]);
        }
    }
}
