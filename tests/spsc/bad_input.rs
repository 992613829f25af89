//! Bad input gets its own error, never a crash, a hang or a leak: names, capacities,
//! message sizes, missing or existing rings, and objects that are not (or not yet, or no
//! longer) valid ipcring segments.

use crate::common::{forge_each_word, watchdog, RingGuard, XorShift};
use ipcring::spsc::{self, Builder, Consumer, Producer};
use ipcring::{OpenError, SendError, ABI_MAJOR, MAGIC};
use std::fs::{File, OpenOptions, Permissions};
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::time::{Duration, Instant};

/// Offsets in the identity line at the start of every segment.
const ABI_MAJOR_AT: u64 = 8;
const LAYOUT_HASH_AT: u64 = 16;
const STATE_AT: u64 = 24;
const KIND_AT: u64 = 28;
const HEADER_SIZE_AT: u64 = 32;
const TOTAL_SIZE_AT: u64 = 40;
/// Offsets in the geometry line of an SPSC segment (line 1).
const CAPACITY_AT: u64 = 128;
const MAX_MESSAGE_AT: u64 = 136;
/// Bytes before the data area of an SPSC segment: 5 header lines, 2 role slots of 2.
const HEADER: u64 = 9 * 128;
const READY: u32 = u32::from_le_bytes(*b"RDY!");

/// Outer limit of each test: a hang fails.
const LIMIT: Duration = Duration::from_secs(60);

/// Every way to attach, as results without the handle.
fn attach_all(b: &Builder) -> Vec<Result<(), OpenError>> {
    vec![
        b.clone().create_producer().map(drop),
        b.clone().create_consumer().map(drop),
        b.clone().open_producer().map(drop),
        b.clone().open_consumer().map(drop),
        b.clone().open_or_create_producer().map(drop),
        b.clone().open_or_create_consumer().map(drop),
    ]
}

/// The ways to open an existing ring, as results without the handle.
fn open_all(name: &str) -> Vec<Result<(), OpenError>> {
    vec![
        Producer::open(name).map(drop),
        Consumer::open(name).map(drop),
        Builder::new(name).open_or_create_producer().map(drop),
        Builder::new(name).open_or_create_consumer().map(drop),
    ]
}

#[test]
fn bad_names_are_invalid_names() {
    let _w = watchdog("bad_names_are_invalid_names", LIMIT);
    let too_long = "n".repeat(ipcring::MAX_NAME_LEN + 1);
    for name in ["", too_long.as_str(), "a/b", "/lead", "nul\0byte", "\0"] {
        for r in attach_all(&Builder::new(name)) {
            assert!(
                matches!(r, Err(OpenError::InvalidName { .. })),
                "{name:?}: {r:?}"
            );
        }
        let r = ipcring::unlink(name);
        assert!(
            matches!(r, Err(OpenError::InvalidName { .. })),
            "{name:?}: {r:?}"
        );
    }
}

#[test]
fn a_name_of_the_maximum_length_works() {
    let _w = watchdog("longest name", LIMIT);
    let ring = RingGuard::padded("max", ipcring::MAX_NAME_LEN);
    assert_eq!(ring.name().len(), ipcring::MAX_NAME_LEN);
    let mut tx = Producer::create(ring.name(), 4096).expect("create");
    let mut rx = Consumer::open(ring.name()).expect("open");
    tx.send(b"long name").expect("send");
    assert_eq!(&*rx.read().expect("read"), b"long name");
    drop((tx, rx));
    ipcring::unlink(ring.name()).expect("unlink");
    assert!(!ring.path().exists());
}

#[test]
fn bad_capacities_are_invalid_capacities() {
    let _w = watchdog("bad_capacities_are_invalid_capacities", LIMIT);
    let ring = RingGuard::new("capacity");
    let min = spsc::MIN_CAPACITY;
    let max = spsc::MAX_CAPACITY;
    for capacity in [
        0,
        1,
        100,
        1000,
        4097,
        3 << 10,
        min / 2,
        min - 8,
        max * 2,
        usize::MAX,
    ] {
        for r in attach_all(&Builder::new(ring.name()).capacity(capacity)) {
            // Opening a missing ring fails before the capacity matters.
            if matches!(r, Err(OpenError::NotFound { .. })) {
                continue;
            }
            match r {
                Err(OpenError::InvalidCapacity {
                    capacity: c,
                    min: lo,
                    max: hi,
                }) => {
                    assert_eq!((c, lo, hi), (capacity, min, max));
                }
                other => panic!("capacity {capacity}: {other:?}"),
            }
        }
    }
    assert!(
        !ring.path().exists(),
        "a refused create left an object behind"
    );
}

#[test]
fn a_message_over_the_maximum_is_too_large_on_every_path_even_when_full() {
    let _w = watchdog("too large", LIMIT);
    let ring = RingGuard::new("too-large");
    let mut tx = Producer::create(ring.name(), 4096).expect("create");
    assert_eq!(tx.max_message(), 1024);
    let too_large = SendError::TooLarge {
        len: 1025,
        max: 1024,
    };
    let big = [7u8; 1025];
    let check_all = |tx: &mut Producer| {
        assert_eq!(tx.try_send(&big), Err(too_large));
        assert_eq!(tx.send(&big), Err(too_large));
        assert_eq!(
            tx.send_timeout(&big, Duration::from_secs(60)),
            Err(too_large)
        );
        assert_eq!(tx.reserve(1025).map(drop), Err(too_large));
        assert_eq!(tx.try_reserve(1025).map(drop), Err(too_large));
        let huge = tx.try_reserve(usize::MAX).map(drop);
        assert_eq!(
            huge,
            Err(SendError::TooLarge {
                len: usize::MAX,
                max: 1024
            })
        );
        assert_eq!(tx.try_send_batch([&big[..]]), Err(too_large));
    };
    // A batch sends the messages before the one that is too large.
    assert_eq!(tx.try_send_batch([&big[..1024], &big[..]]), Err(too_large));
    // With no consumer, and with one attached to a full ring: no waiting either way.
    check_all(&mut tx);
    let mut rx = Consumer::open(ring.name()).expect("open");
    while tx.try_send(&[1; 100]).is_ok() {}
    check_all(&mut tx);
    let mut buf = Vec::new();
    assert_eq!(rx.try_recv_into(&mut buf), Ok(1024));
    assert_eq!(buf, &big[..1024]);
    assert_eq!(tx.stats().rejected, 1);
}

#[test]
fn opening_a_missing_ring_is_not_found_and_creating_an_existing_one_already_exists() {
    let _w = watchdog(
        "opening_a_missing_ring_is_not_found_and_creating_an_existing_one_already_exists",
        LIMIT,
    );
    let ring = RingGuard::new("exists");
    for r in [
        Producer::open(ring.name()).map(drop),
        Consumer::open(ring.name()).map(drop),
    ] {
        assert!(matches!(r, Err(OpenError::NotFound { .. })), "{r:?}");
    }
    assert!(matches!(
        ipcring::unlink(ring.name()),
        Err(OpenError::NotFound { .. })
    ));
    let _tx = Producer::create(ring.name(), 4096).expect("create");
    for r in [
        Producer::create(ring.name(), 4096).map(drop),
        Consumer::create(ring.name(), 4096).map(drop),
    ] {
        assert!(matches!(r, Err(OpenError::AlreadyExists { .. })), "{r:?}");
    }
}

/// Writes `bytes` as the shm object of `ring`, with `mode`.
fn plant(ring: &RingGuard, bytes: &[u8], mode: u32) -> File {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(ring.path())
        .expect("create the object");
    f.write_all_at(bytes, 0).expect("write the object");
    f.set_permissions(Permissions::from_mode(mode))
        .expect("chmod");
    f
}

#[test]
fn garbage_is_not_an_ipcring_segment() {
    let _w = watchdog("garbage_is_not_an_ipcring_segment", LIMIT);
    let mut rng = XorShift::new(3);
    let mut garbage: Vec<u8> = (0..4096).map(|_| rng.next() as u8).collect();
    garbage[STATE_AT as usize..][..4].copy_from_slice(&0u32.to_le_bytes());
    let mut magic_only = vec![0u8; 4096];
    magic_only[..8].copy_from_slice(&MAGIC.to_le_bytes());
    for (what, bytes) in [
        ("garbage", &garbage),
        ("zeros", &vec![0; 4096]),
        ("magic", &magic_only),
    ] {
        let ring = RingGuard::new("garbage");
        plant(&ring, bytes, 0o600);
        let found = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        for r in open_all(ring.name()) {
            match r {
                Err(OpenError::NotIpcring { found: f, expected }) => {
                    assert_eq!((f, expected), (found, MAGIC), "{what}")
                }
                other => panic!("{what}: {other:?}"),
            }
        }
        // Nothing was overwritten.
        assert_eq!(
            std::fs::read(ring.path()).expect("read back"),
            *bytes,
            "{what}"
        );
    }
}

/// The error of opening the damaged ring `name` as its consumer.
fn open_err(name: &str) -> OpenError {
    match Consumer::open(name) {
        Ok(_) => panic!("a damaged segment was opened"),
        Err(e) => e,
    }
}

#[test]
fn each_damaged_identity_field_has_its_own_error() {
    let _w = watchdog("each_damaged_identity_field_has_its_own_error", LIMIT);
    let ring = RingGuard::new("patched");
    drop(Producer::create(ring.name(), 4096).expect("create"));
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(ring.path())
        .expect("open");
    let patch = |at: u64, bytes: &[u8], check: &dyn Fn(OpenError)| {
        let mut old = vec![0; bytes.len()];
        f.read_exact_at(&mut old, at).expect("read");
        f.write_all_at(bytes, at).expect("patch");
        check(open_err(ring.name()));
        f.write_all_at(&old, at).expect("restore");
        // Restored: the ring opens again.
        drop(Consumer::open(ring.name()).expect("open the restored ring"));
    };
    let other_abi = ABI_MAJOR + 1;
    patch(ABI_MAJOR_AT, &other_abi.to_le_bytes(), &|e| match e {
        OpenError::VersionMismatch { found, expected } => {
            assert_eq!((found, expected), (other_abi, ABI_MAJOR))
        }
        e => panic!("abi: {e:?}"),
    });
    patch(LAYOUT_HASH_AT, &0x1234u64.to_le_bytes(), &|e| match e {
        OpenError::LayoutMismatch { found, expected } => {
            assert_eq!(found, 0x1234);
            assert_ne!(expected, 0x1234);
        }
        e => panic!("layout hash: {e:?}"),
    });
    patch(KIND_AT, &7u32.to_le_bytes(), &|e| match e {
        OpenError::KindMismatch { found, expected } => assert_eq!((found, expected), (7, 1)),
        e => panic!("kind: {e:?}"),
    });
    patch(HEADER_SIZE_AT, &1024u64.to_le_bytes(), &|e| match e {
        OpenError::HeaderSizeMismatch { found, expected } => {
            assert_eq!((found, expected), (1024, HEADER))
        }
        e => panic!("header size: {e:?}"),
    });
    for (at, what, value) in [
        (CAPACITY_AT, "capacity", 1000u64),
        (MAX_MESSAGE_AT, "max_message", 4096),
        (TOTAL_SIZE_AT, "total_size", 1 << 40),
    ] {
        patch(at, &value.to_le_bytes(), &|e| match e {
            OpenError::BadGeometry { what: w, found, .. } => assert_eq!((w, found), (what, value)),
            e => panic!("{what}: {e:?}"),
        });
    }
    patch(0, b"NOTARING", &|e| match e {
        OpenError::NotIpcring { found, expected } => {
            assert_eq!((found, expected), (u64::from_le_bytes(*b"NOTARING"), MAGIC))
        }
        e => panic!("magic: {e:?}"),
    });
}

#[test]
fn a_truncated_segment_is_truncated_never_sigbus() {
    let _w = watchdog("a_truncated_segment_is_truncated_never_sigbus", LIMIT);
    let ring = RingGuard::new("truncated");
    let total = HEADER + (1 << 16);
    drop(Producer::create(ring.name(), 1 << 16).expect("create"));
    let f = OpenOptions::new()
        .write(true)
        .open(ring.path())
        .expect("open");
    for size in [total - 8, HEADER + 100, HEADER, 200, 100, 0] {
        f.set_len(size).expect("ftruncate");
        for r in open_all(ring.name()) {
            match r {
                Err(OpenError::Truncated { size: s, expected }) => {
                    assert_eq!(s, size);
                    assert!(expected > size, "{size}: expected {expected}");
                }
                other => panic!("size {size}: {other:?}"),
            }
        }
    }
}

#[test]
fn an_object_still_initialising_is_still_initializing_after_a_bounded_wait() {
    let _w = watchdog("still initialising", LIMIT);
    let waiters: Vec<_> = [0usize, 4096]
        .into_iter()
        .map(|size| {
            std::thread::spawn(move || {
                // Mode 0200 with nothing in it: a creator that has not finished (or died).
                let ring = RingGuard::new("initialising");
                plant(&ring, &vec![0; size], 0o200);
                let start = Instant::now();
                let r = Consumer::open(ring.name()).map(drop);
                let took = start.elapsed();
                assert!(
                    matches!(r, Err(OpenError::StillInitializing { .. })),
                    "{size}: {r:?}"
                );
                println!("{size}-byte object still initialising: gave up after {took:?}");
            })
        })
        .collect();
    for w in waiters {
        w.join().expect("waiter");
    }
}

#[test]
fn open_waits_for_a_creator_that_finishes_initialising() {
    let _w = watchdog("late ready", LIMIT);
    // A real segment, copied into an object that looks mid-initialisation: mode 0200 and
    // state 0. The "creator" finishes a little later.
    let model = RingGuard::new("model");
    drop(Producer::create(model.name(), 4096).expect("create"));
    let mut bytes = std::fs::read(model.path()).expect("read the model");
    bytes[STATE_AT as usize..][..4].copy_from_slice(&0u32.to_le_bytes());
    let ring = RingGuard::new("late");
    let f = plant(&ring, &bytes, 0o200);
    let creator = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        f.write_all_at(&READY.to_le_bytes(), STATE_AT)
            .expect("publish READY");
        f.set_permissions(Permissions::from_mode(0o600))
            .expect("chmod");
    });
    let r = Consumer::open(ring.name()).map(|rx| rx.capacity());
    creator.join().expect("creator");
    assert_eq!(r.expect("open after the creator finished"), 4096);
}

/// Every word of the identity and geometry lines forged with values at the edges of the
/// integer types: opening fails with an error or works, never a panic (these tests run
/// with overflow checks) or a hang.
#[test]
fn forged_header_words_give_errors_never_panics() {
    let _w = watchdog("forged header words", LIMIT);
    let ring = RingGuard::new("forged");
    drop(Producer::create(ring.name(), 1 << 12).expect("create"));
    forge_each_word(&ring, (0..256).step_by(8), &|| {
        if let Ok(mut tx) = Producer::open(ring.name()) {
            let _ = tx.try_send(b"forged");
            if let Ok(mut rx) = Consumer::open(ring.name()) {
                let _ = rx.try_recv_into(&mut Vec::new());
            }
        }
        let _ = Consumer::open(ring.name()).map(drop);
    });
}
