//! A sending handle as a [`Sink`] of messages.

use super::io::{poll_ready, Wait};
use super::TrySend;
use crate::error::SendError;
use crate::waitset::sealed::Waiting;
use crate::waitset::Room;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_sink::Sink;

/// A sending handle as a sink of messages (`&[u8]`). A message
/// that finds the ring full is copied and kept until there is room for it: `poll_ready`
/// and `poll_flush` wait for that. Made by the handle's `sends` method.
#[derive(Debug)]
pub struct Sends<'a, H> {
    handle: &'a mut H,
    /// The message that found the ring full.
    kept: Option<Vec<u8>>,
    wait: Wait,
}

impl<'a, H> Sends<'a, H> {
    pub(crate) fn new(handle: &'a mut H) -> Sends<'a, H> {
        Sends {
            handle,
            kept: None,
            wait: Wait::default(),
        }
    }
}

/// Sends the kept message of `s`, waiting for room.
fn poll_kept<H: TrySend>(s: &mut Sends<'_, H>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>>
where
    for<'r> Room<'r, H>: Waiting,
{
    while let Some(msg) = &s.kept {
        match s.handle.try_send(msg) {
            Ok(()) => s.kept = None,
            Err(SendError::Full) => {
                let mut room = Room {
                    handle: &mut *s.handle,
                    len: msg.len(),
                };
                if poll_ready(&mut room, &mut s.wait, cx).is_pending() {
                    return Poll::Pending;
                }
            }
            Err(e) => {
                s.kept = None;
                return Poll::Ready(Err(e));
            }
        }
    }
    Poll::Ready(Ok(()))
}

impl<H: TrySend> Sink<&[u8]> for Sends<'_, H>
where
    for<'r> Room<'r, H>: Waiting,
{
    type Error = SendError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        poll_kept(self.get_mut(), cx)
    }

    fn start_send(self: Pin<&mut Self>, msg: &[u8]) -> Result<(), SendError> {
        let this = self.get_mut();
        match this.handle.try_send(msg) {
            Err(SendError::Full) => {
                this.kept = Some(msg.to_vec());
                Ok(())
            }
            r => r,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        poll_kept(self.get_mut(), cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        poll_kept(self.get_mut(), cx)
    }
}
