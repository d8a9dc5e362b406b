//! The ring of `hash-type consistent`.
//!
//! Each server in the group has 16 points per unit of weight. Point `k` of
//! the server whose id (`sid`, `id` keyword or position) is `id` sits at
//! `avalanche(id * 4096 + k)`. A hash picks the point nearest to it on the
//! circle of 32-bit values, before or after it. This was read off HAProxy
//! 2.6: it reproduced its picks for 300 client addresses on weights 1 1 1
//! and 1 2 3 (`hash_tests.rs`), where 8 or 32 points per unit or other id
//! multipliers did not.
//!
//! Unlike the map, the ring moves few keys when a server leaves: only its
//! points go.
//!
//! A request without a key walks the ring point after point from the
//! lowest position, as HAProxy's fallback round robin does; the walk keeps
//! its place when servers leave or come back (checked against HAProxy on
//! five weight sets, 112 to 143 picks each, a server disabled and enabled
//! midway).

use super::Candidates;
use super::hash::avalanche;

/// Points per unit of weight.
const POINTS_PER_WEIGHT: u32 = 16;
/// How far apart the points of consecutive server ids start.
const ID_STRIDE: u32 = 4096;

#[derive(Debug, Default)]
pub struct Ring {
    /// The weight each server had when the ring was built; 0 = not in it.
    weights: Vec<u32>,
    /// (position, server index), sorted by position.
    points: Vec<(u32, u32)>,
    /// The last point (position, server) the fallback round robin used; it
    /// goes on from there, so a rebuilt ring keeps the walk's place.
    last: Option<(u32, u32)>,
}

impl Ring {
    /// Rebuilds the ring if the group or a weight changed.
    fn refresh(&mut self, cands: &Candidates<'_>) {
        let n = cands.servers.len();
        let current = |i: usize| {
            if cands.in_group(i) {
                cands.servers[i].state.weight()
            } else {
                0
            }
        };
        if self.weights.len() == n && (0..n).all(|i| self.weights[i] == current(i)) {
            return;
        }
        self.weights = (0..n).map(current).collect();
        self.points.clear();
        for (i, &w) in self.weights.iter().enumerate() {
            let base = cands.servers[i].uuid.wrapping_mul(ID_STRIDE);
            for k in 0..w.saturating_mul(POINTS_PER_WEIGHT) {
                self.points
                    .push((avalanche(base.wrapping_add(k)), i as u32));
            }
        }
        self.points.sort_unstable();
    }

    /// The server of the point nearest to `hash`; when it may not take this
    /// connection now, the next points in ring order are tried.
    pub fn by_hash(&mut self, hash: u32, cands: &Candidates<'_>) -> Option<u32> {
        self.refresh(cands);
        let len = self.points.len();
        if len == 0 {
            return None;
        }
        let after = self.points.partition_point(|&(pos, _)| pos < hash) % len;
        let before = (after + len - 1) % len;
        let to_after = self.points[after].0.wrapping_sub(hash);
        let to_before = hash.wrapping_sub(self.points[before].0);
        let nearest = if to_before < to_after { before } else { after };
        self.first_ok(nearest, cands).map(|(_, s)| s)
    }

    /// The fallback round robin: the next point in ring order.
    pub fn next(&mut self, cands: &Candidates<'_>) -> Option<u32> {
        self.refresh(cands);
        let len = self.points.len();
        if len == 0 {
            return None;
        }
        let start = match self.last {
            None => 0,
            // Still there: the point after it.
            Some(point) if self.points.binary_search(&point).is_ok() => {
                self.points.partition_point(|&p| p <= point) % len
            }
            // Its server left: the point that took its place counts as
            // used (HAProxy 2.6 skips it too).
            Some(point) => (self.points.partition_point(|&p| p <= point) + 1) % len,
        };
        let (at, server) = self.first_ok(start, cands)?;
        self.last = Some(self.points[at]);
        Some(server)
    }

    fn first_ok(&self, start: usize, cands: &Candidates<'_>) -> Option<(usize, u32)> {
        let len = self.points.len();
        (0..len)
            .map(|k| (start + k) % len)
            .map(|at| (at, self.points[at].1))
            .find(|&(_, s)| cands.ok(s as usize))
    }
}
