//! What a listener's wait gives C: the report `ipcring_fired_t`, filled into the caller's
//! arrays, and the part of a report that did not fit, kept for the next call.

use crate::status::{Result, Status};
use ipcring::event::{Departure, Fired, Party};

/// The values of `ipcring_departure_t.role`. 0 is none: a role that this version of the C
/// API cannot name.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum PartyKind {
    /// A notifier left.
    IPCRING_PARTY_NOTIFIER = 1,
    /// A listener (another one) left.
    IPCRING_PARTY_LISTENER = 2,
}

/// A peer that left: the holder of a role slot that went away since the listener's wait
/// before, by closing its handle or by dying (its process killed, or exited without
/// closing).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventDeparture {
    /// One of the `ipcring_party_t` values: whether a notifier or a listener left.
    pub role: u32,
    /// Which slot of its role it held: 0 to the segment's number of notifiers (or
    /// listeners) minus one. The next handle of that role may take it again.
    pub slot: usize,
}

impl From<Departure> for EventDeparture {
    fn from(d: Departure) -> EventDeparture {
        let role = match d.role {
            Party::Notifier => PartyKind::IPCRING_PARTY_NOTIFIER as u32,
            Party::Listener => PartyKind::IPCRING_PARTY_LISTENER as u32,
            // A role that a later version of the library adds.
            _ => 0,
        };
        EventDeparture { role, slot: d.slot }
    }
}

/// The report of a listener's wait, in arrays that the caller provides (nothing is
/// allocated for C): the ids that fired since the wait before, each once with how many
/// times it fired, and the peers that left.
///
/// The caller sets `ids`, `counts` and `cap` (room for `cap` ids, at least 1) and
/// `departures` and `dcap` (room for `dcap` departures, at least 1); the call sets `len`,
/// `dlen` and `more`. A report that does not fit is never lost: what fits is given,
/// `more` says how many ids and departures are kept in the handle, and the next wait,
/// try_wait or wait_timeout gives them at once (without looking for new notifications)
/// before anything new. Arrays of `ipcring_event_ids` ids always hold every id of a
/// report.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FiredReport {
    /// In: room for `cap` event ids. Out: `ids[0..len]` are the ids that fired, in
    /// ascending order (within one report; a report given in parts goes on ascending).
    pub ids: *mut u32,
    /// In: room for `cap` counts. Out: `counts[i]` is how many times `ids[i]` fired
    /// (at least 1).
    pub counts: *mut u64,
    /// In: how many elements `ids` and `counts` each hold: at least 1.
    pub cap: usize,
    /// Out: how many ids were written.
    pub len: usize,
    /// In: room for `dcap` departures. Out: `departures[0..dlen]` are the peers that left,
    /// in the order the listener found them.
    pub departures: *mut EventDeparture,
    /// In: how many elements `departures` holds: at least 1.
    pub dcap: usize,
    /// Out: how many departures were written.
    pub dlen: usize,
    /// Out: how many ids and departures together are kept for the next call (0: the
    /// report is complete).
    pub more: usize,
}

/// The part of the last report not yet given to C, with the room it keeps between calls
/// (so that a wait makes no allocation once it has grown).
#[derive(Debug, Default)]
pub(crate) struct Kept {
    fired: Vec<(u32, u64)>,
    /// How many of `fired` were given.
    fired_at: usize,
    departures: Vec<EventDeparture>,
    /// How many of `departures` were given.
    departures_at: usize,
}

impl Kept {
    /// Room for the ids of a segment of `ids` ids.
    pub(crate) fn new(ids: usize) -> Kept {
        Kept {
            fired: Vec::with_capacity(ids),
            ..Kept::default()
        }
    }

    /// How many ids and departures are kept.
    pub(crate) fn len(&self) -> usize {
        (self.fired.len() - self.fired_at) + (self.departures.len() - self.departures_at)
    }

    /// Keeps the whole of a report that a wait lent, for [`Kept::give`].
    pub(crate) fn keep(&mut self, report: &Fired) {
        self.fired.clear();
        self.fired.extend(report.iter());
        self.fired_at = 0;
        self.departures.clear();
        self.departures
            .extend(report.departures().iter().map(|&d| EventDeparture::from(d)));
        self.departures_at = 0;
    }

    /// Gives C what fits of what is kept, and keeps the rest.
    ///
    /// # Safety
    /// `r` passed [`check`], and its arrays are writable for `cap` (`dcap`) elements and
    /// do not overlap the handle.
    pub(crate) unsafe fn give(&mut self, r: &mut FiredReport) {
        let ids = &self.fired[self.fired_at..];
        let n = ids.len().min(r.cap);
        for (i, &(id, count)) in ids[..n].iter().enumerate() {
            debug_assert!(i < r.cap);
            // SAFETY: `i` < `n` <= `cap`, and both arrays are writable for `cap` elements
            // per the contract.
            unsafe {
                r.ids.add(i).write(id);
                r.counts.add(i).write(count);
            }
        }
        self.fired_at += n;
        let deps = &self.departures[self.departures_at..];
        let d = deps.len().min(r.dcap);
        debug_assert!(d <= r.dcap);
        // SAFETY: `d` <= `dcap`, writable per the contract, and apart from the handle.
        unsafe { core::ptr::copy_nonoverlapping(deps.as_ptr(), r.departures, d) };
        self.departures_at += d;
        r.len = n;
        r.dlen = d;
        r.more = self.len();
    }
}

/// Checks a report from C: arrays not NULL, room for at least one id and one departure.
/// Its outputs are zeroed first (also when it is refused).
pub(crate) fn check(r: &mut FiredReport) -> Result<()> {
    r.len = 0;
    r.dlen = 0;
    r.more = 0;
    if r.ids.is_null() || r.counts.is_null() || r.departures.is_null() {
        return Err(Status::IPCRING_ERR_NULL_POINTER);
    }
    // A report that could hold no id (no departure) could never be given whole.
    if r.cap == 0 || r.dcap == 0 {
        return Err(Status::IPCRING_ERR_INVALID_ARGUMENT);
    }
    let largest = isize::MAX as usize / core::mem::size_of::<u64>();
    if r.cap > largest || r.dcap > isize::MAX as usize / core::mem::size_of::<EventDeparture>() {
        return Err(Status::IPCRING_ERR_INVALID_ARGUMENT);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipcring::event::HeapEvents;
    use ipcring::WaitStrategy;

    /// A report over the arrays `ids`, `counts` and `deps`.
    fn report(ids: &mut [u32], counts: &mut [u64], deps: &mut [EventDeparture]) -> FiredReport {
        FiredReport {
            ids: ids.as_mut_ptr(),
            counts: counts.as_mut_ptr(),
            cap: ids.len().min(counts.len()),
            len: 99,
            departures: deps.as_mut_ptr(),
            dcap: deps.len(),
            dlen: 99,
            more: 99,
        }
    }

    #[test]
    fn a_report_larger_than_the_arrays_is_given_in_parts_and_nothing_is_lost() {
        let seg = HeapEvents::new(8, 2, 1, 0);
        let mut rx = seg.listener(WaitStrategy::Park).expect("a listener");
        let mut tx = seg.notifier().expect("a notifier");
        let gone = seg.notifier().expect("a second notifier");
        for id in [5, 1, 5, 7, 1, 5] {
            tx.notify(id).expect("an id of the segment");
        }
        drop(gone);
        let mut kept = Kept::new(rx.ids());
        kept.keep(rx.try_wait().expect("a report"));
        assert_eq!(kept.len(), 4, "three ids and a departure");

        let (mut ids, mut counts) = ([0u32; 2], [0u64; 2]);
        let mut deps = [EventDeparture { role: 0, slot: 99 }; 1];
        let mut r = report(&mut ids, &mut counts, &mut deps);
        assert_eq!(check(&mut r), Ok(()));
        assert_eq!((r.len, r.dlen, r.more), (0, 0, 0));
        // SAFETY: the arrays hold `cap` and `dcap` elements and live until the end.
        unsafe { kept.give(&mut r) };
        assert_eq!((r.len, r.dlen, r.more), (2, 1, 1));
        assert_eq!((ids, counts), ([1, 5], [2, 3]));
        assert_eq!(
            deps[0],
            EventDeparture {
                role: PartyKind::IPCRING_PARTY_NOTIFIER as u32,
                slot: 1
            }
        );
        let mut r = report(&mut ids, &mut counts, &mut deps);
        // SAFETY: as above.
        unsafe { kept.give(&mut r) };
        assert_eq!((r.len, r.dlen, r.more), (1, 0, 0));
        assert_eq!((ids[0], counts[0]), (7, 1));
        assert_eq!(kept.len(), 0);
    }

    #[test]
    fn a_report_without_room_is_refused() {
        let (mut ids, mut counts) = ([0u32; 1], [0u64; 1]);
        let mut deps = [EventDeparture { role: 0, slot: 0 }; 1];
        let mut r = report(&mut ids, &mut counts, &mut deps);
        r.cap = 0;
        assert_eq!(check(&mut r), Err(Status::IPCRING_ERR_INVALID_ARGUMENT));
        assert_eq!((r.len, r.dlen, r.more), (0, 0, 0));
        r.cap = 1;
        r.dcap = 0;
        assert_eq!(check(&mut r), Err(Status::IPCRING_ERR_INVALID_ARGUMENT));
        r.departures = core::ptr::null_mut();
        assert_eq!(check(&mut r), Err(Status::IPCRING_ERR_NULL_POINTER));
    }
}
