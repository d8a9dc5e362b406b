//! How many pipes the tunnels hold for splicing (`PipesUsed` and
//! `PipesFree` of `show info`).

use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Default)]
pub struct PipeCounts {
    /// Pipes that exist: leased to a tunnel or idle in a worker's pool.
    pub allocated: AtomicUsize,
    /// Pipes leased to tunnels now.
    pub leased: AtomicUsize,
}

impl PipeCounts {
    /// Pipes in use by tunnels.
    pub fn used(&self) -> usize {
        self.leased.load(Ordering::Relaxed)
    }

    /// Pipes that exist and wait for a tunnel.
    pub fn free(&self) -> usize {
        let allocated = self.allocated.load(Ordering::Relaxed);
        allocated.saturating_sub(self.used())
    }
}
