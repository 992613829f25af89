//! The outbound bridge: a ring's messages to a JetStream subject.

use super::backoff::Backoff;
use super::id::MessageId;
use super::link::Link;
use super::options::Options;
use super::reader::{Lent, Reader};
use super::report::{Report, Reporter, Summary};
use super::ring::RingAt;
use super::BridgeError;
use async_nats::jetstream::context::{PublishError, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::publish::PublishAck;
use async_nats::jetstream::Context;
use bytes::Bytes;
use core::future::{Future, IntoFuture};
use core::pin::{pin, Pin};
use std::collections::VecDeque;
use std::time::Duration;

/// The acknowledgement of a publish, as a future that the bridge awaits later.
type AckFuture = Pin<Box<dyn Future<Output = Result<PublishAck, PublishError>> + Send>>;

/// A message published and not acknowledged yet.
struct Flight {
    id: MessageId,
    payload: Bytes,
    ack: AckFuture,
}

/// Moves the messages of a ring to a JetStream subject (see the module's delivery
/// contract). A builder: [`Outbound::new`], options, then [`Outbound::run`].
///
/// ```no_run
/// use ipcring::bridge::{Outbound, RingAt};
/// # async fn f() -> Result<(), ipcring::bridge::BridgeError> {
/// use ipcring::bridge::Options;
/// let summary = Outbound::new(RingAt::Name("orders".into()), "orders.eu")
///     .options(Options::default().server("nats://127.0.0.1:4222"))
///     .window(64)
///     .run(tokio::time::sleep(std::time::Duration::from_secs(60)))
///     .await?;
/// println!("{} messages published", summary.messages);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Outbound {
    ring: RingAt,
    subject: String,
    window: usize,
    options: Options,
}

impl Outbound {
    /// A bridge from the ring `ring` to `subject`, with a window of 32 messages and the
    /// default [`Options`].
    pub fn new(ring: RingAt, subject: impl Into<String>) -> Outbound {
        Outbound {
            ring,
            subject: subject.into(),
            window: 32,
            options: Options::default(),
        }
    }

    /// The server, the stream and the reports.
    pub fn options(mut self, options: Options) -> Outbound {
        self.options = options;
        self
    }

    /// Most messages published and not yet acknowledged (at least 1). An MPMC queue
    /// takes one consumer slot for each, and holds fewer if fewer slots are free; a
    /// broadcast topic holds one.
    pub fn window(mut self, n: usize) -> Outbound {
        self.window = n.max(1);
        self
    }

    /// Runs the bridge until `shutdown` completes, then drains: it publishes nothing new,
    /// awaits the acknowledgements of what is in flight and releases those messages. A
    /// publish that fails while draining ends the drain: its message stays in the ring
    /// for the next run.
    ///
    /// # Errors
    /// At start: `Open`, `Kind` (the ring), `Connect`, `NoStream`, `NoStreamFor`,
    /// `JetStream`. Later: `Recv` (the ring is corrupted), `TooLarge`. Lost connections
    /// and failed publishes are tried again, not returned.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<Summary, BridgeError> {
        let mut reader = Reader::open(self.ring.clone(), self.window, self.options.report.clone())?;
        let link =
            Link::connect(&self.options.server, reader.window(), &self.options.report).await?;
        link.stream(
            &self.subject,
            self.options.stream.as_deref(),
            self.options.create_stream,
        )
        .await?;
        let incarnation = reader.incarnation();
        if incarnation == 0 {
            (self.options.report)(&Report::Note(format!(
                "{}: made by a version without incarnations: if it is removed and created \
                 again, its new messages may pass for old ones within the duplicate window",
                self.ring
            )));
        }
        let mut run = Run {
            link,
            subject: self.subject.clone(),
            flights: VecDeque::new(),
            summary: Summary::default(),
            backoff: Backoff::default(),
            report: self.options.report.clone(),
        };
        let mut shutdown = pin!(shutdown);
        let mut stopping = false;
        let mut lent = Vec::new();
        let mut progress = self.options.progress.map(every);
        loop {
            if !stopping {
                reader.lend(run.flights.len(), &mut lent)?;
                for Lent { position, payload } in lent.drain(..) {
                    let id = MessageId {
                        incarnation,
                        position,
                    };
                    let ack = publish(&run.link.js, &run.subject, id, payload.clone()).await;
                    run.flights.push_back(Flight { id, payload, ack });
                }
            }
            let Some(head) = run.flights.front_mut() else {
                if stopping {
                    break;
                }
                tokio::select! {
                    () = &mut shutdown => stopping = true,
                    waited = reader.wait() => waited?,
                    _ = tick(&mut progress) => run.progress(),
                }
                continue;
            };
            let acked = tokio::select! {
                acked = &mut head.ack => acked,
                () = &mut shutdown, if !stopping => {
                    stopping = true;
                    continue;
                }
                _ = tick(&mut progress) => {
                    run.progress();
                    continue;
                }
            };
            match acked {
                Ok(ack) => {
                    let flight = run.flights.pop_front().expect("the head was acknowledged");
                    reader.release(flight.id.position)?;
                    run.summary.messages += 1;
                    run.summary.duplicates += u64::from(ack.duplicate);
                    run.backoff.reset();
                }
                Err(e) if e.kind() == PublishErrorKind::MaxPayloadExceeded => {
                    let len = run.flights.front().map_or(0, |f| f.payload.len());
                    return Err(BridgeError::TooLarge { len });
                }
                // Draining: what is not acknowledged stays in the ring.
                Err(_) if stopping => break,
                Err(e) => {
                    run.summary.retries += 1;
                    let after = run.backoff.next_delay();
                    (run.report)(&Report::Retrying {
                        what: "publish",
                        error: e.to_string(),
                        after,
                    });
                    tokio::select! {
                        () = tokio::time::sleep(after) => {}
                        () = &mut shutdown, if !stopping => {
                            stopping = true;
                        }
                    }
                    if stopping {
                        break;
                    }
                    run.publish_again().await;
                }
            }
        }
        run.summary.pending = run.flights.len() as u64;
        run.summary.disconnects = run.link.disconnects();
        Ok(run.summary)
    }
}

/// The state of a running outbound bridge.
struct Run {
    link: Link,
    subject: String,
    /// In the ring's order: the head is the oldest message lent.
    flights: VecDeque<Flight>,
    summary: Summary,
    backoff: Backoff,
    report: Reporter,
}

impl Run {
    /// Publishes every message in flight again, in order, under the same ids: those that
    /// JetStream stored already are dropped as duplicates (within the duplicate window).
    async fn publish_again(&mut self) {
        for i in 0..self.flights.len() {
            let (id, payload) = (self.flights[i].id, self.flights[i].payload.clone());
            self.flights[i].ack = publish(&self.link.js, &self.subject, id, payload).await;
        }
    }

    fn progress(&mut self) {
        self.summary.pending = self.flights.len() as u64;
        self.summary.disconnects = self.link.disconnects();
        (self.report)(&Report::Progress(self.summary.clone()));
    }
}

/// Publishes `payload` to `subject` under `id`; the future of its acknowledgement (or of
/// the failure to send it, which the bridge meets when it awaits it). (A function of the
/// context, not of the bridge's state: that holds acknowledgements, which are `Send` but
/// not `Sync`, and a future holding a reference to it would not be `Send`.)
async fn publish(js: &Context, subject: &str, id: MessageId, payload: Bytes) -> AckFuture {
    let message = PublishMessage::build()
        .payload(payload)
        .message_id(id.to_string());
    match js.send_publish(subject.to_owned(), message).await {
        Ok(ack) => ack.into_future(),
        Err(e) => Box::pin(core::future::ready(Err(e))),
    }
}

/// An interval whose first tick is `period` from now.
pub(crate) fn every(period: Duration) -> tokio::time::Interval {
    tokio::time::interval_at(tokio::time::Instant::now() + period, period)
}

/// The next tick of `ticks`, if there are any; never otherwise.
pub(crate) async fn tick(ticks: &mut Option<tokio::time::Interval>) {
    match ticks {
        Some(interval) => {
            interval.tick().await;
        }
        None => core::future::pending().await,
    }
}
