//! `leastconn` (fewest current connections relative to weight, ties rotate)
//! and `first` (the first server with a free slot).

use std::sync::atomic::{AtomicUsize, Ordering};

use super::Candidates;

pub fn pick(cands: &Candidates<'_>, cursor: &AtomicUsize) -> Option<u32> {
    let n = cands.servers.len();
    if n == 0 {
        return None;
    }
    let start = cursor.fetch_add(1, Ordering::Relaxed) % n;
    let mut best: Option<(usize, u64, u64)> = None;
    for k in 0..n {
        let i = (start + k) % n;
        if !cands.ok(i) {
            continue;
        }
        let s = &cands.servers[i];
        let conns = u64::from(s.state.cur_conns.load(Ordering::Relaxed));
        let w = u64::from(s.state.weight().max(1));
        // conns/w < best_conns/best_w, compared without division.
        let better = match best {
            None => true,
            Some((_, bc, bw)) => conns * bw < bc * w,
        };
        if better {
            best = Some((i, conns, w));
        }
    }
    best.map(|(i, _, _)| i as u32)
}

pub fn first(cands: &Candidates<'_>) -> Option<u32> {
    cands.iter().next().map(|i| i as u32)
}
