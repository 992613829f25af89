//! A storm of signals at one thread: a handler installed without `SA_RESTART`, so that
//! every blocking syscall the thread is in returns `EINTR`, a thousand times a second.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

/// The signal of the storm: nothing else in the tests uses it.
const SIGNAL: libc::c_int = libc::SIGUSR2;

/// Signals handled, by every thread.
static HANDLED: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_signal(_: libc::c_int) {
    HANDLED.fetch_add(1, Ordering::Relaxed);
}

/// Installs the handler once per process, without `SA_RESTART`.
fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: a zeroed `sigaction` is a valid value to fill in; the handler only
        // touches an atomic, which is async-signal-safe.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            sa.sa_flags = 0;
            libc::sigemptyset(&mut sa.sa_mask);
            assert_eq!(libc::sigaction(SIGNAL, &sa, std::ptr::null_mut()), 0);
        }
    });
}

/// Runs `f` on this thread while another thread sends it a signal every millisecond.
/// Returns what `f` returned and how many signals were handled meanwhile (by any thread
/// under a storm).
pub fn under_signal_storm<R>(f: impl FnOnce() -> R) -> (R, u64) {
    install();
    // SAFETY: `pthread_self` has no preconditions.
    let target = unsafe { libc::pthread_self() };
    let stop = Arc::new(AtomicBool::new(false));
    let before = HANDLED.load(Ordering::Relaxed);
    let storm = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: `target` is alive: it joins this thread before it returns.
                unsafe { libc::pthread_kill(target, SIGNAL) };
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let r = f();
    stop.store(true, Ordering::Relaxed);
    storm.join().expect("the storm thread");
    (r, HANDLED.load(Ordering::Relaxed) - before)
}

/// Runs the blocking call `f`, which should give up after `wait`, under a signal storm:
/// asserts that it returns `expected`, not before `wait`, and that signals did arrive
/// meanwhile; and that it gives up at most 20 ms late, in one of three tries (a loaded
/// machine may hold a thread back once in a while; a deadline that signals push back is
/// late every time).
pub fn deadline_holds<T: std::fmt::Debug, E: std::fmt::Debug + PartialEq>(
    what: &str,
    wait: Duration,
    expected: E,
    mut f: impl FnMut() -> Result<T, E>,
) {
    let mut late = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let (r, signals) = under_signal_storm(&mut f);
        let took = start.elapsed();
        assert!(signals > 0, "{what}: no signal arrived in {took:?}");
        match r {
            Err(e) if e == expected => {}
            other => panic!("{what}: {other:?} under {signals} signals, expected {expected:?}"),
        }
        assert!(
            took >= wait,
            "{what}: gave up after {took:?}, deadline {wait:?}"
        );
        if took <= wait + Duration::from_millis(20) {
            return;
        }
        late.push((took, signals));
    }
    panic!("{what}: deadline {wait:?}, gave up after (time, signals) {late:?}");
}
