//! `ipcring bridge out` and `ipcring bridge in` (feature `nats`): a ring's messages to a
//! NATS JetStream subject, and a subject's into a ring, thin over `ipcring::bridge`
//! (whose module documentation holds the delivery contract). Both run until Ctrl-C or
//! SIGTERM, then drain and exit 0 with a summary line on standard error.

use super::target::Target;
use super::{interrupted, Failure, SLICE};
use clap::{Args, Subcommand};
use ipcring::bridge::{self, Inbound, Options, Outbound, RingAt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The two directions.
#[derive(Debug, Clone, Subcommand)]
pub enum BridgeCommand {
    /// Publish a ring's messages to a JetStream subject, releasing each from the ring
    /// only once JetStream acknowledged it (id: the ring's incarnation and the message's
    /// position, so that a restarted bridge's repeats are dropped by the stream).
    Out(OutArgs),
    /// Commit a JetStream subject's messages into a ring through a durable pull
    /// consumer, acknowledging each once committed.
    In(InArgs),
}

/// What both directions take.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// The NATS server (or several, comma-separated).
    #[arg(long, default_value = bridge::DEFAULT_SERVER)]
    pub server: String,
    /// The stream that holds the subject (default: the one that does; it must exist).
    #[arg(long)]
    pub stream: Option<String>,
    /// Create the --stream if it does not exist, holding the subject (duplicate window:
    /// 10 minutes).
    #[arg(long, requires = "stream")]
    pub create_stream: bool,
    /// Print the counts so far on standard error every this long (1s, 500ms...).
    #[arg(long, value_parser = super::units::duration)]
    pub stats: Option<Duration>,
}

/// Options of `ipcring bridge out`.
#[derive(Debug, Clone, Args)]
pub struct OutArgs {
    /// The ring to read: its name, or the path of a file-backed ring (an argument with a
    /// `/`). An SPSC or MPMC consumer, or a broadcast subscriber, as the ring's kind is.
    #[arg(value_name = "NAME|PATH")]
    pub ring: String,
    /// The subject to publish to.
    #[arg(long)]
    pub subject: String,
    /// Most messages published and not yet acknowledged. MPMC: one consumer slot each
    /// (fewer if fewer are free); broadcast: always 1.
    #[arg(long, default_value_t = 32)]
    pub window: usize,
    #[command(flatten)]
    pub common: Common,
}

/// Options of `ipcring bridge in`.
#[derive(Debug, Clone, Args)]
pub struct InArgs {
    /// The subject to take messages from.
    #[arg(value_name = "SUBJECT")]
    pub subject: String,
    /// The ring to commit them into: its name, or the path of a file-backed ring.
    #[arg(long, value_name = "NAME|PATH")]
    pub ring: String,
    /// The durable consumer (created if missing; the server keeps its place). Default:
    /// `ipcring-` and the ring's name, with what a consumer name cannot hold as `_`.
    #[arg(long)]
    pub durable: Option<String>,
    /// Messages a pull asks for, and the most delivered without an acknowledgement.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// How long the server waits for a message's acknowledgement before it delivers it
    /// again (when the bridge creates the durable consumer): how soon the messages that a
    /// killed bridge had pulled reach the next one.
    #[arg(long, default_value = "30s", value_parser = super::units::duration)]
    pub ack_wait: Duration,
    /// Drop messages already committed into the ring, remembering the consumer's ack
    /// floor and the stream sequences committed above it in a state file (see --state).
    #[arg(long)]
    pub dedupe: bool,
    /// The state file of --dedupe. Default: /dev/shm/ipcring-bridge.RING.DURABLE for a
    /// ring in /dev/shm, PATH.bridge.DURABLE for a file-backed ring.
    #[arg(long, requires = "dedupe")]
    pub state: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

/// `ipcring bridge out|in`.
pub fn bridge(command: &BridgeCommand) -> Result<(), Failure> {
    let stop = interrupted()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new("tokio runtime", e))?;
    let (what, ran) = match command {
        BridgeCommand::Out(a) => {
            let what = format!("bridge out {}", a.ring);
            let out = Outbound::new(ring_at(&a.ring), &a.subject)
                .options(options(&a.common, &what))
                .window(a.window);
            (what, runtime.block_on(out.run(until(stop))))
        }
        BridgeCommand::In(a) => {
            #[cfg(feature = "crash-points")]
            arm_crash_point();
            let what = format!("bridge in {}", a.ring);
            let durable = a
                .durable
                .clone()
                .unwrap_or_else(|| default_durable(&a.ring));
            let mut into = Inbound::new(&a.subject, ring_at(&a.ring), &durable)
                .options(options(&a.common, &what))
                .batch(a.batch)
                .ack_wait(a.ack_wait);
            if a.dedupe {
                let state = a.state.clone();
                into = into.dedupe(state.unwrap_or_else(|| default_state(&a.ring, &durable)));
            }
            (what, runtime.block_on(into.run(until(stop))))
        }
    };
    let summary = ran.map_err(|e| Failure::new(&what, e))?;
    eprintln!("ipcring: {what}: stopped: {summary}");
    Ok(())
}

/// Test builds only (feature `crash-points`, for `cli/tests/bridge/`):
/// `IPCRING_CRASH_BRIDGE_BEFORE_ACK=N` lets an inbound bridge acknowledge N messages and
/// kills it after its commit of the next one, before the acknowledgement.
#[cfg(feature = "crash-points")]
fn arm_crash_point() {
    let passes = std::env::var("IPCRING_CRASH_BRIDGE_BEFORE_ACK").ok();
    if let Some(n) = passes.and_then(|n| n.parse().ok()) {
        ipcring::crash::arm(ipcring::crash::Point::BridgeBeforeAck, n);
    }
}

fn ring_at(arg: &str) -> RingAt {
    if Target::new(arg).is_path() {
        RingAt::Path(arg.into())
    } else {
        RingAt::Name(arg.to_owned())
    }
}

/// Completes once Ctrl-C or SIGTERM set `stop` (looked at every slice).
async fn until(stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(SLICE).await;
    }
}

/// The library's options of `common`, with each report printed on standard error after
/// `who`.
fn options(common: &Common, who: &str) -> Options {
    let who = who.to_owned();
    let mut options = Options::default()
        .server(&common.server)
        .create_stream(common.create_stream)
        .on_report(move |r| eprintln!("ipcring: {who}: {r}"));
    if let Some(stream) = &common.stream {
        options = options.stream(stream);
    }
    if let Some(every) = common.stats {
        options = options.progress(every);
    }
    options
}

/// A durable consumer's name for the ring `ring`: `ipcring-` and its name (the file name of
/// a path), with `.`, `*`, `>`, `/` and white space (which a name cannot hold) as `_`.
fn default_durable(ring: &str) -> String {
    let name = ring.rsplit('/').next().unwrap_or(ring);
    let safe: String = name
        .chars()
        .map(|c| match c {
            '.' | '*' | '>' | '/' | '\\' => '_',
            c if c.is_whitespace() => '_',
            c => c,
        })
        .collect();
    format!("ipcring-{safe}")
}

/// Where `--dedupe` keeps its state by default: next to the ring, with the durable's name.
fn default_state(ring: &str, durable: &str) -> PathBuf {
    if Target::new(ring).is_path() {
        PathBuf::from(format!("{ring}.bridge.{durable}"))
    } else {
        PathBuf::from(format!("/dev/shm/ipcring-bridge.{ring}.{durable}"))
    }
}

#[cfg(test)]
mod tests {
    use super::{default_durable, default_state};

    #[test]
    fn durable_names_hold_no_token_separators() {
        assert_eq!(default_durable("orders"), "ipcring-orders");
        assert_eq!(default_durable("./dir/a.ring"), "ipcring-a_ring");
        assert_eq!(default_durable("a b*c>d"), "ipcring-a_b_c_d");
    }

    #[test]
    fn the_state_lives_next_to_the_ring() {
        assert_eq!(
            default_state("orders", "d"),
            std::path::Path::new("/dev/shm/ipcring-bridge.orders.d")
        );
        assert_eq!(
            default_state("./a.ring", "d"),
            std::path::Path::new("./a.ring.bridge.d")
        );
    }
}
