//! The weighted server map of `hash-type map-based` (HAProxy's default for
//! `source`, `uri`, `url_param` and `hdr`).
//!
//! The map has one slot per unit of weight of the servers in it; a hash picks
//! slot `hash % slots`. Slots are dealt out one at a time: before each slot
//! every server's credit grows by its weight, the slot goes to the server
//! whose `(credit + total) / total` (integer division) is largest, the
//! earliest server winning ties, and the winner's credit drops by the total.
//! Weights 1/2/3 give `[0, 2, 1, 2, 1, 2]`; equal weights give `[0, 1, 2, …]`.
//! This order was read off HAProxy 2.6 (see `hash_tests.rs`), so that a client
//! hashed by HAProxy lands on the same server here.
//!
//! Scaling every weight by the same factor only repeats the same slot order,
//! so the weights are divided by their greatest common divisor first: the map
//! is smaller and `hash % slots` still picks the same server.
//!
//! Hash algorithms without their key (no such parameter or header) walk the
//! same map slot after slot, as HAProxy's fallback round robin does.

use super::Candidates;

/// A built map and the weights it was built from, so a pick can tell
/// whether a server went down, came back or changed weight since.
#[derive(Debug, Default)]
pub struct WeightMap {
    /// The weight each server had when the map was built; 0 = not in it.
    weights: Vec<u32>,
    /// Server indices, one per slot.
    slots: Vec<u32>,
    /// Next slot of the fallback round robin. It survives a rebuild; a
    /// cursor past the end of the new map starts over at slot 0 (HAProxy
    /// 2.6 does both).
    cursor: usize,
}

impl WeightMap {
    /// Rebuilds the map if the servers in the candidates' group or their
    /// weights changed. Full servers stay in the map: being busy must not
    /// move every client to another server.
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
        self.slots = build(&self.weights);
    }

    /// The server a hash designates. When that server may not take this
    /// connection now (full, or the one a redispatch avoids), the next
    /// slots are tried in order. `None` when no server is in the map.
    pub fn by_hash(&mut self, hash: u32, cands: &Candidates<'_>) -> Option<u32> {
        self.refresh(cands);
        let len = self.slots.len();
        if len == 0 {
            return None;
        }
        let start = hash as usize % len;
        self.first_ok(start, cands).map(|(_, s)| s)
    }

    /// The fallback round robin: the next slot in map order.
    pub fn next(&mut self, cands: &Candidates<'_>) -> Option<u32> {
        self.refresh(cands);
        let len = self.slots.len();
        if len == 0 {
            return None;
        }
        let start = if self.cursor < len { self.cursor } else { 0 };
        let (slot, server) = self.first_ok(start, cands)?;
        self.cursor = slot + 1;
        Some(server)
    }

    /// The first slot from `start` on (wrapping) whose server may be picked.
    fn first_ok(&self, start: usize, cands: &Candidates<'_>) -> Option<(usize, u32)> {
        let len = self.slots.len();
        (0..len)
            .map(|k| (start + k) % len)
            .map(|slot| (slot, self.slots[slot]))
            .find(|&(_, s)| cands.ok(s as usize))
    }
}

/// Deals the slots for servers of the given weights (0 = not in the map).
pub fn build(weights: &[u32]) -> Vec<u32> {
    let divisor = weights.iter().fold(0, |g, &w| gcd(g, w));
    if divisor == 0 {
        return Vec::new();
    }
    let scaled: Vec<i64> = weights.iter().map(|&w| i64::from(w / divisor)).collect();
    let total: i64 = scaled.iter().sum();
    let mut credit = vec![0i64; weights.len()];
    let mut slots = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for _ in 0..total {
        let mut best: Option<(usize, i64)> = None;
        for (i, &w) in scaled.iter().enumerate() {
            if w == 0 {
                continue;
            }
            credit[i] += w;
            // Credits stay above -total (they sum to zero after every slot
            // and a winner had the largest), so this division never sees a
            // negative numerator.
            debug_assert!(credit[i] + total >= 0);
            let rank = (credit[i] + total) / total;
            if best.is_none_or(|(_, r)| rank > r) {
                best = Some((i, rank));
            }
        }
        // `total > 0` means some weight is non-zero, so a slot has a winner.
        let Some((winner, _)) = best else { break };
        credit[winner] -= total;
        slots.push(winner as u32);
    }
    slots
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}
