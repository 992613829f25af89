//! Async receives and sends, for tokio or any other executor (feature `tokio`).
//!
//! Every handle gets `recv_async`, `recv_value_async`, `read_async` (receivers) or
//! `send_async`, `send_value_async` (senders), a [`Stream`](futures_core::Stream) of its
//! messages ([`Messages`]) or a [`Sink`](futures_sink::Sink) of them ([`Sends`]). Each
//! tries its non-blocking call first: a busy ring costs no more than `try_recv_into`. Only
//! when the ring is empty (or full) does the future arm a watch, as a parked waiter would
//! (announce, fence, look again), and hand it to the process's one helper thread, which
//! sleeps on the futex words of every watched ring and wakes the task when one of them
//! changes. No executor thread ever blocks.
//!
//! Cancel-safe: a future dropped while it waits has taken nothing (a receive takes its
//! message only in the poll that returns it) and cancels its watch; the announcement it
//! leaves on the ring costs the next publication one spare wake-up, as a waiter whose wait
//! ended without a wake-up does.

mod io;
mod sink;
mod stream;

pub use sink::Sends;
pub use stream::Messages;

pub(crate) use io::ready;

use crate::error::{RecvError, SendError};
use crate::waitset::sealed::Waiting;
use crate::waitset::Room;

/// The non-blocking receive of a receiving handle, the same for every kind.
pub(crate) trait TryRecv: Waiting {
    fn try_recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, RecvError>;
    fn try_recv_value<T: bytemuck::Pod>(&mut self) -> Result<T, RecvError>;
}

/// The non-blocking send of a sending handle, the same for every kind; its
/// [`Room`] is what an async send waits for.
pub(crate) trait TrySend: Sized
where
    for<'r> Room<'r, Self>: Waiting,
{
    fn try_send(&mut self, msg: &[u8]) -> Result<(), SendError>;
    fn try_send_value<T: bytemuck::Pod>(&mut self, value: &T) -> Result<(), SendError>;
}

/// Receives into `buf` once a message is there (see [`TryRecv`]).
pub(crate) async fn recv<H: TryRecv>(h: &mut H, buf: &mut Vec<u8>) -> Result<usize, RecvError> {
    loop {
        match h.try_recv_into(buf) {
            Err(RecvError::Empty) => ready(h).await,
            r => return r,
        }
    }
}

/// Receives a value once a message is there.
pub(crate) async fn recv_value<H: TryRecv, T: bytemuck::Pod>(h: &mut H) -> Result<T, RecvError> {
    loop {
        match h.try_recv_value() {
            Err(RecvError::Empty) => ready(h).await,
            r => return r,
        }
    }
}

/// Sends `msg` once there is room for it.
pub(crate) async fn send<H: TrySend>(h: &mut H, msg: &[u8]) -> Result<(), SendError>
where
    for<'r> Room<'r, H>: Waiting,
{
    loop {
        match h.try_send(msg) {
            Err(SendError::Full) => {
                ready(&mut Room {
                    handle: h,
                    len: msg.len(),
                })
                .await
            }
            r => return r,
        }
    }
}

/// Sends a value once there is room for it.
pub(crate) async fn send_value<H: TrySend, T: bytemuck::Pod>(
    h: &mut H,
    value: &T,
) -> Result<(), SendError>
where
    for<'r> Room<'r, H>: Waiting,
{
    loop {
        match h.try_send_value(value) {
            Err(SendError::Full) => {
                let len = core::mem::size_of::<T>();
                ready(&mut Room { handle: h, len }).await;
            }
            r => return r,
        }
    }
}

/// The async calls of a receiving handle type: `recv_async`, `recv_value_async` and
/// `messages`, on its `try_recv_into` and `try_recv_value`.
macro_rules! receiver {
    ($t:ty) => {
        impl $crate::task::TryRecv for $t {
            fn try_recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, $crate::RecvError> {
                <$t>::try_recv_into(self, buf)
            }

            fn try_recv_value<T: bytemuck::Pod>(&mut self) -> Result<T, $crate::RecvError> {
                <$t>::try_recv_value(self)
            }
        }

        impl $t {
            /// Receives the next message into `buf` (replacing its contents), waiting
            /// without blocking the thread while the ring is empty. Cancel-safe: a future
            /// dropped before it completes took no message.
            ///
            /// # Errors
            /// As the non-blocking receive, but never `Empty`.
            pub async fn recv_async(
                &mut self,
                buf: &mut Vec<u8>,
            ) -> Result<usize, $crate::RecvError> {
                $crate::task::recv(self, buf).await
            }

            /// Receives the next message as a plain-old-data value, waiting without
            /// blocking the thread. Cancel-safe.
            ///
            /// # Errors
            /// As the non-blocking receive of a value, but never `Empty`.
            pub async fn recv_value_async<T: bytemuck::Pod>(
                &mut self,
            ) -> Result<T, $crate::RecvError> {
                $crate::task::recv_value(self).await
            }

            /// The messages of this handle as a [`Stream`](futures_core::Stream), which
            /// ends when the ring does (`Disconnected`).
            pub fn messages(&mut self) -> $crate::task::Messages<'_, $t> {
                $crate::task::Messages::new(self)
            }
        }
    };
}

/// The async calls of a sending handle type: `send_async`, `send_value_async` and
/// `sends`, on its `try_send` and `try_send_value`.
macro_rules! sender {
    ($t:ty) => {
        impl $crate::task::TrySend for $t {
            fn try_send(&mut self, msg: &[u8]) -> Result<(), $crate::SendError> {
                <$t>::try_send(self, msg)
            }

            fn try_send_value<T: bytemuck::Pod>(
                &mut self,
                value: &T,
            ) -> Result<(), $crate::SendError> {
                <$t>::try_send_value(self, value)
            }
        }

        impl $t {
            /// Sends `msg`, waiting without blocking the thread while the ring has no
            /// room for it. Cancel-safe: a future dropped before it completes sent
            /// nothing.
            ///
            /// # Errors
            /// As the non-blocking send, but never `Full`.
            pub async fn send_async(&mut self, msg: &[u8]) -> Result<(), $crate::SendError> {
                $crate::task::send(self, msg).await
            }

            /// Sends a plain-old-data value, waiting without blocking the thread.
            /// Cancel-safe.
            ///
            /// # Errors
            /// As the non-blocking send of a value, but never `Full`.
            pub async fn send_value_async<T: bytemuck::Pod>(
                &mut self,
                value: &T,
            ) -> Result<(), $crate::SendError> {
                $crate::task::send_value(self, value).await
            }

            /// This handle as a [`Sink`](futures_sink::Sink) of messages.
            pub fn sends(&mut self) -> $crate::task::Sends<'_, $t> {
                $crate::task::Sends::new(self)
            }
        }
    };
}

pub(crate) use {receiver, sender};
