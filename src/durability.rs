//! When a sending handle writes its ring back to the file by itself ([`SyncPolicy`]), and
//! what became of those writes: one mechanism for the four sending handles, which call
//! [`Durability::committed`] at the one place where each commits a message.
//!
//! What a sync promises is written once, in [`crate::Builder::at`] ("Durability").

use crate::region::Region;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// When a sending handle (`spsc::Producer`, `mpmc::Producer`, `broadcast::Publisher`,
/// `blackboard::Writer`) writes its ring back to the file by itself, as its `flush` does.
/// Set with [`crate::Builder::sync_policy`] or the handle's `set_sync_policy`; what a
/// sync promises, what each policy costs and how a failed sync is reported are in
/// [`crate::Builder::at`] ("Durability").
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("doc-policy-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// use ipcring::{spsc, SyncPolicy};
/// use std::time::Duration;
/// let path = dir.join("audit.ring");
/// let mut tx = spsc::Builder::at(&path)
///     .sync_policy(SyncPolicy::Every(2))
///     .create_producer()?;
/// tx.send(b"one")?;
/// tx.send(b"two")?; // synced before it returns
/// assert_eq!(tx.sync_stats().done, 1);
/// // Or: on disk at most 50 ms after each commit, written by a thread of the handle.
/// tx.set_sync_policy(SyncPolicy::Interval(Duration::from_millis(50)))?;
/// # drop(tx);
/// # ipcring::remove_file_ring(&path)?;
/// # std::fs::remove_dir(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SyncPolicy {
    /// Only an explicit `flush` syncs (the default).
    #[default]
    Never,
    /// The send (or commit, or set) that commits the `n`-th message since the last sync
    /// syncs before it returns. `Every(0)` is taken as `Every(1)`.
    Every(u64),
    /// A thread of the handle (`ipcring-sync`) syncs at most this long after a commit,
    /// and at most once in this time; it does nothing while nothing is committed.
    Interval(Duration),
}

/// What a handle's [`SyncPolicy`] did: the syncs it made (explicit `flush` calls are not
/// counted).
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("doc-sync-stats-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("stats.ring");
/// use ipcring::SyncPolicy;
/// let mut tx = ipcring::mpmc::Builder::at(&path)
///     .capacity(8)
///     .sync_policy(SyncPolicy::Every(1))
///     .create_producer()?;
/// tx.send(b"x")?;
/// assert_eq!((tx.sync_stats().done, tx.sync_stats().failed), (1, 0));
/// # drop(tx);
/// # ipcring::remove_file_ring(&path)?;
/// # std::fs::remove_dir(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SyncStats {
    /// Syncs that succeeded.
    pub done: u64,
    /// Syncs that failed (the first failure is kept for the next `flush`).
    pub failed: u64,
}

/// What a handle's ring memory offers to its policy: a full flush, and the mapping alone
/// for a thread that must not hold the handle's descriptor.
pub(crate) trait Store {
    /// See [`Region::flush`].
    fn flush(&self) -> io::Result<()>;
    /// See [`Region::mapping`].
    #[cfg(not(ipcring_loom))]
    fn mapping(&self) -> Option<Arc<crate::mapping::Mapping>>;
}

impl<H> Store for Region<H> {
    fn flush(&self) -> io::Result<()> {
        Region::flush(self)
    }

    #[cfg(not(ipcring_loom))]
    fn mapping(&self) -> Option<Arc<crate::mapping::Mapping>> {
        Region::mapping(self)
    }
}

/// The outcomes of a handle's policy syncs, shared with its thread.
#[derive(Debug, Default)]
struct Outcome(Mutex<Record>);

#[derive(Debug, Default)]
struct Record {
    stats: SyncStats,
    /// The first failure since the last `flush` or `take_sync_error`.
    error: Option<io::Error>,
}

impl Outcome {
    fn record(&self) -> std::sync::MutexGuard<'_, Record> {
        // A panic while the lock was held left counters, never a broken invariant.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn note(&self, result: io::Result<()>) {
        let mut r = self.record();
        match result {
            Ok(()) => r.stats.done += 1,
            Err(e) => {
                r.stats.failed += 1;
                r.error.get_or_insert(e);
            }
        }
    }
}

/// A sending handle's policy and its state.
#[derive(Debug)]
pub(crate) struct Durability {
    policy: SyncPolicy,
    /// Commits left until the policy acts: counts down under `Every`, 0 under
    /// `Interval` (every commit tells the thread), `u64::MAX` under `Never`.
    left: std::cell::Cell<u64>,
    outcome: Arc<Outcome>,
    #[cfg(not(ipcring_loom))]
    thread: Option<background::Syncer>,
}

impl Default for Durability {
    fn default() -> Durability {
        Durability {
            policy: SyncPolicy::Never,
            left: std::cell::Cell::new(u64::MAX),
            outcome: Arc::default(),
            #[cfg(not(ipcring_loom))]
            thread: None,
        }
    }
}

impl Durability {
    /// The current policy.
    pub(crate) fn policy(&self) -> SyncPolicy {
        self.policy
    }

    /// Commits left before a sync, right after one.
    fn reset(&self) {
        self.left.set(match self.policy {
            SyncPolicy::Never => u64::MAX,
            SyncPolicy::Every(n) => n.max(1),
            SyncPolicy::Interval(_) => 0,
        });
    }

    /// Sets the policy for the ring in `store`. What the old one left unsynced (an
    /// `Interval` thread that had a commit to sync) is synced now.
    ///
    /// # Errors
    /// The thread of an `Interval` policy could not be started; the policy is then
    /// `Never`.
    pub(crate) fn set(&mut self, policy: SyncPolicy, store: &dyn Store) -> io::Result<()> {
        self.stop(store);
        self.policy = SyncPolicy::Never;
        #[cfg(not(ipcring_loom))]
        if let (SyncPolicy::Interval(period), Some(map)) = (policy, store.mapping()) {
            self.thread = Some(background::Syncer::start(
                map,
                period,
                self.outcome.clone(),
            )?);
        }
        #[cfg(ipcring_loom)]
        if let SyncPolicy::Interval(_) = policy {
            return Err(io::ErrorKind::Unsupported.into());
        }
        self.policy = policy;
        self.reset();
        Ok(())
    }

    /// Stops the policy's thread; syncs once if it left a commit unsynced, or if `Every`
    /// counted commits since the last sync.
    fn stop(&mut self, store: &dyn Store) {
        let pending = match self.policy {
            SyncPolicy::Never => false,
            SyncPolicy::Every(n) => self.left.get() != n.max(1),
            #[cfg(not(ipcring_loom))]
            SyncPolicy::Interval(_) => self.thread.take().is_some_and(|t| t.stop()),
            #[cfg(ipcring_loom)]
            SyncPolicy::Interval(_) => false,
        };
        if pending {
            self.outcome.note(store.flush());
        }
    }

    /// The handle goes: stops the thread and syncs what is left once (see `stop`).
    pub(crate) fn close(&mut self, store: &dyn Store) {
        self.stop(store);
        self.policy = SyncPolicy::Never;
    }

    /// `n` messages were just committed (made visible to receivers): counts them, and
    /// acts if the policy says so. On every commit path, so the test is one subtraction.
    #[inline(always)]
    pub(crate) fn committed(&self, n: u64, store: &dyn Store) {
        let left = self.left.get();
        if n < left {
            self.left.set(left - n);
        } else {
            self.due(store);
        }
    }

    /// The policy acts on a commit: `Every` syncs here, `Interval` tells its thread.
    #[inline(never)]
    fn due(&self, store: &dyn Store) {
        match self.policy {
            SyncPolicy::Every(_) => {
                self.outcome.note(store.flush());
                self.reset();
            }
            SyncPolicy::Interval(_) =>
            {
                #[cfg(not(ipcring_loom))]
                if let Some(t) = &self.thread {
                    t.committed();
                }
            }
            SyncPolicy::Never => self.reset(),
        }
    }

    /// An explicit flush: syncs, restarts the count of `Every`, and returns the first
    /// failure of a policy sync since the last flush if there was one, else the flush's
    /// own result.
    pub(crate) fn flush(&self, store: &dyn Store) -> io::Result<()> {
        let result = store.flush();
        if let SyncPolicy::Every(_) = self.policy {
            self.reset();
        }
        match self.take_error() {
            Some(e) => Err(e),
            None => result,
        }
    }

    /// The first failure of a policy sync since the last flush or call, taken.
    pub(crate) fn take_error(&self) -> Option<io::Error> {
        self.outcome.record().error.take()
    }

    /// What the policy did.
    pub(crate) fn stats(&self) -> SyncStats {
        self.outcome.record().stats
    }
}

impl Drop for Durability {
    fn drop(&mut self) {
        // A handle calls `close` first (with its memory); this only ends a thread left
        // running when that could not happen (a handle that failed to attach).
        #[cfg(not(ipcring_loom))]
        if let Some(t) = self.thread.take() {
            t.stop();
        }
    }
}

/// The thread of an `Interval` policy: one per handle with that policy, holding only the
/// handle's mapping (which keeps the memory and the file mapped, not the handle's
/// descriptor), so that syncs of rings on different disks never wait for one another
/// and a handle's thread goes with it.
///
/// The handle raises `dirty` at a commit that finds it down, and unparks the thread. The
/// thread lowers it just before each sync. A commit's stores and the check of the flag
/// are a StoreLoad pair with the lowering and the sync, ordered by the asymmetric fences
/// of `sync.rs`: a compiler fence in the handle (a full fence if this process cannot
/// issue `membarrier`), `membarrier` in the thread. Either the handle's check sees the
/// flag down and raises it again, or the sync sees the commit.
#[cfg(not(ipcring_loom))]
mod background {
    use super::Outcome;
    use crate::mapping::Mapping;
    use crate::sync::{asymmetric_fences, heavy_fence, light_fence, AtomicU32, Ordering};
    use std::sync::Arc;
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    /// A syncing thread's small stack: it only calls `msync`.
    const STACK: usize = 64 * 1024;

    #[derive(Debug, Default)]
    struct Flags {
        /// 1 when a commit has not been synced yet.
        dirty: AtomicU32,
        /// 1 when the handle wants the thread gone.
        stop: AtomicU32,
    }

    /// The handle's side of its thread.
    #[derive(Debug)]
    pub(super) struct Syncer {
        flags: Arc<Flags>,
        thread: JoinHandle<bool>,
        /// Whether the handle's fence may be a compiler fence (see the module docs).
        light: bool,
    }

    impl Syncer {
        pub(super) fn start(
            map: Arc<Mapping>,
            period: Duration,
            outcome: Arc<Outcome>,
        ) -> std::io::Result<Syncer> {
            let flags = Arc::new(Flags::default());
            let light = asymmetric_fences();
            let theirs = flags.clone();
            let thread = std::thread::Builder::new()
                .name("ipcring-sync".into())
                .stack_size(STACK)
                .spawn(move || run(&theirs, &map, period, &outcome, light))?;
            Ok(Syncer {
                flags,
                thread,
                light,
            })
        }

        /// A commit was made: raises the flag if the thread lowered it.
        #[inline]
        pub(super) fn committed(&self) {
            // SYNC(sync-dirty): the StoreLoad pair with the thread's `heavy_fence` after
            // it lowers the flag (see the module docs).
            light_fence(self.light);
            // Relaxed: ordered by the fences above.
            if self.flags.dirty.load(Ordering::Relaxed) == 0 {
                self.raise();
            }
        }

        #[cold]
        fn raise(&self) {
            // Relaxed: the thread's sync is ordered after our commit by the fences (see
            // `committed`); the unpark wakes it.
            self.flags.dirty.store(1, Ordering::Relaxed);
            self.thread.thread().unpark();
        }

        /// Stops the thread and waits for it; whether a commit is left unsynced.
        pub(super) fn stop(self) -> bool {
            // Relaxed: a request; the join below orders everything after the thread.
            self.flags.stop.store(1, Ordering::Relaxed);
            self.thread.thread().unpark();
            let unsure = self.thread.join().unwrap_or(true);
            // Relaxed: after the join, which orders the thread's last store before us.
            unsure || self.flags.dirty.load(Ordering::Relaxed) != 0
        }
    }

    /// The thread: waits for a commit, waits until a period has passed since its last
    /// sync, lowers the flag and syncs. Returns when asked to, with whether it may have
    /// left a commit unsynced (the handle then syncs once).
    fn run(flags: &Flags, map: &Mapping, period: Duration, outcome: &Outcome, light: bool) -> bool {
        // Relaxed (both): see `Syncer::raise` and `Syncer::stop`.
        let stop = || flags.stop.load(Ordering::Relaxed) != 0;
        let dirty = || flags.dirty.load(Ordering::Relaxed) != 0;
        let mut last: Option<Instant> = None;
        // Set when a fence failed: the next round syncs even with the flag down.
        let mut unsure = false;
        loop {
            while !unsure && !dirty() {
                if stop() {
                    return false;
                }
                // An unpark between the look and here makes this return at once.
                std::thread::park();
            }
            if let Some(at) = last.map(|l| l + period) {
                loop {
                    if stop() {
                        return true;
                    }
                    let now = Instant::now();
                    if now >= at {
                        break;
                    }
                    std::thread::park_timeout(at - now);
                }
            }
            if stop() {
                return true;
            }
            last = Some(Instant::now());
            // Relaxed: ordered before the sync by the fence below.
            flags.dirty.store(0, Ordering::Relaxed);
            // SYNC(sync-dirty): pairs with the handle's `light_fence` in `committed`.
            unsure = !heavy_fence(light);
            outcome.note(map.sync());
        }
    }
}

/// The public methods that the policy adds to a sending handle whose ring wrapper is the
/// field `$ring` (with a `region()`) and whose [`Durability`] is the field `sync`.
macro_rules! durable {
    ($handle:ty, $ring:ident) => {
        impl $handle {
            /// Sets when this handle writes its ring back to the file by itself (see
            /// [`SyncPolicy`](crate::SyncPolicy), and [`crate::Builder::at`],
            /// "Durability"). What the old policy left unsynced is synced now.
            ///
            /// # Errors
            /// The thread of an `Interval` policy could not be started (the policy is
            /// then `Never`).
            pub fn set_sync_policy(&mut self, policy: crate::SyncPolicy) -> std::io::Result<()> {
                self.sync.set(policy, self.$ring.region())
            }

            /// The policy set by [`Self::set_sync_policy`] or the builder.
            pub fn sync_policy(&self) -> crate::SyncPolicy {
                self.sync.policy()
            }

            /// The syncs this handle's policy made, and those that failed.
            pub fn sync_stats(&self) -> crate::SyncStats {
                self.sync.stats()
            }

            /// The first failure of a sync of this handle's policy since the last
            /// `flush` or call, taken (a policy sync never fails a send: its error waits
            /// here, and for the next `flush`).
            pub fn take_sync_error(&self) -> Option<std::io::Error> {
                self.sync.take_error()
            }
        }
    };
}
pub(crate) use durable;

/// Gives a handle made by a builder the builder's policy.
pub(crate) fn with_policy<T>(
    mut handle: T,
    policy: SyncPolicy,
    set: impl FnOnce(&mut T, SyncPolicy) -> io::Result<()>,
) -> Result<T, crate::OpenError> {
    if policy != SyncPolicy::Never {
        set(&mut handle, policy).map_err(|source| crate::OpenError::Io {
            op: "spawn",
            source,
        })?;
    }
    Ok(handle)
}

#[cfg(all(test, not(ipcring_loom)))]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A store whose flushes fail with EIO while `failing` is set, counting them.
    #[derive(Default)]
    struct Disk {
        failing: Cell<bool>,
        flushes: Cell<u32>,
    }

    impl Store for Disk {
        fn flush(&self) -> io::Result<()> {
            self.flushes.set(self.flushes.get() + 1);
            if self.failing.get() {
                return Err(io::Error::from_raw_os_error(libc::EIO));
            }
            Ok(())
        }

        fn mapping(&self) -> Option<Arc<crate::mapping::Mapping>> {
            None
        }
    }

    #[test]
    fn a_failed_policy_sync_is_kept_for_the_next_flush_and_counted() {
        let disk = Disk::default();
        let mut d = Durability::default();
        d.set(SyncPolicy::Every(2), &disk).expect("set");
        disk.failing.set(true);
        for _ in 0..4 {
            d.committed(1, &disk);
        }
        disk.failing.set(false);
        d.committed(1, &disk);
        d.committed(1, &disk);
        assert_eq!(disk.flushes.get(), 3);
        assert_eq!(d.stats(), SyncStats { done: 1, failed: 2 });
        // The first failure, once; the flush itself succeeded.
        let e = d.flush(&disk).expect_err("the kept failure");
        assert_eq!(e.raw_os_error(), Some(libc::EIO));
        assert!(d.flush(&disk).is_ok());
        assert!(d.take_error().is_none());
    }

    #[test]
    fn take_sync_error_takes_the_failure_from_flush() {
        let disk = Disk::default();
        let mut d = Durability::default();
        d.set(SyncPolicy::Every(1), &disk).expect("set");
        disk.failing.set(true);
        d.committed(1, &disk);
        disk.failing.set(false);
        assert_eq!(
            d.take_error().map(|e| e.raw_os_error()),
            Some(Some(libc::EIO))
        );
        assert!(d.flush(&disk).is_ok());
    }

    #[test]
    fn never_and_every_count_as_they_should() {
        let disk = Disk::default();
        let mut d = Durability::default();
        d.committed(1_000_000, &disk);
        assert_eq!(disk.flushes.get(), 0);
        d.set(SyncPolicy::Every(0), &disk).expect("set");
        d.committed(1, &disk);
        d.committed(5, &disk);
        assert_eq!(disk.flushes.get(), 2, "Every(0) is Every(1)");
        d.set(SyncPolicy::Every(3), &disk).expect("set");
        d.committed(2, &disk);
        // Changing the policy syncs what `Every` counted.
        d.close(&disk);
        assert_eq!(disk.flushes.get(), 3);
        assert_eq!(d.stats().done, 3);
    }
}
