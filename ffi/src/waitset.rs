//! The wait set handle: waits on many handles of any kind at once, in the caller's thread
//! (`wait`, `poll`) or through a descriptor for an event loop (`fd`, `arm`).

use crate::board_reader::BoardReaderHandle;
use crate::consumer::ConsumerHandle;
use crate::event_listener::ListenerHandle;
use crate::handle::{self, checked, with_handle, Handle, Tag};
use crate::mpmc_consumer::MpmcConsumerHandle;
use crate::mpmc_producer::MpmcProducerHandle;
use crate::out;
use crate::producer::ProducerHandle;
use crate::publisher::PublisherHandle;
use crate::status::{Result, Status};
use crate::subscriber::SubscriberHandle;
use crate::types::Wait;
use core::ffi::{c_int, c_void};
use core::panic::AssertUnwindSafe;
use core::time::Duration;
use ipcring::blackboard::Change;
use ipcring::event::Listener;
use ipcring::{broadcast, mpmc, spsc, Ready, Room, WaitSet, Waitable};
use std::os::fd::AsRawFd;

/// A set of handles to wait on, opaque to C. Made by `ipcring_waitset_new`, freed by
/// `ipcring_waitset_close`. It holds no handle between calls: each call names its
/// members.
///
/// cbindgen:ignore
// `repr(C)` with the tag first: a call given a handle of another kind reads the magic
// number at its start, within that handle. C sees an opaque type (`cbindgen.toml`).
#[repr(C)]
pub struct WaitSetHandle {
    tag: Tag,
    set: WaitSet,
    /// The buffers of a call, kept (empty) between calls so that a call makes no
    /// allocation once they have grown: the members' addresses, sorted to find one given
    /// twice, and the members as the library takes them.
    addrs: Vec<usize>,
    slots: Vec<Slot<'static>>,
    members: Vec<&'static mut dyn Waitable>,
}

impl core::fmt::Debug for WaitSetHandle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WaitSetHandle")
            .field("tag", &self.tag)
            .field("set", &self.set)
            .finish_non_exhaustive()
    }
}

impl Handle for WaitSetHandle {
    const MAGIC: u64 = u64::from_le_bytes(*b"ipcr-WS\x01");
    fn tag(&mut self) -> &mut Tag {
        &mut self.tag
    }
}

/// The values of `ipcring_member_t.kind`: which handle type `handle` points to, and
/// whether the set waits for a message (receiving handles), for room (sending handles) or
/// for a change (blackboard readers) or for events (event listeners). Each is named after its handle type; 0 is none, so
/// a zeroed member is refused.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MemberKind {
    /// An `ipcring_consumer_t *`: ready when `ipcring_consumer_try_recv` would not say
    /// `IPCRING_ERR_EMPTY` (a message is waiting, or the producer is gone).
    IPCRING_MEMBER_CONSUMER = 1,
    /// An `ipcring_producer_t *`: ready when `ipcring_producer_try_send` of `room` bytes
    /// would not say `IPCRING_ERR_FULL`.
    IPCRING_MEMBER_PRODUCER_ROOM = 2,
    /// An `ipcring_mpmc_consumer_t *`, as `IPCRING_MEMBER_CONSUMER`.
    IPCRING_MEMBER_MPMC_CONSUMER = 3,
    /// An `ipcring_mpmc_producer_t *`, as `IPCRING_MEMBER_PRODUCER_ROOM`.
    IPCRING_MEMBER_MPMC_PRODUCER_ROOM = 4,
    /// An `ipcring_sub_t *`, as `IPCRING_MEMBER_CONSUMER` (a lag or an eviction to
    /// report is ready too).
    IPCRING_MEMBER_SUB = 5,
    /// An `ipcring_pub_t *`, as `IPCRING_MEMBER_PRODUCER_ROOM`.
    IPCRING_MEMBER_PUB_ROOM = 6,
    /// An `ipcring_board_reader_t *`, with `room` the index of an entry and `since` a
    /// version of it: ready when `ipcring_board_wait_changed(reader, room, since, ...)`
    /// would return at once (the entry's version is not `since`, or the wait would fail:
    /// the entry is abandoned, or every writer is gone). An index out of range gives
    /// `IPCRING_ERR_UNKNOWN_KEY`.
    IPCRING_MEMBER_BOARD_CHANGED = 7,
    /// An `ipcring_listener_t *`: ready when `ipcring_listener_try_wait` would not say
    /// `IPCRING_ERR_EMPTY` (an id fired or a peer left since its last wait, or part of its
    /// last report is kept for the next call). What the set's look found stays in the
    /// listener for its next wait.
    IPCRING_MEMBER_EVENT_LISTENER = 8,
}

impl MemberKind {
    fn from_c(kind: u32) -> Result<MemberKind> {
        use MemberKind::*;
        [
            IPCRING_MEMBER_CONSUMER,
            IPCRING_MEMBER_PRODUCER_ROOM,
            IPCRING_MEMBER_MPMC_CONSUMER,
            IPCRING_MEMBER_MPMC_PRODUCER_ROOM,
            IPCRING_MEMBER_SUB,
            IPCRING_MEMBER_PUB_ROOM,
            IPCRING_MEMBER_BOARD_CHANGED,
            IPCRING_MEMBER_EVENT_LISTENER,
        ]
        .into_iter()
        .find(|k| *k as u32 == kind)
        .ok_or(Status::IPCRING_ERR_INVALID_ARGUMENT)
    }
}

/// One handle of a wait: an element of the array given to `ipcring_waitset_wait`,
/// `_poll` and `_arm`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Member {
    /// One of the `ipcring_member_kind_t` values; others give
    /// `IPCRING_ERR_INVALID_ARGUMENT`.
    pub kind: u32,
    /// The handle, of the type that `kind` names; NULL or another type gives
    /// `IPCRING_ERR_BAD_HANDLE`.
    pub handle: *mut c_void,
    /// With the `_ROOM` kinds: the length of the message to wait room for, in bytes (a
    /// length over the handle's `max_message` is ready at once, as its send fails at
    /// once). With `IPCRING_MEMBER_BOARD_CHANGED`: the index of the entry to watch.
    /// Ignored with the others.
    pub room: usize,
    /// With `IPCRING_MEMBER_BOARD_CHANGED`: the version of the entry last seen (0: wait
    /// for its first value). Ignored with the others: a member written `{kind, handle,
    /// room}` has it 0.
    pub since: u64,
}

/// A member as the library takes it: a receiving handle, or the room of a sending one.
enum Slot<'a> {
    Rx(&'a mut dyn Waitable),
    Spsc(Room<'a, spsc::Producer>),
    Mpmc(Room<'a, mpmc::Producer>),
    Pub(Room<'a, broadcast::Publisher>),
    Board(Change<'a>),
    /// An event listener, and whether part of its last report is kept (it is ready then,
    /// whatever the set finds).
    Listener(&'a mut Listener, bool),
}

impl<'a> Slot<'a> {
    /// The member behind `m`, checked as every call checks its handle.
    ///
    /// # Safety
    /// `m.handle` is NULL, or points to a handle of the type that `m.kind` names that was
    /// not closed (or, best effort, to another handle of this library), and nothing else
    /// uses that handle during `'a`.
    unsafe fn new(m: &Member) -> Result<Slot<'a>> {
        let (h, kind) = (m.handle, MemberKind::from_c(m.kind)?);
        // SAFETY: each arm checks `h` as the type that `kind` names, which it is per the
        // contract, and borrows it for `'a`, during which nothing else uses it.
        unsafe {
            Ok(match kind {
                MemberKind::IPCRING_MEMBER_CONSUMER => {
                    Slot::Rx(checked(h.cast::<ConsumerHandle>())?.core.rx()?)
                }
                MemberKind::IPCRING_MEMBER_MPMC_CONSUMER => {
                    Slot::Rx(checked(h.cast::<MpmcConsumerHandle>())?.core.rx()?)
                }
                MemberKind::IPCRING_MEMBER_SUB => {
                    Slot::Rx(checked(h.cast::<SubscriberHandle>())?.core.rx()?)
                }
                MemberKind::IPCRING_MEMBER_PRODUCER_ROOM => {
                    let tx = checked(h.cast::<ProducerHandle>())?.core.tx()?;
                    Slot::Spsc(tx.room(m.room))
                }
                MemberKind::IPCRING_MEMBER_MPMC_PRODUCER_ROOM => {
                    let tx = checked(h.cast::<MpmcProducerHandle>())?.core.tx()?;
                    Slot::Mpmc(tx.room(m.room))
                }
                MemberKind::IPCRING_MEMBER_PUB_ROOM => {
                    let tx = checked(h.cast::<PublisherHandle>())?.core.tx()?;
                    Slot::Pub(tx.room(m.room))
                }
                MemberKind::IPCRING_MEMBER_BOARD_CHANGED => {
                    let r = &mut checked(h.cast::<BoardReaderHandle>())?.reader;
                    Slot::Board(r.change(m.room, m.since)?)
                }
                MemberKind::IPCRING_MEMBER_EVENT_LISTENER => {
                    let h = checked(h.cast::<ListenerHandle>())?;
                    let kept = h.has_kept();
                    Slot::Listener(&mut h.listener, kept)
                }
            })
        }
    }

    fn waitable(&mut self) -> &mut dyn Waitable {
        match self {
            Slot::Rx(rx) => &mut **rx,
            Slot::Spsc(room) => room,
            Slot::Mpmc(room) => room,
            Slot::Pub(room) => room,
            Slot::Board(change) => change,
            Slot::Listener(rx, _) => &mut **rx,
        }
    }

    /// Whether the member is ready before the set looks: a listener that kept part of a
    /// report.
    fn kept(&self) -> bool {
        matches!(self, Slot::Listener(_, true))
    }
}

/// Marks the handle of `m` poisoned, after a panic in a call that used it.
///
/// # Safety
/// `m` passed [`Slot::new`] in that call, and its handle is not used elsewhere.
unsafe fn poison(m: &Member) {
    let Ok(kind) = MemberKind::from_c(m.kind) else {
        return;
    };
    let h = m.handle;
    // SAFETY: a live handle of the type that `kind` names, used by this call only, per
    // the contract.
    unsafe {
        match kind {
            MemberKind::IPCRING_MEMBER_CONSUMER => handle::poison::<ConsumerHandle>(h.cast()),
            MemberKind::IPCRING_MEMBER_MPMC_CONSUMER => {
                handle::poison::<MpmcConsumerHandle>(h.cast());
            }
            MemberKind::IPCRING_MEMBER_SUB => handle::poison::<SubscriberHandle>(h.cast()),
            MemberKind::IPCRING_MEMBER_PRODUCER_ROOM => handle::poison::<ProducerHandle>(h.cast()),
            MemberKind::IPCRING_MEMBER_MPMC_PRODUCER_ROOM => {
                handle::poison::<MpmcProducerHandle>(h.cast());
            }
            MemberKind::IPCRING_MEMBER_PUB_ROOM => handle::poison::<PublisherHandle>(h.cast()),
            MemberKind::IPCRING_MEMBER_BOARD_CHANGED => {
                handle::poison::<BoardReaderHandle>(h.cast());
            }
            MemberKind::IPCRING_MEMBER_EVENT_LISTENER => {
                handle::poison::<ListenerHandle>(h.cast());
            }
        }
    }
}

/// An empty vector with the allocation of `v` when `T` and `U` have one layout (a fresh
/// one otherwise): the buffers of a call keep their room, not their borrows.
fn recycle<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    // The closure is never called (`v` is empty); the in-place collection of the standard
    // library then reuses the allocation.
    v.into_iter().map(|_| unreachable!()).collect()
}

/// What a call does with its members.
#[derive(Clone, Copy)]
enum Op {
    Wait(Option<Duration>),
    Poll,
    Arm,
}

impl WaitSetHandle {
    /// Checks `members` (`me` is this handle's address, which no member may be), runs
    /// `op` on them and marks the ready ones in `ready`; returns how many are ready.
    ///
    /// # Safety
    /// Every member is as [`Slot::new`] asks, for the whole call.
    unsafe fn run(
        &mut self,
        members: &[Member],
        ready: &mut [u8],
        op: Op,
        me: *mut c_void,
    ) -> Result<usize> {
        for m in members {
            if m.handle == me {
                return Err(Status::IPCRING_ERR_BAD_HANDLE);
            }
            // SAFETY: forwarded contract; the checked handle is let go at once.
            let _checked = unsafe { Slot::new(m) }?;
        }
        // Two members of one handle would be two `&mut` of it.
        self.addrs.clear();
        self.addrs.extend(members.iter().map(|m| m.handle as usize));
        self.addrs.sort_unstable();
        if self.addrs.windows(2).any(|w| w[0] == w[1]) {
            return Err(Status::IPCRING_ERR_DUPLICATE_MEMBER);
        }
        // SAFETY: forwarded contract; the members are distinct handles, so each is
        // borrowed once.
        let served = std::panic::catch_unwind(AssertUnwindSafe(|| unsafe {
            self.serve(members, ready, op)
        }));
        served.unwrap_or_else(|panic| {
            for m in members {
                // SAFETY: every member passed `Slot::new` above.
                unsafe { poison(m) };
            }
            // `with_handle` catches it again, and poisons the set.
            std::panic::resume_unwind(panic)
        })
    }

    /// The body of [`WaitSetHandle::run`], once the members are checked.
    ///
    /// # Safety
    /// As [`WaitSetHandle::run`]; no two members are one handle.
    unsafe fn serve(&mut self, members: &[Member], ready: &mut [u8], op: Op) -> Result<usize> {
        let mut slots: Vec<Slot<'_>> = recycle(core::mem::take(&mut self.slots));
        for m in members {
            // SAFETY: forwarded contract; each handle is borrowed by one slot only.
            slots.push(unsafe { Slot::new(m) }?);
        }
        // A member that is ready before any look (a listener that kept part of a report)
        // turns the call into a poll: the call returns at once, with every member that is
        // ready now.
        let mut kept = false;
        for (i, slot) in slots.iter().enumerate() {
            if slot.kept() {
                ready[i] = 1;
                kept = true;
            }
        }
        let op = if kept { Op::Poll } else { op };
        let mut handles: Vec<&mut dyn Waitable> = recycle(core::mem::take(&mut self.members));
        handles.extend(slots.iter_mut().map(Slot::waitable));
        let found: Result<&Ready> = match op {
            Op::Wait(None) => Ok(self.set.wait(&mut handles)),
            Op::Wait(Some(d)) => Ok(self.set.wait_timeout(&mut handles, d)),
            Op::Poll => Ok(self.set.poll(&mut handles)),
            Op::Arm => self
                .set
                .arm(&mut handles)
                .map_err(|_| Status::IPCRING_ERR_IO),
        };
        let count = found.map(|r| {
            for i in r.iter() {
                ready[i] = 1;
            }
            ready.iter().filter(|&&r| r == 1).count()
        });
        if count.is_err() {
            // A failed call reports nothing ready, also a listener that kept a report.
            ready.fill(0);
        }
        self.members = recycle(handles);
        self.slots = recycle(slots);
        count
    }
}

/// Common body of `ipcring_waitset_wait`, `_poll` and `_arm`.
///
/// # Safety
/// As `ipcring_waitset_wait`.
unsafe fn run(
    set: *mut WaitSetHandle,
    members: *const Member,
    n: usize,
    ready: *mut u8,
    count: *mut usize,
    op: Op,
) -> c_int {
    let call = |s: &mut WaitSetHandle| {
        let count = out(count)?;
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { count.write(0) };
        if n == 0 || n > isize::MAX as usize / core::mem::size_of::<Member>() {
            return Err(Status::IPCRING_ERR_INVALID_ARGUMENT);
        }
        if members.is_null() || ready.is_null() {
            return Err(Status::IPCRING_ERR_NULL_POINTER);
        }
        // SAFETY: not NULL, `n` elements fit an allocation, and readable (`members`) and
        // writable (`ready`) for `n` elements that nobody else uses, per the contract.
        let (members, ready) = unsafe {
            (
                core::slice::from_raw_parts(members, n),
                core::slice::from_raw_parts_mut(ready, n),
            )
        };
        ready.fill(0);
        // SAFETY: the members are as the contract says.
        let found = unsafe { s.run(members, ready, op, set.cast()) }?;
        // SAFETY: as above.
        unsafe { count.write(found) };
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(set, call) }
}

/// Makes a wait set, with the default wait strategy (spin a few tens of microseconds,
/// yield, then sleep), in `*out`; free it with `ipcring_waitset_close`.
///
/// Returns `IPCRING_OK` or `IPCRING_ERR_NULL_POINTER` (`out` NULL).
///
/// # Safety
/// `out` is NULL or points to writable memory for one pointer. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ipcring_waitset_new(out: *mut *mut WaitSetHandle) -> c_int {
    crate::guard(|| {
        let slot = crate::out(out)?;
        let set = WaitSetHandle {
            tag: Tag::new::<WaitSetHandle>(),
            set: WaitSet::new(),
            addrs: Vec::new(),
            slots: Vec::new(),
            members: Vec::new(),
        };
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { slot.write(handle::into_raw(set)) };
        Ok(())
    })
}

/// Frees the wait set and sets `*set` to NULL; its descriptor (`ipcring_waitset_fd`) is
/// closed. The handles it waited on are not touched.
///
/// A NULL `*set` is a no-op that returns `IPCRING_OK`. Returns `IPCRING_ERR_NULL_POINTER`
/// if `set` is NULL and `IPCRING_ERR_BAD_HANDLE` if `*set` is not a wait set.
///
/// # Safety
/// `set` is NULL or points to a pointer that is NULL or was returned by
/// `ipcring_waitset_new` and not closed. No other call may use the set at the same time,
/// nor any copy of the pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn ipcring_waitset_close(set: *mut *mut WaitSetHandle) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { handle::close(set) }
}

/// Changes how `ipcring_waitset_wait` waits while no member is ready (the members' own
/// strategies do not matter to the set).
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_INVALID_ARGUMENT` (unknown kind),
/// `IPCRING_ERR_NULL_POINTER` or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `set` is NULL or a live wait set not used by another thread during the call; `wait` is
/// NULL or points to an initialised `ipcring_wait_t`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_waitset_set_wait(
    set: *mut WaitSetHandle,
    wait: *const Wait,
) -> c_int {
    let change = |s: &mut WaitSetHandle| {
        // SAFETY: NULL or initialised, per the contract.
        let wait = unsafe { wait.as_ref() }.ok_or(Status::IPCRING_ERR_NULL_POINTER)?;
        s.set.set_wait_strategy(wait.strategy()?);
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(set, change) }
}

/// Waits until at least one of the `n` handles of `members` is ready, or `timeout_ns`
/// nanoseconds have passed (a negative `timeout_ns`: no deadline). Sets `ready[i]` to 1
/// for each ready member `i` and to 0 for the others, and stores how many are ready in
/// `*count`; then make the non-blocking call (`try_recv`, `try_read`, `try_send`...) on
/// the ready ones. A member whose peer is gone is ready (its call reports it); rarely, a
/// ready member's call still says `IPCRING_ERR_EMPTY` or `IPCRING_ERR_FULL` (take it in
/// your loop's stride).
///
/// The deadline passing first is not an error: the call returns `IPCRING_OK` with
/// `*count` 0 (as `poll(2)` returns 0), unlike the single-handle `_timeout` calls,
/// whose result is a message and which return `IPCRING_ERR_TIMEOUT`.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_BAD_HANDLE` (the set or a member is NULL, closed,
/// or not of its `kind`), `IPCRING_ERR_INVALID_ARGUMENT` (an unknown `kind`, or `n` 0),
/// `IPCRING_ERR_DUPLICATE_MEMBER` (one handle in two members), `IPCRING_ERR_GRANT_PENDING`
/// (a member has a reservation or read pending), `IPCRING_ERR_UNKNOWN_KEY` (a board
/// member's `room` is no entry of its board), `IPCRING_ERR_NULL_POINTER` (`members`,
/// `ready` or `count` NULL) or `IPCRING_ERR_INTERNAL` (a member is poisoned). On failure
/// `*count` is 0 (when `count` is not NULL); a panic caught in the call poisons the set
/// and every member.
///
/// # Safety
/// `set` is NULL or a live wait set; `members` is NULL or points to `n` initialised
/// members, each of whose `handle` is NULL or a live handle of this library (of the
/// type its `kind` names, else it is refused on a best-effort basis, as a handle of the
/// wrong kind is in every call); `ready` is NULL or writable for `n` bytes; `count` is
/// NULL or writable. Neither the set nor any member handle may be used by another thread
/// during the call, and `ready` may not overlap them.
#[no_mangle]
pub unsafe extern "C" fn ipcring_waitset_wait(
    set: *mut WaitSetHandle,
    members: *const Member,
    n: usize,
    timeout_ns: i64,
    ready: *mut u8,
    count: *mut usize,
) -> c_int {
    let deadline = u64::try_from(timeout_ns).ok().map(Duration::from_nanos);
    // SAFETY: forwarded contract.
    unsafe { run(set, members, n, ready, count, Op::Wait(deadline)) }
}

/// Which of the `n` handles of `members` are ready now, without waiting: as
/// `ipcring_waitset_wait` with a deadline already passed, and without a system call (but
/// for a look at the peers' liveness now and then). `*count` 0 (and `IPCRING_OK`) when
/// none is.
///
/// Returns as `ipcring_waitset_wait`.
///
/// # Safety
/// As `ipcring_waitset_wait`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_waitset_poll(
    set: *mut WaitSetHandle,
    members: *const Member,
    n: usize,
    ready: *mut u8,
    count: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { run(set, members, n, ready, count, Op::Poll) }
}

/// For an event loop: which of the `n` handles of `members` are ready now, as
/// `ipcring_waitset_poll`; when none is (`*count` 0), arms the set's descriptor (see
/// `ipcring_waitset_fd`) so that it becomes readable once one of them may be ready.
///
/// Call it once at the start and whenever the descriptor is readable (it clears the
/// descriptor): serve the members it reports ready and call it again, until it reports
/// none; then wait for the descriptor (with `poll(2)`, `epoll`...). The descriptor may
/// become readable with no member ready (at least every 50 ms, for a look at the peers'
/// liveness): `arm` then reports none and arms again. Only the last `arm` of a set is
/// armed; closing the set cancels it. The set keeps no pointer to the members: one may be
/// closed while the set is armed (its ring stays mapped until the watch fires).
///
/// Returns as `ipcring_waitset_wait`, and `IPCRING_ERR_IO` if the descriptor or the
/// process's helper thread that watches the rings could not be made.
///
/// # Safety
/// As `ipcring_waitset_wait`. As a handle, a set belongs to one process: do not use it
/// in both after `fork()`.
#[no_mangle]
pub unsafe extern "C" fn ipcring_waitset_arm(
    set: *mut WaitSetHandle,
    members: *const Member,
    n: usize,
    ready: *mut u8,
    count: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { run(set, members, n, ready, count, Op::Arm) }
}

/// Stores in `*fd` the set's descriptor for an event loop: register it for reading, and
/// call `ipcring_waitset_arm` once at the start and whenever it is readable. It is
/// non-blocking and close-on-exec, belongs to the set (do not close or read it) and is
/// valid until `ipcring_waitset_close`. The same descriptor every call.
///
/// Returns `IPCRING_OK`, `IPCRING_ERR_IO` (no descriptor could be made; `*fd` is then -1),
/// `IPCRING_ERR_NULL_POINTER` or `IPCRING_ERR_BAD_HANDLE`.
///
/// # Safety
/// `set` is NULL or a live wait set not used by another thread during the call; `fd` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ipcring_waitset_fd(set: *mut WaitSetHandle, fd: *mut c_int) -> c_int {
    let get = |s: &mut WaitSetHandle| {
        let fd = out(fd)?;
        let raw = s.set.fd().map(|f| f.as_raw_fd());
        // SAFETY: a non-NULL out-parameter, writable per the contract.
        unsafe { fd.write(*raw.as_ref().unwrap_or(&-1)) };
        raw.map(drop).map_err(|_| Status::IPCRING_ERR_IO)
    };
    // SAFETY: forwarded contract.
    unsafe { with_handle(set, get) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycled_buffers_keep_their_room() {
        // As the buffers of a call: a type of one layout, with and without a borrow.
        let mut v: Vec<(usize, usize)> = Vec::with_capacity(16);
        v.push((1, 2));
        let mut x = 7;
        let mut w: Vec<&mut dyn core::fmt::Debug> = recycle(v);
        assert!(w.is_empty());
        w.push(&mut x);
        let v: Vec<(usize, usize)> = recycle(w);
        assert!(v.is_empty());
        assert!(v.capacity() >= 16, "the allocation went: {}", v.capacity());
    }

    #[test]
    fn member_kinds_are_the_eight_named_ones() {
        assert_eq!(
            MemberKind::from_c(0),
            Err(Status::IPCRING_ERR_INVALID_ARGUMENT)
        );
        for k in 1..=8 {
            assert_eq!(MemberKind::from_c(k).map(|m| m as u32), Ok(k));
        }
        assert_eq!(
            MemberKind::from_c(9),
            Err(Status::IPCRING_ERR_INVALID_ARGUMENT)
        );
    }
}
