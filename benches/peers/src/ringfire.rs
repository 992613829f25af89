//! ringfire 0.5's side of the cross-process rows. ringfire rings are files of fixed-size
//! records (`Slot<T>`: an 8-byte sequence word and a `T: Copy`) that a producer creates
//! and removes when dropped; readers attach to an existing file. Two kinds are measured:
//!
//! - the SPMC ring (`RingProducer`/`RingConsumer`): one writer, any number of readers that
//!   each see every record. Lossy by default (the writer laps slow readers); with
//!   `FlowControl::LosslessBackpressure` the writer waits for the slowest registered
//!   reader. The round trip of the first table uses the default, streams and the broadcast
//!   rows the lossless mode.
//! - the MPMC work queue (`MpmcProducer`/`MpmcQueueConsumer`): lossy only, so it has
//!   round-trip rows (one message in flight) but no stream.
//!
//! A round trip uses a ring per direction: the parent creates `<name>-a`, the child
//! creates `<name>-b` before it says `ready`, each attaches to the other's.

use crate::cleanup;
use crate::job::{Job, Kind, Wait};
use crate::measure::{Duplex, End, Msg, Receiver, Sender, RING_BYTES};
use ::ringfire::{
    BusySpin, FlowControl, FutexWait, MpmcProducer, MpmcQueueConsumer, RingConsumer, RingProducer,
    RingProducerBuilder, WaitStrategy,
};
use std::path::PathBuf;

/// Slots of the MPMC queues and lossless rings of a round trip: as ipcring's.
const RT_SLOTS: u64 = ipcring::mpmc::DEFAULT_CAPACITY as u64;

impl<M: Msg> Sender<M> for RingProducer<M> {
    #[inline]
    fn put(&mut self, m: &M) {
        self.push(m);
    }
}

impl<M: Msg> Sender<M> for MpmcProducer<M> {
    #[inline]
    fn put(&mut self, m: &M) {
        self.push(m);
    }
}

/// A reader and the way it waits.
struct Rx<C, W> {
    c: C,
    wait: W,
}

impl<M: Msg, W: WaitStrategy> Receiver<M> for Rx<RingConsumer<M>, W> {
    #[inline]
    fn get(&mut self) -> M {
        self.c.recv_blocking(&mut self.wait)
    }
}

impl<M: Msg, W: WaitStrategy> Receiver<M> for Rx<MpmcQueueConsumer<M>, W> {
    #[inline]
    fn get(&mut self) -> M {
        self.c.recv_blocking(&mut self.wait)
    }
}

/// Evaluates `$make` with `$w` bound to the ringfire wait strategy of `$wait`: its
/// `BusySpin`, its default `FutexWait` (32 spins, then futex sleeps of at most 50 ms), or
/// a `FutexWait` that sleeps at once (sleeps of at most its 10 ms safety timeout).
macro_rules! with_wait {
    ($wait:expr, $w:ident => $make:expr) => {
        match $wait {
            Wait::Spin => {
                let $w = BusySpin;
                $make
            }
            Wait::Default => {
                let $w = FutexWait::default();
                $make
            }
            Wait::Park => {
                let $w = FutexWait::new(0, None);
                $make
            }
        }
    };
}

fn path(name: &str, dir: &str) -> PathBuf {
    cleanup::shm_path(&format!("{name}-{dir}"))
}

/// An SPMC ring of `slots` records of `M`, lossless or not as `job` says.
fn create<M: Msg>(job: &Job, p: &PathBuf, slots: u64) -> RingProducer<M> {
    let flow = if job.lossless() {
        FlowControl::LosslessBackpressure
    } else {
        FlowControl::LossyLatestWins
    };
    RingProducerBuilder::new(slots)
        .flow_control(flow)
        .file_mode(0o600)
        .build(p)
        .expect("ringfire create")
}

/// Slots of an SPMC ring: in a stream and in the SPSC round trip, as many records as
/// ipcring's ring or topic holds (8-byte records fill [`RING_BYTES`] exactly, as 16-byte
/// slots); in the broadcast round trip, the size of ipcring's topic.
fn slots<M>(job: &Job) -> u64 {
    if job.n == 0 && job.kind == Kind::Broadcast {
        RT_SLOTS
    } else {
        (RING_BYTES / (size_of::<M>() + 8)).next_power_of_two() as u64
    }
}

/// The parent's end of a round trip; `start_child` runs once the parent's ring exists and
/// returns once the child's does and the child is attached.
pub fn parent_end(job: &Job, name: &str, start_child: &mut dyn FnMut()) -> Box<dyn End> {
    let (a, b) = (path(name, "a"), path(name, "b"));
    if job.kind == Kind::Mpmc {
        let tx = MpmcProducer::<u64>::create(&a, RT_SLOTS).expect("ringfire create");
        start_child();
        let c = MpmcQueueConsumer::<u64>::attach(&b).expect("ringfire attach");
        return with_wait!(job.wait, w => Box::new(Duplex { tx, rx: Rx { c, wait: w } }));
    }
    let tx = create::<u64>(job, &a, slots::<u64>(job));
    start_child();
    let c = RingConsumer::<u64>::attach(&b).expect("ringfire attach");
    with_wait!(job.wait, w => Box::new(Duplex { tx, rx: Rx { c, wait: w } }))
}

/// The child's end of a round trip.
pub fn child_end(job: &Job, name: &str) -> Box<dyn End> {
    let (a, b) = (path(name, "a"), path(name, "b"));
    if job.kind == Kind::Mpmc {
        let c = MpmcQueueConsumer::<u64>::attach(&a).expect("ringfire attach");
        let tx = MpmcProducer::<u64>::create(&b, RT_SLOTS).expect("ringfire create");
        return with_wait!(job.wait, w => Box::new(Duplex { tx, rx: Rx { c, wait: w } }));
    }
    let c = RingConsumer::<u64>::attach(&a).expect("ringfire attach");
    let tx = create::<u64>(job, &b, slots::<u64>(job));
    with_wait!(job.wait, w => Box::new(Duplex { tx, rx: Rx { c, wait: w } }))
}

/// The parent's end of a stream (an SPMC ring, lossless); `start_children` runs once the
/// ring exists and returns once every child is attached, and so registered as a reader
/// that the writer waits for.
pub fn stream_tx<M: Msg>(
    job: &Job,
    name: &str,
    start_children: &mut dyn FnMut(),
) -> Box<dyn Sender<M>> {
    assert_ne!(
        job.kind,
        Kind::Mpmc,
        "ringfire's MPMC queue is lossy: no stream"
    );
    let tx = create::<M>(job, &path(name, "a"), slots::<M>(job));
    start_children();
    Box::new(tx)
}

/// A child's end of a stream.
pub fn stream_rx<M: Msg>(job: &Job, name: &str) -> Box<dyn Receiver<M>> {
    let c = RingConsumer::<M>::attach(path(name, "a")).expect("ringfire attach");
    with_wait!(job.wait, w => Box::new(Rx { c, wait: w }))
}
