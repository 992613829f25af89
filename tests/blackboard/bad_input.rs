//! Bad input gets a clear error, and leaves nothing behind: unknown entries, values too
//! large, geometries out of range, a writer slot taken, typed reads of the wrong size,
//! and a segment of another kind.

use crate::common::RingGuard;
use ipcring::blackboard::{Builder, GetError, Reader, SetError, Writer};
use ipcring::blackboard::{MAX_ENTRIES, MAX_KEY_LEN, MAX_VALUE_SIZE};
use ipcring::{OpenError, Role};

#[test]
fn an_unknown_entry_is_an_error_of_every_call() {
    let ring = RingGuard::new("bb-unknown");
    let mut w = Writer::create(ring.name(), 3, 8).expect("create");
    let mut r = Reader::open(ring.name()).expect("open");
    let mut buf = Vec::new();
    for key in [3, 4, usize::MAX] {
        let unknown = GetError::UnknownKey { key, entries: 3 };
        assert_eq!(r.get_into(key, &mut buf), Err(unknown));
        assert_eq!(r.try_get_into(key, &mut buf), Err(unknown));
        assert_eq!(r.get::<u64>(key), Err(unknown));
        assert_eq!(r.version(key), Err(unknown));
        assert_eq!(r.wait_changed(key, 0, None), Err(unknown));
        assert_eq!(r.change(key, 0).err(), Some(unknown));
        let unknown = SetError::UnknownKey { key, entries: 3 };
        assert_eq!(w.set(key, b"x"), Err(unknown));
        assert_eq!(w.set_value(key, &1u64), Err(unknown));
        assert_eq!(
            w.set_with(key, 1, |_| panic!("filled an unknown entry")),
            Err(unknown)
        );
        assert_eq!(w.max_size(key), None);
    }
    assert_eq!(r.version(0), Ok(0));
    let e = GetError::UnknownKey { key: 3, entries: 3 }.to_string();
    assert!(e.contains('3'), "{e}");
}

#[test]
fn a_value_too_large_is_refused_and_the_entry_keeps_its_value() {
    let ring = RingGuard::new("bb-too-large");
    let mut w = Writer::create(ring.name(), 2, 64).expect("create");
    let mut r = Reader::open(ring.name()).expect("open");
    assert_eq!(w.set(0, b"kept"), Ok(1));
    let too_large = SetError::TooLarge { len: 65, max: 64 };
    assert_eq!(w.set(0, &[1; 65]), Err(too_large));
    assert_eq!(
        w.set_with(0, 65, |_| panic!("filled a value too large")),
        Err(too_large)
    );
    assert_eq!(w.set(1, &[1; 65]), Err(too_large));
    let big = [0u64; 9];
    assert_eq!(
        w.set_value(0, &big),
        Err(SetError::TooLarge { len: 72, max: 64 })
    );
    let mut buf = Vec::new();
    assert_eq!(r.get_into(0, &mut buf), Ok(1));
    assert_eq!(buf, b"kept");
    assert_eq!(r.get_into(1, &mut buf), Err(GetError::NotSet { key: 1 }));
    assert!(too_large.to_string().contains("65"));
}

/// Creating with `b` fails with `InvalidGeometry` about `what`, and leaves no segment.
fn invalid(ring: &RingGuard, b: Builder, what: &str) {
    match b.create_writer() {
        Err(OpenError::InvalidGeometry { what: w, .. }) => {
            assert!(w.contains(what), "expected an error about {what}, got {w}")
        }
        other => panic!("{what}: expected InvalidGeometry, got {other:?}"),
    }
    assert!(!ring.path().exists(), "{what}: a segment was left behind");
}

#[test]
fn geometries_out_of_range_are_refused() {
    let ring = RingGuard::new("bb-geometry");
    let b = || Builder::new(ring.name());
    invalid(&ring, b(), "entries");
    invalid(&ring, b().entries(MAX_ENTRIES + 1, 8), "entries");
    invalid(&ring, b().entries(2, 8).entry("zero", 0), "value size");
    invalid(&ring, b().entry("huge", MAX_VALUE_SIZE + 1), "value size");
    invalid(&ring, b().entry(&"k".repeat(MAX_KEY_LEN + 1), 8), "key");
    invalid(&ring, b().entry("nul\0", 8), "key");
    invalid(&ring, b().entry("a", 8).entry("b", 8).entry("a", 16), "key");
    invalid(&ring, b().entries(1, 8).writers(0), "writers");
    invalid(&ring, b().entries(1, 8).writers(65), "writers");
    // Values that add up to more than the 4 GiB value area.
    invalid(&ring, b().entries(17, MAX_VALUE_SIZE), "value area");
    // The edges themselves are valid.
    let w = b()
        .entries(MAX_ENTRIES - 1, 1)
        .entry(&"k".repeat(MAX_KEY_LEN), 1)
        .writers(64)
        .create_writer()
        .expect("4096 entries, a key of 32 bytes, 64 writers");
    assert_eq!(w.entries(), MAX_ENTRIES);
    // Entries without keys do not repeat a key.
    drop(w);
    ipcring::unlink(ring.name()).expect("unlink");
    b().entries(3, 8)
        .create_detached()
        .expect("keyless entries");
}

#[test]
fn a_second_writer_on_a_one_writer_board_is_refused() {
    let ring = RingGuard::new("bb-role-taken");
    let w = Writer::create(ring.name(), 1, 8).expect("create");
    let taken = Writer::open(ring.name()).err();
    assert!(
        matches!(
            taken,
            Some(OpenError::RoleTaken {
                role: Role::Producer,
                slots: 1
            })
        ),
        "{taken:?}"
    );
    drop(w);
    let _w = Writer::open(ring.name()).expect("the slot is free again");

    let ring = RingGuard::new("bb-role-taken-2");
    let b = || Builder::new(ring.name()).entries(1, 8).writers(2);
    let _a = b().create_writer().expect("create");
    let _b = b().open_writer().expect("a second writer");
    let taken = b().open_writer().err();
    assert!(
        matches!(taken, Some(OpenError::RoleTaken { slots: 2, .. })),
        "{taken:?}"
    );
    // Readers take no slot.
    let _readers: Vec<Reader> = (0..100)
        .map(|_| Reader::open(ring.name()).expect("a reader"))
        .collect();
}

#[test]
fn a_typed_read_of_another_size_says_so() {
    let ring = RingGuard::new("bb-wrong-size");
    let mut w = Writer::create(ring.name(), 1, 16).expect("create");
    let mut r = Reader::open(ring.name()).expect("open");
    assert_eq!(w.set(0, &[1, 2, 3, 4]), Ok(1));
    let e = r.get::<u64>(0);
    assert_eq!(
        e,
        Err(GetError::WrongSize {
            key: 0,
            found: 4,
            expected: 8
        })
    );
    assert_eq!(r.get::<[u8; 4]>(0), Ok(([1, 2, 3, 4], 1)));
    assert_eq!(r.get::<u16>(0).map(|(_, v)| v).ok(), None);
    assert_eq!(w.set_value(0, &u128::MAX), Ok(2));
    assert_eq!(r.get::<u128>(0), Ok((u128::MAX, 2)));
    assert!(matches!(
        r.get::<u64>(0),
        Err(GetError::WrongSize { found: 16, .. })
    ));
}

#[test]
fn a_segment_of_another_kind_is_not_a_board() {
    let ring = RingGuard::new("bb-kind");
    let _q = ipcring::mpmc::Producer::create(ring.name(), 4, 64).expect("create a queue");
    for e in [
        Reader::open(ring.name()).err(),
        Writer::open(ring.name()).err(),
        Builder::new(ring.name()).open_or_create_writer().err(),
    ] {
        assert!(matches!(e, Some(OpenError::KindMismatch { .. })), "{e:?}");
    }
    let ring = RingGuard::new("bb-kind-2");
    let _w = Writer::create(ring.name(), 1, 8).expect("create a board");
    let e = ipcring::spsc::Consumer::open(ring.name()).err();
    assert!(matches!(e, Some(OpenError::KindMismatch { .. })), "{e:?}");
    let e = ipcring::mpmc::Consumer::open(ring.name()).err();
    assert!(matches!(e, Some(OpenError::KindMismatch { .. })), "{e:?}");
}
