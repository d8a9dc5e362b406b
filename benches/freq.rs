//! The freq counter's cost per update and per read (pure math over the
//! three words, as the table runs it under a shard lock).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use lbd::stick::freq::{self, FreqState};

const PERIOD_MS: u32 = 10_000;

fn bench_freq(c: &mut Criterion) {
    let mut g = c.benchmark_group("freq");
    g.bench_function("update", |b| {
        let mut s = FreqState::new(PERIOD_MS, 0);
        let mut now = 0u32;
        b.iter(|| {
            // A few events per ms, so rotations happen as in real traffic.
            now = now.wrapping_add(black_box(1)) & 0x3fff_ffff;
            s = freq::add(s, PERIOD_MS, now >> 2, 1);
        });
        black_box(s);
    });
    g.bench_function("read", |b| {
        let s = freq::add(
            freq::add(FreqState::new(PERIOD_MS, 0), PERIOD_MS, 0, 5),
            PERIOD_MS,
            12_000,
            3,
        );
        let mut now = 12_000u32;
        b.iter(|| {
            now = 12_000 + (now.wrapping_add(7) % 9_000);
            black_box(freq::value(black_box(s), PERIOD_MS, now))
        });
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench_freq
}
criterion_main!(benches);
