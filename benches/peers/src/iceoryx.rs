//! iceoryx2 0.10's side of the busy round trip: publish/subscribe (`ipc::Service`), one
//! publisher and one subscriber per direction, in a private domain of this run.
//!
//! By default iceoryx2 keeps state for every process of a user in one domain: files
//! prefixed `iox2_` in /dev/shm (among them a world-writable global management segment
//! that outlives every node) and the directory /tmp/iceoryx2/. Here its `Config` gives it
//! this run's prefix and root directory (see [`cleanup`]), so the run removes all of it,
//! and its nodes install no signal handlers (the run handles SIGINT and SIGTERM itself).

use crate::cleanup;
use crate::measure::{End, READY};
use iceoryx2::port::publisher::Publisher;
use iceoryx2::port::subscriber::Subscriber;
use iceoryx2::prelude::*;
use std::time::{Duration, Instant};

/// A duplex channel of two services.
pub struct Ice {
    // Ports before the node: they are dropped first.
    tx: Publisher<ipc::Service, u64, ()>,
    rx: Subscriber<ipc::Service, u64, ()>,
    _node: Node<ipc::Service>,
}

impl End for Ice {
    fn put(&mut self, v: u64) {
        let sample = self.tx.loan_uninit().expect("iceoryx2 loan");
        sample.write_payload(v).send().expect("iceoryx2 send");
    }
    fn get(&mut self) -> u64 {
        loop {
            if let Some(s) = self.rx.receive().expect("iceoryx2 receive") {
                return *s;
            }
            std::hint::spin_loop();
        }
    }
}

/// The configuration of this run's private domain.
fn config() -> Config {
    let mut cfg = Config::default();
    cfg.global.prefix = FileName::new(cleanup::iceoryx_prefix().as_bytes()).expect("prefix");
    cfg.global
        .set_root_path(&Path::new(cleanup::iceoryx_root().as_bytes()).expect("root path"));
    cfg
}

/// iceoryx2 ports for `name`: publishing on `<name>/<tx>`, subscribed to `<name>/<rx>`.
fn ice(name: &str, tx: &str, rx: &str) -> Ice {
    let node = NodeBuilder::new()
        .config(&config())
        .signal_handling_mode(SignalHandlingMode::Disabled)
        .create::<ipc::Service>()
        .expect("iceoryx2 node");
    let service = |dir: &str| {
        let sn: ServiceName = format!("{name}/{dir}").as_str().try_into().expect("name");
        node.service_builder(&sn)
            .publish_subscribe::<u64>()
            .max_publishers(1)
            .max_subscribers(1)
            .history_size(0)
            .subscriber_max_buffer_size(1)
            .enable_safe_overflow(true)
            .open_or_create()
            .expect("iceoryx2 service")
    };
    let (out, inp) = (service(tx), service(rx));
    Ice {
        tx: out.publisher_builder().create().expect("publisher"),
        rx: inp.subscriber_builder().create().expect("subscriber"),
        _node: node,
    }
}

/// The parent's end; `start_child` runs once its ports exist and returns once the
/// child's do.
pub fn parent_end(name: &str, start_child: &mut dyn FnMut()) -> Box<dyn End> {
    let mut end = ice(name, "a2b", "b2a");
    start_child();
    assert_eq!(end.get(), READY);
    // The child's subscriber may connect a moment after its publisher: retry the first
    // message until it is answered.
    loop {
        end.put(0);
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_millis(50) {
            if let Some(s) = end.rx.receive().expect("receive") {
                assert_eq!(*s, 0);
                return Box::new(end);
            }
        }
    }
}

/// The child's end.
pub fn child_end(name: &str) -> Box<dyn End> {
    let mut e = ice(name, "b2a", "a2b");
    // The parent's subscriber exists: it sees this once our publisher connects.
    e.put(READY);
    Box::new(e)
}
