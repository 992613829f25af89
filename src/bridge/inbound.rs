//! The inbound bridge: a JetStream subject's messages into a ring, through a durable pull
//! consumer with explicit acknowledgements.

use super::backoff::Backoff;
use super::dedupe::{self, Dedupe, Found};
use super::link::Link;
use super::options::Options;
use super::outbound::{every, tick};
use super::report::{Report, Summary};
use super::ring::RingAt;
use super::writer::Writer;
use super::BridgeError;
use crate::SendError;
use async_nats::jetstream::consumer::{pull, AckPolicy};
use async_nats::jetstream::AckKind;
use core::future::Future;
use core::pin::pin;
use futures_util::StreamExt;
use std::path::PathBuf;
use std::time::Duration;

/// How long the server waits, by default, for the acknowledgement of a message it
/// delivered before it delivers it again (see [`Inbound::ack_wait`]).
const ACK_WAIT: Duration = Duration::from_secs(30);

/// How long the bridge waits before it tries a send again that found no reader attached
/// to a full ring, or a claim passed while it stalled.
const RESEND: Duration = Duration::from_millis(50);

/// How often a bridge with dedupe asks the server for the consumer's ack floor, and how
/// long it waits for the answer (none is tried again at the next turn).
const FLOOR_EVERY: Duration = Duration::from_millis(200);
const FLOOR_TIMEOUT: Duration = Duration::from_secs(1);

/// Moves the messages of a JetStream subject into a ring (see the module's delivery
/// contract). A builder: [`Inbound::new`], options, then [`Inbound::run`].
///
/// ```no_run
/// use ipcring::bridge::{Inbound, RingAt};
/// # async fn f() -> Result<(), ipcring::bridge::BridgeError> {
/// use ipcring::bridge::Options;
/// let summary = Inbound::new("orders.eu", RingAt::Name("orders-in".into()), "orders-in")
///     .options(Options::default().server("nats://127.0.0.1:4222"))
///     .dedupe("/var/lib/orders/bridge-in.state")
///     .run(tokio::time::sleep(std::time::Duration::from_secs(60)))
///     .await?;
/// println!("{} messages committed", summary.messages);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Inbound {
    subject: String,
    ring: RingAt,
    durable: String,
    batch: usize,
    ack_wait: Duration,
    dedupe: Option<PathBuf>,
    options: Options,
}

impl Inbound {
    /// A bridge from `subject` into the ring `ring`, through the durable consumer
    /// `durable` (created if it does not exist; the server keeps its place across runs),
    /// with pulls of 64 messages, an ack wait of 30 s, no dedupe and the default
    /// [`Options`].
    pub fn new(subject: impl Into<String>, ring: RingAt, durable: impl Into<String>) -> Inbound {
        Inbound {
            subject: subject.into(),
            ring,
            durable: durable.into(),
            batch: 64,
            ack_wait: ACK_WAIT,
            dedupe: None,
            options: Options::default(),
        }
    }

    /// The server, the stream and the reports.
    pub fn options(mut self, options: Options) -> Inbound {
        self.options = options;
        self
    }

    /// Most messages a pull asks for (at least 1); also the most the server delivers
    /// to this consumer without an acknowledgement.
    pub fn batch(mut self, n: usize) -> Inbound {
        self.batch = n.max(1);
        self
    }

    /// How long the server waits for the acknowledgement of a message it delivered before
    /// it delivers it again (at least 1 s; default 30 s), when the bridge creates the
    /// durable consumer (an existing one keeps its own): how soon the messages that a
    /// killed bridge had pulled reach the next one. The bridge tells the server that it
    /// is still at work on a message that waits for room in the ring every third of it.
    pub fn ack_wait(mut self, wait: Duration) -> Inbound {
        self.ack_wait = wait.max(Duration::from_secs(1));
        self
    }

    /// Drop the messages already committed into the ring, remembering which stream
    /// sequences were committed in the file at `path` (created if missing; one file per
    /// durable consumer and ring, locked by the bridge): the consumer's ack floor, asked
    /// of the server every 200 ms, and the sequences committed above it (8 bytes each; a
    /// few KiB while the server acknowledges, up to 8 MiB for a floor held down long).
    pub fn dedupe(mut self, path: impl Into<PathBuf>) -> Inbound {
        self.dedupe = Some(path.into());
        self
    }

    /// Runs the bridge until `shutdown` completes. The message being committed when it
    /// does is finished (committed, then acknowledged) if the ring has room for it;
    /// otherwise it is left unacknowledged, and the server delivers it again to the next
    /// run. The acknowledgements sent are flushed before the end.
    ///
    /// # Errors
    /// At start: `Open`, `Kind` (the ring), `Connect`, `NoStream`, `NoStreamFor`,
    /// `JetStream` (the consumer), `State`. Later: `Send` (a message too large for the
    /// ring, or a ring found corrupted: the message is neither committed nor
    /// acknowledged), `State`. Lost connections and failed pulls are tried again.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<Summary, BridgeError> {
        let mut writer = Writer::open(&self.ring)?;
        let link = Link::connect(&self.options.server, self.batch, &self.options.report).await?;
        let stream = link
            .stream(
                &self.subject,
                self.options.stream.as_deref(),
                self.options.create_stream,
            )
            .await?;
        let info = stream.cached_info();
        let (stream_name, created) = (info.config.name.clone(), info.created);
        let config = pull::Config {
            durable_name: Some(self.durable.clone()),
            filter_subject: self.subject.clone(),
            ack_policy: AckPolicy::Explicit,
            ack_wait: self.ack_wait,
            max_ack_pending: self.batch as i64,
            ..Default::default()
        };
        let consumer = stream
            .get_or_create_consumer::<pull::Config>(&self.durable, config)
            .await
            .map_err(|e| BridgeError::JetStream {
                what: format!("consumer {} of stream {stream_name}", self.durable),
                error: e.into(),
            })?;
        let mut dedupe = match &self.dedupe {
            None => None,
            Some(path) => {
                let print = dedupe::fingerprint(
                    &stream_name,
                    created.unix_timestamp_nanos(),
                    consumer.cached_info().created.unix_timestamp_nanos(),
                );
                let (state, found) = Dedupe::open(path, print)?;
                if found == Found::Other {
                    (self.options.report)(&Report::Note(format!(
                        "dedupe state {}: of another stream or consumer (or of {stream_name} \
                         or {} before it was created again): starting over",
                        path.display(),
                        self.durable
                    )));
                }
                Some(state)
            }
        };
        let mut summary = Summary::default();
        let mut backoff = Backoff::default();
        let mut shutdown = pin!(shutdown);
        let mut progress = self.options.progress.map(every);
        let mut floor_asks = dedupe.as_ref().map(|_| {
            let mut ticks = every(FLOOR_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks
        });
        let mut messages = None;
        let report = |summary: &mut Summary, what, error: String, after| {
            summary.retries += 1;
            (self.options.report)(&Report::Retrying { what, error, after });
        };
        'run: loop {
            let pulled = match &mut messages {
                Some(pulled) => pulled,
                None => {
                    let started = consumer
                        .stream()
                        .max_messages_per_batch(self.batch)
                        .messages()
                        .await;
                    match started {
                        Ok(pulled) => messages.insert(pulled),
                        Err(e) => {
                            let after = backoff.next_delay();
                            report(&mut summary, "pull", e.to_string(), after);
                            tokio::select! {
                                () = tokio::time::sleep(after) => continue,
                                () = &mut shutdown => break,
                            }
                        }
                    }
                }
            };
            let next = tokio::select! {
                next = pulled.next() => next,
                () = &mut shutdown => break,
                _ = tick(&mut progress) => {
                    summary.disconnects = link.disconnects();
                    (self.options.report)(&Report::Progress(summary.clone()));
                    continue;
                }
                _ = tick(&mut floor_asks) => {
                    if let Some(d) = &mut dedupe {
                        let asked = tokio::time::timeout(FLOOR_TIMEOUT, consumer.get_info());
                        // No answer (the server may be away): asked again at the next turn.
                        if let Ok(Ok(info)) = asked.await {
                            d.raise_floor(info.ack_floor.stream_sequence)?;
                        }
                    }
                    continue;
                }
            };
            let msg = match next {
                Some(Ok(msg)) => msg,
                Some(Err(e)) => {
                    let after = backoff.next_delay();
                    report(&mut summary, "pull", e.to_string(), after);
                    tokio::select! {
                        () = tokio::time::sleep(after) => continue,
                        () = &mut shutdown => break,
                    }
                }
                // The pulls ended: start them again.
                None => {
                    messages = None;
                    continue;
                }
            };
            backoff.reset();
            let seq = match msg.info() {
                Ok(info) => info.stream_sequence,
                Err(e) => {
                    (self.options.report)(&Report::Note(format!(
                        "a message without its place: {e}"
                    )));
                    continue;
                }
            };
            if dedupe.as_ref().is_some_and(|d| d.seen(seq)) {
                summary.duplicates += 1;
            } else {
                // Still at work on it (waiting for room), every third of the ack wait.
                let mut keepalive = every(self.ack_wait / 3);
                loop {
                    let sent = tokio::select! {
                        sent = writer.send(&msg.payload) => sent,
                        _ = keepalive.tick() => {
                            // Still at work on it: the server must not deliver it again.
                            let _ = msg.ack_with(AckKind::Progress).await;
                            continue;
                        }
                        // No room: the message stays unacknowledged, for the next run.
                        () = &mut shutdown => break 'run,
                    };
                    match sent {
                        Ok(()) => break,
                        Err(SendError::Disconnected | SendError::Skipped) => {
                            tokio::time::sleep(RESEND).await;
                        }
                        Err(e) => return Err(self.ring.send_error(e)),
                    }
                }
                if let Some(d) = &mut dedupe {
                    d.committed(seq)?;
                }
                summary.messages += 1;
                #[cfg(feature = "crash-points")]
                crate::crash::reached(crate::crash::Point::BridgeBeforeAck);
            }
            if let Err(e) = msg.ack().await {
                // The server delivers it again: a duplicate (which dedupe drops).
                report(
                    &mut summary,
                    "acknowledgement",
                    e.to_string(),
                    Duration::ZERO,
                );
            }
        }
        // The acknowledgements sent are out before the end (bounded: the server may be
        // away).
        let flushed = tokio::time::timeout(super::link::REQUEST_TIMEOUT, link.client.flush());
        let _ = flushed.await;
        summary.disconnects = link.disconnects();
        Ok(summary)
    }
}
