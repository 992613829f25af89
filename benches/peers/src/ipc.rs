//! ipcring's side of the cross-process rows: SPSC rings, MPMC work queues and broadcast
//! topics in named shared memory (`/dev/shm/ipcring.<name>`). A round trip uses one per
//! direction: the parent creates `<name>-a` (it sends) and `<name>-b` (it receives), the
//! child opens them the other way round; a stream uses `<name>-a`. The parent unlinks the
//! names once its children are attached.

use crate::job::{Job, Kind, Wait};
use crate::measure::{Duplex, End, Msg, Receiver, Sender, RING_BYTES};
use ipcring::{broadcast, mpmc, spsc, WaitStrategy};

impl<M: Msg> Sender<M> for spsc::Producer {
    #[inline]
    fn put(&mut self, m: &M) {
        self.send_value(m).expect("ipcring spsc send");
    }
}

impl<M: Msg> Receiver<M> for spsc::Consumer {
    #[inline]
    fn get(&mut self) -> M {
        self.recv_value().expect("ipcring spsc receive")
    }
}

impl<M: Msg> Sender<M> for mpmc::Producer {
    #[inline]
    fn put(&mut self, m: &M) {
        self.send_value(m).expect("ipcring mpmc send");
    }
}

impl<M: Msg> Receiver<M> for mpmc::Consumer {
    #[inline]
    fn get(&mut self) -> M {
        self.recv_value().expect("ipcring mpmc receive")
    }
}

impl<M: Msg> Sender<M> for broadcast::Publisher {
    #[inline]
    fn put(&mut self, m: &M) {
        self.send_value(m).expect("ipcring broadcast send");
    }
}

impl<M: Msg> Receiver<M> for broadcast::Subscriber {
    #[inline]
    fn get(&mut self) -> M {
        self.recv_value().expect("ipcring broadcast receive")
    }
}

fn strategy(wait: Wait) -> WaitStrategy {
    match wait {
        Wait::Spin => WaitStrategy::BusySpin,
        Wait::Default => WaitStrategy::default(),
        Wait::Park => WaitStrategy::Park,
    }
}

/// Slots of a queue or topic: as many messages of `size` bytes as [`RING_BYTES`] hold in
/// a stream; the library's default in a round trip (one message is ever in flight).
fn slots(job: &Job) -> usize {
    if job.n == 0 {
        mpmc::DEFAULT_CAPACITY
    } else {
        (RING_BYTES / (job.size + 8)).next_power_of_two()
    }
}

fn spsc_opts(job: &Job, name: &str) -> spsc::Builder {
    spsc::Builder::new(name)
        .capacity(RING_BYTES)
        .populate(true)
        .wait_strategy(strategy(job.wait))
}

fn mpmc_opts(job: &Job, name: &str) -> mpmc::Builder {
    mpmc::Builder::new(name)
        .capacity(slots(job))
        .slot_size(job.size)
        .producers(1)
        .consumers(1)
        .populate(true)
        .wait_strategy(strategy(job.wait))
}

fn topic_opts(job: &Job, name: &str) -> broadcast::Builder {
    broadcast::Builder::new(name)
        .capacity(slots(job))
        .slot_size(job.size)
        .publishers(1)
        .max_subscribers(job.subscribers)
        .populate(true)
        .wait_strategy(strategy(job.wait))
}

fn unlink(name: &str) {
    ipcring::unlink(name).expect("ipcring unlink");
}

/// The parent's end of a round trip; `start_child` runs once its rings exist and returns
/// once the child is attached.
pub fn parent_end(job: &Job, name: &str, start_child: &mut dyn FnMut()) -> Box<dyn End> {
    let (a, b) = (format!("{name}-a"), format!("{name}-b"));
    let end: Box<dyn End> = match job.kind {
        Kind::Spsc => Box::new(Duplex {
            tx: spsc_opts(job, &a).create_producer().expect("create"),
            rx: spsc_opts(job, &b).create_consumer().expect("create"),
        }),
        Kind::Mpmc => Box::new(Duplex {
            tx: mpmc_opts(job, &a).create_producer().expect("create"),
            rx: mpmc_opts(job, &b).create_consumer().expect("create"),
        }),
        Kind::Broadcast => Box::new(Duplex {
            tx: topic_opts(job, &a).create_publisher().expect("create"),
            rx: topic_opts(job, &b).create_subscriber().expect("create"),
        }),
    };
    start_child();
    unlink(&a);
    unlink(&b);
    end
}

/// The child's end of a round trip.
pub fn child_end(job: &Job, name: &str) -> Box<dyn End> {
    let (a, b) = (format!("{name}-a"), format!("{name}-b"));
    match job.kind {
        Kind::Spsc => Box::new(Duplex {
            rx: spsc_opts(job, &a).open_consumer().expect("open"),
            tx: spsc_opts(job, &b).open_producer().expect("open"),
        }),
        Kind::Mpmc => Box::new(Duplex {
            rx: mpmc_opts(job, &a).open_consumer().expect("open"),
            tx: mpmc_opts(job, &b).open_producer().expect("open"),
        }),
        // From the oldest message held: the parent may send before this subscriber joins.
        Kind::Broadcast => Box::new(Duplex {
            rx: topic_opts(job, &a)
                .from_oldest(true)
                .open_subscriber()
                .expect("open"),
            tx: topic_opts(job, &b).open_publisher().expect("open"),
        }),
    }
}

/// The parent's end of a stream; `start_children` runs once the ring exists and returns
/// once every child is attached.
pub fn stream_tx<M: Msg>(
    job: &Job,
    name: &str,
    start_children: &mut dyn FnMut(),
) -> Box<dyn Sender<M>> {
    let a = format!("{name}-a");
    let tx: Box<dyn Sender<M>> = match job.kind {
        Kind::Spsc => Box::new(spsc_opts(job, &a).create_producer().expect("create")),
        Kind::Mpmc => Box::new(mpmc_opts(job, &a).create_producer().expect("create")),
        Kind::Broadcast => Box::new(topic_opts(job, &a).create_publisher().expect("create")),
    };
    start_children();
    unlink(&a);
    tx
}

/// A child's end of a stream.
pub fn stream_rx<M: Msg>(job: &Job, name: &str) -> Box<dyn Receiver<M>> {
    let a = format!("{name}-a");
    match job.kind {
        Kind::Spsc => Box::new(spsc_opts(job, &a).open_consumer().expect("open")),
        Kind::Mpmc => Box::new(mpmc_opts(job, &a).open_consumer().expect("open")),
        Kind::Broadcast => Box::new(
            topic_opts(job, &a)
                .from_oldest(true)
                .open_subscriber()
                .expect("open"),
        ),
    }
}
