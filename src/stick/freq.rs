//! The sliding-window rate counter behind every `*_rate(<period>)` data type.
//!
//! HAProxy's "freq counter" is not a true sliding window: it counts events in
//! fixed, contiguous periods aligned on the first event, and reads as the
//! current period's count plus the previous period's count weighted by the
//! share of the current period still to come (`haproxy-cli.md` §5.1):
//!
//! * an event within the current period adds to `curr`; one within the next
//!   period rotates (`prev = curr`, `curr = 0`, `start += period`); one two or
//!   more periods later re-aligns (`prev = 0`, `start = now`);
//! * a read shifts the same way virtually, never storing anything, and is
//!   `curr + floor(prev * remain / period)` with `remain = start + period - now`;
//! * when `curr == 0` and `prev <= 1` the read is `prev` undecayed, so a lone
//!   event reads 1 for two whole periods.
//!
//! The math is pure ([`value`], [`add`], [`set`]) over a [`FreqState`]; the
//! table keeps the state in its data arena under the shard lock, so the shell
//! is only "load three words, call, store three words".
//!
//! Time is a `u32` millisecond tick (the low 32 bits of `clock::now_ms`). The
//! arithmetic is wrap-safe: elapsed time is `now - start` modulo 2^32. Bound:
//! a counter left untouched for 2^32 ms minus [`SKEW_MS`] (about 49.7 days)
//! may read stale values, like HAProxy's own 32-bit ticks. Periods are capped
//! at [`MAX_PERIOD_MS`] (24.8 days, HAProxy's limit too).

/// Largest accepted period; longer ones are clamped by [`clamp_period`].
pub const MAX_PERIOD_MS: u32 = (1 << 31) - 1;

/// How far in the past a thread's coarse clock may lag behind the instant a
/// period was opened by another thread. An elapsed time this close to 2^32
/// is read as "slightly before start", i.e. zero, not as "ages ago".
pub const SKEW_MS: u32 = 1 << 16;

/// The three words of a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FreqState {
    /// Tick at which the current period started.
    pub start: u32,
    /// Events in the current period.
    pub curr: u32,
    /// Events in the previous period.
    pub prev: u32,
}

impl FreqState {
    /// A counter that has seen nothing: its period lies two periods back, so
    /// the first event opens a period at its own time (as HAProxy's zeroed
    /// counter does, its tick 0 being far in the past).
    pub fn new(period_ms: u32, now: u32) -> FreqState {
        let period = clamp_period(period_ms);
        FreqState {
            start: now.wrapping_sub(period.wrapping_mul(2)),
            curr: 0,
            prev: 0,
        }
    }
}

/// Periods are at least 1 ms (no division by zero) and at most 2^31 - 1 ms
/// (so two periods still fit in a `u32` tick difference).
#[inline]
pub fn clamp_period(period_ms: u32) -> u32 {
    period_ms.clamp(1, MAX_PERIOD_MS)
}

/// Milliseconds from `start` to `now`, with a small negative lag read as 0.
#[inline]
fn elapsed(start: u32, now: u32) -> u64 {
    let e = now.wrapping_sub(start);
    if e > u32::MAX - SKEW_MS {
        0
    } else {
        u64::from(e)
    }
}

/// The counter's value at `now`. Read-only: the state is never rotated.
pub fn value(s: FreqState, period_ms: u32, now: u32) -> u64 {
    let period = u64::from(clamp_period(period_ms));
    let mut elapsed = elapsed(s.start, now);
    let (mut curr, mut prev) = (u64::from(s.curr), u64::from(s.prev));
    if elapsed >= period {
        // The current period is over: read it as the previous one.
        prev = curr;
        curr = 0;
        elapsed -= period;
        if elapsed >= period {
            return 0;
        }
    }
    if curr == 0 && prev <= 1 {
        // Low-rate exception: a lone event does not decay.
        return prev;
    }
    curr + prev * (period - elapsed) / period
}

/// The state after `inc` events at `now`.
#[inline]
pub fn add(s: FreqState, period_ms: u32, now: u32, inc: u32) -> FreqState {
    let period = clamp_period(period_ms);
    let elapsed = elapsed(s.start, now);
    if elapsed < u64::from(period) {
        // 32-bit counter, wrapping like HAProxy's.
        FreqState {
            curr: s.curr.wrapping_add(inc),
            ..s
        }
    } else if elapsed < 2 * u64::from(period) {
        FreqState {
            start: s.start.wrapping_add(period),
            curr: inc,
            prev: s.curr,
        }
    } else {
        // Two or more periods went by: re-align on this event.
        FreqState {
            start: now,
            curr: inc,
            prev: 0,
        }
    }
}

/// The state after `set table ... data.<rate> <value>`: the value becomes the
/// current period's count, in a period starting now.
pub fn set(now: u32, value: u32) -> FreqState {
    FreqState {
        start: now,
        curr: value,
        prev: 0,
    }
}

/// A `u32` tick from the process clock's milliseconds (wrapping on purpose).
#[inline]
pub fn tick(now_ms: u64) -> u32 {
    now_ms as u32
}

#[cfg(test)]
mod tests;
