//! Per-request phase times of a backend or a server, as `show stat` reports
//! them: `qtime`, `ctime`, `rtime`, `ttime` (averages over the last 1024
//! requests, ms) and `qtime_max` ... `ttime_max`.
//!
//! HAProxy keeps, per phase, a sliding-window sum: below 1024 samples it is
//! the plain sum of the samples; past that, each new sample first removes
//! one average sample (`sum - ceil(sum / 1024)`) then adds itself. The
//! average is the sum divided (rounded up) by the number of requests counted
//! so far, capped at 1024. The divisor is the proxy's request count
//! (`req_tot` in HTTP, `lbtot` in TCP), not the number of samples: a request
//! that never got a response adds no sample but still counts.
//!
//! The window arithmetic is pure ([`window_add`], [`window_avg`]); the
//! atomic shell only loads and compare-and-swaps around it, so every worker
//! thread updates the same numbers without a lock.

use std::sync::atomic::{AtomicU32, Ordering};

/// Requests the averages span.
pub const TIME_SAMPLES: u32 = 1024;

/// The four phases of one finished stream, in ms: waiting for a server slot
/// (`Tw`), connecting (`Tc`), waiting for the response head (`Tr`, 0 in TCP)
/// and the whole stream (`Tt`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Phases {
    pub queue_ms: u32,
    pub connect_ms: u32,
    pub response_ms: u32,
    pub total_ms: u32,
}

impl Phases {
    fn as_array(self) -> [u32; 4] {
        [
            self.queue_ms,
            self.connect_ms,
            self.response_ms,
            self.total_ms,
        ]
    }

    fn from_array(a: [u32; 4]) -> Phases {
        Phases {
            queue_ms: a[0],
            connect_ms: a[1],
            response_ms: a[2],
            total_ms: a[3],
        }
    }
}

/// Sliding-window sums and maxima of the phases, shared by every worker.
#[derive(Debug, Default)]
pub struct TimeStats {
    sums: [AtomicU32; 4],
    maxima: [AtomicU32; 4],
}

impl TimeStats {
    /// Adds one stream's phases. `requests` is the proxy's request count
    /// including this one: past [`TIME_SAMPLES`] the window slides.
    /// Lock-free: one compare-and-swap loop per phase, no allocation.
    pub fn record(&self, phases: Phases, requests: u64) {
        let window = if requests > u64::from(TIME_SAMPLES) {
            TIME_SAMPLES
        } else {
            0
        };
        for ((sum, max), v) in self.sums.iter().zip(&self.maxima).zip(phases.as_array()) {
            let update = sum.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| {
                Some(window_add(s, window, v))
            });
            debug_assert!(update.is_ok(), "the update closure always succeeds");
            max.fetch_max(v, Ordering::Relaxed);
        }
    }

    /// The averages `show stat` prints, for a proxy that counted `requests`
    /// requests.
    pub fn averages(&self, requests: u64) -> Phases {
        let window = match u32::try_from(requests) {
            Ok(0) => TIME_SAMPLES,
            Ok(n) if n < TIME_SAMPLES => n,
            _ => TIME_SAMPLES,
        };
        Phases::from_array(
            self.sums
                .each_ref()
                .map(|s| window_avg(s.load(Ordering::Relaxed), window)),
        )
    }

    /// The largest value seen of each phase.
    pub fn maxima(&self) -> Phases {
        Phases::from_array(self.maxima.each_ref().map(|m| m.load(Ordering::Relaxed)))
    }

    /// `clear counters`: the maxima start again from 0.
    pub fn clear_max(&self) {
        for m in &self.maxima {
            m.store(0, Ordering::Relaxed);
        }
    }

    /// `clear counters all`: sums and maxima back to 0.
    pub fn clear_all(&self) {
        for s in &self.sums {
            s.store(0, Ordering::Relaxed);
        }
        self.clear_max();
    }
}

/// The window sum after adding `v`: with `window` 0 (fewer samples than the
/// window holds) a plain sum, else one average sample leaves first. Wraps
/// like HAProxy's 32-bit sums.
pub fn window_add(sum: u32, window: u32, v: u32) -> u32 {
    let leaving = if window == 0 { 0 } else { sum.div_ceil(window) };
    sum.wrapping_sub(leaving).wrapping_add(v)
}

/// The average of a window sum over `window` samples, rounded up; 0 for an
/// empty window.
pub fn window_avg(sum: u32, window: u32) -> u32 {
    if window == 0 { 0 } else { sum.div_ceil(window) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phases(q: u32, c: u32, r: u32, t: u32) -> Phases {
        Phases {
            queue_ms: q,
            connect_ms: c,
            response_ms: r,
            total_ms: t,
        }
    }

    #[test]
    fn below_the_window_the_average_is_the_mean_rounded_up() {
        let t = TimeStats::default();
        t.record(phases(0, 1, 50, 52), 1);
        t.record(phases(0, 0, 51, 51), 2);
        t.record(phases(3, 0, 50, 53), 3);
        assert_eq!(t.averages(3), phases(1, 1, 51, 52));
        assert_eq!(t.maxima(), phases(3, 1, 51, 53));
    }

    #[test]
    fn requests_without_a_sample_dilute_the_average() {
        // Two requests, one never reached a server: HAProxy divides by 2.
        let t = TimeStats::default();
        t.record(phases(0, 0, 50, 50), 1);
        assert_eq!(t.averages(2).total_ms, 25);
        assert_eq!(t.averages(1).total_ms, 50);
    }

    #[test]
    fn nothing_counted_reads_zero() {
        let t = TimeStats::default();
        assert_eq!(t.averages(0), Phases::default());
        assert_eq!(t.maxima(), Phases::default());
    }

    #[test]
    fn past_the_window_old_samples_fade() {
        // 1024 samples of 10 ms, then 1024 of 100 ms: the average moves
        // most of the way to 100 (an exponential window, not an exact one).
        let t = TimeStats::default();
        let mut n = 0;
        for _ in 0..TIME_SAMPLES {
            n += 1;
            t.record(phases(0, 0, 0, 10), n);
        }
        assert_eq!(t.averages(n).total_ms, 10);
        for _ in 0..TIME_SAMPLES {
            n += 1;
            t.record(phases(0, 0, 0, 100), n);
        }
        let avg = t.averages(n).total_ms;
        assert!((60..=100).contains(&avg), "{avg}");
        // A steady input converges to itself.
        for _ in 0..20 * TIME_SAMPLES {
            n += 1;
            t.record(phases(0, 0, 0, 100), n);
        }
        assert_eq!(t.averages(n).total_ms, 100);
    }

    #[test]
    fn window_math_matches_haproxy_rounding() {
        assert_eq!(window_add(0, 0, 7), 7);
        assert_eq!(window_add(10, 0, 7), 17);
        // ceil(1025 / 1024) = 2 leaves.
        assert_eq!(window_add(1025, 1024, 1), 1024);
        assert_eq!(window_add(0, 1024, 5), 5);
        assert_eq!(window_avg(0, 1024), 0);
        assert_eq!(window_avg(1, 1024), 1);
        assert_eq!(window_avg(100, 3), 34);
        assert_eq!(window_avg(5, 0), 0);
    }

    #[test]
    fn clearing_resets_maxima_then_everything() {
        let t = TimeStats::default();
        t.record(phases(1, 2, 3, 4), 1);
        t.clear_max();
        assert_eq!(t.maxima(), Phases::default());
        assert_eq!(t.averages(1), phases(1, 2, 3, 4));
        t.clear_all();
        assert_eq!(t.averages(1), Phases::default());
    }

    #[test]
    fn concurrent_records_are_all_counted() {
        let t = TimeStats::default();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for i in 1..=200 {
                        t.record(phases(1, 1, 1, 1), i);
                    }
                });
            }
        });
        assert_eq!(t.averages(800), phases(1, 1, 1, 1));
        assert_eq!(t.sums[3].load(Ordering::Relaxed), 800);
    }
}
