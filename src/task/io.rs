//! The one wait of every async call: until a handle is ready (see [`ready`]).

use crate::futex::Beds;
use crate::pace::Pacer;
use crate::wait::{self, Check, Lines};
use crate::waitset::reactor::{self, Notify, Ticket, Watch};
use crate::waitset::sealed::Waiting;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// How many times a wait hands its thread back to the executor (and is polled again at
/// once) before it arms a watch: a reply that comes within a few microseconds (a busy
/// peer) is taken without a syscall on either side, and other tasks run meanwhile.
const YIELDS: u8 = 32;

/// Resolves once `handle` is ready (see [`crate::Waitable`]): its non-blocking call
/// would do something other than `Empty` or `Full`.
pub(crate) fn ready<W: Waiting + ?Sized>(handle: &mut W) -> UntilReady<'_, W> {
    UntilReady {
        handle,
        wait: Wait::default(),
    }
}

/// The future of [`ready`].
#[derive(Debug)]
pub(crate) struct UntilReady<'a, W: ?Sized> {
    handle: &'a mut W,
    wait: Wait,
}

/// The state of a wait across polls.
#[derive(Debug, Default)]
pub(crate) struct Wait {
    /// The armed watch; dropped (cancelled) with the wait.
    watch: Option<Ticket>,
    pacer: Pacer,
    /// Polls that found nothing since the last one that found something.
    yields: u8,
}

impl<W: Waiting + ?Sized> Future for UntilReady<'_, W> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        poll_ready(this.handle, &mut this.wait, cx)
    }
}

/// One poll of a wait until `handle` is ready: a look (asking about the peers' liveness
/// at most once a millisecond); if nothing, a yield to the executor (the first
/// [`YIELDS`] times, unless a watch woke us), then the arming of a watch that wakes
/// `cx`'s task, kept in `wait` (which replaces the previous one).
pub(crate) fn poll_ready<W: Waiting + ?Sized>(
    handle: &mut W,
    wait: &mut Wait,
    cx: &mut Context<'_>,
) -> Poll<()> {
    // Polled again after a watch fired (its ring changed, or its 50 ms passed): a busy
    // peer is not likely now, so no yields; a look, then a new watch at once.
    if wait.watch.take().is_some() {
        wait.yields = YIELDS;
    }
    handle.begin();
    let level = if wait.yields < YIELDS {
        Check::Spin
    } else {
        wait.pacer.level()
    };
    if handle.ready(level) {
        wait.yields = 0;
        return Poll::Ready(());
    }
    if wait.yields < YIELDS {
        wait.yields += 1;
        cx.waker().wake_by_ref();
        return Poll::Pending;
    }
    let mut beds = Beds::default();
    wait::settle(&mut Lines::Many(&[handle.line()], &mut beds), false);
    if handle.ready(Check::Park) {
        wait.yields = 0;
        return Poll::Ready(());
    }
    let armed = Watch {
        beds,
        keep: vec![handle.keep()],
    };
    match reactor::watch(armed, Notify::Waker(cx.waker().clone())) {
        Ok(ticket) => wait.watch = Some(ticket),
        // No helper thread: the task polls again at once (a busy wait on the executor,
        // rather than a wait that never ends).
        Err(_) => cx.waker().wake_by_ref(),
    }
    Poll::Pending
}
