//! A receiving handle as a [`Stream`] of its messages.

use super::io::{poll_ready, Wait};
use super::TryRecv;
use crate::error::RecvError;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::Stream;

/// The messages of a receiving handle, each a fresh `Vec<u8>`, until the ring ends
/// (`Disconnected`: the stream ends). An error other than that is an item
/// (`Err(Lagged)` of a lossy topic, say), after which the stream goes on. Made by the
/// handle's `messages` method.
#[derive(Debug)]
pub struct Messages<'a, H> {
    handle: &'a mut H,
    wait: Wait,
    ended: bool,
}

impl<'a, H> Messages<'a, H> {
    pub(crate) fn new(handle: &'a mut H) -> Messages<'a, H> {
        Messages {
            handle,
            wait: Wait::default(),
            ended: false,
        }
    }
}

impl<H: TryRecv> Stream for Messages<'_, H> {
    type Item = Result<Vec<u8>, RecvError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        while !this.ended {
            let mut buf = Vec::new();
            match this.handle.try_recv_into(&mut buf) {
                Ok(_) => return Poll::Ready(Some(Ok(buf))),
                Err(RecvError::Empty) => {
                    if poll_ready(this.handle, &mut this.wait, cx).is_pending() {
                        return Poll::Pending;
                    }
                }
                Err(RecvError::Disconnected) => this.ended = true,
                Err(e) => return Poll::Ready(Some(Err(e))),
            }
        }
        Poll::Ready(None)
    }
}
