//! Valid segments of every kind, made by this build of ipcring, to seed the corpus of the
//! `segment` target: from them the fuzzer reaches past the identity checks (a layout
//! hash is not found by chance) into the geometry, the positions and the records.
//!
//! Each is a small ring with some traffic: messages sent, some received, a wrap of the
//! positions or of the data area; some are read while their handles are attached (their
//! role slots say attached, and nobody holds the locks: they look crashed), the others
//! after the handles detached.

use crate::handles::{Receiver, Sender};
use crate::shm::path_of;
use crate::unique_name;
use ipcring::{blackboard, broadcast, event, mpmc, spsc, OpenError, RecvError, SendError};
use std::fs;
use std::io;
use std::path::Path;

/// Near the end of the position space: the traffic wraps it.
const NEAR_WRAP: u64 = u64::MAX - 127;

/// Writes one file per seed segment into `dir`, named after the segment
/// (`seed-spsc-64`...), replacing what an earlier run wrote there.
///
/// # Errors
/// Those of making a ring and of writing the files.
pub fn write_into(dir: &Path) -> io::Result<()> {
    for (name, bytes) in segments()? {
        fs::write(dir.join(format!("seed-{name}")), bytes)?;
    }
    Ok(())
}

/// The seed segments, by name.
///
/// # Errors
/// Those of making a ring and of reading its segment.
fn segments() -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for (capacity, start, attached) in [(64, 0, false), (256, NEAR_WRAP, true)] {
        let bytes = snapshot(attached, |name| {
            let b = spsc::Builder::new(name)
                .capacity(capacity)
                .start_position(start);
            let tx = b.create_producer()?;
            let rx = spsc::Consumer::open(name)?;
            Ok((tx, rx))
        })?;
        out.push((format!("spsc-{capacity}"), bytes));
    }
    for (cells, start, attached) in [(4, 0, false), (2, NEAR_WRAP, true)] {
        let bytes = snapshot(attached, |name| {
            let b = mpmc::Builder::new(name).capacity(cells).slot_size(12);
            let b = b.producers(2).consumers(1).start_position(start);
            let tx = b.create_producer()?;
            let rx = mpmc::Consumer::open(name)?;
            Ok((tx, rx))
        })?;
        out.push((format!("mpmc-{cells}"), bytes));
    }
    for (lossy, start, attached) in [(false, 0, false), (true, NEAR_WRAP, true)] {
        let bytes = snapshot(attached, |name| {
            let b = broadcast::Builder::new(name).capacity(4).slot_size(12);
            let b = b.publishers(1).max_subscribers(2).lossy(lossy);
            let tx = b.start_position(start).create_publisher()?;
            let rx = broadcast::Subscriber::open(name)?;
            Ok((tx, rx))
        })?;
        out.push((format!("broadcast-lossy-{lossy}"), bytes));
    }
    out.push(("blackboard".to_owned(), board()?));
    out.push(("event".to_owned(), events()?));
    Ok(out)
}

/// An event segment of 8 ids, two of them fired, its notifier and listener attached.
fn events() -> io::Result<Vec<u8>> {
    let name = unique_name("seed");
    let b = event::Builder::new(&name).ids(8).notifiers(2).listeners(2);
    let made = b.create_listener().map_err(io::Error::other);
    let bytes = made.and_then(|mut rx| {
        let mut tx = event::Notifier::open(&name).map_err(io::Error::other)?;
        for id in [1, 5, 5] {
            tx.notify(id).map_err(io::Error::other)?;
        }
        let _ = rx.try_wait();
        fs::read(path_of(&name))
    });
    match ipcring::unlink(&name) {
        Ok(()) | Err(OpenError::NotFound { .. }) => bytes,
        Err(e) => Err(io::Error::other(e)),
    }
}

/// A blackboard of three entries, two of them set, its writer attached.
fn board() -> io::Result<Vec<u8>> {
    let name = unique_name("seed");
    let made = blackboard::Builder::new(&name)
        .entry("a", 8)
        .entry("b", 24)
        .entries(1, 200)
        .writers(2)
        .create_writer()
        .map_err(io::Error::other);
    let bytes = made.and_then(|mut w| {
        for (key, value) in [(0, &b"12345678"[..]), (1, b"hello"), (1, b"hello, board")] {
            w.set(key, value).map_err(io::Error::other)?;
        }
        fs::read(path_of(&name))
    });
    match ipcring::unlink(&name) {
        Ok(()) | Err(OpenError::NotFound { .. }) => bytes,
        Err(e) => Err(io::Error::other(e)),
    }
}

/// A ring made by `make` (a sender and a receiver of a new ring at the name it is given),
/// after some traffic, as the bytes of its segment; read while the handles are
/// `attached`, or after they detached. The ring is removed again.
fn snapshot<S: Sender, R: Receiver>(
    attached: bool,
    make: impl FnOnce(&str) -> Result<(S, R), OpenError>,
) -> io::Result<Vec<u8>> {
    let name = unique_name("seed");
    let bytes = make(&name)
        .map_err(io::Error::other)
        .and_then(|(mut tx, mut rx)| {
            let mut buf = Vec::new();
            for seq in 0..9 {
                match tx.try_send(&crate::message(seq, seq as usize)) {
                    Ok(()) | Err(SendError::Full) => {}
                    Err(e) => return Err(io::Error::other(e)),
                }
                if seq % 3 != 0 {
                    match rx.try_recv_into(&mut buf) {
                        Ok(_) | Err(RecvError::Empty | RecvError::Lagged { .. }) => {}
                        Err(e) => return Err(io::Error::other(e)),
                    }
                }
            }
            let handles = attached.then_some((tx, rx));
            let bytes = fs::read(path_of(&name));
            drop(handles);
            bytes
        });
    match ipcring::unlink(&name) {
        Ok(()) | Err(OpenError::NotFound { .. }) => bytes,
        Err(e) => Err(io::Error::other(e)),
    }
}
