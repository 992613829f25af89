//! What a `SyncPolicy` costs: sends of 64-byte messages on a file-backed SPSC ring, one
//! thread, under each policy, on a disk file system (a directory under the target
//! directory) and, for reference, on tmpfs (`/dev/shm`), where a sync writes nothing.
//!
//! Only the sends are timed: every 4096 messages the clock stops while the same thread
//! drains the ring (so the consumer's releases dirty the header as in real use, and are
//! synced with it). Run with `cargo bench --bench durability`; the rings are removed at
//! the end. Prints the file system type of each directory first.

use criterion::{BenchmarkId, Criterion, Throughput};
use ipcring::spsc::{Builder, Consumer, Producer};
use ipcring::SyncPolicy;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SIZE: usize = 64;
/// Messages sent between two drains (the ring holds them: 1 MiB, 72-byte records).
const CHUNK: u64 = 4096;

/// The file system type of `dir`, as `stat -f` names the common ones.
fn fs_type(dir: &Path) -> String {
    let fs = rustix::fs::statfs(dir).expect("statfs");
    match fs.f_type as i64 {
        0x0102_1994 => "tmpfs".into(),
        0xEF53 => "ext2/3/4".into(),
        0x5846_5342 => "xfs".into(),
        0x9123_683E => "btrfs".into(),
        other => format!("{other:#x}"),
    }
}

/// Sends `iters` messages under `policy`, timing the sends only.
fn run(tx: &mut Producer, rx: &mut Consumer, iters: u64) -> Duration {
    let msg = [0x5a; SIZE];
    let mut buf = Vec::with_capacity(SIZE);
    let mut took = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(CHUNK);
        let t = Instant::now();
        for _ in 0..n {
            tx.send(&msg).expect("send");
        }
        took += t.elapsed();
        for _ in 0..n {
            rx.recv_into(&mut buf).expect("receive");
        }
        left -= n;
    }
    took
}

fn bench(c: &mut Criterion, dir: &Path, place: &str, policies: &[(&str, SyncPolicy)]) {
    let mut g = c.benchmark_group(format!("durability/{place}"));
    g.throughput(Throughput::Elements(1))
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for &(label, policy) in policies {
        let path: PathBuf = dir.join(format!("bench-{}-{label}.ring", std::process::id()));
        let mut tx = Builder::at(&path)
            .capacity(1 << 20)
            .sync_policy(policy)
            .create_producer()
            .expect("create");
        let mut rx = Builder::at(&path).open_consumer().expect("open");
        g.bench_function(BenchmarkId::new("send_64B", label), |b| {
            b.iter_custom(|iters| run(&mut tx, &mut rx, iters))
        });
        let stats = tx.sync_stats();
        drop((tx, rx));
        println!(
            "  {place}/{label}: {} syncs by the policy, {} failed",
            stats.done, stats.failed
        );
        ipcring::remove_file_ring(&path).expect("remove");
    }
    g.finish();
}

fn main() {
    let disk = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("durability");
    std::fs::create_dir_all(&disk).expect("bench directory");
    let shm = Path::new("/dev/shm");
    println!("disk: {} ({})", disk.display(), fs_type(&disk));
    println!("shm:  {} ({})", shm.display(), fs_type(shm));
    let mut c = Criterion::default().configure_from_args();
    bench(
        &mut c,
        &disk,
        "disk",
        &[
            ("never", SyncPolicy::Never),
            ("every_1", SyncPolicy::Every(1)),
            ("every_64", SyncPolicy::Every(64)),
            ("every_1024", SyncPolicy::Every(1024)),
            (
                "interval_10ms",
                SyncPolicy::Interval(Duration::from_millis(10)),
            ),
        ],
    );
    bench(
        &mut c,
        shm,
        "shm",
        &[
            ("never", SyncPolicy::Never),
            ("every_1", SyncPolicy::Every(1)),
            (
                "interval_10ms",
                SyncPolicy::Interval(Duration::from_millis(10)),
            ),
        ],
    );
    c.final_summary();
    let _ = std::fs::remove_dir(&disk);
}
