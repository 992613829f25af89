//! What both bridges take besides their ring and subject: the server, the stream, and how
//! they report.

use super::report::{Report, Reporter};
use std::time::Duration;

/// The settings that [`Outbound`](super::Outbound) and [`Inbound`](super::Inbound) share.
/// The defaults: the server at [`DEFAULT_SERVER`](super::DEFAULT_SERVER), the stream that
/// holds the subject (it must exist), no reports.
///
/// ```
/// use ipcring::bridge::Options;
/// let options = Options::default()
///     .server("nats://10.0.0.7:4222")
///     .stream("ORDERS")
///     .create_stream(true)
///     .progress(std::time::Duration::from_secs(10))
///     .on_report(|r| eprintln!("bridge: {r}"));
/// # drop(options);
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    pub(crate) server: String,
    pub(crate) stream: Option<String>,
    pub(crate) create_stream: bool,
    pub(crate) progress: Option<Duration>,
    pub(crate) report: Reporter,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            server: super::DEFAULT_SERVER.to_owned(),
            stream: None,
            create_stream: false,
            progress: None,
            report: Reporter::default(),
        }
    }
}

impl Options {
    /// The server's address (`nats://host:port`, or several, comma-separated).
    pub fn server(mut self, url: impl Into<String>) -> Options {
        self.server = url.into();
        self
    }

    /// The stream that must hold the subject (instead of the one that does).
    pub fn stream(mut self, name: impl Into<String>) -> Options {
        self.stream = Some(name.into());
        self
    }

    /// With a [`stream`](Options::stream): create it if it does not exist, holding the
    /// subject, with a duplicate window of [`DUPLICATE_WINDOW`](super::DUPLICATE_WINDOW).
    pub fn create_stream(mut self, yes: bool) -> Options {
        self.create_stream = yes;
        self
    }

    /// Report the counts so far every `every` ([`Report::Progress`]).
    pub fn progress(mut self, every: Duration) -> Options {
        self.progress = Some(every);
        self
    }

    /// Where reports go: connections lost and made again, retries, losses of a topic.
    pub fn on_report(mut self, f: impl Fn(&Report) + Send + Sync + 'static) -> Options {
        self.report = Reporter::new(f);
        self
    }
}
