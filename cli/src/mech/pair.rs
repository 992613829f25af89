//! A round trip through two rings of one ipcring kind, one per direction: what the SPSC and
//! MPMC mechanisms share. The parent creates `NAME-a` as its producer and `NAME-b` as its
//! consumer; the child opens them the other way round.

use super::{Link, Prepared};
use crate::cleanup::RingName;
use ipcring::OpenError;
use std::io;

/// How the handles of one kind send, receive and count their wake-ups.
pub trait Ends: 'static {
    /// The sending handle.
    type Tx;
    /// The receiving handle.
    type Rx;
    fn send(tx: &mut Self::Tx, msg: &[u8]);
    fn recv(rx: &mut Self::Rx, buf: &mut Vec<u8>);
    /// Futex wake calls of both rings, both sides.
    fn wakeups(tx: &Self::Tx, rx: &Self::Rx) -> u64;
}

struct PairLink<E: Ends> {
    tx: E::Tx,
    rx: E::Rx,
    /// The parent's names, unlinked on drop (the child holds none).
    _names: Vec<RingName>,
}

impl<E: Ends> Link for PairLink<E> {
    fn send(&mut self, msg: &[u8]) {
        E::send(&mut self.tx, msg);
    }

    fn recv(&mut self, buf: &mut Vec<u8>) {
        E::recv(&mut self.rx, buf);
    }

    fn wakeups(&self) -> Option<u64> {
        Some(E::wakeups(&self.tx, &self.rx))
    }
}

fn err(e: OpenError) -> io::Error {
    io::Error::other(e)
}

/// The parent's side: creates the two rings with `create_tx` and `create_rx`.
pub fn prepare<E: Ends>(
    tag: &str,
    create_tx: impl FnOnce(&str) -> Result<E::Tx, OpenError>,
    create_rx: impl FnOnce(&str) -> Result<E::Rx, OpenError>,
) -> io::Result<Prepared> {
    let name = format!("bench-{tag}");
    let (a, tx) = RingName::create(format!("{name}-a"), |n| create_tx(n).map_err(err))?;
    let (b, rx) = RingName::create(format!("{name}-b"), |n| create_rx(n).map_err(err))?;
    Ok(Prepared {
        link: Box::new(PairLink::<E> {
            tx,
            rx,
            _names: vec![a, b],
        }),
        child_fds: Vec::new(),
        close_after_spawn: Vec::new(),
        name,
        id: 0,
    })
}

/// The child's side: opens the parent's rings `name-a` (to receive) and `name-b` (to send).
pub fn open<E: Ends>(
    name: &str,
    open_rx: impl FnOnce(&str) -> Result<E::Rx, OpenError>,
    open_tx: impl FnOnce(&str) -> Result<E::Tx, OpenError>,
) -> io::Result<Box<dyn Link>> {
    Ok(Box::new(PairLink::<E> {
        rx: open_rx(&format!("{name}-a")).map_err(err)?,
        tx: open_tx(&format!("{name}-b")).map_err(err)?,
        _names: Vec::new(),
    }))
}
