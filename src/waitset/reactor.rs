//! The process's helper thread: it sleeps on ring futex words for the waits that no
//! caller's thread sleeps through — a [`WaitSet`](super::WaitSet)'s pollable descriptor,
//! and the futures of async receives and sends — and tells the waiter when one changed.
//!
//! A waiter *arms* exactly as a sleeping one parks (see `wait.rs`): it reads each futex
//! word, announces itself on each line, fences, and re-checks its rings; only then does it
//! hand the words and the values it read to this thread ([`watch`]). A peer that publishes
//! afterwards finds the announcement and bumps the word (and wakes the futex); one that
//! published before was seen by the re-check. The thread sleeps in one `futex_waitv` on
//! every word it watches, and on its own control word, which a new watch bumps. When a
//! word differs from the value its waiter read, or a slice has passed (so that the waiter
//! looks at its peers' liveness, as a parked waiter does), the watch fires: its waiter's
//! descriptor becomes readable or its task is woken, and the watch is gone. A waiter that
//! gives up (a future dropped) cancels its watch; its announcements stay behind, which
//! costs the next publication on those rings one spare wake-up, as a parked waiter's do.
//!
//! One thread for the whole process, however many rings and tasks wait, started at the
//! first watch.

use crate::futex::{Beds, Futex, Woke, MAX_BEDS};
use crate::region::Keep;
use crate::time::Deadline;
use rustix::fd::OwnedFd;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
#[cfg(feature = "tokio")]
use std::task::Waker;
use std::time::Duration;

/// How long a watch lasts at most before it fires anyway, so that its waiter asks whether
/// its peers are alive: a dead peer is reported within this and the waiter's own pace.
const SLICE: Duration = Duration::from_millis(50);

/// How long the thread sleeps at most when it watches more futex words than the kernel
/// takes in one sleep (it then sleeps on a window of [`MAX_BEDS`] of them at a time, and
/// looks at every word after each nap).
const NAP: Duration = Duration::from_millis(1);

/// What a waiter hands over: the futex words with the values it read, and the memory
/// they live in.
#[derive(Debug)]
pub(crate) struct Watch {
    pub(crate) beds: Beds,
    pub(crate) keep: Vec<Keep>,
}

/// How a fired watch tells its waiter.
#[derive(Debug)]
pub(crate) enum Notify {
    /// Makes an eventfd readable.
    Fd(Arc<OwnedFd>),
    /// Wakes a task.
    #[cfg(feature = "tokio")]
    Waker(Waker),
}

impl Notify {
    fn notify(self) {
        match self {
            // A full counter (after 2^64 - 2 writes nobody read) is readable anyway.
            Notify::Fd(fd) => {
                let _ = rustix::io::write(&*fd, &1u64.to_ne_bytes());
            }
            #[cfg(feature = "tokio")]
            Notify::Waker(w) => w.wake(),
        }
    }
}

/// A watch handed to the thread; dropping it cancels the watch if it has not fired.
#[derive(Debug)]
pub(crate) struct Ticket(u64);

impl Drop for Ticket {
    fn drop(&mut self) {
        // A ticket exists only once the reactor does.
        let Some(r) = REACTOR.get() else { return };
        let mut st = r.lock();
        if let Some(i) = st.entries.iter().position(|e| e.id == self.0) {
            st.entries.swap_remove(i);
        }
    }
}

/// Hands `watch` to the thread, which notifies `notify` once it fires.
///
/// # Errors
/// The thread could not be started (the first time).
pub(crate) fn watch(watch: Watch, notify: Notify) -> std::io::Result<Ticket> {
    let r = reactor()?;
    let mut st = r.lock();
    let id = st.next;
    st.next += 1;
    st.entries.push(Entry {
        id,
        watch,
        notify,
        until: Deadline::after(SLICE),
    });
    drop(st);
    // SYNC(futex): the bump publishes the new entry (written under the lock) to the
    // thread's next look, and ends its sleep on the old set.
    r.control.bump();
    r.control.wake_all();
    Ok(Ticket(id))
}

#[derive(Debug)]
struct Entry {
    id: u64,
    watch: Watch,
    notify: Notify,
    /// When it fires at the latest.
    until: Deadline,
}

#[derive(Debug, Default)]
struct State {
    entries: Vec<Entry>,
    next: u64,
}

#[derive(Debug, Default)]
struct Reactor {
    state: Mutex<State>,
    /// Bumped by every new watch: the thread sleeps on it too.
    control: Futex,
}

impl Reactor {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned one is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The thread's loop: sleep on every watched word and the control word, then fire
    /// the watches whose words changed or whose slice passed.
    fn run(&self) {
        let mut beds = Beds::default();
        let mut held: Vec<Keep> = Vec::new();
        let mut turn = 0usize;
        loop {
            let control = self.control.load();
            let mut until = None;
            {
                let st = self.lock();
                beds.clear();
                beds.push(&self.control, control);
                held.clear();
                for e in &st.entries {
                    beds.append(&e.watch.beds);
                    held.extend(e.watch.keep.iter().cloned());
                    until = Some(until.map_or(e.until, |u: Deadline| u.min(e.until)));
                }
            }
            // `held` keeps every watched word mapped during the sleep, even if its watch
            // is cancelled and its handle dropped meanwhile.
            if beds.len() > MAX_BEDS || beds.sleep(until) == Woke::Unsupported {
                // More words than one sleep takes, or a kernel without `futex_waitv`: a
                // nap on a window of them (the control word is in the first), then a look
                // at every word.
                turn = turn.wrapping_add(1);
                let nap = Deadline::after(NAP);
                let _ = beds.nap(turn, until.map_or(nap, |u| u.min(nap)));
            }
            let fired = {
                let mut st = self.lock();
                let now = Deadline::now();
                let mut fired = Vec::new();
                let mut i = 0;
                while i < st.entries.len() {
                    let e = &st.entries[i];
                    // SAFETY: the entry keeps the memory of its words mapped.
                    if now >= e.until || unsafe { e.watch.beds.changed() } {
                        fired.push(st.entries.swap_remove(i).notify);
                    } else {
                        i += 1;
                    }
                }
                fired
            };
            // Outside the lock: a woken task may watch again at once.
            fired.into_iter().for_each(Notify::notify);
        }
    }
}

static REACTOR: OnceLock<Reactor> = OnceLock::new();

/// The process's reactor, its thread started at the first call (and again in a child
/// process forked after it started: a fork copies no thread but the caller; the parent's
/// watches are dropped there).
fn reactor() -> std::io::Result<&'static Reactor> {
    /// The process that started the thread (0: none); under the lock, so that it is
    /// started once.
    static STARTED: Mutex<u32> = Mutex::new(0);
    let r = REACTOR.get_or_init(Reactor::default);
    let mut started = STARTED.lock().unwrap_or_else(PoisonError::into_inner);
    let me = std::process::id();
    if *started != me {
        if *started != 0 {
            r.lock().entries.clear();
        }
        std::thread::Builder::new()
            .name("ipcring-waits".into())
            .spawn(move || r.run())?;
        *started = me;
    }
    Ok(r)
}
