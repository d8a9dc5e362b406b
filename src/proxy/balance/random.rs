//! `balance random [<draws>]`: draw weighted servers at random and keep the
//! least loaded of the draws (power of two choices by default).

use std::cell::Cell;
use std::sync::atomic::Ordering;

use super::Candidates;

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let local = 0u8;
    let addr = std::ptr::addr_of!(local) as u64;
    (crate::clock::monotonic_ms() ^ addr.rotate_left(17)) | 1
}

/// xorshift64*: a per-thread generator, no lock, no syscall.
pub fn next_u32() -> u32 {
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    })
}

pub fn pick(cands: &Candidates<'_>, draws: u32) -> Option<u32> {
    let total: u64 = cands
        .iter()
        .map(|i| u64::from(cands.servers[i].state.weight().max(1)))
        .sum();
    if total == 0 {
        return None;
    }
    let mut best: Option<(usize, u32)> = None;
    for _ in 0..draws.max(1) {
        let mut target = u64::from(next_u32()) % total;
        let mut chosen = None;
        for i in cands.iter() {
            let w = u64::from(cands.servers[i].state.weight().max(1));
            if target < w {
                chosen = Some(i);
                break;
            }
            target -= w;
        }
        let Some(i) = chosen else { continue };
        let load = cands.servers[i].state.cur_conns.load(Ordering::Relaxed);
        if best.is_none_or(|(_, l)| load < l) {
            best = Some((i, load));
        }
    }
    best.map(|(i, _)| i as u32)
}
