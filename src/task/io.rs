//! The one wait of every async call: until a handle is ready (see [`ready`]).

use crate::futex::Beds;
use crate::pace::Pacer;
use crate::wait::{self, Check, Lines};
use crate::waitset::reactor::{self, Notify, Ticket, Watch};
use crate::waitset::sealed::Waiting;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// Resolves once `handle` is ready (see [`crate::Waitable`]): its non-blocking call
/// would do something other than `Empty` or `Full`.
pub(crate) fn ready<W: Waiting + ?Sized>(handle: &mut W) -> UntilReady<'_, W> {
    UntilReady {
        handle,
        watch: None,
        pacer: Pacer::default(),
    }
}

/// The future of [`ready`].
#[derive(Debug)]
pub(crate) struct UntilReady<'a, W: ?Sized> {
    handle: &'a mut W,
    /// The armed watch; dropped (cancelled) with the future.
    watch: Option<Ticket>,
    pacer: Pacer,
}

impl<W: Waiting + ?Sized> Future for UntilReady<'_, W> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        poll_ready(this.handle, &mut this.watch, &mut this.pacer, cx)
    }
}

/// One poll of a wait until `handle` is ready: a look (asking about the peers' liveness
/// at most once a millisecond); if nothing, the arming of a watch that wakes `cx`'s task,
/// kept in `watch` (which replaces the previous one).
pub(crate) fn poll_ready<W: Waiting + ?Sized>(
    handle: &mut W,
    watch: &mut Option<Ticket>,
    pacer: &mut Pacer,
    cx: &mut Context<'_>,
) -> Poll<()> {
    *watch = None;
    handle.begin();
    if handle.ready(pacer.level()) {
        return Poll::Ready(());
    }
    let mut beds = Beds::default();
    wait::settle(&mut Lines::Many(&[handle.line()], &mut beds), false);
    if handle.ready(Check::Park) {
        return Poll::Ready(());
    }
    let armed = Watch {
        beds,
        keep: vec![handle.keep()],
    };
    match reactor::watch(armed, Notify::Waker(cx.waker().clone())) {
        Ok(ticket) => *watch = Some(ticket),
        // No helper thread: the task polls again at once (a busy wait on the executor,
        // rather than a wait that never ends).
        Err(_) => cx.waker().wake_by_ref(),
    }
    Poll::Pending
}
