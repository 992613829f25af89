//! The connection to the server that both bridges share: connecting (the client
//! reconnects by itself from then on, and its events become reports), and finding the
//! stream.

use super::report::{Report, Reporter};
use super::BridgeError;
use async_nats::jetstream::{self, stream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long JetStream requests, and the acknowledgement of a publish, may take before
/// they count as failed (and are tried again).
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the first connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A connected client and its JetStream context.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) client: async_nats::Client,
    pub(crate) js: jetstream::Context,
    /// Connections lost so far.
    disconnects: Arc<AtomicU64>,
}

impl Link {
    /// Connects to `server`; `in_flight` bounds the publishes whose acknowledgement the
    /// bridge awaits (the client's own bound is set a little above it).
    ///
    /// # Errors
    /// `Connect` for an address that is none, or no server there now.
    pub(crate) async fn connect(
        server: &str,
        in_flight: usize,
        report: &Reporter,
    ) -> Result<Link, BridgeError> {
        let disconnects = Arc::new(AtomicU64::new(0));
        let (lost, report) = (Arc::clone(&disconnects), report.clone());
        // While the connection is down, each failed attempt of the client to reconnect
        // is an error event: the disconnection was reported, they are not.
        let down = Arc::new(AtomicBool::new(false));
        let client = async_nats::ConnectOptions::new()
            .name("ipcring bridge")
            .connection_timeout(CONNECT_TIMEOUT)
            .event_callback(move |event| {
                let (lost, report) = (Arc::clone(&lost), report.clone());
                let down = Arc::clone(&down);
                // Relaxed (all three): flags and counts for reports, which order nothing.
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            // The first connection is the start, not news.
                            if down.swap(false, Ordering::Relaxed) {
                                report(&Report::Connected);
                            }
                        }
                        async_nats::Event::Disconnected => {
                            down.store(true, Ordering::Relaxed);
                            lost.fetch_add(1, Ordering::Relaxed);
                            report(&Report::Disconnected);
                        }
                        async_nats::Event::ClientError(_) if down.load(Ordering::Relaxed) => {}
                        other => report(&Report::Note(format!("server: {other}"))),
                    }
                }
            })
            .connect(server)
            .await
            .map_err(|error| BridgeError::Connect {
                server: server.to_owned(),
                error,
            })?;
        let js = jetstream::ContextBuilder::new()
            .timeout(REQUEST_TIMEOUT)
            // Acknowledgements the bridge stops waiting for (those it publishes again
            // after a failure) hold a permit of the bound no longer than this.
            .ack_timeout(REQUEST_TIMEOUT)
            .max_ack_inflight(2 * in_flight + 16)
            .backpressure_on_inflight(true)
            .build(client.clone());
        Ok(Link {
            client,
            js,
            disconnects,
        })
    }

    /// Connections lost so far.
    pub(crate) fn disconnects(&self) -> u64 {
        // Relaxed: a count, for reports.
        self.disconnects.load(Ordering::Relaxed)
    }

    /// The stream named `name`, or the one that holds `subject`; with `create` and a
    /// name, a stream of that name that holds `subject` is created if there is none.
    ///
    /// # Errors
    /// `NoStream` or `NoStreamFor` when there is none; `JetStream` when the server cannot
    /// be asked.
    pub(crate) async fn stream(
        &self,
        subject: &str,
        name: Option<&str>,
        create: bool,
    ) -> Result<stream::Stream, BridgeError> {
        let failed =
            |what: String| move |error: async_nats::Error| BridgeError::JetStream { what, error };
        let name = match name {
            Some(name) => name.to_owned(),
            None => match self.js.stream_by_subject(subject).await {
                Ok(name) => name,
                Err(e) if not_found(&e) => {
                    return Err(BridgeError::NoStreamFor {
                        subject: subject.to_owned(),
                    })
                }
                Err(e) => return Err(failed(format!("look up the stream of {subject}"))(e.into())),
            },
        };
        match self.js.get_stream(&name).await {
            Ok(found) => return Ok(found),
            Err(e) if !is_stream_not_found(&e) => {
                return Err(failed(format!("look up stream {name}"))(e.into()))
            }
            Err(_) if !create => return Err(BridgeError::NoStream { stream: name }),
            Err(_) => {}
        }
        let config = stream::Config {
            name: name.clone(),
            subjects: vec![subject.to_owned()],
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        };
        let created = self.js.create_stream(config).await;
        created.map_err(|e| failed(format!("create stream {name}"))(e.into()))
    }
}

/// The duplicate window of a stream that the bridge creates: how long after a publish
/// JetStream still drops a message published again under the same id. A bridge that
/// restarts within it publishes nothing twice (see the delivery contract).
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);

/// Whether a lookup of the stream by subject found none.
fn not_found(e: &jetstream::context::GetStreamByNameError) -> bool {
    e.kind() == jetstream::context::GetStreamByNameErrorKind::NotFound
}

/// Whether a lookup of a stream by name found none.
fn is_stream_not_found(e: &jetstream::context::GetStreamError) -> bool {
    matches!(
        e.kind(),
        jetstream::context::GetStreamErrorKind::JetStream(j)
            if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
    )
}
