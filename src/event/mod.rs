//! Event notification: a named segment of event ids that notifiers fire and listeners
//! wait for.
//!
//! A segment has a fixed number of ids (1 to 4096, ids `0..ids`), fixed at create. Any
//! number of notifier and listener processes attach and detach at run time, up to the
//! role slots fixed at create (1 to 64 of each). A notifier fires an id with
//! [`Notifier::notify`], which never waits; every listener's next wait reports each id
//! that fired since its wait before, once, with how many times it fired.
//!
//! **No notification is lost**: each id has a counter in shared memory that every notify
//! adds one to; a listener keeps a private copy of each counter and reports the
//! difference. So a listener that is busy while an id fires a thousand times reports it
//! once, with the count 1000; none of the thousand is missed, none is reported twice. A
//! listener sees what fires from its attach on.
//!
//! **Departures are events**: a wait also reports the peers (notifiers or other listeners)
//! that left since the wait before, by their role slot: at once after a graceful detach
//! (a dropped handle), and within a park slice (20 ms) of a crash for a listener that
//! sleeps, within about 10 ms for one that polls, once the kernel has released the dead
//! process's role lock. So a listener can tell that the notifier it waits for is gone.
//!
//! Waiting is the futex protocol of the rings (spin, yield, then park, with the wait
//! strategy of the handle): a busy notifier makes no syscall, and wakes the listeners only
//! when one announced that it sleeps. A listener is a [`crate::Waitable`], for a
//! [`crate::WaitSet`] (and its descriptor) next to rings, and with the feature `tokio` it
//! has `Listener::wait_async`.
//!
//! Cost: a notify is two atomic additions on shared lines (the id's counter, then the
//! segment's epoch); a listener's look is one load of the epoch while nothing fired, and a
//! scan of every id's counter when something did. See `shared.rs` for the protocol.
//!
//! ```
//! # let name = format!("doc-event-{}", std::process::id());
//! use ipcring::event::{Listener, Notifier};
//! const CONFIG_CHANGED: u32 = 0;
//! const SHUTDOWN: u32 = 1;
//!
//! let mut rx = Listener::create(&name, 2)?;    // process A
//! let mut tx = Notifier::open(&name)?;         // process B
//! tx.notify(CONFIG_CHANGED)?;
//! tx.notify(CONFIG_CHANGED)?;
//! tx.notify(SHUTDOWN)?;
//!
//! let fired = rx.wait()?;
//! for (id, count) in fired.iter() {
//!     match id {
//!         CONFIG_CHANGED => assert_eq!(count, 2),  // reported once, counted twice
//!         SHUTDOWN => assert_eq!(count, 1),
//!         _ => unreachable!(),
//!     }
//! }
//! # drop((rx, tx));
//! # ipcring::unlink(&name)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod builder;
mod fired;
mod heap;
mod layout;
mod listener;
mod notifier;
mod peers;
mod shared;
mod stats;
mod survey;

pub use crate::cells::MAX_ROLE_SLOTS;
pub use builder::{Builder, Shape, DEFAULT_IDS, DEFAULT_ROLE_SLOTS};
pub use fired::{Departure, Fired, Party};
pub use heap::HeapEvents;
pub(crate) use layout::Event;
pub use layout::MAX_IDS;
pub use listener::Listener;
pub use notifier::{Notifier, NotifyError};
pub use stats::Stats;
