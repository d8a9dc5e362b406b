//! Smooth weighted round robin: every pick adds each candidate's weight to its
//! running credit and takes the candidate with the most credit, which then
//! pays the total. Weights 1/2/3 give C B A C B C — interleaved, never
//! A A A B — and equal weights give a strict rotation.

use super::Candidates;
use crate::compile::program::Server;

#[derive(Debug)]
pub struct SmoothRr {
    credit: Vec<i64>,
}

impl SmoothRr {
    pub fn new(servers: usize) -> SmoothRr {
        SmoothRr {
            credit: vec![0; servers],
        }
    }

    /// Picks the next candidate; `None` when there is none.
    pub fn next(&mut self, cands: &Candidates<'_>, weight: fn(&Server) -> u32) -> Option<u32> {
        if self.credit.len() != cands.servers.len() {
            self.credit = vec![0; cands.servers.len()];
        }
        let mut total: i64 = 0;
        let mut best: Option<usize> = None;
        for i in cands.iter() {
            let w = i64::from(weight(&cands.servers[i]).max(1));
            self.credit[i] += w;
            total += w;
            if best.is_none_or(|b| self.credit[i] > self.credit[b]) {
                best = Some(i);
            }
        }
        let b = best?;
        self.credit[b] -= total;
        Some(b as u32)
    }
}
