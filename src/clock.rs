//! A coarse millisecond clock.
//!
//! Every hot path reads the time through [`now_ms`], which returns a value
//! cached per thread. Workers call [`refresh`] once per loop turn (per accepted
//! connection or per I/O event batch), so the cost of reading the time is a
//! thread-local load, not a system call, and every decision taken in one turn
//! sees the same instant.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::Instant;

static EPOCH: OnceLock<Instant> = OnceLock::new();

thread_local! {
    static NOW_MS: Cell<u64> = const { Cell::new(0) };
}

fn epoch() -> Instant {
    *EPOCH.get_or_init(Instant::now)
}

/// Milliseconds since the process epoch, read from the monotonic clock now.
pub fn monotonic_ms() -> u64 {
    u64::try_from(epoch().elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Re-reads the monotonic clock into this thread's cached value and returns it.
pub fn refresh() -> u64 {
    let now = monotonic_ms();
    NOW_MS.with(|c| c.set(now));
    now
}

/// This thread's cached time in milliseconds since the process epoch.
///
/// A thread that never called [`refresh`] reads the clock on first use, so the
/// value is never stale by more than one loop turn of its caller.
pub fn now_ms() -> u64 {
    let cached = NOW_MS.with(Cell::get);
    if cached == 0 { refresh() } else { cached }
}

/// The process epoch as a wall-clock instant: used to print uptimes.
pub fn process_start() -> Instant {
    epoch()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_time_only_moves_on_refresh() {
        let first = refresh();
        assert_eq!(now_ms(), first);
        assert!(refresh() >= first);
    }
}
