//! Lookup-and-update (get-or-create, re-arm, one `conn_rate` event: what a
//! tracked connection costs) from 1 and 2 threads over 1M distinct IPv4
//! keys, through `touch_with` (one lock) and `touch` + `EntryRef::add` (two
//! locks), against a naive baseline: one `Mutex<AHashMap>` doing the same
//! work. Also prints the memory cost of an entry of an IPv4 table storing
//! `conn_rate` and `bytes_out_rate`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ahash::AHashMap;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lbd::stick::freq::{self, FreqState};
use lbd::stick::{DataSpec, DataType, Key, KeyType, Table, TableSpec};
use parking_lot::Mutex;

const KEYS: u32 = 1 << 20;
const THREADS: u64 = 2;
const PERIOD_MS: u32 = 100_000;
const EXPIRE_MS: u64 = 30_000;

fn spec() -> TableSpec {
    let rate = |data_type| DataSpec {
        data_type,
        period_ms: PERIOD_MS,
    };
    TableSpec {
        name: "bench".into(),
        key_type: KeyType::Ip,
        size: KEYS,
        expire_ms: EXPIRE_MS as u32,
        nopurge: false,
        peers: None,
        store: vec![rate(DataType::ConnRate), rate(DataType::BytesOutRate)],
    }
}

/// The operation under test, on any table.
trait Target: Send + Sync + 'static {
    fn hit(&self, ip: u32, now_ms: u64);
}

/// `touch_with`: lookup, re-arm and update under one shard lock.
impl Target for Table {
    fn hit(&self, ip: u32, now_ms: u64) {
        self.touch_with(&Key::Ip(ip.into()), now_ms, |e| {
            e.add(DataType::ConnRate, 1, now_ms)
        });
    }
}

/// `touch` then `EntryRef::add`: the same through a handle (two locks).
struct TwoLocks(Arc<Table>);

impl Target for TwoLocks {
    fn hit(&self, ip: u32, now_ms: u64) {
        if let Some(e) = self.0.touch(&Key::Ip(ip.into()), now_ms) {
            e.add(DataType::ConnRate, 1, now_ms);
        }
    }
}

/// The baseline: the same entry contents behind one global lock.
#[derive(Default)]
struct Naive(Mutex<AHashMap<u32, (u64, FreqState, FreqState)>>);

impl Target for Naive {
    fn hit(&self, ip: u32, now_ms: u64) {
        let now = freq::tick(now_ms);
        let mut map = self.0.lock();
        let e = map.entry(ip).or_insert_with(|| {
            (
                0,
                FreqState::new(PERIOD_MS, now),
                FreqState::new(PERIOD_MS, now),
            )
        });
        e.0 = now_ms + EXPIRE_MS;
        e.1 = freq::add(e.1, PERIOD_MS, now, 1);
    }
}

/// A cheap per-thread key sequence over the 1M keys.
fn keys(seed: u64) -> impl FnMut() -> u32 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        0x0a00_0000 + (x as u32 % KEYS)
    }
}

fn fill(t: &dyn Target) {
    (0..KEYS).for_each(|n| t.hit(0x0a00_0000 + n, 0));
}

/// Runs `iters` operations split over the threads; returns the wall time.
fn run<T: Target>(t: &Arc<T>, threads: u64, iters: u64) -> Duration {
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let t = Arc::clone(t);
            std::thread::spawn(move || {
                let mut next = keys(0x9e37_79b9_7f4a_7c15 * (i + 1));
                for n in 0..iters / threads {
                    t.hit(black_box(next()), 1 + n / 1_000);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("bench thread");
    }
    start.elapsed()
}

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn bench_tables(c: &mut Criterion) {
    let before = rss_bytes();
    let table = Arc::new(Table::new(spec()));
    fill(table.as_ref());
    if let (Some(a), Some(b)) = (before, rss_bytes()) {
        let measured = b.saturating_sub(a) / u64::from(KEYS);
        println!(
            "bytes per entry (ip, conn_rate + bytes_out_rate): estimated {}, measured RSS {measured}",
            table.bytes_per_entry()
        );
    }
    let naive = Arc::new(Naive::default());
    fill(naive.as_ref());
    let two_locks = Arc::new(TwoLocks(Arc::clone(&table)));

    for threads in [1, THREADS] {
        let mut g = c.benchmark_group(format!("touch_add_conn_rate_{threads}_threads_1M_keys"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("sharded_touch_with", |b| {
            b.iter_custom(|iters| run(&table, threads, iters))
        });
        g.bench_function("sharded_touch_then_add", |b| {
            b.iter_custom(|iters| run(&two_locks, threads, iters))
        });
        g.bench_function("naive_mutex_ahashmap", |b| {
            b.iter_custom(|iters| run(&naive, threads, iters))
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bench_tables
}
criterion_main!(benches);
