//! Tests of the waits that every ring kind shares, as macros over a kind's pair of handles
//! (the kinds name their blocking calls alike): futex words that wrap, and blocking calls
//! under a storm of signals.

// Not every test target uses every macro.
#![allow(unused_macros, unused_imports)]

use super::{check, message, segment_word, RingGuard};
use std::time::Duration;

/// Sets the futex word of the wait lines at `lines` (offsets of their 128-byte lines in
/// `ring`'s segment; the word follows the 4-byte announcement) to 3 short of wrapping.
pub fn futex_words_near_wrap(ring: &RingGuard, lines: &[u64]) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(ring.path())
        .expect("open the segment's file");
    for line in lines {
        f.write_all_at(&(u32::MAX - 2).to_le_bytes(), line + 4)
            .expect("write the futex word");
    }
}

/// Asserts that the futex words of the wait lines at `lines` wrapped past `u32::MAX` since
/// [`futex_words_near_wrap`]: each side was woken more than twice.
pub fn futex_words_wrapped(ring: &RingGuard, lines: &[u64]) {
    for line in lines {
        let w = segment_word(ring, *line) >> 32;
        assert!(w < 1000, "futex word of line {line}: {w}, not wrapped");
    }
}

/// Sends `n` messages (message `i` of 8 bytes) through `send` from another thread, and
/// receives them with `recv`, both sides parking: the consumer sleeps between messages
/// (the sender pauses 1 ms) and then the sender sleeps on a full ring while the receiver
/// pauses. Every message arrives, in order.
pub fn parked_handoffs<T: Send + 'static>(
    n: u64,
    mut tx: T,
    send: fn(&mut T, &[u8]),
    mut recv: impl FnMut() -> Vec<u8>,
) {
    let sender = std::thread::spawn(move || {
        for i in 0..n {
            if i < n / 2 {
                std::thread::sleep(Duration::from_millis(1));
            }
            send(&mut tx, &message(i, 8));
        }
        tx
    });
    for i in 0..n {
        if i >= n / 2 {
            std::thread::sleep(Duration::from_millis(1));
        }
        check(i, 8, &recv());
    }
    drop(sender.join().expect("sender"));
}

/// The body of a test that the futex words of both wait lines of a kind wrap past
/// `u32::MAX` while both sides park. `|ring| pair` makes the kind's producer and consumer
/// on `ring` (a two-slot queue, or a small ring); `lines` are the offsets of its wait lines.
macro_rules! futex_words_wrap {
    (|$ring:ident| $pair:expr, $lines:expr) => {{
        let $ring = crate::common::RingGuard::new("futex-wrap");
        let (mut tx, mut rx) = $pair;
        tx.set_wait_strategy(ipcring::WaitStrategy::Park);
        rx.set_wait_strategy(ipcring::WaitStrategy::Park);
        crate::common::waits::futex_words_near_wrap(&$ring, $lines);
        let mut buf = Vec::new();
        crate::common::waits::parked_handoffs(
            40,
            tx,
            |tx, m| tx.send(m).expect("send"),
            || {
                rx.recv_into(&mut buf).expect("recv");
                buf.clone()
            },
        );
        crate::common::waits::futex_words_wrapped(&$ring, $lines);
    }};
}
pub(crate) use futex_words_wrap;

/// The body of a test of a kind's blocking calls under a storm of signals (a thousand a
/// second, handler without `SA_RESTART`) with every wait strategy: deadlines hold, no
/// `EINTR` comes out, and a receive without a deadline gets the message that comes later.
/// `|ring| pair` makes the kind's producer and consumer on `ring`, for 8-byte messages.
macro_rules! blocking_calls_under_signals {
    (|$ring:ident| $pair:expr) => {{
        use crate::common::signals::{deadline_holds, under_signal_storm};
        use ipcring::{RecvError, SendError, WaitStrategy};
        let wait = std::time::Duration::from_millis(50);
        for strategy in [
            WaitStrategy::BusySpin,
            WaitStrategy::Park,
            WaitStrategy::default(),
        ] {
            let $ring = crate::common::RingGuard::new("signals");
            let (mut tx, mut rx) = $pair;
            tx.set_wait_strategy(strategy);
            rx.set_wait_strategy(strategy);
            let mut buf = Vec::new();
            deadline_holds("recv_timeout_into", wait, RecvError::Timeout, || {
                rx.recv_timeout_into(&mut buf, wait)
            });
            while tx.try_send(&[1; 8]).is_ok() {}
            deadline_holds("send_timeout", wait, SendError::Timeout, || {
                tx.send_timeout(&[1; 8], wait)
            });
            while rx.try_recv_into(&mut buf).is_ok() {}
            let late = std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(100));
                tx.send(b"late").expect("send");
                tx
            });
            let (r, signals) = under_signal_storm(|| rx.recv_into(&mut buf));
            assert_eq!(r, Ok(4), "{strategy:?} under {signals} signals");
            assert_eq!(buf, b"late");
            drop(late.join().expect("sender"));
        }
    }};
}
pub(crate) use blocking_calls_under_signals;
