//! Lookup-and-update (get-or-create, re-arm, one `conn_rate` event: what a
//! tracked connection costs) from 1 and 2 threads over 1M distinct IPv4
//! keys and over a hot set of 1K of them, through `touch_with` (one lock)
//! and `touch` + `EntryRef::add` (two locks), against a naive baseline: one
//! `Mutex<AHashMap>` doing the same work. Also prints the memory cost of an
//! entry of an IPv4 table storing `conn_rate` and `bytes_out_rate`, and the
//! baseline's.
//!
//! The machine may be shared, so before criterion's runs the bench prints a
//! summary: the best of a few rounds per case, with the targets interleaved
//! so that load from elsewhere hits them alike (`STICK_BENCH_ROUNDS`, 3 by
//! default, 0 skips it; `STICK_BENCH_CASES=hot` runs only the cases whose
//! name contains `hot`).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ahash::AHashMap;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lbd::stick::freq::{self, FreqState};
use lbd::stick::{DataSpec, DataType, Key, KeyType, Table, TableSpec};
use parking_lot::Mutex;

const KEYS: u32 = 1 << 20;
const HOT_KEYS: u32 = 1 << 10;
/// Operations per summary round (split over the threads).
const ROUND_OPS: u64 = 1_000_000;
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

/// A cheap per-thread key sequence over the first `span` keys.
fn keys(seed: u64, span: u32) -> impl FnMut() -> u32 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        0x0a00_0000 + (x as u32 % span)
    }
}

fn fill(t: &dyn Target) {
    (0..KEYS).for_each(|n| t.hit(0x0a00_0000 + n, 0));
}

/// Runs `iters` operations over `span` keys split over the threads;
/// returns the wall time and the CPU time the threads used.
fn run(t: &Arc<dyn Target>, threads: u64, span: u32, iters: u64) -> (Duration, Duration) {
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let t = Arc::clone(t);
            std::thread::spawn(move || {
                let cpu = thread_cpu();
                let mut next = keys(0x9e37_79b9_7f4a_7c15 * (i + 1), span);
                for n in 0..iters / threads {
                    t.hit(black_box(next()), 1 + n / 1_000);
                }
                thread_cpu().saturating_sub(cpu)
            })
        })
        .collect();
    let cpu = handles
        .into_iter()
        .map(|h| h.join().expect("bench thread"))
        .sum();
    (start.elapsed(), cpu)
}

/// CPU time of the calling thread so far (0 if /proc cannot tell): on a
/// shared machine, time spent descheduled does not count against a target.
fn thread_cpu() -> Duration {
    let ns = std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Fills a target with the 1M keys; returns the RSS growth per entry.
fn filled(t: &Arc<dyn Target>) -> Option<u64> {
    let before = rss_bytes()?;
    fill(t.as_ref());
    Some(rss_bytes()?.saturating_sub(before) / u64::from(KEYS))
}

/// (threads, key span, label) of every case.
const CASES: [(u64, u32, &str); 4] = [
    (1, KEYS, "1_threads_1M_keys"),
    (THREADS, KEYS, "2_threads_1M_keys"),
    (1, HOT_KEYS, "1_threads_1K_hot_keys"),
    (THREADS, HOT_KEYS, "2_threads_1K_hot_keys"),
];

/// Prints the best ops/s (wall clock) and ops per CPU second of each
/// target in each case over `rounds` interleaved rounds.
fn summary(targets: &[(&str, Arc<dyn Target>)], rounds: usize) {
    println!(
        "best of {rounds} interleaved rounds of {ROUND_OPS} ops: M ops/s (wall), M ops per CPU second"
    );
    let only = std::env::var("STICK_BENCH_CASES").unwrap_or_default();
    for (threads, span, label) in CASES.into_iter().filter(|c| c.2.contains(&only)) {
        let mut best = vec![(0f64, 0f64); targets.len()];
        for _ in 0..rounds {
            for (i, (_, t)) in targets.iter().enumerate() {
                let (wall, cpu) = run(t, threads, span, ROUND_OPS);
                let per = |d: Duration| ROUND_OPS as f64 / d.as_secs_f64().max(1e-9) / 1e6;
                best[i].0 = best[i].0.max(per(wall));
                best[i].1 = best[i].1.max(per(cpu));
            }
        }
        for ((name, _), (wall, cpu)) in targets.iter().zip(best) {
            println!("  {label:<22} {name:<24} {wall:>6.2} {cpu:>6.2}");
        }
    }
}

fn bench_tables(c: &mut Criterion) {
    let table = Arc::new(Table::new(spec()));
    let table_dyn: Arc<dyn Target> = table.clone();
    let table_rss = filled(&table_dyn);
    let naive: Arc<dyn Target> = Arc::new(Naive::default());
    let naive_rss = filled(&naive);
    println!(
        "bytes per entry (ip, conn_rate + bytes_out_rate): estimated {}, measured RSS {}; naive baseline RSS {}",
        table.bytes_per_entry(),
        table_rss.map_or("?".into(), |b| b.to_string()),
        naive_rss.map_or("?".into(), |b| b.to_string()),
    );
    let targets: [(&str, Arc<dyn Target>); 3] = [
        ("sharded_touch_with", table_dyn),
        ("sharded_touch_then_add", Arc::new(TwoLocks(table))),
        ("naive_mutex_ahashmap", naive),
    ];
    let rounds = std::env::var("STICK_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    if rounds > 0 {
        summary(&targets, rounds);
    }

    for (threads, span, label) in CASES {
        let mut g = c.benchmark_group(format!("touch_add_conn_rate_{label}"));
        g.throughput(Throughput::Elements(1));
        for (name, t) in &targets {
            g.bench_function(*name, |b| {
                b.iter_custom(|iters| run(t, threads, span, iters).0)
            });
        }
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
