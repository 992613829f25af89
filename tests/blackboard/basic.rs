//! The blackboard in one process: round trips, typed values, versions, keys, zero-copy
//! sets, and values of every size an entry takes.

use crate::common::{message, RingGuard};
use ipcring::blackboard::{Builder, GetError, Reader, Writer, MAX_KEY_LEN};

#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
struct Quote {
    price: f64,
    size: u32,
    venue: u16,
    flags: u16,
}

// SAFETY: `repr(C)`, 16 bytes without padding, every field valid for any bit pattern.
unsafe impl bytemuck::Zeroable for Quote {}
// SAFETY: as above; `Copy` and `'static`.
unsafe impl bytemuck::Pod for Quote {}

fn pair(ring: &RingGuard, entries: usize, max: usize) -> (Writer, Reader) {
    let w = Writer::create(ring.name(), entries, max).expect("create");
    let r = Reader::open(ring.name()).expect("open a reader");
    (w, r)
}

#[test]
fn a_value_set_is_read_back_with_its_version() {
    let ring = RingGuard::new("bb-roundtrip");
    let (mut w, mut r) = pair(&ring, 3, 64);
    assert_eq!(w.entries(), 3);
    assert_eq!(r.entries(), 3);
    assert_eq!(r.max_size(2), Some(64));
    assert_eq!(r.max_size(3), None);
    let mut buf = vec![0xaa; 100];
    assert_eq!(w.set(1, b"hello"), Ok(1));
    assert_eq!(r.get_into(1, &mut buf), Ok(1));
    assert_eq!(buf, b"hello");
    assert_eq!(r.try_get_into(1, &mut buf), Ok(1));
    assert_eq!(buf, b"hello");
    // The other entries are untouched.
    assert_eq!(r.get_into(0, &mut buf), Err(GetError::NotSet { key: 0 }));
    assert_eq!(
        r.try_get_into(2, &mut buf),
        Err(GetError::NotSet { key: 2 })
    );
    assert_eq!(r.get::<u64>(2), Err(GetError::NotSet { key: 2 }));
    assert_eq!(r.version(0), Ok(0));
}

#[test]
fn versions_grow_by_one_per_set_of_each_entry() {
    let ring = RingGuard::new("bb-versions");
    let (mut w, mut r) = pair(&ring, 2, 16);
    let mut buf = Vec::new();
    for n in 1..=100u64 {
        assert_eq!(w.set(0, &n.to_le_bytes()), Ok(n));
        assert_eq!(r.version(0), Ok(n));
        assert_eq!(r.get_into(0, &mut buf), Ok(n));
        assert_eq!(buf, n.to_le_bytes());
        if n % 10 == 0 {
            assert_eq!(w.set(1, b"x"), Ok(n / 10));
        }
    }
    assert_eq!(r.version(1), Ok(10));
    // A second reader sees the same.
    let mut r2 = Reader::open(ring.name()).expect("open");
    assert_eq!(r2.get_into(0, &mut buf), Ok(100));
}

#[test]
fn plain_old_data_values_round_trip() {
    let ring = RingGuard::new("bb-pod");
    let mut w = Builder::new(ring.name())
        .value::<Quote>("quote")
        .value::<u64>("x")
        .create_writer()
        .expect("create");
    let mut r = Builder::new(ring.name()).open_reader().expect("open");
    let q = Quote {
        price: 101.25,
        size: 300,
        venue: 7,
        flags: 0x8001,
    };
    let (quote, x) = (r.key("quote").unwrap(), r.key("x").unwrap());
    assert_eq!(r.max_size(quote), Some(core::mem::size_of::<Quote>()));
    assert_eq!(w.set_value(quote, &q), Ok(1));
    assert_eq!(r.get::<Quote>(quote), Ok((q, 1)));
    assert_eq!(w.set_value(x, &u64::MAX), Ok(1));
    assert_eq!(w.set_value(x, &42u64), Ok(2));
    assert_eq!(r.get::<u64>(x), Ok((42, 2)));
    // Bytes of a value are the value's bytes.
    let mut buf = Vec::new();
    r.get_into(quote, &mut buf).expect("read as bytes");
    assert_eq!(buf, bytemuck::bytes_of(&q));
}

#[test]
fn keys_name_entries_in_the_order_they_were_added() {
    let ring = RingGuard::new("bb-keys");
    let long = "k".repeat(MAX_KEY_LEN);
    let mut w = Builder::new(ring.name())
        .entry("price", 8)
        .entries(2, 16)
        .value::<u64>("x")
        .entry(&long, 1)
        .create_writer()
        .expect("create");
    let r = Builder::new(ring.name()).open_reader().expect("open");
    let keys = ["price", "", "", "x", long.as_str()];
    assert_eq!(r.keys(), keys);
    assert_eq!(w.keys(), keys);
    assert_eq!(r.key("price"), Some(0));
    assert_eq!(r.key("x"), Some(3));
    assert_eq!(r.key(&long), Some(4));
    assert_eq!(w.key("x"), Some(3));
    // Entries without a key are not found by the empty key, nor unknown keys.
    assert_eq!(r.key(""), None);
    assert_eq!(r.key("pric"), None);
    assert_eq!(r.key("prices"), None);
    assert_eq!(r.max_size(0), Some(8));
    assert_eq!(r.max_size(1), Some(16));
    assert_eq!(r.max_size(4), Some(1));
    assert_eq!(w.set(4, b"!"), Ok(1));
}

#[test]
fn set_with_writes_the_value_in_place() {
    let ring = RingGuard::new("bb-set-with");
    let (mut w, mut r) = pair(&ring, 1, 1000);
    let v = w
        .set_with(0, 300, |room| {
            assert_eq!(room.len(), 300);
            room.copy_from_slice(&message(5, 300));
        })
        .expect("set in place");
    assert_eq!(v, 1);
    let mut buf = Vec::new();
    assert_eq!(r.get_into(0, &mut buf), Ok(1));
    assert_eq!(buf, message(5, 300));
    // Pieces written in place, at offsets (whole words); a shorter value than before.
    let v = w
        .set_with(0, 20, |room| {
            room.write_at(0, b"01234567");
            room.write_at(8, b"89abcdefghij");
        })
        .expect("set in place");
    assert_eq!(v, 2);
    assert_eq!(r.get_into(0, &mut buf), Ok(2));
    assert_eq!(buf, b"0123456789abcdefghij");
}

#[test]
fn values_of_one_byte_and_of_exactly_the_largest_size() {
    let ring = RingGuard::new("bb-sizes");
    let mut w = Builder::new(ring.name())
        .entry("one", 1)
        .entry("odd", 13)
        .entry("line", 128)
        .create_writer()
        .expect("create");
    let mut r = Reader::open(ring.name()).expect("open");
    let mut buf = Vec::new();
    assert_eq!(w.set(0, &[0x5a]), Ok(1));
    assert_eq!(r.get_into(0, &mut buf), Ok(1));
    assert_eq!(buf, [0x5a]);
    assert_eq!(r.get::<u8>(0), Ok((0x5a, 1)));
    for (key, max) in [(1, 13), (2, 128)] {
        let m = message(max as u64, max);
        assert_eq!(w.set(key, &m), Ok(1));
        assert_eq!(r.get_into(key, &mut buf), Ok(1));
        assert_eq!(buf, m, "entry {key} of {max} bytes, full");
        // Its neighbours are untouched by a value that fills its room.
        assert_eq!(r.get_into(0, &mut buf), Ok(1));
        assert_eq!(buf, [0x5a]);
    }
    // The empty value.
    assert_eq!(w.set(1, b""), Ok(2));
    assert_eq!(r.get_into(1, &mut buf), Ok(2));
    assert!(buf.is_empty());
}

#[test]
fn values_of_several_mebibytes() {
    const BIG: usize = 5 << 20;
    let ring = RingGuard::new("bb-big");
    let mut w = Builder::new(ring.name())
        .entry("big", BIG)
        .entry("after", 8)
        .create_writer()
        .expect("create");
    let mut r = Reader::open(ring.name()).expect("open");
    let big: Vec<u8> = (0..BIG).map(|i| (i * 7 + i / 4096) as u8).collect();
    assert_eq!(w.set(1, b"neighbor"), Ok(1));
    assert_eq!(w.set(0, &big), Ok(1));
    let mut buf = Vec::new();
    assert_eq!(r.get_into(0, &mut buf), Ok(1));
    assert!(buf == big, "a value of {BIG} bytes came back different");
    let odd = &big[..BIG - 3];
    assert_eq!(w.set(0, odd), Ok(2));
    assert_eq!(r.get_into(0, &mut buf), Ok(2));
    assert!(
        buf == odd,
        "a value of {} bytes came back different",
        odd.len()
    );
    assert_eq!(r.get_into(1, &mut buf), Ok(1));
    assert_eq!(buf, b"neighbor");
}

#[test]
fn a_shorter_value_reads_back_at_its_own_length() {
    let ring = RingGuard::new("bb-shorter");
    let (mut w, mut r) = pair(&ring, 1, 256);
    let mut buf = Vec::new();
    for len in [256, 200, 17, 9, 8, 7, 1, 0, 64, 3] {
        let m = message(len as u64, len);
        let v = w.set(0, &m).expect("set");
        assert_eq!(r.get_into(0, &mut buf), Ok(v));
        assert_eq!(buf, m, "a value of {len} bytes after a longer one");
    }
    // Set by place with a shorter length: the bytes it leaves alone are not read.
    w.set(0, &[0xff; 256]).expect("set");
    w.set_with(0, 5, |room| room.copy_from_slice(b"short"))
        .expect("set in place");
    r.get_into(0, &mut buf).expect("get");
    assert_eq!(buf, b"short");
}

#[test]
fn handles_made_by_every_constructor_share_the_board() {
    let ring = RingGuard::new("bb-ctors");
    Builder::new(ring.name())
        .entries(2, 8)
        .create_detached()
        .expect("create detached");
    let mut r = Reader::open(ring.name()).expect("open a reader");
    assert_eq!(r.get::<u64>(0), Err(GetError::NotSet { key: 0 }));
    let mut w = Writer::open(ring.name()).expect("open the writer");
    assert_eq!(w.set_value(0, &7u64), Ok(1));
    drop(w);
    // The slot is free again; the value stays.
    let mut w = Builder::new(ring.name())
        .open_or_create_writer()
        .expect("open or create");
    assert_eq!(r.get::<u64>(0), Ok((7, 1)));
    assert_eq!(w.set_value(0, &8u64), Ok(2));
    assert_eq!(r.get::<u64>(0), Ok((8, 2)));
}

#[test]
fn stats_count_the_sets_of_every_writer_and_readers_see_them() {
    let ring = RingGuard::new("bb-stats");
    let b = || Builder::new(ring.name()).entries(2, 16).writers(2);
    let mut w = b().create_writer().expect("create");
    let mut other = b().open_writer().expect("a second writer");
    let r = Reader::open(ring.name()).expect("open");
    w.set(0, b"abc").expect("set");
    w.set(1, b"").expect("set");
    other.set(0, b"0123456789").expect("set");
    let s = r.stats();
    assert_eq!((s.sets, s.bytes, s.wakeups, s.entries), (3, 13, 0, 2));
    assert_eq!(w.stats(), s);
}
