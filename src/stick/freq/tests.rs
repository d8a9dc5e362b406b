//! The samples of `haproxy-cli.md` §5.1 (measured on HAProxy 2.6), and a
//! property test against a model that keeps every event's timestamp.

use super::*;
use proptest::prelude::*;

const PERIOD: u32 = 10_000;

/// Replays `events` (time, count) on a fresh counter created at time 0.
fn replay(events: &[(u32, u32)]) -> FreqState {
    events
        .iter()
        .fold(FreqState::new(PERIOD, 0), |s, &(t, n)| add(s, PERIOD, t, n))
}

fn check(name: &str, events: &[(u32, u32)], reads: &[(u32, u64)]) {
    for &(at, expected) in reads {
        let past: Vec<_> = events.iter().copied().filter(|&(t, _)| t <= at).collect();
        let got = value(replay(&past), PERIOD, at);
        assert_eq!(got, expected, "run {name} at t={at} ms");
    }
}

#[test]
fn run_a_five_at_zero() {
    let reads = [
        (40, 5),
        (9_570, 5),
        (10_070, 4),
        (10_570, 4),
        (11_570, 4),
        (12_080, 3),
        (13_590, 3),
        (14_090, 2),
        (16_090, 1),
        (17_090, 1),
        (18_100, 0),
        (20_100, 0),
        (25_120, 0),
    ];
    check("A", &[(0, 5)], &reads);
}

#[test]
fn run_b_three_at_zero_two_at_12_08() {
    let reads = [
        (40, 3),
        (9_570, 3),
        (10_070, 2),
        (10_570, 2),
        (11_570, 2),
        (12_080, 4),
        (13_590, 3),
        (14_090, 3),
        (16_090, 3),
        (17_090, 2),
        (18_100, 2),
        (20_100, 1),
        (25_120, 0),
    ];
    check("B", &[(0, 3), (12_080, 2)], &reads);
}

#[test]
fn run_c_lone_event_reads_one_for_two_periods() {
    let mut reads: Vec<(u32, u64)> = (0..=19_070).step_by(10).map(|t| (t, 1)).collect();
    reads.push((20_070, 0));
    check("C", &[(0, 1)], &reads);
}

#[test]
fn run_d_one_at_zero_one_at_15() {
    let mut reads: Vec<(u32, u64)> = (0..=29_100).step_by(10).map(|t| (t, 1)).collect();
    reads.push((30_100, 0));
    check("D", &[(0, 1), (15_000, 1)], &reads);
}

#[test]
fn run_e_realigns_after_two_idle_periods() {
    let mut reads = vec![(24_050, 0)];
    reads.extend((25_050..=34_070).step_by(10).map(|t| (t, 2)));
    reads.extend((35_070..=37_070).step_by(10).map(|t| (t, 1)));
    check("E", &[(0, 1), (25_000, 2)], &reads);
}

#[test]
fn set_makes_the_value_the_current_count() {
    let s = set(1_000, 7);
    assert_eq!(value(s, PERIOD, 1_000), 7);
    assert_eq!(value(s, PERIOD, 10_999), 7);
    // Then it decays like any previous period.
    assert_eq!(value(s, PERIOD, 16_000), 7 * 5 / 10);
}

#[test]
fn ticks_wrap_around_u32() {
    let start = u32::MAX - 3_000;
    let s = add(FreqState::new(PERIOD, start), PERIOD, start, 4);
    let later = start.wrapping_add(12_000);
    // Next period, 8 s left of it: floor(4 * 0.8) = 3.
    assert_eq!(value(s, PERIOD, later), 3);
}

#[test]
fn small_clock_lag_between_threads_reads_as_now() {
    let s = add(FreqState::new(PERIOD, 500), PERIOD, 500, 3);
    assert_eq!(value(s, PERIOD, 499), 3);
    assert_eq!(add(s, PERIOD, 498, 1).curr, 4);
}

/// The rules of §5.1 written over timestamps instead of three words: the
/// period boundaries are replayed from the events, then each window summed.
fn model(events: &[(u32, u32)], period: u32, now: u32) -> u64 {
    let p = u64::from(period);
    let mut start: Option<u64> = None;
    for &(t, _) in events {
        let t = u64::from(t);
        start = Some(match start {
            None => t,
            Some(s) if t - s >= 2 * p => t,
            Some(s) if t - s >= p => s + p,
            Some(s) => s,
        });
    }
    let Some(start) = start else { return 0 };
    let now = u64::from(now);
    let shift = (now - start) / p;
    if shift >= 2 {
        return 0;
    }
    let vstart = start + shift * p;
    let sum = |from: u64, to: u64| -> u64 {
        let in_window = |t: u64| from <= t && t < to;
        events
            .iter()
            .filter(|e| in_window(u64::from(e.0)))
            .map(|e| u64::from(e.1))
            .sum()
    };
    let curr = sum(vstart, vstart + p);
    let prev = if vstart >= p {
        sum(vstart - p, vstart)
    } else {
        0
    };
    if curr == 0 && prev <= 1 {
        return prev;
    }
    curr + prev * (vstart + p - now) / p
}

proptest! {
    #[test]
    fn counter_matches_timestamp_model(
        period in 1u32..5_000,
        gaps in proptest::collection::vec((0u32..12_000, 1u32..5), 0..30),
        read_after in 0u32..15_000,
    ) {
        let mut t = 100_000u32;
        let mut events = Vec::new();
        let mut s = FreqState::new(period, t);
        for (gap, n) in gaps {
            t += gap;
            events.push((t, n));
            s = add(s, period, t, n);
            prop_assert_eq!(value(s, period, t), model(&events, period, t));
        }
        let now = t + read_after;
        prop_assert_eq!(value(s, period, now), model(&events, period, now));
    }
}
