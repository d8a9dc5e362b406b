//! Events per second, as HAProxy's one-second frequency counters compute
//! them: the count of the current second plus the previous second's count
//! weighted by what is left of the current one. The caller passes the time
//! (milliseconds of the process clock), so tests control it.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// A per-second rate with its maximum. Relaxed atomics: a reader racing a
/// second boundary may see the old or the new second, which is fine for
/// statistics.
#[derive(Debug, Default)]
pub struct PerSecond {
    /// Second number (high 32 bits) and events in it (low 32 bits).
    current: AtomicU64,
    /// Events in the second before `current`'s.
    prev: AtomicU32,
    /// Highest rate seen at an event.
    max: AtomicU32,
}

/// The pure math: the rate at `now_ms` of a counter holding `curr` events
/// in second `sec` and `prev` in the second before.
pub fn rate_at(sec: u64, curr: u32, prev: u32, now_ms: u64) -> u32 {
    let now_sec = now_ms / 1000;
    let (curr, prev) = match now_sec.checked_sub(sec) {
        Some(0) => (curr, prev),
        Some(1) => (0, curr),
        _ => (0, 0),
    };
    let left_ms = 1000 - now_ms % 1000;
    let carried = u64::from(prev) * left_ms / 1000;
    curr.saturating_add(u32::try_from(carried).unwrap_or(u32::MAX))
}

impl PerSecond {
    /// Counts one event at `now_ms`.
    pub fn add(&self, now_ms: u64) {
        let now_sec = now_ms / 1000;
        let mut cur = self.current.load(Ordering::Relaxed);
        loop {
            let (sec, count) = (cur >> 32, cur as u32);
            let next = if sec == now_sec & 0xffff_ffff {
                (sec << 32) | u64::from(count.saturating_add(1))
            } else {
                ((now_sec & 0xffff_ffff) << 32) | 1
            };
            match self.current.compare_exchange_weak(
                cur,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    if sec != now_sec & 0xffff_ffff {
                        let carried = if sec + 1 == now_sec { count } else { 0 };
                        self.prev.store(carried, Ordering::Relaxed);
                    }
                    break;
                }
                Err(seen) => cur = seen,
            }
        }
        self.max.fetch_max(self.read(now_ms), Ordering::Relaxed);
    }

    /// The rate at `now_ms`.
    pub fn read(&self, now_ms: u64) -> u32 {
        let cur = self.current.load(Ordering::Relaxed);
        if cur == 0 {
            return 0;
        }
        let prev = self.prev.load(Ordering::Relaxed);
        rate_at(cur >> 32, cur as u32, prev, now_ms)
    }

    pub fn max(&self) -> u32 {
        self.max.load(Ordering::Relaxed)
    }

    /// `clear counters`: the maximum restarts from the current rate.
    pub fn clear_max(&self, now_ms: u64) {
        self.max.store(self.read(now_ms), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_previous_second_fades_over_the_current_one() {
        assert_eq!(rate_at(5, 3, 10, 5_000), 13);
        assert_eq!(rate_at(5, 3, 10, 5_500), 8);
        assert_eq!(rate_at(5, 3, 10, 6_000), 3);
        assert_eq!(rate_at(5, 3, 10, 6_750), 0);
        assert_eq!(rate_at(5, 3, 10, 7_000), 0);
    }

    #[test]
    fn events_count_in_their_second_and_keep_a_maximum() {
        let r = PerSecond::default();
        assert_eq!(r.read(1_000), 0);
        for t in [10_000, 10_100, 10_200, 10_300] {
            r.add(t);
        }
        assert_eq!(r.read(10_400), 4);
        r.add(11_000);
        assert_eq!(r.read(11_000), 5);
        assert_eq!(r.read(11_500), 3);
        assert_eq!(r.max(), 5);
        assert_eq!(r.read(13_000), 0);
        r.clear_max(13_000);
        assert_eq!(r.max(), 0);
    }
}
